package manifest_test

import (
	"fmt"
	"strings"

	"github.com/wcdl/wcdl/manifest"
)

func ExampleParse() {
	entries, err := manifest.Parse(strings.NewReader("N00E006 # a tile id\n"), "tiles.txt", manifest.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range entries {
		fmt.Println(e.Source, e.Raw)
		fmt.Println(e.URL)
		fmt.Println(e.Name)
	}
	// Output:
	// tiles.txt:1 N00E006
	// https://services.terrascope.be/download/WORLDCOVER/ESA_WORLDCOVER_10M_2021_V200/MAP/ESA_WorldCover_10m_2021_v200_N00E006_Map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif
	// ESA_WorldCover_10m_2021_v200_N00E006_Map.tif
}

func ExampleParse_errors() {
	_, err := manifest.Parse(strings.NewReader("N01E006\nN00E006 size=-1\n"), "tiles.txt", manifest.Options{})
	fmt.Println(err)
	// Output:
	// tiles.txt:1: tile id "N01E006": latitude 01 is not a multiple of 3 (tiles are 3 degrees, named by their south-west corner)
	// tiles.txt:2: field size: "-1" is not a non-negative decimal byte count
}

func ExampleParseShard() {
	k, n, err := manifest.ParseShard("0/4")
	fmt.Println(k, n, err)
	_, _, err = manifest.ParseShard("4/4")
	fmt.Println(err)
	// Output:
	// 0 4 <nil>
	// shard "4/4": K must be below N: shards count from 0, as JOB_COMPLETION_INDEX does, so the last of 4 is 3/4
}
