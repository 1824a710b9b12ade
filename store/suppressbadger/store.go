package suppressbadger

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/robinscreen/robinscreen/suppress"
)

// Key prefixes of the database.
const (
	prefixEntry   = 'e' // 'e' kind pseudonym scope -> reason, added, source[, tag]
	prefixRemoval = 'r' // 'r' time random -> JSON removal record
)

var keyFingerprint = []byte("m/key-fingerprint")

// Options configure Open.
type Options struct {
	// EncryptionKey, when set (16, 24 or 32 bytes), encrypts the database
	// at rest, as the datasets of the same data directory are.
	EncryptionKey []byte
	// Logger receives Badger's messages (never personal data).
	Logger *slog.Logger
}

// Store is the embedded suppression list. It implements suppress.Store.
type Store struct {
	db  *badger.DB
	set *suppress.Set

	mu     sync.Mutex // serialises writers
	closed atomic.Bool
}

var _ suppress.Store = (*Store)(nil)

// Open opens (creating) the database in dir and reads the list into
// memory. It returns suppress.ErrKeyMismatch when the database was written
// under another pseudonym key, and Badger's errors (a directory in use by
// another process among them).
func Open(dir string, h *suppress.Hasher, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o := badger.DefaultOptions(dir).
		WithSyncWrites(true).
		WithEncryptionKey(opts.EncryptionKey).
		WithLogger(badgerLogger{log}).
		WithCompression(options.None).
		WithMemTableSize(16 << 20).
		WithNumMemtables(2).
		WithValueThreshold(1 << 20).
		WithNumCompactors(2).
		WithMetricsEnabled(false).
		// The database is read once, at Open: the list is served from
		// memory, so Badger needs no block cache (it requires one for
		// encrypted tables only).
		WithBlockCacheSize(0)
	if len(opts.EncryptionKey) > 0 {
		o = o.WithIndexCacheSize(16 << 20).WithBlockCacheSize(16 << 20)
	}
	db, err := badger.Open(o)
	if err != nil {
		return nil, fmt.Errorf("suppressbadger: open %s: %w", dir, err)
	}
	s := &Store{db: db, set: suppress.NewSet(h)}
	if err := s.checkKey(h.Fingerprint()); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.load(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// checkKey stores the key's fingerprint in a new database and compares it
// in an existing one.
func (s *Store) checkKey(fp string) error {
	return s.db.Update(func(txn *badger.Txn) error {
		it, err := txn.Get(keyFingerprint)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return txn.Set(keyFingerprint, []byte(fp))
		}
		if err != nil {
			return err
		}
		return it.Value(func(v []byte) error {
			if string(v) != fp {
				return suppress.ErrKeyMismatch
			}
			return nil
		})
	})
}

func (s *Store) load() error {
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixEntry}, PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		var scope, source string // the previous entry's: most entries repeat them
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			var e suppress.Entry
			err := item.Value(func(v []byte) error { return decodeEntry(item.Key(), v, &e, &scope, &source) })
			if err != nil {
				return err
			}
			s.set.Insert(e)
		}
		return nil
	})
	if err == nil && s.set.Len() > 100000 {
		// Reading a large list left garbage behind (Badger's buffers):
		// give it back now rather than serve with twice the heap.
		debug.FreeOSMemory()
	}
	return err
}

func entryKey(k suppress.Key, scope string) []byte {
	b := make([]byte, 0, 2+suppress.PseudonymSize+len(scope))
	b = append(b, prefixEntry, byte(k.Kind))
	b = append(b, k.Pseudonym[:]...)
	return append(b, scope...)
}

// tagFlag, set in the reason byte, says that the value ends with the
// entry's 8-byte tag (suppress.Tag). Values written before tags existed
// have no flag and no tag: their entries are read without one. A build
// older than the tags reads a tagged entry with an unknown reason and 8
// stray bytes after its source, but still finds it and suppresses.
const tagFlag = 0x80

func encodeValue(e *suppress.Entry) []byte {
	b := make([]byte, 0, 1+8+len(e.Source)+8)
	r := byte(e.Reason)
	if e.Tag != 0 {
		r |= tagFlag
	}
	b = append(b, r)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Added.Unix()))
	b = append(b, e.Source...)
	if e.Tag != 0 {
		b = binary.BigEndian.AppendUint64(b, uint64(e.Tag))
	}
	return b
}

var errCorrupt = errors.New("suppressbadger: corrupt entry")

// decodeEntry fills e from a stored key and value. scope and source hold
// the previous entry's strings, reused when equal (no allocation).
func decodeEntry(key, v []byte, e *suppress.Entry, scope, source *string) error {
	if len(key) < 2+suppress.PseudonymSize || len(v) < 9 {
		return errCorrupt
	}
	e.Key.Kind = suppress.Kind(key[1])
	copy(e.Key.Pseudonym[:], key[2:])
	if sc := key[2+suppress.PseudonymSize:]; string(sc) != *scope {
		*scope = string(sc)
	}
	e.Scope = *scope
	e.Reason = suppress.Reason(v[0] &^ tagFlag)
	e.Added = time.Unix(int64(binary.BigEndian.Uint64(v[1:9])), 0).UTC()
	e.Tag = 0
	if v[0]&tagFlag != 0 {
		if len(v) < 9+8 {
			return errCorrupt
		}
		e.Tag = suppress.Tag(binary.BigEndian.Uint64(v[len(v)-8:]))
		v = v[:len(v)-8]
	}
	if so := v[9:]; string(so) != *source {
		*source = string(so)
	}
	e.Source = *source
	return nil
}

// Add implements suppress.Store.Add: new entries are written in
// synchronous transactions and only then put in the in-memory list.
func (s *Store) Add(ctx context.Context, entries []suppress.Entry) (int, error) {
	for i := range entries {
		if err := entries[i].Check(); err != nil {
			return 0, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return 0, suppress.ErrClosed
	}
	fresh := make([]suppress.Entry, 0, len(entries))
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		k := string(entryKey(e.Key, e.Scope))
		if seen[k] || s.set.Contains(e.Key, e.Scope) {
			continue
		}
		seen[k] = true
		fresh = append(fresh, e)
	}
	added := 0
	for len(fresh) > 0 {
		if err := ctx.Err(); err != nil {
			return added, err
		}
		txn := s.db.NewTransaction(true)
		n := 0
		for ; n < len(fresh); n++ {
			e := &fresh[n]
			err := txn.Set(entryKey(e.Key, e.Scope), encodeValue(e))
			if errors.Is(err, badger.ErrTxnTooBig) && n > 0 {
				break
			}
			if err != nil {
				txn.Discard()
				return added, fmt.Errorf("%w: %v", suppress.ErrUnavailable, err)
			}
		}
		if err := txn.Commit(); err != nil {
			return added, fmt.Errorf("%w: %v", suppress.ErrUnavailable, err)
		}
		for _, e := range fresh[:n] {
			s.set.Insert(e)
		}
		added += n
		fresh = fresh[n:]
	}
	return added, nil
}

// removalRecord is the stored audit record of a removal: the entry's
// pseudonym, never its value.
type removalRecord struct {
	Kind      string    `json:"kind"`
	Pseudonym string    `json:"pseudonym"`
	Scope     string    `json:"scope,omitempty"`
	Reason    string    `json:"reason"`
	Source    string    `json:"source,omitempty"`
	Added     time.Time `json:"added"`
	By        string    `json:"removed_by"`
	Why       string    `json:"why"`
	At        time.Time `json:"removed_at"`
}

// Remove implements suppress.Store.Remove: the entry's deletion and the
// removal record are one synchronous transaction.
func (s *Store) Remove(_ context.Context, r suppress.Removal) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return false, suppress.ErrClosed
	}
	var old suppress.Entry
	found := false
	for _, e := range s.set.Entries(r.Key) {
		if e.Scope == r.Scope {
			old, found = e, true
		}
	}
	if !found {
		return false, nil
	}
	rec, err := json.Marshal(removalRecord{Kind: r.Key.Kind.String(), Pseudonym: r.Key.Pseudonym.String(), Scope: r.Scope,
		Reason: old.Reason.String(), Source: old.Source, Added: old.Added, By: r.By, Why: r.Why, At: r.At.UTC()})
	if err != nil {
		return false, err
	}
	rk := make([]byte, 1, 13)
	rk[0] = prefixRemoval
	rk = binary.BigEndian.AppendUint64(rk, uint64(r.At.UnixNano()))
	var rnd [4]byte
	rand.Read(rnd[:])
	rk = append(rk, rnd[:]...)
	err = s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Delete(entryKey(r.Key, r.Scope)); err != nil {
			return err
		}
		return txn.Set(rk, rec)
	})
	if err != nil {
		return false, fmt.Errorf("%w: %v", suppress.ErrUnavailable, err)
	}
	s.set.Delete(r.Key, r.Scope)
	return true, nil
}

// View implements suppress.Store.View: the in-memory list is always
// current, since every write goes through this process.
func (s *Store) View(context.Context) (*suppress.Set, error) {
	if s.closed.Load() {
		return nil, suppress.ErrClosed
	}
	return s.set, nil
}

// Export implements suppress.Store.Export.
func (s *Store) Export(ctx context.Context, fn func(suppress.Entry) error) error {
	set, err := s.View(ctx)
	if err != nil {
		return err
	}
	return set.Export(fn)
}

// Removals returns the removal records, oldest first, as JSON lines
// (pseudonyms, never values). It returns Badger's errors.
func (s *Store) Removals() ([][]byte, error) {
	var out [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixRemoval}, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	return out, err
}

// Hasher implements suppress.Store.Hasher.
func (s *Store) Hasher() *suppress.Hasher { return s.set.Hasher() }

// Len returns the number of entries.
func (s *Store) Len() int { return s.set.Len() }

// closeTimeout bounds Close. Badger's Close flushes the memtable and
// retries a failed flush without end (for example when the directory was
// removed under the server); every acknowledged write is already synced to
// the value log, so nothing acknowledged is lost by giving up.
var closeTimeout = 10 * time.Second

// ErrCloseTimeout is returned by Close when Badger did not close in time.
var ErrCloseTimeout = errors.New("suppressbadger: the database did not close in time (its files may be unwritable); acknowledged entries are in its value log")

// Close closes the database; later calls return suppress.ErrClosed. It
// returns Badger's close error, or ErrCloseTimeout when Badger does not
// finish within closeTimeout (the process can then exit).
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Swap(true) {
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- s.db.Close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(closeTimeout):
		return ErrCloseTimeout
	}
}

// badgerLogger sends Badger's warnings and errors to the structured log.
type badgerLogger struct{ log *slog.Logger }

func (l badgerLogger) Errorf(f string, a ...any) {
	l.log.Error("suppression store: " + fmt.Sprintf(f, a...))
}
func (l badgerLogger) Warningf(f string, a ...any) {
	l.log.Warn("suppression store: " + fmt.Sprintf(f, a...))
}
func (l badgerLogger) Infof(string, ...any)  {}
func (l badgerLogger) Debugf(string, ...any) {}
