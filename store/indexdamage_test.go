package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4/fb"

	"github.com/robinscreen/robinscreen/robinson"
	"github.com/robinscreen/robinscreen/screening"
)

// tableIndexRegion returns where a Badger table's index lies in its file,
// read from the footer (index, index length, checksum, checksum length).
func tableIndexRegion(t *testing.T, path string) (start, end int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pos := len(b) - 4
	chk := int(binary.BigEndian.Uint32(b[pos:]))
	pos -= chk + 4
	idx := int(binary.BigEndian.Uint32(b[pos:]))
	return int64(pos - idx), int64(pos)
}

// TestDamagedIndexWhileServing damages the index of a table under a
// serving store whose block checker has already read that table's index
// (a server that has run for a while): Badger reads the index of an
// unencrypted table from its memory map on every lookup, without its
// checksum, so a damaged index could send a lookup to the wrong block,
// which passes its checksum and lacks the key. No listed key may then read
// as "not listed": it is found, or the read fails with ErrDamaged.
func TestDamagedIndexWhileServing(t *testing.T) {
	for _, tc := range []struct {
		name string
		// at picks the damaged range inside the index [start, end).
		damage func(b []byte, start, end int64)
	}{
		{"zeroed 4 KiB in the middle of the index", func(b []byte, s, e int64) { clear(b[s+(e-s)/2 : min(e, s+(e-s)/2+4096)]) }},
		{"one block's base key zeroed", func(b []byte, s, e int64) {
			idx := fb.GetRootAsTableIndex(b[s:e], 0)
			var ko fb.BlockOffset
			j := idx.OffsetsLength() / 2
			if !idx.Offsets(&ko, j) {
				panic("no block offset")
			}
			k := ko.KeyBytes()
			at := bytes.Index(b[s:e], k)
			if at < 0 || len(k) < 4 {
				panic("base key not found in the index")
			}
			// Keep the key's length (the index stays well formed) and
			// make it sort before every key of the table.
			clear(b[s+int64(at) : s+int64(at+len(k))])
		}},
		// The head of the index (root offset, root table, vtable):
		// Badger asserts on it and a failed assertion ends the process.
		{"zeroed 4 KiB at the start of the index", func(b []byte, s, e int64) { clear(b[s:min(e, s+4096)]) }},
		{"zeroed root table of the index", func(b []byte, s, e int64) {
			root := int64(binary.LittleEndian.Uint32(b[s:]))
			clear(b[s+root : s+root+8])
		}},
		{"flipped bytes through the index", func(b []byte, s, e int64) {
			for o := s + 7; o < e; o += 97 {
				b[o] ^= 0x20
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dir := t.TempDir(), t.TempDir()
			s := openStore(t, dir)
			man, err := s.LoadRobinson(context.Background(), synthList(t, src, 60000), LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			keys := blockingKeys(t, s)
			d := s.serving[screening.KindRobinson]
			// A server that has run for a while: the checker has read the
			// index of every table (as a filter false positive would).
			for _, k := range keys {
				if f, p := d.blocks.check(k); p != "" {
					t.Fatalf("intact version: %s: %s", f, p)
				}
			}
			vdir := filepath.Join(dir, screening.KindRobinson, man.Version)
			for _, rel := range tables(t, vdir) {
				p := filepath.Join(vdir, rel)
				start, end := tableIndexRegion(t, p)
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				tc.damage(b, start, end)
				f, err := os.OpenFile(p, os.O_WRONLY, 0) // in place: the memory maps see it
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.WriteAt(b[start:end], start); err != nil {
					t.Fatal(err)
				}
				f.Close()
			}
			silent, failed := 0, 0
			for _, k := range keys {
				snap, release := s.Acquire()
				n := 0
				err := snap.Robinson.Candidates(k[1:], nil, func(*robinson.Record) { n++ })
				release()
				switch {
				case err != nil && errors.Is(err, ErrDamaged):
					failed++
				case err != nil:
					t.Fatalf("lookup failed with %v, want ErrDamaged", err)
				case n == 0:
					silent++
				}
			}
			t.Logf("%d keys: %d failed ErrDamaged, %d read as not listed", len(keys), failed, silent)
			if silent > 0 {
				t.Errorf("%d of %d listed keys read as not listed after the index was damaged", silent, len(keys))
			}
			if failed == 0 || s.Damage(screening.KindRobinson) == nil {
				t.Error("the damage went unnoticed")
			}
		})
	}
}

// TestScrubNamesFileOfFailedRead: a read that fails without telling
// which file (a Badger panic on a damaged block) marks the version
// damaged with no file named; the next scrub finds the file by its hash
// and names it in the version's damage.
func TestScrubNamesFileOfFailedRead(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s := openStore(t, dir)
	man, err := s.LoadRobinson(context.Background(), synthList(t, src, 5000), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vdir := filepath.Join(dir, screening.KindRobinson, man.Version)
	rel := tables(t, vdir)[0]
	f, err := os.OpenFile(filepath.Join(vdir, rel), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, 64), 8192); err != nil { // same size: only the hash tells
		t.Fatal(err)
	}
	f.Close()
	d := s.serving[screening.KindRobinson]
	d.onDamage = nil // no handler: the scrub must name it
	r := &reader{d: d}
	if err := r.failed(errBadgerPanic); !errors.Is(err, ErrDamaged) {
		t.Fatalf("failed read: %v, want ErrDamaged", err)
	}
	if de := s.Damage(screening.KindRobinson); de == nil || de.File != "" {
		t.Fatalf("damage after the failed read: %v, want one naming no file yet", de)
	}
	if err := s.Scrub(); !errors.Is(err, ErrDamaged) {
		t.Fatalf("scrub: %v, want ErrDamaged", err)
	}
	de := s.Damage(screening.KindRobinson)
	if de == nil || de.File != rel || !strings.Contains(de.Error(), man.Version) || !strings.Contains(de.Error(), "a read failed") {
		t.Errorf("damage after the scrub: %v, want version %s and file %s named, and the failed read", de, man.Version, rel)
	}
}

// TestFailedReadNamesFile: the damage handler of a version marked
// damaged by a failed read that could not tell the file names it before
// it logs the damage and applies the policy (here a rollback, after which
// the scrub no longer looks at the version).
func TestFailedReadNamesFile(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	var logBuf lockedLog
	s := openStoreWith(t, dir, Options{OnDamage: DamageRollback, Logger: slog.New(slog.NewJSONHandler(&logBuf, nil))})
	list := synthList(t, src, 5000)
	if _, err := s.LoadRobinson(context.Background(), list, LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	// Versions are named by content: the same list under another
	// publication date is a second version.
	man, err := s.LoadRobinson(context.Background(), list, LoadOptions{Published: time.Now().UTC().Truncate(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	vdir := filepath.Join(dir, screening.KindRobinson, man.Version)
	rel := tables(t, vdir)[0]
	f, err := os.OpenFile(filepath.Join(vdir, rel), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, 64), 8192); err != nil {
		t.Fatal(err)
	}
	f.Close()
	changed := make(chan struct{}, 4)
	s.SetOnChange(func() { changed <- struct{}{} })
	d := s.serving[screening.KindRobinson]
	(&reader{d: d}).failed(errBadgerPanic)
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("the damage handler did not run")
	}
	if de := d.damaged(); de == nil || de.File != rel {
		t.Errorf("damage %v, want file %s named", de, rel)
	}
	if log := logBuf.String(); !strings.Contains(log, rel) || !strings.Contains(log, man.Version) {
		t.Errorf("the log does not name %s and %s:\n%s", man.Version, rel, log)
	}
	if v := s.servingVersion(screening.KindRobinson); v == man.Version {
		t.Errorf("still serving the damaged version %s", v)
	}
}

// lockedLog is a log destination safe for the store's goroutines.
type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
