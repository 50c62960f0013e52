// Package doukecsj implements yongjin's vendor for veapi.cn's douke
// `csj_ordersearch` endpoint (穿山甲 order search), the replacement veapi
// names for kol_OrderAds: the orders one application produced through
// product, live-room and activity links, with our commission.
//
// It is the worked example of the vendor kit (see the README's "Adding a
// vendor"): a vendors.Spec (vendor.go), the wire model and its decoder
// (wire.go, decode.go), the fetcher's genuine differences (client.go: cursor
// paging until "", sizes up to 50, 90-day windows sent as a date string or
// Unix seconds, update-time windows kept 10 s behind now) and the mapping
// (normalize.go). What it shares with kol_OrderAds — veapi's envelope, its
// tolerant scalars and its error taxonomy — it takes from package douke;
// the HTTP core, credentials, parameters and the fetch step from
// pkg/vendors/client; the record-by-record normalizer and commission lines
// from pkg/vendors/wire.
//
// It is a vendor of its own (Name "douke-csj") rather than a second
// endpoint of douke because the registry, the poller's sources, subjects,
// checkpoints and tables are all keyed by vendor name.
//
// Each order maps to one order.v1 event and two commission lines: creator
// (split_rate, estimated_commission, ads_real_commission) and platform_fee
// (estimated_tech_service_fee). Times are China Standard Time on the wire
// and UTC in events; amounts are integer fen and rates basis points.
package doukecsj
