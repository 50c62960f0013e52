package events

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// RawSubjectPrefix is the NATS subject prefix of raw vendor pages. Subjects are
// RawSubjectPrefix.<vendor>.<endpoint>, e.g. yongjin.raw.douke.kol_orderads.
const RawSubjectPrefix = "yongjin.raw"

// RawSubject is the subject raw pages of one vendor endpoint are published on.
func RawSubject(vendor, endpoint string) string {
	return RawSubjectPrefix + "." + vendor + "." + endpoint
}

// Header names of the raw page envelope. The page body travels byte-for-byte
// as the message data; everything yongjin knows about the request travels in
// these headers. No header ever carries a credential.
const (
	HdrSource      = "Yongjin-Source"
	HdrVendor      = "Yongjin-Vendor"
	HdrEndpoint    = "Yongjin-Endpoint"
	HdrAccount     = "Yongjin-Account"
	HdrWindowStart = "Yongjin-Window-Start"
	HdrWindowEnd   = "Yongjin-Window-End"
	HdrTimeType    = "Yongjin-Time-Type"
	HdrCursor      = "Yongjin-Cursor"
	HdrHTTPStatus  = "Yongjin-Http-Status"
	HdrFetchedAt   = "Yongjin-Fetched-At"
	// HdrParams carries the non-secret request parameters the body does not
	// repeat (e.g. spu_id, oAuthorId, period), URL-query encoded.
	HdrParams = "Yongjin-Params"
)

// RawPage is one vendor response page as the poller fetched it: where it came
// from (no secrets) and the response body exactly as the vendor sent it. RAW is
// yongjin's replay log: a changed normalizer can re-derive every event from it.
type RawPage struct {
	// SourceID is the configured source name.
	SourceID string
	Vendor   string
	Endpoint string
	// Account is the vendor account label from the config (never a credential).
	Account string
	// WindowStart and WindowEnd bound the queried time window (UTC).
	WindowStart time.Time
	WindowEnd   time.Time
	// TimeType says which vendor time the window filters on (e.g. "pay", "update").
	TimeType string
	// Cursor is the page cursor or page number that was requested.
	Cursor     string
	HTTPStatus int
	FetchedAt  time.Time
	// Params are the non-secret request parameters needed to interpret the
	// body (e.g. spu_id, oAuthorId, period). Never credentials.
	Params map[string]string
	// Body is the vendor response body, byte-for-byte.
	Body []byte
}

// Subject is the NATS subject this page is published on.
func (p RawPage) Subject() string { return RawSubject(p.Vendor, p.Endpoint) }

// MsgID is the page's JetStream de-duplication ID: the same request answered
// with the same body yields the same ID, so a retried publish is stored once.
func (p RawPage) MsgID() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%d\x00%d\x00%s\x00%s\x00%s\x00", p.SourceID, p.Vendor, p.Endpoint, p.Account,
		p.WindowStart.UnixMilli(), p.WindowEnd.UnixMilli(), p.TimeType, p.Cursor, encodeParams(p.Params))
	h.Write(p.Body)
	return "raw-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Fingerprint identifies the data of the page: source, vendor, endpoint,
// account, time type, window start, cursor, params and content (the part of
// the body that carries records and paging; the poller passes the vendor's
// Page.Content, or the body). It leaves out what changes on every re-read of
// unchanged data: the moving window end, the fetch time and per-request
// noise such as request IDs. Two pages with one fingerprint give the same
// events, so the poller stores a page again only when its fingerprint changed.
func (p RawPage) Fingerprint(content []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "fp1\x00%s\x00%s\x00%s\x00%s\x00%d\x00%s\x00%s\x00%s\x00", p.SourceID, p.Vendor, p.Endpoint, p.Account,
		p.WindowStart.UnixMilli(), p.TimeType, p.Cursor, encodeParams(p.Params))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Headers returns the envelope as NATS header values (single-valued;
// Yongjin-Params only when the page has params).
func (p RawPage) Headers() map[string]string {
	h := map[string]string{
		HdrSource:      p.SourceID,
		HdrVendor:      p.Vendor,
		HdrEndpoint:    p.Endpoint,
		HdrAccount:     p.Account,
		HdrWindowStart: p.WindowStart.UTC().Format(time.RFC3339),
		HdrWindowEnd:   p.WindowEnd.UTC().Format(time.RFC3339),
		HdrTimeType:    p.TimeType,
		HdrCursor:      p.Cursor,
		HdrHTTPStatus:  strconv.Itoa(p.HTTPStatus),
		HdrFetchedAt:   p.FetchedAt.UTC().Format(time.RFC3339Nano),
	}
	if len(p.Params) > 0 {
		h[HdrParams] = encodeParams(p.Params)
	}
	return h
}

func encodeParams(m map[string]string) string {
	v := url.Values{}
	for k, x := range m {
		v.Set(k, x)
	}
	return v.Encode() // sorted by key
}

// RawPageFromHeaders rebuilds a RawPage from its envelope headers (get returns
// a header's value or "") and body. It fails when the vendor or endpoint is
// missing or a time or status is malformed.
func RawPageFromHeaders(get func(string) string, body []byte) (RawPage, error) {
	p := RawPage{
		SourceID: get(HdrSource),
		Vendor:   get(HdrVendor),
		Endpoint: get(HdrEndpoint),
		Account:  get(HdrAccount),
		TimeType: get(HdrTimeType),
		Cursor:   get(HdrCursor),
		Body:     body,
	}
	if p.Vendor == "" || p.Endpoint == "" {
		return p, fmt.Errorf("raw page: missing %s or %s header", HdrVendor, HdrEndpoint)
	}
	var err error
	parse := func(name string, dst *time.Time, layout string) {
		if v := get(name); v != "" && err == nil {
			if *dst, err = time.Parse(layout, v); err != nil {
				err = fmt.Errorf("raw page: header %s: %w", name, err)
			}
		}
	}
	parse(HdrWindowStart, &p.WindowStart, time.RFC3339)
	parse(HdrWindowEnd, &p.WindowEnd, time.RFC3339)
	parse(HdrFetchedAt, &p.FetchedAt, time.RFC3339Nano)
	if v := get(HdrParams); v != "" && err == nil {
		q, perr := url.ParseQuery(v)
		if perr != nil {
			return p, fmt.Errorf("raw page: header %s: %w", HdrParams, perr)
		}
		p.Params = make(map[string]string, len(q))
		for k := range q {
			p.Params[k] = q.Get(k)
		}
	}
	if v := get(HdrHTTPStatus); v != "" && err == nil {
		if p.HTTPStatus, err = strconv.Atoi(v); err != nil {
			err = fmt.Errorf("raw page: header %s: %w", HdrHTTPStatus, err)
		}
	}
	return p, err
}
