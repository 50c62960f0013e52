package douyinpoi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
)

// TokenPath is the client_token path, appended to the base URL.
const TokenPath = "/oauth/client_token/"

// GrantType is the grant_type of a client_token request.
const GrantType = "client_credential"

// DefaultTokenLifetime is a client_token's lifetime when the answer gives no
// expires_in (the documented value is 7200 s).
const DefaultTokenLifetime = 2 * time.Hour

// RefreshMargin is how much life a cached token must have left to be used: a
// token with less is refreshed first (at 90 minutes for a 2-hour token). For
// tokens living less than twice the margin, half their lifetime is used
// instead.
const RefreshMargin = 30 * time.Minute

// TokenSource obtains and caches a client_token (POST /oauth/client_token/
// with {client_key, client_secret, grant_type:"client_credential"}).
//
// Token returns the cached token while it has more than RefreshMargin of
// life left and otherwise fetches a new one; concurrent callers share one
// fetch (single flight). Invalidate drops a token the API refused, so the next
// Token fetches a fresh one. The platform invalidates the previous token five
// minutes after issuing a new one, so one TokenSource per app credential
// should serve a process (NewFetcher shares them).
//
// Errors wrap client.ErrUnauthorized (10003/10013: wrong client_key or
// client_secret), client.ErrRateLimited (10020: more than 500 token requests
// in 5 minutes; 2100004: busy), client.ErrPermanent or client.ErrTransient,
// and never contain the key, the secret or a token. The request body holds the
// secret, so a redirect to another host is never followed (the client core
// refuses it with client.ErrCrossHostRedirect before anything is sent there).
// A TokenSource is safe for concurrent use.
type TokenSource struct {
	core   *client.Core
	url    string
	key    string
	secret string
	now    func() time.Time

	mu        sync.Mutex
	token     string
	refreshAt time.Time // use the token until then
	expireAt  time.Time // the token's end of life (local clock)
	flight    *tokenFlight
	recent    []string // the last tokens obtained, newest last (for redaction)
	// onWait, if set (tests), is called when a caller starts waiting for
	// another caller's fetch.
	onWait func()
}

// tokenFlight is one token fetch that concurrent callers share.
type tokenFlight struct {
	done  chan struct{}
	token string
	err   error
}

// NewTokenSource returns a TokenSource for the app clientKey/clientSecret at
// baseURL (default DefaultBaseURL; TokenPath is appended). httpClient nil
// means the client core's default.
func NewTokenSource(baseURL, clientKey, clientSecret string, httpClient *http.Client) (*TokenSource, error) {
	u, err := endpointURL(baseURL, TokenPath, clientKey, clientSecret)
	if err != nil {
		return nil, err
	}
	if clientKey == "" || clientSecret == "" {
		return nil, errors.New("douyin-poi: token source needs a client_key and a client_secret")
	}
	return newTokenSource(u, clientKey, clientSecret, client.Config{HTTPClient: httpClient}, nil), nil
}

// newTokenSource builds a TokenSource for the full token URL; now nil means
// time.Now.
func newTokenSource(tokenURL, key, secret string, cc client.Config, now func() time.Time) *TokenSource {
	if now == nil {
		now = time.Now
	}
	cc.Secrets = append(cc.Secrets, client.LongestFirst(key, secret)...)
	return &TokenSource{core: client.New(cc), url: tokenURL, key: key, secret: secret, now: now}
}

// sharedTokens holds one TokenSource per (token URL, client_key, secret), so
// every Fetcher of a process polling with the same app shares its token.
var sharedTokens = struct {
	mu sync.Mutex
	m  map[string]*TokenSource
}{m: map[string]*TokenSource{}}

// sharedTokenSource returns the process-wide TokenSource of an app, creating
// it (with cc's HTTP client) on first use.
func sharedTokenSource(tokenURL, key, secret string, hc *http.Client) *TokenSource {
	h := sha256.Sum256([]byte(tokenURL + "\x00" + key + "\x00" + secret))
	k := hex.EncodeToString(h[:])
	sharedTokens.mu.Lock()
	defer sharedTokens.mu.Unlock()
	if ts := sharedTokens.m[k]; ts != nil {
		return ts
	}
	ts := newTokenSource(tokenURL, key, secret, client.Config{HTTPClient: hc}, nil)
	sharedTokens.m[k] = ts
	return ts
}

// Token returns a usable client_token, fetching one when there is none, it
// was invalidated, or it has less than RefreshMargin of life left. Callers
// arriving while a fetch is under way wait for that fetch instead of starting
// their own. When a refresh fails but the cached token has not expired yet,
// the cached token is returned and the refresh is tried again a minute later
// (or at expiry, whichever is sooner).
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	for {
		s.mu.Lock()
		if s.token != "" && s.now().Before(s.refreshAt) {
			tok := s.token
			s.mu.Unlock()
			return tok, nil
		}
		fl := s.flight
		if fl == nil {
			fl = &tokenFlight{done: make(chan struct{})}
			s.flight = fl
			s.mu.Unlock()
			return s.lead(ctx, fl)
		}
		hook := s.onWait
		s.mu.Unlock()
		if hook != nil {
			hook()
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("douyin-poi client_token: %w", ctx.Err())
		case <-fl.done:
		}
		if fl.err == nil {
			return fl.token, nil
		}
		if (errors.Is(fl.err, context.Canceled) || errors.Is(fl.err, context.DeadlineExceeded)) && ctx.Err() == nil {
			continue // the leader gave up, not the platform: try again ourselves
		}
		return "", fl.err
	}
}

// lead performs the fetch of flight fl and publishes its result.
func (s *TokenSource) lead(ctx context.Context, fl *tokenFlight) (string, error) {
	start := s.now()
	tok, err := s.fetch(ctx)
	s.mu.Lock()
	if err == nil {
		life := DefaultTokenLifetime
		if tok.ExpiresIn > 0 {
			life = time.Duration(tok.ExpiresIn) * time.Second
		}
		margin := RefreshMargin
		if life < 2*margin {
			margin = life / 2
		}
		s.token = tok.AccessToken
		s.recent = append(s.recent, tok.AccessToken)
		if len(s.recent) > 4 {
			s.recent = s.recent[len(s.recent)-4:]
		}
		s.expireAt = start.Add(life)
		s.refreshAt = s.expireAt.Add(-margin)
		fl.token = tok.AccessToken
	} else if now := s.now(); s.token != "" && now.Before(s.expireAt) {
		// a failed early refresh: the old token still works; try again in
		// a minute rather than on every call
		fl.token = s.token
		s.refreshAt = now.Add(time.Minute)
		if s.refreshAt.After(s.expireAt) {
			s.refreshAt = s.expireAt
		}
	} else {
		fl.err = err
	}
	s.flight = nil
	s.mu.Unlock()
	close(fl.done)
	return fl.token, fl.err
}

// Invalidate drops token if it is the cached one (a token the API refused);
// the next Token call fetches a new one. Invalidating a token that was already
// replaced does nothing, so many callers refused with the same old token cause
// one refresh.
func (s *TokenSource) Invalidate(token string) {
	s.mu.Lock()
	if token != "" && s.token == token {
		s.token, s.refreshAt, s.expireAt = "", time.Time{}, time.Time{}
	}
	s.mu.Unlock()
}

// recentTokens returns the last tokens obtained (for redaction).
func (s *TokenSource) recentTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.recent...)
}

// fetch requests a new token.
func (s *TokenSource) fetch(ctx context.Context) (*Token, error) {
	body, err := json.Marshal(struct {
		ClientKey    string `json:"client_key"`
		ClientSecret string `json:"client_secret"`
		GrantType    string `json:"grant_type"`
	}{s.key, s.secret, GrantType})
	if err != nil {
		return nil, fmt.Errorf("douyin-poi client_token: %w: encode request: %v", client.ErrPermanent, err)
	}
	newReq := func(ctx context.Context) (*http.Request, error) {
		return client.NewRequest(ctx, http.MethodPost, s.url, body, "Content-Type", "application/json")
	}
	decode := func(r client.Response) (*Token, error) { return DecodeToken(r.Body) }
	tok, _, err := client.Fetch(ctx, s.core, newReq, decode, classify)
	if err != nil {
		return nil, fmt.Errorf("douyin-poi client_token: %w", err)
	}
	return tok, nil
}
