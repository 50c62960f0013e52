package douyinpoi

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

// addSeeds seeds f with every testdata/*.json page plus hand-made edge cases;
// plain `go test` runs exactly these.
func addSeeds(f *testing.F) {
	vendorstest.AddSeeds(f,
		`{"data":{"error_code":0}}`,
		`{"data":{"data":[null],"error_code":0}}`,
		`{"data":{"data":[{}],"error_code":0}}`,
		`{"data":{"data":[{"plan_id":"é"}],"error_code":0}}`,
		`{"data":{"data":[{"plan_id":1,"commission_rate":"-1"}],"error_code":0}}`,
		`{"data":{"data":[{"plan_id":1,"create_time":"2022-04-22\u0000x"}],"error_code":0}}`,
		`{"data":{"data":[{"plan_id":1,"create_time":9223372036854775807}],"error_code":0},"extra":{"now":9223372036854775807}}`,
		`{"data":{"data":[{"plan_id":1}],"error_code":0},"extra":{"now":"1650969933"}}`,
		"{\"data\":{\"data\":[{\"plan_id\":\"\xff\"}],\"error_code\":0}}",
		`{"data":{"error_code":0},"extra":{"error_code":2190008,"description":"\ud800"}}`,
		`{"data":{"access_token":"clt.x","expires_in":7200,"error_code":0},"message":"success"}`,
	)
}

func FuzzDecodePage(f *testing.F) {
	addSeeds(f)
	vendorstest.FuzzDecode(f, DecodePage, func(t *testing.T, err error) {
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == 0 {
			t.Fatalf("APIError with code 0: %v", err)
		}
	}, func(t *testing.T, p *Page) {
		if p.PageCount < 0 || p.Total < 0 {
			t.Fatalf("negative counts %d/%d", p.PageCount, p.Total)
		}
		// A decoded page is stable: its plans re-encode and decode to the same values.
		q := vendorstest.Redecode(t, map[string]any{"data": map[string]any{
			"data": p.Plans, "page_count": p.PageCount, "total": p.Total, "error_code": 0,
		}}, DecodePage)
		if len(q.Plans) != len(p.Plans) || q.PageCount != p.PageCount || q.Total != p.Total {
			t.Fatalf("round trip changed the page")
		}
		// FlexID is trimmed on decode, so compare trimmed values
		want := slices.Clone(p.Plans)
		for i := range want {
			want[i].PlanID = FlexID(strings.TrimSpace(string(want[i].PlanID)))
		}
		vendorstest.SameRecords(t, "plan", want, q.Plans)
	})
}

func FuzzDecodeToken(f *testing.F) {
	addSeeds(f)
	vendorstest.FuzzDecode(f, DecodeToken, nil, func(t *testing.T, tok *Token) {
		if tok.AccessToken == "" || tok.ExpiresIn < 0 {
			t.Fatalf("success with %+v", *tok)
		}
	})
}

func FuzzNormalize(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		envs := vendorstest.Normalized(t, func() ([]events.Envelope, error) { return Normalize(rawPage(body)) })
		for i, e := range envs {
			if e.Type != events.Type(events.KindCommissionPlan) || !strings.HasPrefix(e.Subject, testSPU+"/") {
				t.Fatalf("envelope %d is %s %s", i, e.Type, e.Subject)
			}
		}
	})
}
