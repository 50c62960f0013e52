package xingtu

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// TimeLayout is the layout of JustOneAPI's recordTime (China Standard Time,
// wire.CST).
const TimeLayout = wire.TimeLayout

// DateLayout is the layout of a snapshot date.
const DateLayout = wire.DateLayout

// Page parameter names (vendors.Page.Params / events.RawPage.Params): the
// request's query parameters, which the body does not repeat.
const (
	// ParamAuthor is the requested author (oAuthorId).
	ParamAuthor = "oAuthorId"
	// ParamPeriod is the requested period.
	ParamPeriod = "period"
)

// The periods the endpoint accepts.
const (
	// Period30 is the last 30 days (the vendor's default).
	Period30 = "DAY_30"
	// Period90 is the last 90 days.
	Period90 = "DAY_90"
)

// DefaultPeriod is the period of a page whose params name none.
const DefaultPeriod = Period30

// Normalize maps one raw get_author_order_experience page to canonical
// events: one creator_experience.v1 envelope, or none when data is null or
// missing (the vendor has nothing for the author; not an error). It is pure:
// the same page always yields the same envelopes.
//
// Mapping (see MapSnapshot): AuthorID is Params["oAuthorId"], Period is
// Params["period"] (default DAY_30), Data is the data member compacted with
// every number beyond ±(2^53-1) turned into a string of its digits
// (SafeNumbers: IDs such as latest_order.order_id), Indicators are
// ExtractIndicators(data), ObservedAt is recordTime when it parses
// ("2006-01-02 15:04:05" CST, or RFC 3339) and otherwise the page's
// FetchedAt, SnapshotDate is ObservedAt's China Standard Time date and
// Version ObservedAt in Unix milliseconds.
//
// A vendor error envelope returns an error wrapping vendors.ErrVendorError
// (an *APIError). A page that cannot be decoded, lacks an account label or a
// valid oAuthorId, names an invalid period, has data that is neither an
// object nor an array or is not UTF-8, or has no usable observation time
// (neither recordTime nor FetchedAt, or one before 1970) returns an error
// wrapping vendors.ErrMalformedPage.
func Normalize(p events.RawPage) ([]events.Envelope, error) {
	env, err := wire.DecodeRaw(p, DecodeEnvelope)
	if err != nil {
		return nil, fmt.Errorf("xingtu normalize: %w", err)
	}
	author, period, err := pageParams(p.Params)
	if err != nil {
		return nil, fmt.Errorf("xingtu normalize: %w", err)
	}
	if env.Data == nil {
		return []events.Envelope{}, nil
	}
	snap, err := MapSnapshot(p.Account, author, period, env, p.FetchedAt)
	if err != nil {
		return nil, fmt.Errorf("xingtu normalize: author %s period %s: %w", author, period, err)
	}
	e, err := snap.Envelope()
	if err != nil {
		return nil, fmt.Errorf("xingtu normalize: author %s period %s: %w: %w", author, period, vendors.ErrMalformedPage, err)
	}
	return []events.Envelope{e}, nil
}

// pageParams reads and checks the author and period of a page.
func pageParams(params map[string]string) (author, period string, err error) {
	author = strings.TrimSpace(params[ParamAuthor])
	if author == "" {
		return "", "", wire.Malformed("raw page has no %s param", ParamAuthor)
	}
	if !validAuthorID(author) {
		return "", "", wire.Malformed("%s %q: want 1 to %d characters of [0-9A-Za-z_-]", ParamAuthor, wire.Clip(author, 40), maxAuthorIDLen)
	}
	period = strings.TrimSpace(params[ParamPeriod])
	if period == "" {
		period = DefaultPeriod
	}
	if !validPeriod(period) {
		return "", "", wire.Malformed("%s %q: want 1 to 32 characters of [0-9A-Za-z_]", ParamPeriod, wire.Clip(period, 40))
	}
	return author, period, nil
}

// MapSnapshot maps a successful envelope with non-null data, fetched at
// fetchedAt for (account, author, period), to its canonical snapshot (see
// Normalize for the rules). It returns an error wrapping
// vendors.ErrMalformedPage when account is empty, env or env.Data is nil, a scalar
// or not UTF-8, or no observation time is usable.
func MapSnapshot(account, author, period string, env *Envelope, fetchedAt time.Time) (events.CreatorOrderExperience, error) {
	if err := wire.CheckAccount(account); err != nil {
		return events.CreatorOrderExperience{}, err
	}
	if env == nil {
		return events.CreatorOrderExperience{}, wire.Malformed("no envelope")
	}
	d := bytes.TrimSpace(env.Data)
	if wire.IsNull(d) {
		return events.CreatorOrderExperience{}, wire.Malformed("data is null")
	}
	if d[0] != '{' && d[0] != '[' {
		return events.CreatorOrderExperience{}, wire.Malformed("data: want an object or an array, got %s", wire.KindOf(d))
	}
	if !utf8.Valid(d) {
		return events.CreatorOrderExperience{}, wire.Malformed("data is not valid UTF-8")
	}
	inds, err := ExtractIndicators(d)
	if err != nil {
		return events.CreatorOrderExperience{}, wire.Malformed("data: %v", err)
	}
	safe, err := SafeNumbers(d)
	if err != nil {
		return events.CreatorOrderExperience{}, wire.Malformed("data: %v", err)
	}
	observed, ok := parseRecordTime(env.RecordTime)
	if !ok {
		if fetchedAt.IsZero() || fetchedAt.Before(unixEpoch) {
			return events.CreatorOrderExperience{}, wire.Malformed("no observation time: recordTime %q does not parse and the page has no fetch time",
				wire.Clip(env.RecordTime, 40))
		}
		observed = fetchedAt.UTC()
	}
	return events.CreatorOrderExperience{
		Platform:     Name,
		Account:      account,
		AuthorID:     author,
		Period:       period,
		SnapshotDate: observed.In(wire.CST).Format(DateLayout),
		Indicators:   inds,
		Data:         safe,
		ObservedAt:   observed,
		Version:      observed.UnixMilli(),
	}, nil
}

var (
	unixEpoch = time.Unix(0, 0)
	// maxTime bounds recordTime by what storage holds (wire.MaxTime): a
	// placeholder such as 9999-12-31 must not reach the sink.
	maxTime = wire.MaxTime
)

// parseRecordTime reads recordTime: "2006-01-02 15:04:05" (CST, fractional
// seconds allowed) or RFC 3339. Times before 1970 (the version must be a
// non-negative Unix millisecond count) or after 2105-12-31 23:59:59 UTC
// (wire.MaxTime, the latest time storage holds) are rejected.
func parseRecordTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(TimeLayout, s, wire.CST)
	if err != nil {
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return time.Time{}, false
		}
	}
	if t.Before(unixEpoch) || t.After(maxTime) {
		return time.Time{}, false
	}
	return t.UTC(), true
}

const maxAuthorIDLen = 64

// validAuthorID reports whether s is 1..64 characters of [0-9A-Za-z_-].
func validAuthorID(s string) bool { return len(s) <= maxAuthorIDLen && wire.ValidKey(s) }

// validPeriod reports whether s is 1..32 characters of [0-9A-Za-z_].
func validPeriod(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}
