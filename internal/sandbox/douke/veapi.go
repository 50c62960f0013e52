package douke

import (
	"net/http"
	"net/url"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
)

// What every veapi endpoint's sandbox shares (kol_OrderAds here, and
// csj_ordersearch in internal/sandbox/doukecsj): the response envelope, the
// checks before an endpoint reads its own parameters, and the request as
// the malformed-page fault keys it.

// Envelope is veapi's response envelope over orders of wire type O; field
// order is the wire order.
type Envelope[O any] struct {
	Error     string   `json:"error"`
	Msg       string   `json:"msg"`
	Data      *Data[O] `json:"data"`
	RequestID string   `json:"request_id"`
}

// Data is the envelope's data member: the next cursor and the orders.
type Data[O any] struct {
	Cursor string `json:"cursor"`
	Orders []O    `json:"orders"`
}

// Admit answers what a veapi endpoint answers before reading its own
// parameters: a method other than GET or POST, the throttle fault (exactly
// veapi's throttle envelope, without request_id), an unparsable form, an
// unknown vekey. ok is false when it answered; otherwise the caller serves
// call from book, and fail writes an error envelope for it.
func Admit(env *sandbox.Env, w http.ResponseWriter, r *http.Request) (call sandbox.Call, book *sandbox.Book, fail func(code, msg string), ok bool) {
	call, ok = env.AdmitMethod(w, r, http.MethodGet, http.MethodPost)
	if !ok {
		return call, nil, nil, false
	}
	if call.Throttled {
		sandbox.WriteJSON(w, http.StatusOK, struct {
			Error string `json:"error"`
			Msg   string `json:"msg"`
			Data  any    `json:"data"`
		}{CodeThrottle, MsgThrottle, nil})
		return call, nil, nil, false
	}
	fail = func(code, msg string) {
		sandbox.WriteJSON(w, http.StatusOK, Envelope[struct{}]{Error: code, Msg: msg, RequestID: call.RequestID})
	}
	if err := r.ParseForm(); err != nil {
		fail(CodeParam, "请求参数无法解析 (the request parameters could not be parsed)")
		return call, nil, nil, false
	}
	if book = sandbox.BookByCredential(env.Books(), Credential, r.Form.Get("vekey")); book == nil {
		fail(CodeVekey, MsgVekey)
		return call, nil, nil, false
	}
	return call, book, fail, true
}

// Describe is a request's parameters without credentials, the key of
// sandbox.Env.Malform.
func Describe(f url.Values) string {
	v := url.Values{}
	for k, x := range f {
		if k != Credential && k != "access_token" {
			v[k] = x
		}
	}
	return v.Encode()
}
