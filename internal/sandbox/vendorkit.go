package sandbox

// Shared pieces of the vendor sandboxes (internal/sandbox/<vendor>): the
// method check before Admit (Env.AdmitMethod), JSON answers (WriteJSON) and
// accounts by credential (Account.HasCredential, AccountByCredential,
// BookByCredential); the server constructor (NewServer, server.go) and the
// mixer (Mix64, model.go) serve them too. A new vendor sandbox builds on
// these instead of writing its own copies; internal/sandbox/sandboxtest
// starts one for tests.

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// ContentTypeJSON is the Content-Type WriteJSON sets when the handler set none.
const ContentTypeJSON = "application/json; charset=utf-8"

// WriteJSON answers status with v as JSON the way the vendors' PHP and Java
// gateways do: no HTML escaping (like JSON_UNESCAPED_UNICODE) and no trailing
// newline. The Content-Type is ContentTypeJSON unless the handler set one
// before calling. If v cannot be encoded it answers HTTP 500 with the error.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", ContentTypeJSON)
	}
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// HasCredential reports whether the account's credential key is set and
// equals value, compared in constant time (a sandbox checks secrets the way
// a real gateway should). An unset credential matches nothing.
func (a Account) HasCredential(key, value string) bool {
	k := a.Credentials[key]
	return k != "" && subtle.ConstantTimeCompare([]byte(k), []byte(value)) == 1
}

// AccountByCredential returns the first of accounts whose credential key
// equals value (see Account.HasCredential), or nil. The result points into
// accounts.
func AccountByCredential(accounts []Account, key, value string) *Account {
	for i := range accounts {
		if accounts[i].HasCredential(key, value) {
			return &accounts[i]
		}
	}
	return nil
}

// BookByCredential returns the first of books whose account's credential
// key equals value (see Account.HasCredential), or nil.
func BookByCredential(books []*Book, key, value string) *Book {
	for _, b := range books {
		if b.Account.HasCredential(key, value) {
			return b
		}
	}
	return nil
}

// AdmitMethod is Admit for an endpoint that accepts only methods: a request
// with any other method is answered HTTP 405 with an Allow header listing
// methods (neither counted nor faulted) and ok=false; any other request goes
// through Admit.
func (e *Env) AdmitMethod(w http.ResponseWriter, r *http.Request, methods ...string) (call Call, ok bool) {
	if !slices.Contains(methods, r.Method) {
		w.Header().Set("Allow", strings.Join(methods, ", "))
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return Call{}, false
	}
	return e.Admit(w, r)
}
