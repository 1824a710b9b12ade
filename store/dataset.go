package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bits-and-blooms/bloom/v3"
	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/ristretto/v2/z"
)

// Manifest describes one dataset version. It holds no personal data.
type Manifest struct {
	Format              int       `json:"format"`
	Kind                string    `json:"kind"`
	Version             string    `json:"version"`
	SourceName          string    `json:"source_name"`
	SourceSHA256        string    `json:"source_sha256"`
	SourceBytes         int64     `json:"source_bytes"`
	Encoding            string    `json:"encoding,omitempty"`
	Published           time.Time `json:"published"`
	PublishedFromHeader bool      `json:"published_from_header"`
	LoadedAt            time.Time `json:"loaded_at"`
	LoadSeconds         float64   `json:"load_seconds"`
	Lines               int       `json:"lines"`
	HeaderLines         int       `json:"header_lines,omitempty"`
	Blank               int       `json:"blank_lines,omitempty"`
	Skipped             int       `json:"skipped_lines,omitempty"`
	Records             int       `json:"records"`
	Current             int       `json:"current,omitempty"`
	Previous            int       `json:"previous,omitempty"`
	Persons             int       `json:"persons,omitempty"`
	Protections         int       `json:"protections,omitempty"`
	Rejected            int       `json:"rejected"`
	Rejects             []Reject  `json:"rejects,omitempty"`
	Keys                int       `json:"keys"`
	BloomFPRate         float64   `json:"bloom_fp_rate"`
	KeyFingerprint      string    `json:"key_fingerprint,omitempty"`
	BloomSHA256         string    `json:"bloom_sha256"`
	// Synthetic marks the bundled demo dataset (invented people).
	Synthetic bool `json:"synthetic,omitempty"`
}

// Reject is a rejected source line: its number and why, never its content.
type Reject struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

const (
	manifestFile = "manifest.json"
	bloomFile    = "bloom.bin"
	badgerDir    = "badger"
	bloomFPRate  = 0.001
)

// dataset is one opened, immutable dataset version.
type dataset struct {
	dir      string
	man      Manifest
	db       *badger.DB
	filter   *bloom.BloomFilter
	maxAge   time.Duration
	reads    atomic.Int64 // Badger reads: only keys the Bloom filter lets through
	inflight sync.RWMutex // screening holds RLock; retiring takes Lock, then closes
}

func badgerOptions(dir string, encKey []byte, log *slog.Logger) badger.Options {
	return badger.DefaultOptions(dir).
		WithEncryptionKey(encKey).
		WithLogger(badgerLogger{log}).
		WithMemTableSize(16 << 20).
		WithNumMemtables(2).
		WithBlockCacheSize(32 << 20).
		WithIndexCacheSize(16 << 20).
		WithValueThreshold(1 << 20).
		WithNumCompactors(2).
		WithCompactL0OnClose(false).
		WithDetectConflicts(false).
		WithMetricsEnabled(false)
}

func readManifest(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("store: manifest in %s: %w", dir, err)
	}
	return m, nil
}

// openDataset opens a complete version directory. It returns an error when
// the manifest, the Bloom filter or the Badger database cannot be read.
func openDataset(dir string, encKey []byte, log *slog.Logger) (*dataset, error) {
	m, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(dir, bloomFile))
	if err != nil {
		return nil, err
	}
	// A damaged filter could answer "no candidate" for a listed person:
	// it must be exactly the one built with this version.
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != m.BloomSHA256 {
		return nil, fmt.Errorf("store: bloom filter in %s does not match its manifest", dir)
	}
	filter := &bloom.BloomFilter{}
	if _, err := filter.ReadFrom(bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("store: bloom filter in %s: %w", dir, err)
	}
	// Versions are immutable once built: serving opens them read-only, so
	// a crash while serving can never change one.
	db, err := badger.Open(badgerOptions(filepath.Join(dir, badgerDir), encKey, log).WithReadOnly(true))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	return &dataset{dir: dir, man: m, db: db, filter: filter}, nil
}

// get calls fn with the value stored under key. It reports false without
// touching Badger when the Bloom filter rules the key out.
func (d *dataset) get(key []byte, fn func([]byte) error) (bool, error) {
	if !d.filter.Test(key) {
		return false, nil
	}
	// Badger's Txn.Get lets key escape, which would put every caller's key
	// buffer on the heap, also for the common Bloom negatives; copy it here
	// instead, on the rarer path that reads Badger.
	k := bytes.Clone(key)
	d.reads.Add(1)
	found := false
	err := d.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(k)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return item.Value(fn)
	})
	if err != nil {
		return found, &ReadError{Version: d.man.Version, err: err}
	}
	return found, nil
}

// ReadError is a failed read of a dataset version. Its text never includes
// the cause's: Badger quotes the key in its errors, and a Robinson key holds
// a postcode, a house number and a surname. errors.Is and errors.As still
// reach the cause through Unwrap.
type ReadError struct {
	Version string
	err     error
}

func (e *ReadError) Error() string {
	return "store: reading dataset version " + e.Version + " failed"
}

// Unwrap returns the cause.
func (e *ReadError) Unwrap() error { return e.err }

func (d *dataset) close() error {
	if d == nil || d.db == nil {
		return nil
	}
	return d.db.Close()
}

// retire waits for in-flight readers and closes the dataset.
func (d *dataset) retire() {
	d.inflight.Lock()
	d.close()
	d.inflight.Unlock()
}

// kvBuilder collects key/value pairs, sorts them and writes them with
// Badger's StreamWriter, building the Bloom filter from the same keys.
type kvBuilder struct {
	keys  []byte
	vals  []byte
	items []kvItem
}

type kvItem struct {
	kOff, vOff uint32
	kLen, vLen uint32
}

func (b *kvBuilder) add(key, val []byte) error {
	if len(b.keys)+len(key) > 1<<32-1 || len(b.vals)+len(val) > 1<<32-1 {
		return errors.New("store: dataset too large for one load (over 4 GiB of keys or values)")
	}
	b.items = append(b.items, kvItem{kOff: uint32(len(b.keys)), kLen: uint32(len(key)), vOff: uint32(len(b.vals)), vLen: uint32(len(val))})
	b.keys = append(b.keys, key...)
	b.vals = append(b.vals, val...)
	return nil
}

func (b *kvBuilder) key(i int) []byte {
	it := b.items[i]
	return b.keys[it.kOff : it.kOff+it.kLen]
}

func (b *kvBuilder) val(i int) []byte {
	it := b.items[i]
	return b.vals[it.vOff : it.vOff+it.vLen]
}

// write sorts the pairs, merges the values of equal keys with merge, and
// writes them into a new Badger database at dir plus the Bloom filter
// beside it. It returns the number of distinct keys.
func (b *kvBuilder) write(dir string, encKey []byte, log *slog.Logger, merge func(dst []byte, vals [][]byte) []byte) (int, string, error) {
	sort.Slice(b.items, func(i, j int) bool { return bytes.Compare(b.key(i), b.key(j)) < 0 })
	distinct := 0
	for i := range b.items {
		if i == 0 || !bytes.Equal(b.key(i), b.key(i-1)) {
			distinct++
		}
	}
	filter := bloom.NewWithEstimates(uint(max(distinct, 1)), bloomFPRate)
	db, err := badger.Open(badgerOptions(filepath.Join(dir, badgerDir), encKey, log))
	if err != nil {
		return 0, "", err
	}
	sw := db.NewStreamWriter()
	if err := sw.Prepare(); err != nil {
		db.Close()
		return 0, "", err
	}
	buf := z.NewBuffer(32<<20, "robinscreen.load")
	defer buf.Release()
	var vals [][]byte
	var merged []byte
	for i := 0; i < len(b.items); {
		j := i + 1
		for j < len(b.items) && bytes.Equal(b.key(j), b.key(i)) {
			j++
		}
		vals = vals[:0]
		for k := i; k < j; k++ {
			vals = append(vals, b.val(k))
		}
		merged = merge(merged[:0], vals)
		key := b.key(i)
		filter.Add(key)
		badger.KVToBuffer(&pb.KV{Key: key, Value: merged, Version: 1}, buf)
		if buf.LenNoPadding() > 16<<20 {
			if err := sw.Write(buf); err != nil {
				sw.Cancel()
				db.Close()
				return 0, "", err
			}
			buf.Reset()
		}
		i = j
	}
	if err := sw.Write(buf); err != nil {
		sw.Cancel()
		db.Close()
		return 0, "", err
	}
	if err := sw.Flush(); err != nil {
		db.Close()
		return 0, "", err
	}
	if err := db.Close(); err != nil {
		return 0, "", err
	}
	var fb bytes.Buffer
	if _, err := filter.WriteTo(&fb); err != nil {
		return 0, "", err
	}
	if err := os.WriteFile(filepath.Join(dir, bloomFile), fb.Bytes(), 0o600); err != nil {
		return 0, "", err
	}
	sum := sha256.Sum256(fb.Bytes())
	return distinct, hex.EncodeToString(sum[:]), nil
}

// badgerLogger passes Badger's warnings and errors to slog.
type badgerLogger struct{ log *slog.Logger }

// Only the format string is logged: Badger's arguments may hold keys, and
// a key holds a postcode, a house number and a surname.
func (l badgerLogger) Errorf(f string, _ ...any) {
	if l.log != nil {
		l.log.Error("badger: " + f)
	}
}

func (l badgerLogger) Warningf(f string, _ ...any) {
	if l.log != nil {
		l.log.Warn("badger: " + f)
	}
}
func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}

// verifyFilter checks that every key of the version's database tests
// positive in its Bloom filter: the filter may never hide a record.
func (d *dataset) verifyFilter() error {
	return d.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.PrefetchValues = false
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if !d.filter.Test(it.Item().Key()) {
				return errors.New("store: bloom filter misses a stored key")
			}
		}
		return nil
	})
}
