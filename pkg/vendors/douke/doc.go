// Package douke implements yongjin's vendor for veapi.cn's douke
// `kol_OrderAds` endpoint (a gateway to Douyin Buyin's kolOrderAds): the
// distribution orders of a creator (live room, product detail, activity and
// H5-activity distribution) with their commission split.
//
// The package has four parts:
//   - wire.go / decode.go: the wire model (Order, Page) and a tolerant decoder.
//     veapi's field types drift from its documentation, so every scalar accepts
//     null, "", a JSON number or a numeric string (FlexInt, FlexString), and
//     IDs wider than 2^53 survive exactly because numbers are decoded from their
//     literal text, never through float64 (the shared pkg/vendors/wire rules,
//     Lax dialect).
//   - client.go: the Fetcher, which walks the cursor pages of one time window
//     through the shared HTTP core (pkg/vendors/client), classifying veapi's
//     error envelopes as unauthorized, rate limited, permanent or transient.
//   - normalize.go: the pure mapping of a raw page to canonical events: per
//     order one order.v1 event and exactly four commission.v1 events (creator,
//     live_channel, shop, platform_fee).
//   - vendor.go: Spec, the declaration from which the generic vendors.Adapter
//     (Vendor) ties the parts to the vendors.Vendor interface.
//
// Vendor wall-clock times ("2006-01-02 15:04:05") are China Standard Time
// (UTC+8) and are converted to UTC before they enter an event. Amounts are
// integer fen and rates are the real rate ×10000, i.e. basis points.
package douke
