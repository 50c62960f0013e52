// Package xingtu implements yongjin's vendor for JustOneAPI's Douyin Creator
// Marketplace (Xingtu, 星图) "Creator Order Experience" endpoint
//
//	GET https://api.justoneapi.com/api/douyin-xingtu/gw/api/aggregator/get_author_order_experience/v1
//	    ?token=…&oAuthorId=…&period=DAY_30|DAY_90
//
// It is a snapshot vendor: there is no paging and no time window. Every poll
// asks, per configured author and period, for the creator's commercial
// order-experience indicators and turns each answer into one
// creator_experience.v1 event.
//
// The package has five parts:
//   - wire.go / decode.go: the JustOneAPI envelope
//     {"code":0,"message":null|"…","data":<any>,"recordTime":"…","requestId":"…"}
//     and a tolerant decoder (code as a number or a numeric string, message
//     and requestId as any scalar or null, data any JSON).
//   - indicators.go: the extraction of numeric leaves from the (undocumented)
//     data object, with dotted / [i] paths.
//   - client.go: the Fetcher, which walks author × period through the shared
//     HTTP core (pkg/vendors/client) and classifies JustOneAPI's codes
//     (100/600 unauthorized, 302/303 rate limited, 301/500 transient, the rest
//     permanent), whatever HTTP status carries them.
//   - normalize.go: the pure mapping of a raw page to at most one
//     creator_experience.v1 event.
//
// The sandbox protocol handler, with deterministic, day-by-day changing data
// and its ground truth, is internal/sandbox/xingtu.
//
// The token travels in the query string. It is passed to the HTTP core as a
// secret (redacted from every error), never put into a page's Params, and
// every error this package builds from a vendor message is redacted too.
//
// The shape of data is not documented (PROTOCOL-NOTES.md §4: no real
// response was found), so the normalizer never interprets field names
// beyond the indicator rules: it stores the object verbatim and indexes its
// numeric leaves. The sandbox's data shape (internal/sandbox/xingtu) is
// yongjin's own design of a plausible Xingtu answer.
package xingtu
