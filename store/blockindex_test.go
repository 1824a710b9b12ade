package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/robinscreen/robinscreen/robinson"
	"github.com/robinscreen/robinscreen/screening"
)

// badgerValue reads key through Badger's Txn.Get, the oracle of the block
// index: the value (copied) and whether the key is there.
func badgerValue(t *testing.T, txn *badger.Txn, key []byte) ([]byte, bool) {
	t.Helper()
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false
	}
	if err != nil {
		t.Fatalf("badger: %v", err)
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		t.Fatalf("badger value: %v", err)
	}
	return v, true
}

// storedKeys returns every key of a version, in order.
func storedKeys(t *testing.T, db *badger.DB) [][]byte {
	t.Helper()
	var keys [][]byte
	err := db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.PrefetchValues = false
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		return nil
	})
	if err != nil || len(keys) == 0 {
		t.Fatalf("%d keys: %v", len(keys), err)
	}
	return keys
}

// neighbours returns keys next to k that a version may or may not hold:
// k extended, cut short, and with its last byte one lower and higher.
func neighbours(k []byte) [][]byte {
	out := [][]byte{append(bytes.Clone(k), 0), append(bytes.Clone(k), 0xff), k[:len(k)-1]}
	last := len(k) - 1
	if k[last] > 0 {
		lo := bytes.Clone(k)
		lo[last]--
		out = append(out, lo)
	}
	if k[last] < 0xff {
		hi := bytes.Clone(k)
		hi[last]++
		out = append(out, hi)
	}
	return out
}

// TestBlockIndexAgreesWithBadger reads every key of a loaded version, and
// keys next to each, through the block index and through Badger's
// Txn.Get: both must find the same keys with the same values. The
// Robinson list is large enough for several tables, so keys at table
// boundaries and keys between two tables are read too.
func TestBlockIndexAgreesWithBadger(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a 70,000-record list")
	}
	for _, tc := range []struct {
		name      string
		kind      string
		load      func(s *Store, src string) error
		minTables int
	}{
		{"robinson, several tables", screening.KindRobinson, func(s *Store, src string) error {
			_, err := s.LoadRobinson(context.Background(), synthList(t, src, 70000), LoadOptions{})
			return err
		}, 2},
		{"cpr", screening.KindCPR, func(s *Store, src string) error {
			_, err := s.LoadCPR(context.Background(), cprFile(t, src, true), LoadOptions{})
			return err
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dir := t.TempDir(), t.TempDir()
			s := openStore(t, dir)
			if err := tc.load(s, src); err != nil {
				t.Fatal(err)
			}
			d := s.serving[tc.kind]
			if d.index == nil {
				t.Fatal("a loaded version has no block index: it is read through Badger")
			}
			if n := len(d.index.tables); n < tc.minTables {
				t.Fatalf("%d tables, want at least %d", n, tc.minTables)
			}
			keys := storedKeys(t, d.db)
			probes := [][]byte{{0}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
			for _, k := range keys {
				probes = append(probes, k)
				probes = append(probes, neighbours(k)...)
			}
			txn := d.db.NewTransaction(false)
			defer txn.Discard()
			r := &reader{d: d}
			found := 0
			for _, k := range probes {
				if len(k) == 0 {
					continue
				}
				want, wantOK := badgerValue(t, txn, k)
				var got []byte
				ok, badgerDecides, err := r.readIndexed(d.index, k, func(v []byte) error {
					got = bytes.Clone(v)
					return nil
				})
				switch {
				case err != nil:
					t.Fatalf("block index read of a %d-byte key: %v", len(k), err)
				case badgerDecides:
					t.Fatalf("block index left a %d-byte key of a loaded version to Badger", len(k))
				case ok != wantOK:
					t.Fatalf("block index found=%v, Badger found=%v, for a %d-byte key", ok, wantOK, len(k))
				case !bytes.Equal(got, want):
					t.Fatalf("block index and Badger read different values for a %d-byte key", len(k))
				}
				if ok {
					found++
				}
			}
			if found < len(keys) {
				t.Fatalf("found %d of %d stored keys", found, len(keys))
			}
			t.Logf("%d tables, %d blocks, %d keys, %d reads compared", len(d.index.tables), len(d.index.blocks), len(keys), len(probes))
		})
	}
}

// TestBlockIndexOnlyForPlainVersions: a version the store cannot read
// itself is read through Badger: encrypted tables, and tables that
// overlap (a database written by transactions, in two flushes).
func TestBlockIndexOnlyForPlainVersions(t *testing.T) {
	t.Run("encrypted", func(t *testing.T) {
		src, dir := t.TempDir(), t.TempDir()
		key, _ := newKeyFile(t)
		s := openStoreWith(t, dir, Options{EncryptionKey: key})
		if _, err := s.LoadRobinson(context.Background(), robinsonFile(t, src, entries), LoadOptions{}); err != nil {
			t.Fatal(err)
		}
		if s.serving[screening.KindRobinson].index != nil {
			t.Error("an encrypted version has a block index")
		}
		if got := lookup(t, s, "2100", "12", "testesen"); len(got) != 1 {
			t.Errorf("encrypted version read %d records, want 1", len(got))
		}
	})
	// Databases written by transactions, in two flushes of interleaved
	// keys: two level-0 tables that overlap.
	for _, tc := range []struct {
		name    string
		managed bool   // both flushes at version 1
		reason  string // in the errNoBlockIndex
	}{
		{"keys at two versions", false, "versions"},
		{"overlapping tables", true, "overlapping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opt := badgerOptions(dir, nil, nil)
			for _, part := range []int{0, 1} {
				open, txn := badger.Open, func(db *badger.DB) *badger.Txn { return db.NewTransaction(true) }
				commit := func(txn *badger.Txn) error { return txn.Commit() }
				if tc.managed {
					open, txn = badger.OpenManaged, func(db *badger.DB) *badger.Txn { return db.NewTransactionAt(1, true) }
					commit = func(txn *badger.Txn) error { return txn.CommitAt(1, nil) }
				}
				db, err := open(opt)
				if err != nil {
					t.Fatal(err)
				}
				w := txn(db)
				for i := part; i < 200; i += 2 {
					if err := w.Set([]byte{'k', byte(i)}, []byte{byte(i)}); err != nil {
						t.Fatal(err)
					}
				}
				if err := commit(w); err != nil {
					t.Fatal(err)
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
			}
			ropt := opt.WithReadOnly(true)
			db, err := badger.Open(ropt)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if n := len(db.Tables()); n != 2 {
				t.Fatalf("%d tables, want 2", n)
			}
			c := newBlockChecker(db, dir, false)
			defer c.close()
			ix, err := buildBlockIndex(db, dir, c, ropt)
			var why errNoBlockIndex
			if ix != nil || !errors.As(err, &why) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("block index: %v, %v; want none, for %s", ix != nil, err, tc.reason)
			}
		})
	}
}

// TestBlockCheckedAgainInNextSnapshot: a block whose checksum one
// snapshot verified is verified again by the next one, so damage done
// between the two is found.
func TestBlockCheckedAgainInNextSnapshot(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s := openStore(t, dir)
	man, err := s.LoadRobinson(context.Background(), synthList(t, src, 5000), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := s.serving[screening.KindRobinson]
	if d.index == nil {
		t.Fatal("no block index")
	}
	keys := blockingKeys(t, s)
	k := keys[len(keys)/2]
	read := func() (int, error) {
		snap, release := s.Acquire()
		defer release()
		n := 0
		err := snap.Robinson.Candidates(k[1:], nil, func(*robinson.Record) { n++ })
		return n, err
	}
	if n, err := read(); err != nil || n == 0 {
		t.Fatalf("intact version: %d records, %v", n, err)
	}
	// Zero the middle of the key's block in place (the mappings see it).
	blk := d.index.blocks[d.index.find(k)]
	p := filepath.Join(dir, screening.KindRobinson, man.Version, d.index.names[blk.table])
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, 64), int64(blk.off+blk.n/2)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	n, err := read()
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("read after the block was damaged: %d records, %v; want ErrDamaged", n, err)
	}
	if de := s.Damage(screening.KindRobinson); de == nil || de.File != d.index.names[blk.table] {
		t.Errorf("damage %v, want file %s named", de, d.index.names[blk.table])
	}
}

// TestLookupBlockDamaged: a block whose layout is damaged (the caller
// verifies its checksum first, so this is a second line) is reported, not
// read out of bounds.
func TestLookupBlockDamaged(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s := openStore(t, dir)
	if _, err := s.LoadRobinson(context.Background(), synthList(t, src, 2000), LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	d := s.serving[screening.KindRobinson]
	keys := blockingKeys(t, s)
	k := keys[0]
	blk := d.index.blocks[d.index.find(k)]
	good := d.index.tables[blk.table].data[blk.off : blk.off+blk.n]
	if what, _, p := lookupBlock(good, k); what != entryValue || p != "" {
		t.Fatalf("intact block: %v, %q", what, p)
	}
	n := len(good)
	chk := 4 + int(good[n-1]) // checksum length (one byte here) and its field
	countAt := n - chk - 4
	for _, tc := range []struct {
		name   string
		damage func(b []byte) []byte
	}{
		{"cut to 8 bytes", func(b []byte) []byte { return b[:8] }},
		{"checksum length past the start", func(b []byte) []byte { b[n-4], b[n-3] = 0xff, 0xff; return b }},
		{"entry count zero", func(b []byte) []byte { clear(b[countAt : countAt+4]); return b }},
		{"entry count past the start", func(b []byte) []byte { b[countAt] = 0x7f; return b }},
		{"entry offsets past the end", func(b []byte) []byte {
			count := int(b[countAt+3]) | int(b[countAt+2])<<8
			for i := countAt - 4*count; i < countAt; i++ {
				b[i] = 0xff
			}
			return b
		}},
		{"first entry's key length past its end", func(b []byte) []byte { b[2], b[3] = 0xff, 0xff; return b }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			what, val, p := lookupBlock(tc.damage(bytes.Clone(good)), k)
			if p == "" || what != entryAbsent || val != nil {
				t.Errorf("damaged block read as %v (%d value bytes), problem %q; want a problem", what, len(val), p)
			}
		})
	}
}
