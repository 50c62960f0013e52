package taobaolive

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"sort"
	"strings"

	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// The sign_method values TOP accepts.
const (
	// SignMD5 is MD5(secret + S + secret).
	SignMD5 = "md5"
	// SignHMAC is HMAC-MD5 keyed with the secret over S.
	SignHMAC = "hmac"
	// SignHMACSHA256 is HMAC-SHA256 keyed with the secret over S.
	SignHMACSHA256 = "hmac-sha256"
)

// SignString is the string TOP signs: every parameter except "sign" and those
// with an empty value, sorted by key in byte order, concatenated as
// key1value1key2value2… with raw (not URL-encoded) UTF-8 values.
func SignString(params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k, v := range params {
		if k == "sign" || v == "" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(params[k])
	}
	return b.String()
}

// Sign computes TOP's request signature of params with the app secret, as
// the platform documents it: S = SignString(params); md5 → MD5(secret+S+secret),
// hmac → HMAC-MD5(secret, S), hmac-sha256 → HMAC-SHA256(secret, S); the digest
// in upper-case hex. An unknown method is an error (which never contains the
// secret).
func Sign(params map[string]string, secret, method string) (string, error) {
	s := SignString(params)
	var h hash.Hash
	switch method {
	case SignMD5:
		h = md5.New()
		h.Write([]byte(secret))
		h.Write([]byte(s))
		h.Write([]byte(secret))
	case SignHMAC:
		h = hmac.New(md5.New, []byte(secret))
		h.Write([]byte(s))
	case SignHMACSHA256:
		h = hmac.New(sha256.New, []byte(secret))
		h.Write([]byte(s))
	default:
		return "", fmt.Errorf("taobao-live: unknown sign_method %q (want %s, %s or %s)", wire.Clip(method, 40), SignMD5, SignHMAC, SignHMACSHA256)
	}
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil))), nil
}
