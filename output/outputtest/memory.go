// Package outputtest provides an in-memory output.Location for the tests
// of code that writes through package output: it keeps the promises of
// the interface (one holder per name, nothing at the final name before
// Publish, what Close keeps) and counts what it was asked, and it can
// refuse writes at any offset but the end, as a bucket's multipart upload
// does.
package outputtest

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"sync"

	"github.com/wcdl/wcdl/output"
)

// Memory is an output.Location held in memory. The zero value is not
// usable; call New.
type Memory struct {
	features output.Features

	mu        sync.Mutex
	published map[string][]byte
	slots     map[string]*slot
	refused   int // writes refused with ErrAppendOnly
	saves     int
}

var (
	_ output.Location = (*Memory)(nil)
	_ output.File     = (*file)(nil)
)

// slot is what a name holds before it is published; it outlives a holder
// that keeps it, as a part does on disk.
type slot struct {
	data   []byte
	rec    output.Record
	hasRec bool
	held   chan struct{} // closed when the holder lets go; nil when free
}

// New returns an empty Memory. appendOnly refuses writes at any offset but
// the end of the bytes held (Features.WriteAt false), as a multipart
// upload does; ReadBack is always offered.
func New(appendOnly bool) *Memory {
	return &Memory{
		features:  output.Features{WriteAt: !appendOnly, ReadBack: true},
		published: map[string][]byte{},
		slots:     map[string]*slot{},
	}
}

// NewStream returns an empty Memory that only appends and cannot read
// back (Features zero), as a bucket: ReadAt fails with
// output.ErrNoReadBack, and Held gives the state of the SHA-256 and MD5
// of the bytes held (output.Held.Digests), as a bucket keeps them.
func NewStream() *Memory {
	m := New(true)
	m.features.ReadBack = false
	return m
}

// Features returns what New was told.
func (m *Memory) Features() output.Features { return m.features }

// Where returns mem:<name>.
func (m *Memory) Where(name string) string { return "mem:" + name }

// Complete returns the size and SHA-256 of the file published at name.
func (m *Memory) Complete(_ context.Context, name string) (output.Info, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.published[name]
	if !ok {
		return output.Info{}, false, nil
	}
	sum := sha256.Sum256(b)
	return output.Info{Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}, true, nil
}

// Open takes name's slot, waiting while another holder has it.
func (m *Memory) Open(ctx context.Context, name string, onBusy func()) (output.File, error) {
	for {
		m.mu.Lock()
		s := m.slots[name]
		if s == nil {
			s = &slot{}
			m.slots[name] = s
		}
		if s.held == nil {
			s.held = make(chan struct{})
			m.mu.Unlock()
			return &file{m: m, name: name, s: s}, nil
		}
		wait := s.held
		m.mu.Unlock()
		if onBusy != nil {
			onBusy()
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wait:
		}
	}
}

// Put publishes b at name, as an earlier run would have.
func (m *Memory) Put(name string, b []byte) {
	m.mu.Lock()
	m.published[name] = append([]byte(nil), b...)
	m.mu.Unlock()
}

// Published returns the file published at name.
func (m *Memory) Published(name string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.published[name]
	return append([]byte(nil), b...), ok
}

// Slot returns what name's slot holds, and whether there is one.
func (m *Memory) Slot(name string) (data []byte, rec output.Record, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.slots[name]
	if s == nil {
		return nil, output.Record{}, false
	}
	return append([]byte(nil), s.data...), s.rec, true
}

// Refused returns how many writes were refused with output.ErrAppendOnly.
func (m *Memory) Refused() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.refused
}

// Saves returns how many records were saved.
func (m *Memory) Saves() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.saves
}

// file is one holder's view of a slot.
type file struct {
	m      *Memory
	name   string
	s      *slot
	done   bool // published or closed
	closed bool
}

func (f *file) Held(context.Context) (output.Held, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	h := output.Held{Size: int64(len(f.s.data)), Record: f.s.rec}
	if !f.m.features.ReadBack {
		h.Digests = map[string][]byte{}
		for name, d := range map[string]hash.Hash{"sha256": sha256.New(), "md5": md5.New()} {
			d.Write(f.s.data)
			h.Digests[name], _ = d.(encoding.BinaryMarshaler).MarshalBinary()
		}
	}
	return h, nil
}

func (f *file) WriteAt(p []byte, off int64) (int, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if f.done {
		return 0, fmt.Errorf("write to %s after Publish or Close", f.name)
	}
	if !f.m.features.WriteAt && off != int64(len(f.s.data)) {
		f.m.refused++
		return 0, fmt.Errorf("write %d bytes at %d of %s, which holds %d: %w", len(p), off, f.name, len(f.s.data), output.ErrAppendOnly)
	}
	if end := off + int64(len(p)); end > int64(len(f.s.data)) {
		f.s.data = append(f.s.data, make([]byte, end-int64(len(f.s.data)))...)
	}
	copy(f.s.data[off:], p)
	return len(p), nil
}

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if !f.m.features.ReadBack {
		return 0, output.ErrNoReadBack
	}
	if off >= int64(len(f.s.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.s.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *file) Save(_ context.Context, rec output.Record) error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	f.s.rec, f.s.hasRec = rec, true
	f.m.saves++
	return nil
}

func (f *file) Discard(context.Context) error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	f.s.data, f.s.rec, f.s.hasRec = nil, output.Record{}, false
	return nil
}

func (f *file) Publish(_ context.Context, size int64) error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if f.done {
		return fmt.Errorf("publish %s twice", f.name)
	}
	if size != int64(len(f.s.data)) {
		return fmt.Errorf("publish %s: %d bytes held, %d announced", f.name, len(f.s.data), size)
	}
	f.m.published[f.name] = f.s.data
	f.s.data, f.s.rec, f.s.hasRec = nil, output.Record{}, false
	f.done = true
	return nil
}

// Close lets the slot go: kept if a record describes what it holds,
// else removed.
func (f *file) Close() error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed, f.done = true, true
	if len(f.s.data) == 0 || !f.s.hasRec {
		delete(f.m.slots, f.name)
	}
	close(f.s.held)
	f.s.held = nil
	return nil
}
