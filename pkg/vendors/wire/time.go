package wire

import (
	"fmt"
	"strings"
	"time"
)

// TimeLayout is the wall-clock layout Chinese vendor APIs use for times
// ("2006-01-02 15:04:05", China Standard Time).
const TimeLayout = "2006-01-02 15:04:05"

// DateLayout is the layout of a calendar date ("2006-01-02").
const DateLayout = "2006-01-02"

// ZeroTime is the placeholder some vendors send for a time that has not
// happened yet; ParseTime reads it as "no time".
const ZeroTime = "0000-00-00 00:00:00"

// CST is China Standard Time (Asia/Shanghai, UTC+8 without daylight saving),
// the zone of every vendor wall-clock time. A fixed zone avoids a tzdata
// dependency.
var CST = time.FixedZone("CST", 8*3600)

var unixEpoch = time.Unix(0, 0)

// MaxTime is the latest time yongjin stores: the end of ClickHouse's
// DateTime range (2105-12-31 23:59:59 UTC). Later times (vendor
// placeholders such as "9999-12-31 23:59:59") are refused when a record is
// mapped, so such an event never reaches the sink.
var MaxTime = time.Date(2105, 12, 31, 23, 59, 59, 0, time.UTC)

// FutureSkew is how far past its page's fetch time a record's time may lie
// (vendor clocks drift, time zones get confused): anything later is a
// placeholder or garbage, and the record is malformed.
const FutureSkew = 24 * time.Hour

// NotAfter is the latest plausible time of a record fetched at fetchedAt:
// fetchedAt + FutureSkew, or MaxTime when the fetch time is unknown (zero)
// or later than MaxTime allows.
func NotAfter(fetchedAt time.Time) time.Time {
	if fetchedAt.IsZero() {
		return MaxTime
	}
	if t := fetchedAt.UTC().Add(FutureSkew); t.Before(MaxTime) {
		return t
	}
	return MaxTime
}

// ParseTime parses a TimeLayout wall-clock time in CST (fractional seconds
// allowed, surrounding spaces ignored) and returns it in UTC. "" and ZeroTime
// mean "not yet" and return nil without an error (a null JSON value decodes
// to "" in the tolerant string types). Text that does not parse returns
// `"<text>" is not a "2006-01-02 15:04:05" time`; a time before 1970 returns
// `"<text>" is before 1970` (an event version must be a non-negative Unix
// millisecond count); a time after MaxTime returns `"<text>" is after
// 2105-12-31 23:59:59 UTC, the latest time storage holds`.
func ParseTime(s string) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == ZeroTime {
		return nil, nil
	}
	t, err := time.ParseInLocation(TimeLayout, s, CST)
	if err != nil {
		return nil, fmt.Errorf("%q is not a %q time", Clip(s, 40), TimeLayout)
	}
	if t.Before(unixEpoch) {
		return nil, fmt.Errorf("%q is before 1970", s)
	}
	if t.After(MaxTime) {
		return nil, fmt.Errorf("%q is after %s UTC, the latest time storage holds", s, MaxTime.Format(TimeLayout))
	}
	t = t.UTC()
	return &t, nil
}

// Latest returns the latest of first and the non-nil times in more.
func Latest(first time.Time, more ...*time.Time) time.Time {
	latest := first
	for _, t := range more {
		if t != nil && t.After(latest) {
			latest = *t
		}
	}
	return latest
}

// RecordVersion is the version time of a record: the latest of all its
// times, the vendor's update time (updated, may be nil) included. Taking the
// latest of every time, rather than the update time when there is one,
// keeps the version from going backwards for a record the vendor sends
// sometimes with and sometimes without an update time, or with an update
// time older than a later life-cycle time: each observation's version is at
// least every time it shows, and a record's times only ever get added.
func RecordVersion(first time.Time, updated *time.Time, more ...*time.Time) time.Time {
	return Latest(first, append([]*time.Time{updated}, more...)...)
}
