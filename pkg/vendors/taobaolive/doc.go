// Package taobaolive implements yongjin's vendor "taobao-live" for the Taobao
// Open Platform (TOP) API alibaba.matrix.tcp.outer.querypredictorderlist
// (淘宝直播佣金预估单查询接口): a Taobao Live creator's predicted-commission
// orders, polled as endpoint "querypredictorderlist".
//
// The package has five parts:
//   - wire.go / decode.go: the wire model (Order, Page, APIError,
//     BusinessError) and a tolerant decoder. It accepts the documented wrapped
//     shape and the simplified one, elements as a wrapper object, a bare
//     array or a single object, and every scalar as null, "", a number or a
//     numeric string (the shared pkg/vendors/wire rules, Lax dialect). IDs
//     (biz_order_id, parent_order_id, item_id) are kept as their literal
//     text, so values above 2^53 survive exactly. Money arrives
//     as yuan strings and is parsed exactly (never through float64) into fen
//     (Yuan): up to two significant decimals are accepted ("12.500" is
//     1250 fen), a third non-zero decimal cannot be represented and makes the
//     page malformed. partner_predict_amount ("10%", "10.5%") becomes basis
//     points (Percent). extend_info is parsed when it is a JSON object and
//     ignored otherwise. The document's &quot; quotes are artifacts of its
//     XML rendering, not part of the values.
//   - sign.go: TOP's request signature (md5, hmac, hmac-sha256).
//   - client.go: the Fetcher, which walks page_no pages of one time window
//     through the shared HTTP core (pkg/vendors/client): every request is a
//     form POST to /router/rest with the common parameters, a fresh GMT+8
//     timestamp and signature per attempt, and query_predict_order_request as
//     one JSON object string. TOP's error_response codes and result.success
//     are classified as unauthorized, rate limited, transient or permanent.
//   - normalize.go: the pure mapping of a raw page to canonical events.
//   - vendor.go: Spec, from which vendors.Adapter (Vendor) ties the parts to
//     vendors.Vendor.
//
// The sandbox protocol handler and its ground truth are
// internal/sandbox/taobaolive.
//
// # Mapping
//
// Each order gives one order.v1 event and exactly two commission.v1 events,
// creator and service_provider, zero amounts included (a line never depends
// on the state):
//   - Order: OrderID biz_order_id (the child order), ParentOrderID
//     parent_order_id, ProductID item_id, ProductName item_title, AuthorID and
//     AuthorName ad_user_nick (TOP gives no creator ID; the nickname is the
//     only handle), ShopID/ShopName/BuyerOpenID empty, Channel "live",
//     Quantity buy_amount, PaidFen order_amount, EstimatedBaseFen
//     order_commission_amount, SettledBaseFen 0.
//   - Status: 2/订单已支付 → paid, 3/订单已确认收货 → received, 4/订单售中退款关闭
//     → cancelled (closed by an in-sale refund), 5/订单有退款 → refunded (an
//     after-sale refund; refund_amount may be partial), and "已结束"
//     ("finished", the document's sample value) → received; any other value →
//     unknown. VendorStatus always keeps order_status verbatim. TOP reports
//     no settlement: "settled" never occurs.
//   - Times: PaidAt order_paid_time; ReceivedAt end_time for 3 (and 已结束) and
//     5; RefundedAt end_time for 4 and refund_end_time for 5; UpdatedAt
//     modify_time (else the latest of the other times); Version UpdatedAt in
//     Unix milliseconds.
//   - Lines: creator with EstimatedFen predict_amount and RateBP
//     partner_predict_amount; service_provider with EstimatedFen
//     out_ad_user_fee and RateBP extend_info.outerAdUserDivRatio (read as
//     basis points; 0 when absent). SettledFen is 0 on both: the endpoint
//     reports predicted commission only. refund_amount is the order's
//     RefundedFen and predict_total_amount its EstimatedTotalCommissionFen.
//
// # Undocumented points and choices
//
//   - Window: TOP documents no maximum; MaxWindow is 7 days. Window.TimeType
//     (and the time_type param) "pay" is date_type 0 and "confirm" date_type
//     1. TOP cannot filter on the modification time, so the vendor's
//     incremental time types (vendors.Incremental) are "pay" and "confirm":
//     the poller re-scans pay-time and confirm-time windows and modify_time
//     (the version) keeps the newest state.
//   - Paging stops after a page without elements or when page_no × page_size
//     ≥ total_count; without total_count, after a short page.
//   - Throttling (code 7, accesscontrol.limited-by-*, isv.BUSINESS_LIMIT_CONTROL)
//     waits N+1 seconds from "This ban will last for N more seconds".
//   - Clock skew: TOP refuses timestamps more than 10 minutes off (code 31).
//     The Fetcher then adopts the offset shown by the answer's HTTP Date
//     header and retries, so a skewed host (or the sandbox's virtual clock)
//     still works.
//
// Vendor wall-clock times ("2006-01-02 15:04:05") are China Standard Time
// (UTC+8) and are converted to UTC before they enter an event.
package taobaolive
