package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// DefaultSASTokenURL is the root of the Planetary Computer's SAS token API:
// a token for a container is at {root}/{account}/{container}.
const DefaultSASTokenURL = "https://planetarycomputer.microsoft.com/api/sas/v1/token"

// DefaultSASMargin is how long before its expiry a SAS token is renewed,
// unless that is more than half its lifetime.
const DefaultSASMargin = 5 * time.Minute

// SubscriptionKeyHeader carries a Planetary Computer subscription key to
// the token endpoint, which then allows more token requests.
const SubscriptionKeyHeader = "Ocp-Apim-Subscription-Key"

// SASConfig configures a SASSource.
type SASConfig struct {
	// TokenURL is the root of the token API; DefaultSASTokenURL if empty.
	TokenURL string
	// SubscriptionKey, if not empty, is sent in SubscriptionKeyHeader with
	// every token request.
	SubscriptionKey string
	// HTTPClient makes the token requests; nil means a client with timeouts
	// that does not follow redirects.
	HTTPClient *http.Client
	// Margin is how long before msft:expiry a token is renewed; zero means
	// DefaultSASMargin. It never exceeds half the token's lifetime, so a
	// token serves at least half its life.
	Margin time.Duration
	// MaxAttempts bounds the attempts of one token request when the
	// endpoint cannot be reached or answers 5xx or 429; zero means
	// DefaultMaxAttempts.
	MaxAttempts int
	// MaxWait caps one wait between attempts, Retry-After included; zero
	// means DefaultMaxWait.
	MaxWait time.Duration
	// Sleep, Backoff and Now are as in Config.
	Sleep   func(ctx context.Context, d time.Duration) error
	Backoff func(n int) time.Duration
	Now     func() time.Time
	// Logger receives debug lines about token requests, never a token.
	Logger *slog.Logger
}

// sasToken is an immutable SAS token and when to replace it.
type sasToken struct {
	query   string // the token: a URL query without "?"
	renewAt time.Time
}

func (t *sasToken) fresh(now time.Time) bool { return t != nil && now.Before(t.renewAt) }

// sasContainer holds the token of one storage account and container.
type sasContainer struct {
	account, container string
	state              atomic.Pointer[sasToken]
	// fatal holds an error that every later request would meet too (the
	// endpoint refused the container, or could not be reached).
	fatal atomic.Pointer[error]
}

// A SASSource hands out Azure Blob storage SAS tokens from a Planetary
// Computer style token endpoint to many goroutines: one token per storage
// account and container, fetched when first needed, renewed a margin before
// its msft:expiry, with concurrent callers sharing one request per
// container.
type SASSource struct {
	cfg     SASConfig
	root    *url.URL
	client  *http.Client
	now     func() time.Time
	log     *slog.Logger
	sleep   func(ctx context.Context, d time.Duration) error
	backoff func(n int) time.Duration

	mu         sync.Mutex
	containers map[string]*sasContainer
	flight     singleflight.Group

	requests, failed atomic.Int64
}

// NewSASSource checks cfg and returns a SASSource. It makes no request.
func NewSASSource(cfg SASConfig) (*SASSource, error) {
	if cfg.TokenURL == "" {
		cfg.TokenURL = DefaultSASTokenURL
	}
	u, err := parseTokenURL(cfg.TokenURL)
	if err != nil {
		return nil, err
	}
	if strings.ContainsAny(cfg.SubscriptionKey, "\r\n\x00") {
		return nil, errors.New("auth: the subscription key holds a line break or NUL")
	}
	if cfg.Margin <= 0 {
		cfg.Margin = DefaultSASMargin
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	s := &SASSource{cfg: cfg, root: u, client: cfg.HTTPClient, now: cfg.Now, log: cfg.Logger,
		sleep: cfg.Sleep, backoff: cfg.Backoff, containers: map[string]*sasContainer{}}
	if s.client == nil {
		s.client = defaultClient()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.sleep == nil {
		s.sleep = sleepCtx
	}
	if s.backoff == nil {
		s.backoff = defaultBackoff
	}
	return s, nil
}

// container returns the state of account/container, creating it.
func (s *SASSource) container(account, container string) *sasContainer {
	key := account + "/" + container
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.containers[key]
	if c == nil {
		c = &sasContainer{account: account, container: container}
		s.containers[key] = c
	}
	return c
}

// Token returns a SAS token (a URL query without "?") for the blobs of
// container in account, valid now.
func (s *SASSource) Token(ctx context.Context, account, container string) (string, error) {
	c := s.container(account, container)
	if st := c.state.Load(); st.fresh(s.now()) {
		return st.query, nil
	}
	st, err := s.renew(ctx, c, "")
	if err != nil {
		return "", err
	}
	return st.query, nil
}

// Refused reports that the blob service refused the token refused for
// account/container, and returns the token to retry with: a new one if
// refused is still current, else the current one without a request.
func (s *SASSource) Refused(ctx context.Context, account, container, refused string) (string, error) {
	c := s.container(account, container)
	for range 3 {
		st, err := s.renew(ctx, c, refused)
		if err != nil {
			return "", err
		}
		if st.query != refused {
			return st.query, nil
		}
	}
	return "", fmt.Errorf("auth: SAS token endpoint %s kept handing out the refused token for %s/%s: %w", shownURL(s.root), account, container, ErrTokenRefused)
}

// renew returns a fresh token for c other than refused, sharing one request
// with concurrent callers for the same container. As with Provider, the
// shared request runs detached from the caller that started it.
func (s *SASSource) renew(ctx context.Context, c *sasContainer, refused string) (*sasToken, error) {
	if e := c.fatal.Load(); e != nil {
		return nil, *e
	}
	ch := s.flight.DoChan(c.account+"/"+c.container, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flightTimeout)
		defer cancel()
		if cur := c.state.Load(); cur.fresh(s.now()) && cur.query != refused {
			return cur, nil
		}
		if e := c.fatal.Load(); e != nil {
			return nil, *e
		}
		st, err := s.fetch(fctx, c)
		if err != nil {
			if !errors.Is(err, ErrLoginFailed) && !errors.Is(err, ErrBadTokenAnswer) && !errors.Is(err, ErrContainerRefused) {
				err = &loginError{kind: ErrTokenEndpointUnavailable, err: err}
			}
			c.fatal.CompareAndSwap(nil, &err)
			return nil, err
		}
		c.state.Store(st)
		return st, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*sasToken), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("auth: waiting for a SAS token: %w", context.Cause(ctx))
	}
}

// tokenURL is where the token of c is asked for.
func (s *SASSource) tokenURL(c *sasContainer) *url.URL {
	return s.root.JoinPath(c.account, c.container)
}

// fetch asks the endpoint for a token for c, retrying network errors, 5xx
// and 429 with backoff (Retry-After honoured, capped at MaxWait).
func (s *SASSource) fetch(ctx context.Context, c *sasContainer) (*sasToken, error) {
	u := s.tokenURL(c)
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("auth: SAS token at %s: %w", shownURL(u), context.Cause(ctx))
		}
		st, wait, retry, err := s.fetchOnce(ctx, u)
		if err == nil {
			return st, nil
		}
		err = fmt.Errorf("auth: SAS token at %s (attempt %d of %d): %w", shownURL(u), attempt, s.cfg.MaxAttempts, err)
		switch {
		case errors.Is(err, ErrContainerRefused):
			return nil, &ContainerRefusedError{Account: c.account, Container: c.container, Err: err}
		case !retry:
			return nil, err
		case attempt >= s.cfg.MaxAttempts:
			return nil, &loginError{kind: ErrTokenEndpointUnavailable, err: err}
		}
		d := min(max(s.backoff(attempt), wait), s.cfg.MaxWait)
		s.log.Debug("SAS token request failed, retrying", "url", shownURL(u), "attempt", attempt, "backoff", d, "err", err)
		if err := s.sleep(ctx, d); err != nil {
			return nil, fmt.Errorf("auth: SAS token at %s: %w", shownURL(u), err)
		}
	}
}

// errContainerAnswer marks fetchOnce's refusals of one container, which
// fetch turns into a *ContainerRefusedError.
var errContainerAnswer = fmt.Errorf("refused: %w", ErrContainerRefused)

// A ContainerRefusedError reports that the SAS token endpoint refused
// tokens for one storage account and container. It matches
// ErrContainerRefused, not ErrLoginFailed: only that container's files fail.
type ContainerRefusedError struct {
	Account, Container string
	Err                error // the endpoint's answer
}

func (e *ContainerRefusedError) Error() string {
	return fmt.Sprintf("no SAS token for %s/%s, so none of its files can be fetched (%v); check that the container is one the token endpoint signs, or --token-url", e.Account, e.Container, e.Err)
}

func (e *ContainerRefusedError) Unwrap() error { return e.Err }

// sasAnswer is the JSON of a token answer.
type sasAnswer struct {
	Expiry string `json:"msft:expiry"`
	Token  string `json:"token"`
}

// fetchOnce makes one token request. wait is the Retry-After of a 429 or
// 503; retry reports whether a failure may be retried.
func (s *SASSource) fetchOnce(ctx context.Context, u *url.URL) (st *sasToken, wait time.Duration, retry bool, err error) {
	s.requests.Add(1)
	defer func() {
		if err != nil {
			s.failed.Add(1)
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, 0, false, err
	}
	req.Header.Set("Accept", "application/json")
	if s.cfg.SubscriptionKey != "" {
		req.Header.Set(SubscriptionKeyHeader, s.cfg.SubscriptionKey)
	}
	sent := s.now()
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, 0, ctx.Err() == nil && !IsCertificateError(err), hideURL(err, u)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, 0, ctx.Err() == nil, fmt.Errorf("reading the answer: %w", err)
	}
	s.log.Debug("SAS token request", "url", shownURL(u), "status", resp.StatusCode, "duration", s.now().Sub(sent))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		wait, _ = retryAfter(resp.Header.Get("Retry-After"), s.now())
		return nil, wait, true, fmt.Errorf("answered %d %s: %q", resp.StatusCode, http.StatusText(resp.StatusCode), s.quoted(data))
	case resp.StatusCode == http.StatusUnauthorized:
		// The subscription key, not the container: no token will come.
		return nil, 0, false, &loginError{kind: ErrLoginFailed, err: fmt.Errorf("answered %d %s: %q; check WCDL_PC_SUBSCRIPTION_KEY", resp.StatusCode, http.StatusText(resp.StatusCode), s.quoted(data))}
	case resp.StatusCode != http.StatusOK:
		// One account or container: others may still get tokens.
		return nil, 0, false, fmt.Errorf("%w: answered %d %s: %q", errContainerAnswer, resp.StatusCode, http.StatusText(resp.StatusCode), s.quoted(data))
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var a sasAnswer
	if mt != "application/json" || json.Unmarshal(data, &a) != nil {
		// Not quoted: it may hold a token.
		return nil, 0, false, &loginError{kind: ErrNotTokenEndpoint, err: fmt.Errorf("answer 200 (%q, %d bytes) is not SAS token JSON", excerpt([]byte(mt)), len(data))}
	}
	expiry, err := time.Parse(time.RFC3339, a.Expiry)
	switch {
	case a.Token == "":
		return nil, 0, false, &loginError{kind: ErrNotTokenEndpoint, err: errors.New("answer has no token")}
	case err != nil:
		return nil, 0, false, &loginError{kind: ErrNotTokenEndpoint, err: fmt.Errorf("answer's msft:expiry %q is not an RFC 3339 time", s.quoted([]byte(a.Expiry)))}
	}
	if i := strings.IndexFunc(a.Token, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '#' }); i >= 0 {
		return nil, 0, false, fmt.Errorf("%w: the SAS token holds a control character, white space or # at byte %d", ErrBadTokenAnswer, i)
	}
	// The lifetime is measured on the endpoint's clock when it says what
	// time it is, so that a skewed local clock changes nothing.
	issued := sent
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		issued = d
	}
	life := expiry.Sub(issued)
	if life <= 0 {
		return nil, 0, false, fmt.Errorf("%w: the SAS token expired at %s, before it was issued (%s)", ErrBadTokenAnswer, expiry.UTC().Format(time.RFC3339), issued.UTC().Format(time.RFC3339))
	}
	return &sasToken{query: strings.TrimPrefix(a.Token, "?"), renewAt: sent.Add(life - min(s.cfg.Margin, life/2))}, 0, false, nil
}

// quoted is an excerpt of what the endpoint said, for an error, scrubbed
// of the subscription key wcdl sent it.
func (s *SASSource) quoted(data []byte) string {
	return scrubbed(data, s.cfg.SubscriptionKey)
}

// Stats returns the token request counters: SASRequests and
// FailedRequests.
func (s *SASSource) Stats() Stats {
	return Stats{SASRequests: s.requests.Load(), FailedRequests: s.failed.Load()}
}

// String describes the source by its token URL, never a token or key.
func (s *SASSource) String() string {
	return fmt.Sprintf("auth.SASSource{%s}", shownURL(s.root))
}

// GoString is String, for %#v.
func (s *SASSource) GoString() string { return s.String() }
