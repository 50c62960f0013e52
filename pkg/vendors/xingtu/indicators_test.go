package xingtu

import (
	"reflect"
	"testing"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

func TestExtractIndicators(t *testing.T) {
	type ind struct {
		name  string
		value float64
	}
	tests := []struct {
		name, data string
		want       []ind
	}{
		{"empty object", `{}`, []ind{}},
		{"empty array", `[]`, []ind{}},
		{"flat", `{"b":2,"a":1.5}`, []ind{{"a", 1.5}, {"b", 2}}},
		{"nested objects", `{"x":{"y":{"z":3}}}`, []ind{{"x.y.z", 3}}},
		{"array of objects", `{"l":[{"n":1},{"n":2}]}`, []ind{{"l[0].n", 1}, {"l[1].n", 2}}},
		{"array of scalars", `{"l":[5,"6",true,null,"x"]}`, []ind{{"l[0]", 5}, {"l[1]", 6}}},
		{"nested arrays", `{"m":[[1],[2,[3]]]}`, []ind{{"m[0][0]", 1}, {"m[1][0]", 2}, {"m[1][1][0]", 3}}},
		{"root array", `[1,{"a":2}]`, []ind{{"[0]", 1}, {"[1].a", 2}}},
		{"byte order, not numeric order", `{"l":[0,1,2,3,4,5,6,7,8,9,10]}`, func() []ind {
			var out []ind
			// "]" sorts after "0": l[10] before l[1]
			for i, n := range []string{"l[0]", "l[10]", "l[1]", "l[2]", "l[3]", "l[4]", "l[5]", "l[6]", "l[7]", "l[8]", "l[9]"} {
				v := []float64{0, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9}[i]
				out = append(out, ind{n, v})
			}
			return out
		}()},
		{"numeric strings", `{"a":"12.5","b":" -3 ","c":"1e3","d":"0","e":"-0.5E-1"}`,
			[]ind{{"a", 12.5}, {"b", -3}, {"c", 1000}, {"d", 0}, {"e", -0.05}}},
		{"non-numeric strings", `{"a":"12.5%","b":"007","c":"0x10","d":"NaN","e":"Infinity","f":"","g":"1,000","h":"+1","i":".5","j":"5.","k":"1e","l":"--1","m":"1 2"}`, []ind{}},
		{"booleans and null", `{"a":true,"b":false,"c":null}`, []ind{}},
		{"id keys", `{"id":1,"ID":2,"Ids":[3],"author_id":4,"AUTHOR_ID":5,"brand_ids":[6,7],"authorId":8,"starID":9,"itemIds":[10],"itemIDs":[11],"x-id":12,"v2Id":13,"obj":{"industry_id":14}}`, []ind{}},
		{"words ending in id", `{"paid":1,"valid":2,"bid":3,"PAID":4,"Id2":5,"idx":6,"grid_size":7}`,
			[]ind{{"Id2", 5}, {"PAID", 4}, {"bid", 3}, {"grid_size", 7}, {"idx", 6}, {"paid", 1}, {"valid", 2}}},
		{"array elements inherit the key", `{"ids":[{"n":1}],"list":[{"id":2,"n":3}]}`, []ind{{"ids[0].n", 1}, {"list[0].n", 3}}},
		{"significant digits", `{"a":123456789012345,"b":1234567890123456,"c":"0.1234567890123456","d":0.123456789012345,"e":100000000000000000000,"f":7000000000000000001,"g":1.50000000000000000000}`,
			[]ind{{"a", 123456789012345}, {"d", 0.123456789012345}, {"g", 1.5}}}, // e: beyond 2^53-1
		{"not finite or beyond 2^53-1", `{"a":1e400,"b":"-1e400","c":1e308,"d":9000000000000000,"e":-1e16}`, []ind{{"d", 9e15}}},
		{"duplicate keys: last wins", `{"a":1,"b":2,"a":3}`, []ind{{"a", 3}, {"b", 2}}},
		{"duplicate key, last not numeric", `{"a":1,"a":"x"}`, []ind{{"a", 1}}},
		{"empty root key skipped", `{"":1,"x":{"":2}}`, []ind{{"x.", 2}}},
		{"unicode keys", `{"订单数":3}`, []ind{{"订单数", 3}}},
		{"escaped key", `{"a\"b":1}`, []ind{{`a"b`, 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ExtractIndicators([]byte(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			want := make([]events.Indicator, len(tc.want))
			for i, w := range tc.want {
				want[i] = events.Indicator{Name: w.name, Value: w.value}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ExtractIndicators(%s):\n got %v\nwant %v", tc.data, got, want)
			}
		})
	}
}

func TestExtractIndicatorsInvalid(t *testing.T) {
	for _, data := range []string{``, `{`, `{"a":}`, `{"a":1}{}`, `[1,]`, `nul`} {
		if got, err := ExtractIndicators([]byte(data)); err == nil {
			t.Errorf("ExtractIndicators(%q) = %v, want an error", data, got)
		}
	}
}

func TestIsIDKey(t *testing.T) {
	for k, want := range map[string]bool{
		"id": true, "Id": true, "ID": true, "ids": true, "IDS": true,
		"author_id": true, "o_author_id": true, "AUTHOR_ID": true, "brand_ids": true, "x-id": true, "x-ids": true,
		"authorId": true, "oAuthorId": true, "starID": true, "itemIds": true, "itemIDs": true, "v2Id": true,
		"paid": false, "valid": false, "bid": false, "PAID": false, "VALID": false, "idx": false, "identity": false,
		"Idle": false, "width": false, "order_cnt": false, "": false, "i": false, "d": false, "_id": true,
	} {
		if got := isIDKey(k); got != want {
			t.Errorf("isIDKey(%q) = %v, want %v", k, got, want)
		}
	}
}

func TestSignificantDigits(t *testing.T) {
	for lit, want := range map[string]int{
		"0": 0, "-0": 0, "0.0": 0, "1": 1, "10": 1, "100": 1, "101": 3, "0.001": 1, "0.00120": 2,
		"123456789012345": 15, "1234567890123456": 16, "-1.5e300": 2, "7000000000000000001": 19, "1.50000E10": 2,
	} {
		if got := significantDigits(lit); got != want {
			t.Errorf("significantDigits(%q) = %d, want %d", lit, got, want)
		}
	}
}

func TestIsJSONNumber(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "-0": true, "1": true, "12.5": true, "-3": true, "1e3": true, "1E+3": true, "2.5e-3": true, "0.0": true,
		"": false, "-": false, "+1": false, "01": false, "007": false, ".5": false, "5.": false, "1e": false, "1e+": false,
		"0x10": false, "NaN": false, "Inf": false, "1_000": false, "1,000": false, " 1": false, "1 ": false, "12.5%": false, "--1": false,
	} {
		if got := isJSONNumber(s); got != want {
			t.Errorf("isJSONNumber(%q) = %v, want %v", s, got, want)
		}
	}
}
