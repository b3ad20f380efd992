package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// checkReady refuses a ready-made credential that no header can carry.
// what names it in the error; the credential itself is never quoted.
func checkReady(tok, what string) error {
	if tok == "" {
		return fmt.Errorf("auth: %s is empty", what)
	}
	if i := strings.IndexFunc(tok, func(r rune) bool { return r < ' ' || r == 0x7f }); i >= 0 {
		return fmt.Errorf("auth: %s holds a control character at byte %d", what, i)
	}
	return nil
}

// refusedReady is the error of a refused ready-made credential: it stops
// the run (ErrLoginFailed) as ErrCredentialRefused.
func refusedReady(what string) error {
	return &loginError{kind: ErrCredentialRefused, err: fmt.Errorf("auth: the service refused %s; wcdl cannot renew it: give a new one", what)}
}

// A StaticToken is a TokenSource for a credential given ready-made, such as
// a bearer token from WCDL_TOKEN or an API key: it needs no login and is
// never renewed, so a refusal ends the run (ErrCredentialRefused).
type StaticToken struct {
	token, what string
}

var _ TokenSource = (*StaticToken)(nil)

// NewStaticToken returns a StaticToken for tok; what names it in errors
// ("the token from WCDL_TOKEN").
func NewStaticToken(tok, what string) (*StaticToken, error) {
	if err := checkReady(tok, what); err != nil {
		return nil, err
	}
	return &StaticToken{token: tok, what: what}, nil
}

// Token returns the token.
func (s *StaticToken) Token(context.Context) (string, error) { return s.token, nil }

// Refused returns an error matching ErrCredentialRefused and ErrLoginFailed.
func (s *StaticToken) Refused(context.Context, string) (string, error) {
	return "", refusedReady(s.what)
}

// String names the credential, never its value.
func (s *StaticToken) String() string { return "auth.StaticToken{" + s.what + "}" }

// GoString is String, for %#v.
func (s *StaticToken) GoString() string { return s.String() }

// A TokenFile is a TokenSource that reads a bearer token from a file and
// reads it again whenever the file changes (its size, modification time or
// identity), as Kubernetes projected service account tokens and CI systems
// rotate them, and once more when the service refuses the token. A refused
// token that the file still holds ends the run (ErrCredentialRefused).
type TokenFile struct {
	path string
	// OnRead, if not nil, is called with each token read (the first
	// included), to warn about a near expiry, say.
	onRead func(tok string)

	mu    sync.Mutex
	token string
	stamp fileStamp
}

var _ TokenSource = (*TokenFile)(nil)

// fileStamp tells whether a file changed since it was read.
type fileStamp struct {
	size    int64
	modTime time.Time
	file    os.FileInfo
}

func (a fileStamp) same(b fileStamp) bool {
	return a.size == b.size && a.modTime.Equal(b.modTime) && a.file != nil && b.file != nil && os.SameFile(a.file, b.file)
}

// NewTokenFile reads the token in path (surrounding white space removed)
// and returns a TokenFile. onRead, if not nil, is called with every token
// read.
func NewTokenFile(path string, onRead func(tok string)) (*TokenFile, error) {
	f := &TokenFile{path: path, onRead: onRead}
	if err := f.read(); err != nil {
		return nil, err
	}
	return f, nil
}

// maxTokenFile bounds what is read of a token file: a JWT with many
// claims is a few KiB.
const maxTokenFile = 64 << 10

// read reads the file; f.mu is held or f is not shared yet. It is opened
// without blocking and read only if it is a regular file of at most
// maxTokenFile bytes, so that a named pipe nobody writes to, or a device
// such as /dev/zero, at the path can neither hang the run (a blocked read
// ignores Ctrl-C) nor fill its memory.
func (f *TokenFile) read() error {
	file, err := os.OpenFile(f.path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("auth: token file: %w", err)
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return fmt.Errorf("auth: token file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("auth: token file %s is not a regular file (%s): wcdl reads it again when it changes; for a token from a command, set WCDL_TOKEN", f.path, fileKind(fi.Mode()))
	}
	data, err := io.ReadAll(io.LimitReader(file, maxTokenFile+1))
	if err != nil {
		return fmt.Errorf("auth: token file: %w", err)
	}
	if len(data) > maxTokenFile {
		return fmt.Errorf("auth: token file %s holds more than %d KiB: not a token", f.path, maxTokenFile>>10)
	}
	tok := string(bytes.TrimSpace(data))
	if err := checkReady(tok, "the token in "+f.path); err != nil {
		return err
	}
	if f.onRead != nil && tok != f.token {
		f.onRead(tok)
	}
	f.token, f.stamp = tok, fileStamp{size: fi.Size(), modTime: fi.ModTime(), file: fi}
	return nil
}

// fileKind names what a path holds that is not a regular file.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeDevice != 0, m&fs.ModeCharDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a directory"
	}
	return "another kind of file"
}

// Token returns the file's token, read again if the file changed. A file
// that cannot be read now (removed during a rotation) leaves the last token
// in use.
func (f *TokenFile) Token(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fi, err := os.Stat(f.path); err == nil && !f.stamp.same(fileStamp{size: fi.Size(), modTime: fi.ModTime(), file: fi}) {
		_ = f.read()
	}
	return f.token, nil
}

// Refused reads the file again and returns its token if it is not
// refused; otherwise an error matching ErrCredentialRefused and
// ErrLoginFailed.
func (f *TokenFile) Refused(_ context.Context, refused string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.read(); err != nil {
		return "", &loginError{kind: ErrCredentialRefused, err: fmt.Errorf("%w (and the service refused the last token it held)", err)}
	}
	if f.token != refused {
		return f.token, nil
	}
	return "", refusedReady("the token in " + f.path)
}

// String names the file, never the token.
func (f *TokenFile) String() string { return "auth.TokenFile{" + f.path + "}" }

// GoString is String, for %#v.
func (f *TokenFile) GoString() string { return f.String() }

// JWTExpiry returns the "exp" claim of tok if it is a JWT, without
// verifying it: only to warn before the service refuses it.
func JWTExpiry(tok string) (time.Time, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp == "" {
		return time.Time{}, false
	}
	sec, err := claims.Exp.Float64()
	if err != nil || sec <= 0 || sec > 1<<40 {
		return time.Time{}, false
	}
	return time.Unix(int64(sec), 0), true
}

// ExpiryWarning returns a warning when tok is a JWT that expired or
// expires within soon of now, naming it as what; "" otherwise. It never
// quotes the token.
func ExpiryWarning(tok, what string, now time.Time, soon time.Duration) string {
	exp, ok := JWTExpiry(tok)
	switch {
	case !ok:
		return ""
	case !exp.After(now):
		return fmt.Sprintf("%s expired at %s (%s ago): the service will refuse it", what, exp.UTC().Format(time.RFC3339), now.Sub(exp).Round(time.Second))
	case exp.Sub(now) <= soon:
		return fmt.Sprintf("%s expires at %s, in %s: requests after that will be refused", what, exp.UTC().Format(time.RFC3339), exp.Sub(now).Round(time.Second))
	}
	return ""
}

// WarnOnExpiry returns an onRead function for NewTokenFile that logs
// ExpiryWarning at warning level.
func WarnOnExpiry(log *slog.Logger, what string, now func() time.Time, soon time.Duration) func(string) {
	return func(tok string) {
		if w := ExpiryWarning(tok, what, now(), soon); w != "" {
			log.Warn(w)
		}
	}
}
