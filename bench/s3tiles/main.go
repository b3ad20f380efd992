// Command s3tiles writes N stand-in WorldCover tiles (valid TIFFs of
// pseudo-random content) into a folder, for bench/s3.sh to upload to an S3
// bucket, and prints their product names, one a line, as a manifest.
//
//	s3tiles -n 32 -size 16777216 -dir tiles > manifest.txt
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/wcdl/wcdl/downloader/tiff"
)

func main() {
	n := flag.Int("n", 32, "number of tiles")
	size := flag.Int64("size", 16<<20, "size of each tile in bytes")
	dir := flag.String("dir", "", "folder to write the tiles into")
	flag.Parse()
	if err := write(*n, *size, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "s3tiles:", err)
		os.Exit(1)
	}
}

func write(n int, size int64, dir string) error {
	if dir == "" {
		return fmt.Errorf("-dir is required")
	}
	head, err := tiff.Header(size)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	body := make([]byte, size)
	for i := range n {
		name := fmt.Sprintf("ESA_WorldCover_10m_2021_v200_N%02dE%03d_Map", i/60*3, i%60*3)
		seed := sha256.Sum256([]byte(name))
		rand.NewChaCha8(seed).Read(body)
		copy(body, head)
		if err := os.WriteFile(filepath.Join(dir, name+".tif"), body, 0o644); err != nil {
			return err
		}
		fmt.Println(name)
	}
	return nil
}
