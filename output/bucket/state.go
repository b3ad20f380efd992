package bucket

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wcdl/wcdl/output"
)

// state is the body of the state object <key>.part: the lock and what
// the upload holds.
type state struct {
	Owner string `json:"owner"`
	// Expires is when the lock may be taken over if not renewed; zero
	// when released (a run that stopped left its upload to resume).
	Expires time.Time      `json:"expires,omitzero"`
	Upload  string         `json:"upload,omitempty"` // the multipart upload's id
	Parts   []part         `json:"parts,omitempty"`  // uploaded, numbered 1, 2, ...
	Record  *output.Record `json:"record,omitempty"` // the version of the source held
	// SHA256 is the state (MarshalBinary) of the SHA-256 of the bytes
	// of Parts.
	SHA256 []byte `json:"sha256,omitempty"`
}

// part is an uploaded part.
type part struct {
	N      int32  `json:"n"`
	Size   int64  `json:"size"`
	ETag   string `json:"etag"`
	SHA256 string `json:"sha256"` // base64, as S3 takes it
}

// newOwner returns a random name for this process's locks.
func newOwner() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// pollInterval is how often a held lock is looked at again.
const pollInterval = 2 * time.Second

// putState writes st at key, if ifMatch is the object's ETag or, with
// ifNoneMatch "*", if there is none; it returns the new ETag.
func (b *Bucket) putState(ctx context.Context, key string, st *state, ifMatch, ifNoneMatch string) (string, error) {
	body, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	in := &s3.PutObjectInput{Bucket: &b.bucket, Key: &key, Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String("application/json")}
	if ifMatch != "" {
		in.IfMatch = &ifMatch
	}
	if ifNoneMatch != "" {
		in.IfNoneMatch = &ifNoneMatch
	}
	out, err := b.client.PutObject(ctx, in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ETag), nil
}

// getState reads the state object at key.
func (b *Bucket) getState(ctx context.Context, key string) (state, string, error) {
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &b.bucket, Key: &key})
	if err != nil {
		return state{}, "", err
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, 1<<20))
	if err != nil {
		return state{}, "", err
	}
	var st state
	if err := json.Unmarshal(body, &st); err != nil {
		// Not written by wcdl, or torn: nothing in it can be trusted.
		st = state{}
	}
	return st, aws.ToString(out.ETag), nil
}

// conflict reports a conditional write that lost to another writer.
func conflict(err error) bool {
	c := statusOf(err)
	return c == http.StatusPreconditionFailed || c == http.StatusConflict
}

// Open takes the lock of name: it creates the state object if there is
// none, takes it over if it was released or has expired, and else waits,
// calling onBusy, until one of those happens or ctx ends.
func (b *Bucket) Open(ctx context.Context, name string, onBusy func()) (output.File, error) {
	key := b.key(name)
	skey := key + ".part"
	for {
		now := b.cfg.Now()
		st := state{Owner: b.owner, Expires: now.Add(b.cfg.LockTTL)}
		etag, err := b.putState(ctx, skey, &st, "", "*")
		if err == nil {
			return b.newFile(ctx, name, st, etag), nil
		}
		if !conflict(err) {
			return nil, fmt.Errorf("lock %s: %s", b.Where(name), apiMessage(err))
		}
		old, oldTag, err := b.getState(ctx, skey)
		if statusOf(err) == http.StatusNotFound {
			continue // released in between
		}
		if err != nil {
			return nil, fmt.Errorf("lock %s: %s", b.Where(name), apiMessage(err))
		}
		if old.Expires.IsZero() || now.After(old.Expires) {
			if !old.Expires.IsZero() {
				b.cfg.Logger.Debug("taking over an expired lock", "key", skey, "owner", old.Owner, "expired", old.Expires)
			}
			old.Owner, old.Expires = b.owner, now.Add(b.cfg.LockTTL)
			etag, err := b.putState(ctx, skey, &old, oldTag, "")
			if conflict(err) {
				continue // another process took it first
			}
			if err != nil {
				return nil, fmt.Errorf("lock %s: %s", b.Where(name), apiMessage(err))
			}
			return b.newFile(ctx, name, old, etag), nil
		}
		if onBusy != nil {
			onBusy()
		}
		wait := min(old.Expires.Sub(now), pollInterval)
		t := time.NewTimer(max(wait, time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}
