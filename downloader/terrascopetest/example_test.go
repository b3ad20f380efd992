package terrascopetest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/wcdl/wcdl/downloader/terrascopetest"
	"github.com/wcdl/wcdl/downloader/tiff"
)

func ExampleNewServer() {
	// No Tokens: every request is authorized.
	s := terrascopetest.NewServer(nil, terrascopetest.WithFileSize(100_000))
	defer s.Close()

	name := "WORLDCOVER/ESA_WORLDCOVER_10M_2020_V100/MAP/ESA_WorldCover_10m_2020_v100_N00E006_Map/ESA_WorldCover_10m_2020_v100_N00E006_Map.tif"
	resp, err := http.Get(s.URL() + "/" + name)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"), len(body), "bytes")
	fmt.Println("valid TIFF:", tiff.Check(context.Background(), bytes.NewReader(body), int64(len(body))) == nil)

	// Resume from byte 60000, as long as the file has not changed.
	req, _ := http.NewRequest("GET", s.URL()+"/"+name, nil)
	req.Header.Set("Range", "bytes=60000-")
	req.Header.Set("If-Range", resp.Header.Get("ETag"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.Status, resp.Header.Get("Content-Range"))
	fmt.Println("requests:", s.Stats().Requests)
	// Output:
	// 200 OK image/tiff 100000 bytes
	// valid TIFF: true
	// 206 Partial Content bytes 60000-99999/100000
	// requests: 2
}
