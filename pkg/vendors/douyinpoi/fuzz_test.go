package douyinpoi

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// addSeeds seeds f with every testdata/*.json page plus hand-made edge cases;
// plain `go test` runs exactly these.
func addSeeds(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		``,
		`null`,
		`{}`,
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
	} {
		f.Add([]byte(s))
	}
}

func FuzzDecodePage(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := DecodePage(body)
		if err != nil {
			if p != nil {
				t.Fatalf("page %+v returned with error %v", p, err)
			}
			if !errors.Is(err, vendors.ErrMalformedPage) && !errors.Is(err, vendors.ErrVendorError) {
				t.Fatalf("error %v wraps neither ErrMalformedPage nor ErrVendorError", err)
			}
			var ae *APIError
			if errors.As(err, &ae) && ae.Code == 0 {
				t.Fatalf("APIError with code 0: %v", err)
			}
			return
		}
		if p.PageCount < 0 || p.Total < 0 {
			t.Fatalf("negative counts %d/%d", p.PageCount, p.Total)
		}
		// A decoded page is stable: its plans re-encode and decode to the same values.
		b, err := json.Marshal(map[string]any{"data": map[string]any{
			"data": p.Plans, "page_count": p.PageCount, "total": p.Total, "error_code": 0,
		}})
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		q, err := DecodePage(b)
		if err != nil {
			t.Fatalf("re-decode %s: %v", b, err)
		}
		if len(q.Plans) != len(p.Plans) || q.PageCount != p.PageCount || q.Total != p.Total {
			t.Fatalf("round trip changed the page")
		}
		for i := range p.Plans {
			// FlexID is trimmed on decode, so compare trimmed values
			a, c := p.Plans[i], q.Plans[i]
			a.PlanID = FlexID(strings.TrimSpace(string(a.PlanID)))
			if a != c {
				t.Fatalf("plan %d changed in a round trip:\n%+v\n%+v", i, p.Plans[i], q.Plans[i])
			}
		}
	})
}

func FuzzDecodeToken(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		tok, err := DecodeToken(body)
		if err != nil {
			if tok != nil {
				t.Fatalf("token returned with error %v", err)
			}
			if !errors.Is(err, vendors.ErrMalformedPage) && !errors.Is(err, vendors.ErrVendorError) {
				t.Fatalf("error %v wraps neither ErrMalformedPage nor ErrVendorError", err)
			}
			return
		}
		if tok.AccessToken == "" || tok.ExpiresIn < 0 {
			t.Fatalf("success with %+v", *tok)
		}
	})
}

func FuzzNormalize(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		envs, err := Normalize(rawPage(body))
		if err != nil {
			if envs != nil {
				t.Fatalf("%d envelopes returned with error %v", len(envs), err)
			}
			if !errors.Is(err, vendors.ErrMalformedPage) && !errors.Is(err, vendors.ErrVendorError) {
				t.Fatalf("error %v wraps neither ErrMalformedPage nor ErrVendorError", err)
			}
			return
		}
		for i, e := range envs {
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatalf("envelope %d: %v", i, err)
			}
			if err := events.Validate(b); err != nil {
				t.Fatalf("envelope %d does not validate: %v\n%s", i, err, b)
			}
			if e.Type != events.Type(events.KindCommissionPlan) || !strings.HasPrefix(e.Subject, testSPU+"/") {
				t.Fatalf("envelope %d is %s %s", i, e.Type, e.Subject)
			}
		}
		// pure: the same page gives the same events
		again, err := Normalize(rawPage(body))
		if err != nil || len(again) != len(envs) {
			t.Fatalf("second run: %d envelopes, %v", len(again), err)
		}
		for i := range envs {
			if envs[i].ID != again[i].ID || string(envs[i].Data) != string(again[i].Data) {
				t.Fatalf("envelope %d differs between runs", i)
			}
		}
	})
}
