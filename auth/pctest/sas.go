// Package pctest is a fake of the Planetary Computer's SAS token endpoint
// for tests: it hands out real Azure service SAS tokens, signed with a
// storage account key, so that a real Blob service (Azurite, with its
// well-known development key) validates them.
package pctest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Version is the storage service version the SAS tokens are signed for.
const Version = "2021-08-06"

// sasTime formats a SAS start or expiry time as Azure signs it: UTC,
// ISO 8601 to the second.
func sasTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// sign returns the base64 HMAC-SHA256 of stringToSign under the base64
// account key.
func sign(key, stringToSign string) (string, error) {
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		return "", fmt.Errorf("pctest: account key is not base64: %w", err)
	}
	m := hmac.New(sha256.New, k)
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}

// ContainerSAS returns a service SAS token (a URL query, without "?") that
// grants perms (such as "rl") on every blob of container in account from
// start (none if zero) until expiry. Its string to sign is the one of service versions 2020-12-06 and
// later: permissions, start, expiry, canonical resource, identifier, IP,
// protocol, version, resource, snapshot time, encryption scope and the five
// response headers, one a line.
func ContainerSAS(account, key, container, perms string, start, expiry time.Time) (string, error) {
	se, st := sasTime(expiry), ""
	if !start.IsZero() {
		st = sasTime(start)
	}
	fields := []string{
		perms, st, se,
		"/blob/" + account + "/" + container,
		"", "", "", Version, "c", "", "",
		"", "", "", "", "",
	}
	sig, err := sign(key, strings.Join(fields, "\n"))
	if err != nil {
		return "", err
	}
	q := url.Values{"sv": {Version}, "sr": {"c"}, "sp": {perms}, "se": {se}, "sig": {sig}}
	if st != "" {
		q.Set("st", st)
	}
	return q.Encode(), nil
}

// AccountSAS returns an account SAS token for the Blob service that grants
// perms (such as "rwdlac") on the service, its containers and objects until
// expiry: enough to create containers and upload blobs in a test.
func AccountSAS(account, key, perms string, expiry time.Time) (string, error) {
	se := sasTime(expiry)
	fields := []string{account, perms, "b", "sco", "", se, "", "", Version, "", ""}
	sig, err := sign(key, strings.Join(fields, "\n"))
	if err != nil {
		return "", err
	}
	q := url.Values{"sv": {Version}, "ss": {"b"}, "srt": {"sco"}, "sp": {perms}, "se": {se}, "sig": {sig}}
	return q.Encode(), nil
}

// Reasons VerifyContainerSAS refuses a token.
var (
	ErrNoSAS      = errors.New("no SAS signature")
	ErrSASExpired = errors.New("SAS not valid at this time")
	ErrSASForged  = errors.New("SAS signature does not match")
	ErrSASScope   = errors.New("SAS does not grant read on this container")
)

// VerifyContainerSAS checks the service SAS in query q, as a Blob service
// holding container in account with key would for a read at now: it must
// be signed with key by ContainerSAS's string to sign for this container,
// grant read, and be valid at now.
func VerifyContainerSAS(account, key, container string, q url.Values, now time.Time) error {
	sig := q.Get("sig")
	if sig == "" {
		return ErrNoSAS
	}
	if q.Get("sv") != Version || q.Get("sr") != "c" || !strings.Contains(q.Get("sp"), "r") {
		return ErrSASScope
	}
	expiry, err := time.Parse(time.RFC3339, q.Get("se"))
	if err != nil {
		return fmt.Errorf("%w: expiry %q", ErrSASForged, q.Get("se"))
	}
	var start time.Time
	if st := q.Get("st"); st != "" {
		if start, err = time.Parse(time.RFC3339, st); err != nil {
			return fmt.Errorf("%w: start %q", ErrSASForged, st)
		}
	}
	want, err := ContainerSAS(account, key, container, q.Get("sp"), start, expiry)
	if err != nil {
		return err
	}
	wq, _ := url.ParseQuery(want)
	if !hmac.Equal([]byte(wq.Get("sig")), []byte(sig)) || wq.Get("se") != q.Get("se") || wq.Get("st") != q.Get("st") {
		return ErrSASForged
	}
	if now.After(expiry) || (!start.IsZero() && now.Before(start)) {
		return ErrSASExpired
	}
	return nil
}
