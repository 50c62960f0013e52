package douke

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

// addSeeds seeds f with every testdata/*.json page plus a few hand-made edge
// cases; plain `go test` runs exactly these.
func addSeeds(f *testing.F) {
	vendorstest.AddSeeds(f,
		`{"error":"0"}`,
		`{"error":0,"data":{"orders":[null]}}`,
		`{"error":"0","data":{"orders":[{"order_id":"1","pay_success_time":"0000-01-01 00:00:00"}]}}`,
		`{"error":"0","data":{"orders":[{"order_id":"1","pay_success_time":"9999-12-31 23:59:59","item_num":"9223372036854775807"}]}}`,
		`{"error":"0","data":{"orders":[{"order_id":"1","pay_success_time":"2023-01-01 00:00:00.123456789","pid_info":"{}"}]}}`,
		`{"error":"0","data":{"orders":[{"order_id":"é","pay_success_time":"2023-01-01 00:00:00"}]}}`,
		`{"error":"0","data":{"orders":[{"order_id":"1","pay_success_time":"2023-01-01 00:00:00","commission_rate":"-1"}]}}`,
		`{"error":"0","data":{"orders":[{"order_id":"1","pay_success_time":"2023-01-01 00:00:00","product_name":"\ud800"}]}}`,
		"{\"error\":\"0\",\"data\":{\"orders\":[{\"order_id\":\"1\",\"pay_success_time\":\"2023-01-01 00:00:00\",\"shop_name\":\"\xff\xfe\"}]}}",
		`{"error":"-1","msg":null}`,
	)
}

func FuzzDecodePage(f *testing.F) {
	addSeeds(f)
	vendorstest.FuzzDecode(f, DecodePage, nil, func(t *testing.T, p *Page) {
		if p.Error != "0" {
			t.Fatalf("success with error code %q", p.Error)
		}
		// A decoded page is stable: its orders re-encode and decode to the same values.
		q := vendorstest.Redecode(t, map[string]any{"error": "0", "data": map[string]any{"cursor": p.Cursor, "orders": p.Orders}}, DecodePage)
		if len(q.Orders) != len(p.Orders) || q.Cursor != p.Cursor {
			t.Fatalf("round trip changed the page: %d/%q vs %d/%q", len(q.Orders), q.Cursor, len(p.Orders), p.Cursor)
		}
		vendorstest.SameRecords(t, "order", p.Orders, q.Orders)
	})
}

func FuzzNormalize(f *testing.F) {
	addSeeds(f)
	vendorstest.FuzzOrderNormalize(f, 4, func(body []byte) ([]events.Envelope, error) { return Normalize(rawPage(body)) })
}

// FuzzDecodePageOnePass checks that DecodePage's one-pass path gives what
// decoding in parts gives, page and error alike (bad orders, vendor
// errors, repeated members and odd shapes included).
func FuzzDecodePageOnePass(f *testing.F) {
	addSeeds(f)
	for _, s := range []string{
		`{"error":"0","data":{"cursor":"a","orders":[{"order_id":"1","pay_success_time":"2023-01-01 00:00:00"}]},"data":{"cursor":"b"}}`,
		`{"error":"0","data":{"cursor":"a","orders":[{"order_id":"1"}]},"DATA":{}}`,
		`{"error":"0","data":{"cursor":"a","orders":[{"order_id":"1"}]},"\u0064ata":{}}`,
		`{"error":"0","data":{"cursor":"a","cursor":"b","orders":[{"order_id":"1"},{"order_id":"2"}],"orders":[{"order_id":"3"}]}}`,
		`{"error":"0","data":{"orders":[{"order_id":[true]},null,{"order_id":"2","item_num":{"x":1}}]}}`,
		`{"error":"0","data":{"orders":{}}}`,
		`{"error":"0","data":{"orders":""}}`,
		`{"error":"0","data":[]}`,
		`{"error":"0","data":""}`,
		`{"error":"0","data":null}`,
		`{"error":"0","data":{"orders":[]}}`,
		`{"error":"0","data":{"orders":null}}`,
		`{"error":"1","msg":"no","data":{"orders":[1]}}`,
		`{"error":0,"data":{"cursor":7,"orders":[{"order_id":12345678901234567890,"pay_success_time":"2023-01-01 00:00:00"}]}} `,
		`{"error":"0","data":{"orders":[]}} x`,
		"\xef\xbb\xbf{\"error\":\"0\",\"data\":{\"orders\":[{\"order_id\":\"1\",\"pay_success_time\":\"2023-01-01 00:00:00\"}]}}",
		`{"error":"0","msg":"a\"data\":{}","data":{"orders":[{"order_id":"1"}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := DecodePage(body)
		q, qerr := decodePageInParts(body)
		if !reflect.DeepEqual(p, q) || !reflect.DeepEqual(err, qerr) {
			t.Fatalf("one pass: %+v, %v\nin parts: %+v, %v", p, err, q, qerr)
		}
	})
}

// TestDecodePageOnePassTaken checks that the one-pass path decodes the
// documented pages (FuzzDecodePageOnePass would otherwise compare the
// in-parts path with itself) and leaves a repeated data member to the
// in-parts path.
func TestDecodePageOnePassTaken(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
		want bool
	}{
		{"lifecycle", vendorstest.ReadTestdata(t, "lifecycle.json"), true},
		{"doc_sample", vendorstest.ReadTestdata(t, "doc_sample.json"), true},
		{"repeated data", []byte(`{"error":"0","data":{"orders":[{"order_id":"1"}]},"Data":{}}`), false},
		{"escaped member name", []byte(`{"error":"0","\u0064ata":{"orders":[]}}`), false},
		{"vendor error", vendorstest.ReadTestdata(t, "error_vekey.json"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, ok := decodePageOnePass(tc.body); ok != tc.want {
				t.Fatalf("one pass taken = %v; want %v", ok, tc.want)
			}
		})
	}
}

// FuzzDecodePageFast checks that every page the reflection-free reader
// takes decodes to the same Page through encoding/json (the reference).
func FuzzDecodePageFast(f *testing.F) {
	addSeeds(f)
	for _, s := range []string{
		`{"error":"0","data":{"orders":[{"order_id":"1","ORDER_ID":"2"}]}}`,
		`{"error":"0","data":{"orders":[{"order_id":"1","order_id":"2"}]}}`,
		`{"error":"0","data":{"orders":[{"order_id":"1","unknown":{"a":[1,2,{"b":null}]},"item_num":"3"}]}}`,
		`{"error":"0","data":{"orders":[{"order_id":1.5e3,"item_num":12.0,"total_pay_amount":"12.","pid_info":"{\"pid\":\"x\"}"}]}}`,
		`{"error":"0","data":{"orders":[{"order_id":true,"product_name":"a\u00e9\n","pid_info":{"pid":7,"PID":8}}]}}`,
		`{"error":"0","data":{"orders":[{"order_id":"1","pid_info":{"pid":"p","extra":[]},"item_num":[],"app":{}}]}}`,
		`{"error":"0","data":{"orders":[{"order_id":"1","item_num":-0,"commission_rate":99999999999999999999}]}}`,
		`{"error":"0","data":{"orders":[{"order_id":"1","item_num":"1e3"}]}}`,
		`{"error":"0","data":{"orders":[{"order_id":"1\u0000"}]},"request_id":12}`,
		` {"msg":"ok","error":"0","data":{"cursor":"c","orders":[null,{}]}} `,
		`{"error":"0","x":[1,2,3,{"d":"\ud83d\ude00"}],"data":{"cursor":"c"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, ok := decodePageFast(body)
		if !ok {
			return
		}
		q, err := decodePageReference(body)
		if err != nil || !reflect.DeepEqual(p, q) {
			t.Fatalf("fast: %+v\nreference: %+v, %v", p, q, err)
		}
	})
}

// TestDecodePageFastTaken checks that the fast reader takes the pages the
// sandbox and the vendor's documentation serve (FuzzDecodePageFast would
// otherwise compare nothing) and leaves odd pages to the reference.
func TestDecodePageFastTaken(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
		want bool
	}{
		{"sandbox page", vendorstest.ReadTestdata(t, "sandbox_page.json"), true},
		{"lifecycle", vendorstest.ReadTestdata(t, "lifecycle.json"), true},
		{"doc_sample", vendorstest.ReadTestdata(t, "doc_sample.json"), true},
		{"empty", vendorstest.ReadTestdata(t, "empty.json"), true},
		{"data null", vendorstest.ReadTestdata(t, "data_null.json"), true},
		{"repeated data", []byte(`{"error":"0","data":{"orders":[{"order_id":"1"}]},"Data":{}}`), false},
		{"escaped member name", []byte(`{"error":"0","\u0064ata":{"orders":[]}}`), false},
		{"vendor error", vendorstest.ReadTestdata(t, "error_vekey.json"), false},
		{"type-drifted amount", []byte(`{"error":"0","data":{"orders":[{"order_id":"1","total_pay_amount":"1,000.00"}]}}`), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := decodePageFast(tc.body)
			if ok != tc.want {
				t.Fatalf("fast reader taken = %v; want %v", ok, tc.want)
			}
			if ok {
				q, err := decodePageReference(tc.body)
				if err != nil || !reflect.DeepEqual(p, q) {
					t.Fatalf("fast: %+v\nreference: %+v, %v", p, q, err)
				}
			}
		})
	}
}

// FuzzDecodePagingFast checks that every answer the poller's one-pass
// reader takes gives the page and order list encoding/json gives.
func FuzzDecodePagingFast(f *testing.F) {
	addSeeds(f)
	for _, s := range []string{
		`{"error":"0","data":{"cursor":"c","orders":[{"order_id":"1"},{"x":[1,{"y":"\u00e9"}]}]},"request_id":"r"}`,
		`{"error":"0","data":{"cursor":"c","orders":{}}}`,
		`{"error":"0","data":{"cursor":"c","orders":" "}}`,
		`{"error":"0","data":{"cursor":"c","orders":"x"}}`,
		`{"error":"0","data":[ ]}`,
		`{"error":"0","data":[1]}`,
		`{"error":"0","data":{"Orders":[1]}}`,
		`{"error":"0","data":{"orders":[1],"orders":[2]}}`,
		`{"error":"0","data":{"orders":[1]}} ,`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, orders, n, ok := decodePagingFast(body)
		if !ok {
			return
		}
		q, qorders, err := decodePagingReference(body)
		if err != nil || !reflect.DeepEqual(p, q) || !bytes.Equal(orders, qorders) || (orders == nil) != (qorders == nil) {
			t.Fatalf("fast: %+v %q\nreference: %+v %q, %v", p, orders, q, qorders, err)
		}
		if m, err := client.CountElements(qorders); err != nil || m != n {
			t.Fatalf("fast count %d; CountElements %d, %v", n, m, err)
		}
	})
}

// TestDecodePagingFastTaken checks that the poller's reader takes the
// sandbox's and the documentation's pages.
func TestDecodePagingFastTaken(t *testing.T) {
	for _, name := range []string{"sandbox_page.json", "lifecycle.json", "doc_sample.json", "empty.json", "data_null.json"} {
		body := vendorstest.ReadTestdata(t, name)
		p, orders, _, ok := decodePagingFast(body)
		if !ok {
			t.Fatalf("%s: not taken", name)
		}
		q, qorders, err := decodePagingReference(body)
		if err != nil || !reflect.DeepEqual(p, q) || !bytes.Equal(orders, qorders) {
			t.Fatalf("%s: fast %+v %d bytes; reference %+v %d bytes, %v", name, p, len(orders), q, len(qorders), err)
		}
	}
}
