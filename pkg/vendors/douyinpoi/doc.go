// Package douyinpoi implements yongjin's vendor for the Douyin Open Platform
// endpoint POST /poi/plan/list/ (查询通用佣金计划): the general commission plans
// of mini-program products (SPUs). Plans are reference data, not orders: every
// poll lists the plans of the configured SPUs as they are now and each plan
// becomes one commission_plan.v1 event versioned by its observation time.
//
// The package has five parts:
//   - wire.go / decode.go: the wire model (Plan, Page, Extra) and a tolerant
//     decoder. plan_id and spu_id are bare JSON numbers above 2^53, so IDs are
//     decoded from their literal text (FlexID), never through float64; every
//     scalar also accepts a numeric string and null (the shared
//     pkg/vendors/wire rules, Strict dialect).
//   - token.go: TokenSource, the client_token cache (POST /oauth/client_token/)
//     with refresh before expiry behind a single flight.
//   - client.go: the Fetcher, which walks every configured SPU page by page
//     through the shared HTTP core (pkg/vendors/client), classifies the
//     platform's error codes and refreshes the token once when the plan API
//     says it expired or is invalid.
//   - normalize.go: the pure mapping of a raw page to commission_plan.v1 events.
//
// The sandbox protocol handler (token endpoint, plan endpoint, ground truth)
// is internal/sandbox/douyinpoi.
//
// Inferred points (PROTOCOL-NOTES [I]) and this package's decisions:
//   - content_type 1 = live, 2 = short video, 3 = both; other values are kept
//     as their code with the label "unknown".
//   - status is an integer whose meaning is not documented; it is kept raw.
//   - create_time is documented as a date string ("2022-04-22"); SDKs model it
//     as a long, so a Unix timestamp (seconds, or milliseconds above 10^12) is
//     accepted too and converted to its China Standard Time date.
//   - extra.now is seconds in the plan API sample and milliseconds in OAuth
//     examples; a plausible value in either unit is the observation time,
//     anything else falls back to the raw page's fetch time.
package douyinpoi
