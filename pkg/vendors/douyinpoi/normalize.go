package douyinpoi

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// DateLayout is the layout of create_time as documented ("2022-04-22").
const DateLayout = wire.DateLayout

// ParamSPUID is the vendors.Page / events.RawPage parameter naming the SPU a
// page belongs to (the response body does not repeat it).
const ParamSPUID = "spu_id"

// Plausible observation times: extra.now outside [2000-01-01, 2105-12-31
// 23:59:59] in seconds (or milliseconds above 10^12) is ignored; the upper
// bound is wire.MaxTime, the latest time storage holds.
var (
	minPlausible = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxPlausible = wire.MaxTime.Add(time.Second)
)

// Content-type labels of events.CommissionPlan.
const (
	LabelLive    = "live"
	LabelVideo   = "video"
	LabelBoth    = "both"
	LabelUnknown = "unknown"
)

// ContentTypeLabel maps a content_type code to its label: 1 live, 2 video
// (short video), 3 both, anything else unknown. The document's enum table is
// truncated, so the codes are inferred [I] from the field description
// (直播/短视频/均可) and its order.
func ContentTypeLabel(code int64) string {
	switch code {
	case 1:
		return LabelLive
	case 2:
		return LabelVideo
	case 3:
		return LabelBoth
	}
	return LabelUnknown
}

// Normalize maps one raw /poi/plan/list/ page to canonical events: one
// commission_plan.v1 envelope per plan, in vendor order (none for an empty
// page). It is pure: the same page always yields the same envelopes.
//
// The SPU comes from p.Params["spu_id"] (the body does not repeat it). The
// observation time is extra.now when it is a plausible Unix time (seconds, or
// milliseconds when above 10^12), else p.FetchedAt; every plan of the page
// shares it, and Version is its Unix milliseconds.
//
// A vendor error envelope returns an error wrapping vendors.ErrVendorError;
// an undecodable page, a page without an account label, a missing or
// non-numeric spu_id, a page without a usable observation time or a plan
// MapPlan rejects returns an error wrapping vendors.ErrMalformedPage.
func Normalize(p events.RawPage) ([]events.Envelope, error) {
	recs, err := NormalizeRecords(p)
	if err != nil {
		return nil, err
	}
	return vendors.PageEvents(recs)
}

// NormalizeRecords maps one raw /poi/plan/list/ page plan by plan (see
// vendors.RecordNormalizer): one vendors.Record per element of data.data,
// each with its envelope or, for a plan that does not decode or that
// MapPlan rejects, its error. The page fails as a whole for a vendor error,
// an undecodable envelope, a missing account label, spu_id or observation
// time.
func NormalizeRecords(p events.RawPage) ([]vendors.Record, error) {
	page, err := wire.DecodeRaw(p, DecodePage)
	var plans []Plan
	var extra Extra
	if page != nil {
		plans, extra = page.Plans, page.Extra
	}
	plans, badAt, err := wire.RecordList(plans, err)
	if err != nil {
		return nil, fmt.Errorf("douyin-poi normalize: %w", err)
	}
	if page == nil {
		// Some plans did not decode: the envelope did, read its extra again.
		_, wx, _, _ := envelope(wire.TrimBOM(p.Body))
		extra = wx.extra()
	}
	spu, err := checkSPU(p.Params[ParamSPUID])
	if err != nil {
		return nil, fmt.Errorf("douyin-poi normalize: %w", err)
	}
	observed, ok := ObservedAt(extra.Now)
	if !ok {
		if p.FetchedAt.Before(minPlausible) || !p.FetchedAt.Before(maxPlausible) {
			return nil, fmt.Errorf("douyin-poi normalize: %w: no plausible extra.now and no fetch time", vendors.ErrMalformedPage)
		}
		observed = p.FetchedAt.UTC()
	}
	out := make([]vendors.Record, len(plans))
	for i, pl := range plans {
		out[i] = vendors.Record{Index: i}
		if badAt != nil {
			if err := badAt(i); err != nil {
				out[i].Err = fmt.Errorf("douyin-poi normalize: spu %s: %w", spu, err)
				continue
			}
		}
		cp, err := MapPlan(p.Account, spu, pl, observed)
		if err != nil {
			out[i].Err = fmt.Errorf("douyin-poi normalize: spu %s data.data[%d]: %w", spu, i, err)
			continue
		}
		env, err := cp.Envelope()
		if err != nil {
			out[i].Err = fmt.Errorf("douyin-poi normalize: spu %s data.data[%d]: %w: %w", spu, i, vendors.ErrMalformedPage, err)
			continue
		}
		out[i].Events = []events.Envelope{env}
	}
	return out, nil
}

// ObservedAt reads extra.now: a Unix time in seconds, or in milliseconds when
// above 10^12, that lies in [2000-01-01, 2105-12-31 23:59:59]. It returns the time in
// UTC and true, or false for anything else (absent, not an integer,
// implausible).
func ObservedAt(now FlexString) (time.Time, bool) {
	s := strings.TrimSpace(string(now))
	if s == "" {
		return time.Time{}, false
	}
	n, err := wire.Strict.ParseInt(s)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	var t time.Time
	if n > 1e12 {
		t = time.UnixMilli(n)
	} else {
		t = time.Unix(n, 0)
	}
	if t.Before(minPlausible) || !t.Before(maxPlausible) {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// MapPlan maps one wire plan of SPU spu, observed by account at observed, to
// its canonical CommissionPlan (Platform "douyin-poi"). plan_id is kept as
// the exact decimal text; RateBP is commission_rate (1/10000 = basis points);
// ContentType keeps the code and ContentTypeLabel names it (see
// ContentTypeLabel); VendorStatus is status verbatim; CreatedDate is
// create_time (see CreatedDate); Version is observed in Unix milliseconds.
//
// It returns an error wrapping vendors.ErrMalformedPage when account is
// empty, spu or plan_id is missing or not [0-9A-Za-z_-]+, or commission_rate
// is negative.
func MapPlan(account, spu string, pl Plan, observed time.Time) (events.CommissionPlan, error) {
	if err := wire.CheckAccount(account); err != nil {
		return events.CommissionPlan{}, err
	}
	if !wire.ValidKey(spu) {
		return events.CommissionPlan{}, wire.Malformed("spu_id %q: want only [0-9A-Za-z_-]", wire.Clip(spu, 40))
	}
	id, err := wire.Key("plan", "plan_id", string(pl.PlanID))
	if err != nil {
		return events.CommissionPlan{}, err
	}
	if pl.CommissionRate < 0 {
		return events.CommissionPlan{}, wire.Malformed("plan %s: negative commission_rate %d", id, pl.CommissionRate)
	}
	observed = observed.UTC()
	return events.CommissionPlan{
		Platform:         Name,
		Account:          account,
		ProductID:        spu,
		PlanID:           id,
		RateBP:           int64(pl.CommissionRate),
		ContentType:      int64(pl.ContentType),
		ContentTypeLabel: ContentTypeLabel(int64(pl.ContentType)),
		VendorStatus:     int64(pl.Status),
		CreatedDate:      CreatedDate(pl.CreateTime),
		ObservedAt:       observed,
		Version:          observed.UnixMilli(),
	}, nil
}

// CreatedDate renders create_time as the event's created_date:
//   - a string starting with a valid "2006-01-02" date is kept as sent
//     (trimmed), e.g. "2022-04-22" or "2022-04-22 10:00:00" (only the date
//     when the rest holds control characters);
//   - an integer (number or numeric string) is a Unix timestamp in seconds,
//     or milliseconds when above 10^12, rendered as its China Standard Time
//     date ("2006-01-02");
//   - anything else (absent, null, "", an unknown shape, a timestamp outside
//     [2000-01-01, 2105-12-31 23:59:59] such as 0) gives "" — the raw page keeps the
//     original.
func CreatedDate(v FlexString) string {
	s := strings.TrimSpace(string(v))
	if s == "" {
		return ""
	}
	if len(s) >= len(DateLayout) {
		if _, err := time.Parse(DateLayout, s[:len(DateLayout)]); err == nil {
			if strings.ContainsFunc(s, unicode.IsControl) {
				return s[:len(DateLayout)]
			}
			return s
		}
	}
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		return ""
	}
	t, ok := ObservedAt(FlexString(s))
	if !ok {
		return ""
	}
	return t.In(wire.CST).Format(DateLayout)
}

// checkSPU validates the spu_id page parameter.
func checkSPU(spu string) (string, error) {
	s := strings.TrimSpace(spu)
	if s == "" {
		return "", wire.Malformed("raw page has no %s parameter (which SPU the plans belong to)", ParamSPUID)
	}
	if _, err := parseSPU(s); err != nil {
		return "", wire.Malformed("raw page parameter %s: %v", ParamSPUID, err)
	}
	return s, nil
}

// parseSPU parses a positive decimal int64 SPU ID in canonical form.
func parseSPU(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != s {
		return 0, fmt.Errorf("%q is not a positive decimal int64", wire.Clip(s, 40))
	}
	return n, nil
}
