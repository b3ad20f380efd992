package auth

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/wcdl/wcdl/internal/httpguard"
	"github.com/wcdl/wcdl/internal/shown"
)

// Defaults applied by NewProvider.
const (
	DefaultMargin      = 30 * time.Second
	DefaultMaxAttempts = 4
	DefaultMaxWait     = 5 * time.Minute
)

const (
	// maxBody bounds how much of a token endpoint answer is read.
	maxBody = 1 << 20
	// flightTimeout bounds one shared token renewal, retries included.
	flightTimeout = 5 * time.Minute
)

// Config configures a Provider.
type Config struct {
	// TokenURL is the OpenID Connect token endpoint, such as
	// https://sso.terrascope.be/auth/realms/terrascope/protocol/openid-connect/token.
	TokenURL string
	// ClientID is the public client the grants are made for.
	ClientID string
	// Scope, if not empty, is sent with every grant.
	Scope string
	// Credentials are used for the password grant.
	Credentials Credentials
	// HTTPClient makes the token requests. Nil means a client with
	// timeouts that does not follow redirects.
	HTTPClient *http.Client
	// Margin is how long before expiry the access token is renewed.
	// Zero means DefaultMargin; it never exceeds a tenth of the token
	// lifetime, so a token serves at least 90% of its life.
	Margin time.Duration
	// MaxAttempts bounds the attempts of one grant when the token
	// endpoint cannot be reached or answers 5xx or 429. Zero means
	// DefaultMaxAttempts. When they are spent the Provider makes no
	// further token request (ErrTokenEndpointUnavailable).
	MaxAttempts int
	// MaxWait caps a single wait between attempts, Retry-After included.
	// Zero means DefaultMaxWait.
	MaxWait time.Duration
	// Sleep waits d or until ctx ends; nil means a timer. Tests replace
	// it so that no test waits on the clock.
	Sleep func(ctx context.Context, d time.Duration) error
	// Backoff returns the pause before retry n (1, 2, ...) of a failed
	// token request; nil means about 0.5 s doubling to 8 s, with jitter.
	Backoff func(n int) time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives debug lines about grants, never a secret. Nil
	// discards them.
	Logger *slog.Logger
	// SessionEnd says how Close ends the session, usually from the
	// provider's discovery document (Discovery.SessionEnd). Nil means
	// Keycloak's logout for a Keycloak token URL and nothing for others.
	SessionEnd *SessionEnd
}

// Stats counts the token requests a Provider has made.
type Stats struct {
	// PasswordGrants and RefreshGrants count requests sent, successful
	// or not, retries included.
	PasswordGrants, RefreshGrants int64
	// SASRequests counts the requests to a SAS token endpoint (SASSource).
	SASRequests int64
	// FailedRequests counts those that did not yield a token.
	FailedRequests int64
}

// TokenRequests returns PasswordGrants + RefreshGrants + SASRequests.
func (s Stats) TokenRequests() int64 { return s.PasswordGrants + s.RefreshGrants + s.SASRequests }

// tokenState is an immutable snapshot of the tokens held by a Provider.
type tokenState struct {
	access string
	// renewAt is when the access token should be replaced; zero when its
	// lifetime is unknown, so that only a refusal replaces it.
	renewAt time.Time
	refresh string
	// refreshExpiry is when the refresh token expires; zero when it is
	// valid until refused.
	refreshExpiry time.Time
}

// fresh reports whether the access token can be handed out at now. A state
// without an access token (the one left while a refused refresh token is
// replaced by a new login) is never fresh.
func (s *tokenState) fresh(now time.Time) bool {
	return s != nil && s.access != "" && (s.renewAt.IsZero() || now.Before(s.renewAt))
}

// A Provider hands out access tokens from one Keycloak session to many
// goroutines: it logs in once with the password grant, renews the access
// token with the refresh grant before it expires, and makes concurrent
// callers that need a new token share one request.
type Provider struct {
	cfg      Config
	tokenURL *url.URL
	client   *http.Client
	now      func() time.Time
	log      *slog.Logger

	state atomic.Pointer[tokenState]
	// fatal holds a permanent error (rejected credentials): once set, no
	// further login is attempted, since repeated failures lock accounts.
	fatal atomic.Pointer[error]
	// flight shares one renewal between concurrent callers.
	flight singleflight.Group
	// closing is closed when Close begins: a renewal pausing between
	// attempts stops instead of making Close wait for it.
	closing   chan struct{}
	closeOnce sync.Once

	passwordGrants, refreshGrants, failed atomic.Int64

	// backoff returns the pause before retry number n (1-based).
	backoff func(n int) time.Duration
	sleep   func(ctx context.Context, d time.Duration) error
	// waiting, when set, is called when a caller starts waiting for a
	// shared renewal.
	waiting func()
}

var _ TokenSource = (*Provider)(nil)

// CheckTokenURL reports what NewProvider would refuse in a token URL, so
// that a caller can tell it before asking anyone for a password.
func CheckTokenURL(raw string) error {
	_, err := parseTokenURL(raw)
	return err
}

// parseTokenURL parses a token URL and refuses one that has no host,
// carries credentials, or is not https (plain http only to loopback).
func parseTokenURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the URL, user information and query included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("auth: token URL is not a valid URL: %w", err)
	}
	switch {
	case u.Host == "":
		return nil, fmt.Errorf("auth: token URL %q has no host", shownURL(u))
	case u.User != nil:
		return nil, fmt.Errorf("auth: token URL %s: credentials do not belong in the URL", shownURL(u))
	case u.Scheme == "https":
	case u.Scheme == "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("auth: token URL %s: %w", shownURL(u), ErrInsecureTokenURL)
		}
	default:
		return nil, fmt.Errorf("auth: token URL %s: scheme must be https", shownURL(u))
	}
	return u, nil
}

// NewProvider checks cfg and returns a Provider. It makes no request.
// A token URL using plain http is refused with ErrInsecureTokenURL unless
// its host is loopback.
func NewProvider(cfg Config) (*Provider, error) {
	u, err := parseTokenURL(cfg.TokenURL)
	if err != nil {
		return nil, err
	}
	if cfg.ClientID == "" {
		return nil, errors.New("auth: no client id")
	}
	if cfg.Credentials.Username == "" || cfg.Credentials.Password == "" {
		return nil, errors.New("auth: username and password are both required")
	}
	if cfg.Margin <= 0 {
		cfg.Margin = DefaultMargin
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	p := &Provider{
		cfg:      cfg,
		tokenURL: u,
		client:   cfg.HTTPClient,
		now:      cfg.Now,
		log:      cfg.Logger,
		backoff:  cfg.Backoff,
		sleep:    cfg.Sleep,
		closing:  make(chan struct{}),
	}
	if p.sleep == nil {
		p.sleep = sleepCtx
	}
	if p.backoff == nil {
		p.backoff = defaultBackoff
	}
	if p.client == nil {
		p.client = defaultClient()
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p, nil
}

func defaultClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 30 * time.Second
	return &http.Client{
		// Each read of an answer, not only the whole exchange, has a
		// deadline; and no request carries a Referer.
		Transport: &httpguard.Transport{Base: tr, Stall: 30 * time.Second},
		Timeout:   60 * time.Second,
		// A 307 or 308 would resend the password to wherever it points.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// defaultBackoff waits about 0.5 s, 1 s, 2 s... up to 8 s, with jitter.
func defaultBackoff(n int) time.Duration {
	d := 500 * time.Millisecond << min(n-1, 4)
	return d/2 + rand.N(d/2+1)
}

// IsCertificateError reports a TLS certificate that is not trusted, does
// not match the host or is not valid: a failure that retrying cannot cure.
func IsCertificateError(err error) bool {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	return errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Token returns an access token that is valid now, renewing it first if it
// expires within the margin. Reading a valid cached token takes no lock and
// allocates nothing.
func (p *Provider) Token(ctx context.Context) (string, error) {
	if st := p.state.Load(); st.fresh(p.now()) {
		return st.access, nil
	}
	st, err := p.renew(ctx, "")
	if err != nil {
		return "", err
	}
	return st.access, nil
}

// Refused reports that a service answered 401 to refused. If refused is the
// current token it is renewed, sharing one request with concurrent callers;
// if it was already replaced the current token is returned without a
// request.
func (p *Provider) Refused(ctx context.Context, refused string) (string, error) {
	if refused == "" {
		return p.Token(ctx)
	}
	for range 3 {
		st, err := p.renew(ctx, refused)
		if err != nil {
			return "", err
		}
		if st.access != refused {
			return st.access, nil
		}
		// We joined a renewal that found refused still fresh, begun
		// before our report: one more round renews it.
	}
	return "", fmt.Errorf("auth: token endpoint %s kept handing out the refused token: %w", shownURL(p.tokenURL), ErrTokenRefused)
}

// renew returns a token state that is fresh and, if refused is not empty,
// holds another access token. Concurrent callers share one renewal
// (singleflight), which runs on a context detached from ctx with its own
// timeout, so that the caller that started it may give up without failing
// the others; each caller stops waiting when its own ctx ends.
func (p *Provider) renew(ctx context.Context, refused string) (*tokenState, error) {
	if e := p.fatal.Load(); e != nil {
		return nil, *e
	}
	ch := p.flight.DoChan("renew", func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flightTimeout)
		defer cancel()
		return p.renewNow(fctx, refused)
	})
	if p.waiting != nil {
		p.waiting()
	}
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*tokenState), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("auth: waiting for a token: %w", context.Cause(ctx))
	}
}

// renewNow runs inside the single flight. It first checks whether another
// renewal already did the work, then prefers the refresh grant and falls
// back to the password grant once. Any error it returns is final for the
// run: the refresh grant's 4xx answers lead to the password grant, and
// everything that fails after that (a refused login, a token URL that is
// not a token endpoint, attempts spent on an unreachable endpoint) would
// fail the same way for every later caller.
func (p *Provider) renewNow(ctx context.Context, refused string) (*tokenState, error) {
	now := p.now()
	cur := p.state.Load()
	if cur.fresh(now) && cur.access != refused {
		return cur, nil
	}
	if e := p.fatal.Load(); e != nil {
		return nil, *e
	}
	if cur != nil && cur.refresh != "" && (cur.refreshExpiry.IsZero() || now.Before(cur.refreshExpiry)) {
		st, err := p.grant(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {cur.refresh}})
		if err == nil {
			if st.refresh == "" {
				// No new refresh token: the one sent stays valid (RFC 6749
				// §6), with its expiry. Dropping it would cost a password
				// grant, and a new session, at the next renewal.
				st.refresh, st.refreshExpiry = cur.refresh, cur.refreshExpiry
			}
			p.state.Store(st)
			return st, nil
		}
		var re *RetrieveError
		if !errors.As(err, &re) || !re.refusedRefresh() {
			return nil, p.stop(err)
		}
		// A refused refresh token is never sent again.
		p.state.Store(&tokenState{})
		p.log.Debug("refresh token refused, logging in again", "token_url", shownURL(p.tokenURL), "status", re.StatusCode, "error", re.Code)
	}
	st, err := p.grant(ctx, url.Values{
		"grant_type": {"password"},
		"username":   {p.cfg.Credentials.Username},
		"password":   {p.cfg.Credentials.Password},
	})
	if err != nil {
		return nil, p.stop(err)
	}
	p.state.Store(st)
	return st, nil
}

// stop records err as final for the run and returns it, marked so that it
// matches ErrLoginFailed (a token that cannot be sent keeps its own
// ErrBadTokenAnswer).
func (p *Provider) stop(err error) error {
	if !errors.Is(err, ErrLoginFailed) && !errors.Is(err, ErrBadTokenAnswer) {
		err = &loginError{kind: ErrTokenEndpointUnavailable, err: err}
	}
	p.fatal.CompareAndSwap(nil, &err)
	return err
}

// grant posts form to the token endpoint, retrying network errors and 5xx
// answers with backoff up to MaxAttempts, and returns the new token state.
func (p *Provider) grant(ctx context.Context, form url.Values) (*tokenState, error) {
	kind := form.Get("grant_type")
	form.Set("client_id", p.cfg.ClientID)
	if p.cfg.Scope != "" {
		form.Set("scope", p.cfg.Scope)
	}
	body := form.Encode()
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("auth: %s grant at %s: %w", kind, shownURL(p.tokenURL), context.Cause(ctx))
		}
		st, retry, err := p.grantOnce(ctx, kind, body)
		if err == nil {
			return st, nil
		}
		err = fmt.Errorf("auth: %s grant at %s (attempt %d of %d): %w", kind, shownURL(p.tokenURL), attempt, p.cfg.MaxAttempts, err)
		var re *RetrieveError
		switch {
		case !retry && errors.As(err, &re):
			return nil, err
		case !retry && IsCertificateError(err):
			return nil, &loginError{kind: ErrTokenEndpointUnavailable, err: err}
		case !retry:
			// An answer that is not a usable token answer: asking again
			// gets the same.
			return nil, &loginError{kind: ErrNotTokenEndpoint, err: err}
		case attempt >= p.cfg.MaxAttempts:
			return nil, &loginError{kind: ErrTokenEndpointUnavailable, err: err}
		}
		d := p.backoff(attempt)
		if errors.As(err, &re) {
			d = max(d, re.RetryAfter)
		}
		d = min(d, p.cfg.MaxWait)
		p.log.Debug("token request failed, retrying", "grant", kind, "attempt", attempt, "backoff", d, "err", err)
		if err := p.pause(ctx, d); err != nil {
			return nil, fmt.Errorf("auth: %s grant at %s: %w", kind, shownURL(p.tokenURL), err)
		}
	}
}

// errClosing ends a renewal's pause when the provider is being closed.
var errClosing = errors.New("the run is ending")

// pause waits d between two attempts of a grant, or less if ctx ends or
// Close begins: no request is in flight then, so nothing is lost.
func (p *Provider) pause(ctx context.Context, d time.Duration) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-p.closing:
			cancel(errClosing)
		case <-ctx.Done():
		}
	}()
	return p.sleep(ctx, d)
}

// tokenAnswer is the JSON of a successful grant.
type tokenAnswer struct {
	AccessToken      string  `json:"access_token"`
	TokenType        string  `json:"token_type"`
	ExpiresIn        seconds `json:"expires_in"`
	RefreshToken     string  `json:"refresh_token"`
	RefreshExpiresIn seconds `json:"refresh_expires_in"`
}

// formSecrets returns the secrets of a grant's form body: the password,
// the refresh token, a client secret.
func formSecrets(body string) []string {
	form, _ := url.ParseQuery(body)
	return []string{form.Get("password"), form.Get("refresh_token"), form.Get("client_secret")}
}

// grantOnce makes one token request. retry reports whether a failure may be
// retried.
func (p *Provider) grantOnce(ctx context.Context, kind, body string) (st *tokenState, retry bool, err error) {
	switch kind {
	case "password":
		p.passwordGrants.Add(1)
	default:
		p.refreshGrants.Add(1)
	}
	defer func() {
		if err != nil {
			p.failed.Add(1)
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.tokenURL.String(), strings.NewReader(body))
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	sent := p.now()
	resp, err := p.client.Do(req)
	if err != nil {
		// The *url.Error names the URL and the cause; the body is not
		// part of it.
		// A certificate that is not trusted or does not match will not
		// change between attempts.
		return nil, ctx.Err() == nil && !IsCertificateError(err), hideURL(err, p.tokenURL)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, ctx.Err() == nil, fmt.Errorf("reading the answer: %w", err)
	}
	p.log.Debug("token request", "grant", kind, "status", resp.StatusCode, "duration", p.now().Sub(sent))
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")

	if resp.StatusCode != http.StatusOK {
		re := &RetrieveError{StatusCode: resp.StatusCode, grant: kind}
		var e struct {
			Code        string `json:"error"`
			Description string `json:"error_description"`
		}
		// An endpoint may echo what it was sent: the password, the
		// refresh token.
		secrets := formSecrets(body)
		if isJSON && json.Unmarshal(data, &e) == nil && e.Code != "" {
			re.Code, re.Description = shown.Text(scrubbed([]byte(e.Code), secrets...)), scrubbed([]byte(e.Description), secrets...)
		} else {
			re.Excerpt = scrubbed(data, secrets...)
		}
		if re.retryable() {
			re.RetryAfter, _ = retryAfter(resp.Header.Get("Retry-After"), p.now())
		}
		return nil, re.retryable(), re
	}
	var a tokenAnswer
	if !isJSON {
		if json.Valid(data) {
			// JSON under another Content-Type: a successful answer
			// that may hold tokens, so it is never quoted.
			return nil, false, fmt.Errorf("token endpoint answered %d with JSON labelled %q, not application/json (%d bytes, not shown)", resp.StatusCode, excerpt([]byte(mt)), len(data))
		}
		return nil, false, &RetrieveError{StatusCode: resp.StatusCode, Excerpt: scrubbed(data, formSecrets(body)...), grant: kind}
	}
	if err := json.Unmarshal(data, &a); err != nil {
		// Not quoted: a malformed answer may still hold a token.
		return nil, false, fmt.Errorf("answer %d is not valid token JSON (%d bytes)", resp.StatusCode, len(data))
	}
	if err := checkTokens(a); err != nil {
		return nil, false, err
	}
	switch {
	case a.AccessToken == "":
		return nil, false, errors.New("answer has no access_token")
	case !strings.EqualFold(a.TokenType, "bearer"):
		return nil, false, fmt.Errorf("answer has token_type %q, want Bearer", excerpt([]byte(a.TokenType)))
	}
	st = &tokenState{access: a.AccessToken, refresh: a.RefreshToken}
	if life := lifetime(a.ExpiresIn); life > 0 {
		// The margin never takes more than a tenth of the lifetime, so
		// even short-lived tokens cost about one request per lifetime.
		st.renewAt = sent.Add(life - min(p.cfg.Margin, life/10))
	}
	if life := lifetime(a.RefreshExpiresIn); a.RefreshToken != "" && life > 0 {
		st.refreshExpiry = sent.Add(life)
	}
	return st, false, nil
}

// Close ends the session at the identity provider, best effort, as
// Config.SessionEnd says: it posts the refresh token to Keycloak's logout
// endpoint, or revokes it (RFC 7009), or sends nothing. It then forgets the
// tokens. Call it once the workers are done; later calls to Token would log
// in again.
func (p *Provider) Close(ctx context.Context) error {
	// A renewal still under way (the run was interrupted mid-login) would
	// open a session after this one ended: join it, and end what it
	// brings, unless ctx ends first. One that pauses between attempts
	// stops at once.
	p.closeOnce.Do(func() { close(p.closing) })
	select {
	case <-p.flight.DoChan("renew", func() (any, error) { return nil, nil }):
	case <-ctx.Done():
	}
	st := p.state.Swap(nil)
	if st == nil || st.refresh == "" {
		return nil
	}
	end := p.cfg.SessionEnd
	if end == nil {
		iss := KeycloakIssuer(p.tokenURL.String())
		if iss == "" {
			return nil // no standard way to end the session is known
		}
		end = &SessionEnd{LogoutURL: iss + "/protocol/openid-connect/logout"}
	}
	switch {
	case end.LogoutURL != "":
		return p.postEnd(ctx, "logout", end.LogoutURL, url.Values{"client_id": {p.cfg.ClientID}, "refresh_token": {st.refresh}})
	case end.RevocationURL != "":
		return p.postEnd(ctx, "revocation", end.RevocationURL, url.Values{"client_id": {p.cfg.ClientID}, "token": {st.refresh}, "token_type_hint": {"refresh_token"}})
	}
	return nil
}

// postEnd posts form to the session-ending endpoint raw, as what.
func (p *Provider) postEnd(ctx context.Context, what, raw string, form url.Values) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("auth: %s: %w", what, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("auth: %s: %w", what, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("auth: %s: %w", what, hideURL(err, u))
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("auth: %s at %s answered %d %s: %q", what, shownURL(u), resp.StatusCode, http.StatusText(resp.StatusCode), scrubbed(data, form.Get("refresh_token"), form.Get("token")))
	}
	return nil
}

// String describes the provider by its token URL and client, so that
// printing one never prints its credentials or tokens.
func (p *Provider) String() string {
	return fmt.Sprintf("auth.Provider{%s, client %s}", shownURL(p.tokenURL), p.cfg.ClientID)
}

// GoString is String, for %#v.
func (p *Provider) GoString() string { return p.String() }

// Stats returns the token request counters.
func (p *Provider) Stats() Stats {
	return Stats{
		PasswordGrants: p.passwordGrants.Load(),
		RefreshGrants:  p.refreshGrants.Load(),
		FailedRequests: p.failed.Load(),
	}
}

// retryAfter reads a Retry-After value: seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, int64(24*time.Hour/time.Second))) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
