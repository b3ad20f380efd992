package source_test

import (
	"fmt"
	"strings"

	"github.com/wcdl/wcdl/manifest"
	"github.com/wcdl/wcdl/source"
)

// A plan's products bound to the bucket first and Terrascope second.
func ExampleBind() {
	entries, _ := manifest.Parse(strings.NewReader("N00E006\n"), "tiles.txt", manifest.Options{})
	srcs, _ := source.Parse("aws,terrascope", nil)
	if err := source.Bind(entries, srcs); err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range entries[0].Locations {
		fmt.Println(l.Source, l.URL)
	}
	// Output:
	// aws https://esa-worldcover.s3.eu-central-1.amazonaws.com/v200/2021/map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif
	// terrascope https://services.terrascope.be/download/WORLDCOVER/ESA_WORLDCOVER_10M_2021_V200/MAP/ESA_WorldCover_10m_2021_v200_N00E006_Map/ESA_WorldCover_10m_2021_v200_N00E006_Map.tif
}
