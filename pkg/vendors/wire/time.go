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

// ParseTime parses a TimeLayout wall-clock time in CST (fractional seconds
// allowed, surrounding spaces ignored) and returns it in UTC. "" and ZeroTime
// mean "not yet" and return nil without an error (a null JSON value decodes
// to "" in the tolerant string types). Text that does not parse returns
// `"<text>" is not a "2006-01-02 15:04:05" time`; a time before 1970 returns
// `"<text>" is before 1970` (an event version must be a non-negative Unix
// millisecond count).
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
