package xingtu

import (
	"encoding/json"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
	api "github.com/yongjin-dev/yongjin/pkg/vendors/xingtu"
)

// The sandbox knows its indicators by construction; the extractor must find
// exactly those, with the same values, in the rendered data. This ties the
// sandbox's ground truth to what the normalizer will compute.
func TestSandboxIndicatorsByConstruction(t *testing.T) {
	day := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	n := 0
	for _, seed := range []int64{1, 2, 99} {
		for _, author := range Authors(seed, "demo") {
			for _, period := range Periods {
				for d := range 3 {
					x := sandboxGenerate(seed, author, period, day.AddDate(0, 0, d))
					b, err := json.Marshal(x)
					if err != nil {
						t.Fatal(err)
					}
					got, err := api.ExtractIndicators(b)
					if err != nil {
						t.Fatal(err)
					}
					want := make([]events.Indicator, len(x.indicators))
					for i, in := range x.indicators {
						want[i] = events.Indicator{Name: in.name, Value: in.value}
					}
					sort.Slice(want, func(i, j int) bool { return want[i].Name < want[j].Name })
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("seed %d author %s %s day %d:\n extracted %v\nconstructed %v\ndata %s", seed, author, period, d, got, want, b)
					}
					n++
				}
			}
		}
	}
	if n != 3*AuthorsPerAccount*2*3 {
		t.Fatalf("checked %d snapshots", n)
	}
}
