package store

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/badger/v4/y"
	"github.com/dgraph-io/ristretto/v2/z"
)

var errTooLarge = errors.New("store: dataset too large for one load (over 4 GiB of keys or values, or a value over 4 MiB)")

// arenaChunk is the size of one arena chunk.
const arenaChunk = 1 << 22

// arena holds byte strings in fixed-size chunks. A string never straddles
// two chunks, so growing never copies what is stored already: a load's
// peak memory is what it holds, not twice that while a slice regrows.
type arena struct{ chunks [][]byte }

// add stores b and returns its reference. It returns errTooLarge when the
// arena would pass 4 GiB or b is longer than a chunk.
func (a *arena) add(b []byte) (uint32, error) {
	n := len(a.chunks)
	if n == 0 || len(a.chunks[n-1])+len(b) > arenaChunk {
		if n == 1<<32/arenaChunk || len(b) > arenaChunk {
			return 0, errTooLarge
		}
		a.chunks = append(a.chunks, make([]byte, 0, arenaChunk))
		n++
	}
	c := a.chunks[n-1]
	ref := uint32((n-1)*arenaChunk + len(c))
	a.chunks[n-1] = append(c, b...)
	return ref, nil
}

// at returns the stored bytes from ref to the end of its chunk.
func (a *arena) at(ref uint32) []byte {
	return a.chunks[ref/arenaChunk][ref%arenaChunk:]
}

// kvBuilder collects key/value pairs, sorts them and writes them with
// Badger's StreamWriter, building the Bloom filter from the same keys.
// A value is stored once however many keys point at it (a Robinson record
// under each of its surname words).
// summarizer adds, right after the keys of each group of consecutive keys
// (a group is a key prefix), one key that sums them up; the summary key
// must sort after every key of its group and before the next group's.
type summarizer interface {
	// groupOf returns the group of key, or nil for a key in none.
	groupOf(key []byte) []byte
	// add records a key of the current group.
	add(key []byte)
	// flush returns the current group's summary (nil key: none) and
	// starts the next group.
	flush() (key, val []byte)
	// scan sees every distinct key once, in order, from next (nil at the
	// end), on a goroutine of its own while the keys are written, until
	// stop is closed (it returns soon after); head appends to dst what
	// is written before the merged values of key, called once per
	// distinct key in the same order, and may wait for scan to get that
	// far; finish, once every key is written, waits for scan to end and
	// returns any disagreement between the two (the build then fails).
	scan(next func() []byte, stop <-chan struct{})
	head(dst, key []byte) []byte
	finish() error
}

type kvBuilder struct {
	// summary, when set, adds a summary key after each group of keys.
	summary    summarizer
	keys, vals arena
	items      []kvItem
	vbuf       []byte
}

// kvItem is one key and its value. prefix holds the key's first 8 bytes,
// big-endian, so that most comparisons of the sort touch no arena.
type kvItem struct {
	prefix     uint64
	kRef, vRef uint32
	kLen       uint8
}

// grow makes room for about n items. Pages the estimate over-reserves are
// never touched, so they cost address space, not memory.
func (b *kvBuilder) grow(n int) { b.items = slices.Grow(b.items, n) }

// len returns the number of pairs added so far.
func (b *kvBuilder) len() int { return len(b.items) }

// addValue stores a value for addKey. It returns errTooLarge past 4 GiB.
func (b *kvBuilder) addValue(val []byte) (uint32, error) {
	b.vbuf = binary.AppendUvarint(b.vbuf[:0], uint64(len(val)))
	b.vbuf = append(b.vbuf, val...)
	return b.vals.add(b.vbuf)
}

// addKey adds key with the value stored at vRef. It returns errTooLarge
// past 4 GiB of keys or for a key longer than 255 bytes.
func (b *kvBuilder) addKey(key []byte, vRef uint32) error {
	if len(key) > 255 {
		return errTooLarge
	}
	kRef, err := b.keys.add(key)
	if err != nil {
		return err
	}
	var p [8]byte
	copy(p[:], key)
	b.items = append(b.items, kvItem{prefix: binary.BigEndian.Uint64(p[:]), kRef: kRef, vRef: vRef, kLen: uint8(len(key))})
	return nil
}

// add adds one pair.
func (b *kvBuilder) add(key, val []byte) error {
	ref, err := b.addValue(val)
	if err != nil {
		return err
	}
	return b.addKey(key, ref)
}

func (b *kvBuilder) key(it *kvItem) []byte { return b.keys.at(it.kRef)[:it.kLen] }

func (b *kvBuilder) val(it *kvItem) []byte {
	v := b.vals.at(it.vRef)
	n, w := binary.Uvarint(v)
	return v[w : w+int(n)]
}

// compare orders by key, then by insertion (vRef), so the order of the
// values under one key is the order they were added in.
func (b *kvBuilder) compare(x, y *kvItem) int {
	if c := cmp.Compare(x.prefix, y.prefix); c != 0 {
		return c
	}
	if c := bytes.Compare(b.key(x), b.key(y)); c != 0 {
		return c
	}
	return cmp.Compare(x.vRef, y.vRef)
}

// sort sorts the items in two halves at once, one per core; merged then
// walks them in order.
func (b *kvBuilder) sort() {
	mid := len(b.items) / 2
	var wg sync.WaitGroup
	wg.Go(func() { slices.SortFunc(b.items[:mid], func(x, y kvItem) int { return b.compare(&x, &y) }) })
	slices.SortFunc(b.items[mid:], func(x, y kvItem) int { return b.compare(&x, &y) })
	wg.Wait()
}

// merged returns an iterator over the items sorted by sort, in order; it
// returns nil at the end.
func (b *kvBuilder) merged() func() *kvItem {
	mid := len(b.items) / 2
	left, right := b.items[:mid], b.items[mid:]
	return func() *kvItem {
		switch {
		case len(left) == 0 && len(right) == 0:
			return nil
		case len(right) == 0 || len(left) > 0 && b.compare(&left[0], &right[0]) <= 0:
			it := &left[0]
			left = left[1:]
			return it
		default:
			it := &right[0]
			right = right[1:]
			return it
		}
	}
}

// filterKeysFunc calls add with the Bloom filter keys of one stored pair;
// add must not keep the slice. Its error (a damaged value) fails the load.
type filterKeysFunc func(key, val []byte, add filterAdd) error

// plainFilterKeys returns the filterKeysFunc of a filter of keys: each
// key itself.
func plainFilterKeys() filterKeysFunc {
	return func(key, _ []byte, add filterAdd) error { add(nil, key, len(key)); return nil }
}

// filterAdd takes filter keys of one group: keys holds them one after
// the other, width bytes each. A filter of plain keys takes group nil and
// one key of its own width.
type filterAdd func(group, keys []byte, width int)

// write sorts the pairs, merges the values of equal keys with merge, and
// writes them into a new Badger database at dir plus the Bloom filter
// beside it. The filter is built from what Badger holds once written, so
// it cannot miss a stored pair: it holds the keys or, when newFilterKeys
// is not nil, what its filterKeysFuncs add for each pair, sized for
// filterN entries.
// The filter, of the kind the manifest's filter names (newFilter), goes to
// the file filterFile(filter). It returns the number of distinct keys and
// the filter's SHA-256; its errors are Badger's, the file system's, the
// filterKeysFuncs' and the summarizer's.
func (b *kvBuilder) write(dir string, encKey []byte, log *slog.Logger, merge func(key, dst []byte, vals [][]byte) []byte, filterN int, newFilterKeys func() filterKeysFunc, filter string) (int, string, error) {
	b.sort()
	distinct := 0
	next := b.merged()
	var prev *kvItem
	for it := next(); it != nil; it = next() {
		if prev == nil || !bytes.Equal(b.key(it), b.key(prev)) {
			distinct++
		}
		prev = it
	}
	stopScan := func() {}
	if b.summary != nil {
		// The scan reads the sorted items beside the writing below; both
		// only read them, and the scan has ended before they are let go.
		stop := make(chan struct{})
		var scanning sync.WaitGroup
		var once sync.Once
		stopScan = func() {
			once.Do(func() {
				close(stop)
				scanning.Wait()
			})
		}
		defer stopScan()
		keys := b.merged()
		var last *kvItem
		scanning.Go(func() {
			b.summary.scan(func() []byte {
				for it := keys(); it != nil; it = keys() {
					if last == nil || !bytes.Equal(b.key(it), b.key(last)) {
						last = it
						return b.key(it)
					}
				}
				return nil
			}, stop)
		})
	}
	if newFilterKeys == nil {
		newFilterKeys = plainFilterKeys
		filterN = distinct
	}
	// StreamWriter sizes its tables for the last level (BaseTableSize ×
	// TableSizeMultiplier^(MaxLevels-2)): with the defaults that is one
	// table for the whole dataset, built in memory. Multiplier 1 keeps
	// the tables, and the memory of each builder, at BaseTableSize.
	bopt := badgerOptions(filepath.Join(dir, badgerDir), encKey, log).WithBaseTableSize(8 << 20)
	bopt.TableSizeMultiplier = 1
	db, err := badger.Open(bopt)
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
	var merged, group []byte
	put := func(key, val []byte) error {
		badger.KVToBuffer(&pb.KV{Key: key, Value: val, Version: 1}, buf)
		if buf.LenNoPadding() > 16<<20 {
			if err := sw.Write(buf); err != nil {
				return err
			}
			buf.Reset()
		}
		return nil
	}
	// endGroup writes the summary of the group of keys just written.
	endGroup := func() error {
		if b.summary == nil || group == nil {
			return nil
		}
		k, v := b.summary.flush()
		group = nil
		if k == nil {
			return nil
		}
		distinct++
		return put(k, v)
	}
	flush := func() error {
		if len(vals) == 0 {
			return nil
		}
		key := b.key(prev)
		if b.summary != nil {
			if g := b.summary.groupOf(key); !bytes.Equal(g, group) {
				if err := endGroup(); err != nil {
					return err
				}
				group = append(group[:0:0], g...)
			}
			if group != nil {
				b.summary.add(key)
			}
		}
		merged = merged[:0]
		if b.summary != nil {
			merged = b.summary.head(merged, key)
		}
		merged = merge(key, merged, vals)
		vals = vals[:0]
		return put(key, merged)
	}
	next = b.merged()
	prev = nil
	for it := next(); ; it = next() {
		if it == nil || prev != nil && !bytes.Equal(b.key(it), b.key(prev)) {
			if err := flush(); err != nil {
				sw.Cancel()
				db.Close()
				return 0, "", err
			}
		}
		if it == nil {
			break
		}
		vals = append(vals, b.val(it))
		prev = it
	}
	if err := endGroup(); err != nil {
		sw.Cancel()
		db.Close()
		return 0, "", err
	}
	if b.summary != nil {
		if err := b.summary.finish(); err != nil {
			sw.Cancel()
			db.Close()
			return 0, "", err
		}
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
	// The pairs are in Badger now: let the parsed ones go before the
	// filter takes its memory, at the load's peak.
	stopScan()
	*b = kvBuilder{}
	vals, merged = nil, nil
	f, err := buildFilter(db, newFilter(filter, filterN), newFilterKeys)
	if err != nil {
		db.Close()
		return 0, "", err
	}
	if err := db.Close(); err != nil {
		return 0, "", err
	}
	sum, err := writeFilter(filepath.Join(dir, filterFile(filter)), f)
	if err != nil {
		return 0, "", err
	}
	return distinct, sum, nil
}

// writeFilter writes f to the file path, streaming (a filter can be
// larger than 100 MB), and returns the file's hex SHA-256. It returns the
// file system's errors.
func writeFilter(path string, f keyFilter) (string, error) {
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(file, h), 1<<20)
	if _, err := f.WriteTo(bw); err != nil {
		file.Close()
		return "", err
	}
	if err := bw.Flush(); err != nil {
		file.Close()
		return "", err
	}
	if err := file.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// buildFilter adds the filter keys of every pair in db to filter and
// returns it. Its errors are Badger's and filterKeys'.
func buildFilter(db *badger.DB, filter keyFilter, newKeys func() filterKeysFunc) (keyFilter, error) {
	if err := pipeFilterKeys(db, newKeys, filter.AddAllIn); err != nil {
		return nil, err
	}
	return filter, nil
}

// pipeFilterKeys calls consume with the filter keys of every pair in db.
// Two goroutines read and decode halves of the key space, each with its
// own filterKeysFunc from newKeys, and another consumes: adding to or
// testing a filter of tens of megabytes costs about ten cache misses per
// key. consume must not keep the slice; it sees the keys in no particular
// order. Its errors are Badger's and filterKeys'; consume sees every key
// read even then.
func pipeFilterKeys(db *badger.DB, newKeys func() filterKeysFunc, consume filterAdd) error {
	return readFilterKeys(db, newKeys, consume, false)
}

// testFilterKeys is pipeFilterKeys for a consume that is safe to call from
// several goroutines at once (testing a filter only reads it): each
// goroutine that reads a span of the key space consumes its keys itself.
func testFilterKeys(db *badger.DB, newKeys func() filterKeysFunc, consume filterAdd) error {
	return readFilterKeys(db, newKeys, consume, true)
}

func readFilterKeys(db *badger.DB, newKeys func() filterKeysFunc, consume filterAdd, concurrent bool) error {
	const nbuf, bufSize = 8, 1 << 20
	spans := keySpans(db)
	errs := make([]error, len(spans))
	var readers sync.WaitGroup
	if concurrent {
		for i, sp := range spans {
			readers.Go(func() { errs[i] = eachFilterKey(db, sp, newKeys(), consume) })
		}
		readers.Wait()
		return errors.Join(errs...)
	}
	free := make(chan []byte, nbuf)
	for range nbuf {
		free <- make([]byte, 0, bufSize)
	}
	full := make(chan []byte, nbuf)
	var wg sync.WaitGroup
	wg.Go(func() {
		for b := range full {
			for off := 0; off < len(b); {
				g, w := binary.Uvarint(b[off:])
				off += w
				group := b[off : off+int(g)]
				off += int(g)
				width, w := binary.Uvarint(b[off:])
				off += w
				k, w := binary.Uvarint(b[off:])
				off += w
				consume(group, b[off:off+int(k)], int(width))
				off += int(k)
			}
			free <- b[:0]
		}
	})
	for i, sp := range spans {
		readers.Go(func() {
			filterKeys := newKeys()
			cur := <-free
			add := func(group, k []byte, width int) {
				cur = binary.AppendUvarint(cur, uint64(len(group)))
				cur = append(cur, group...)
				cur = binary.AppendUvarint(cur, uint64(width))
				cur = binary.AppendUvarint(cur, uint64(len(k)))
				cur = append(cur, k...)
				if len(cur) > bufSize-512 {
					full <- cur
					cur = <-free
				}
			}
			errs[i] = eachFilterKey(db, sp, filterKeys, add)
			full <- cur
		})
	}
	readers.Wait()
	close(full)
	wg.Wait()
	return errors.Join(errs...)
}

// eachFilterKey calls filterKeys, with add, for every pair of db in the
// span sp. Its errors are Badger's and filterKeys'.
func eachFilterKey(db *badger.DB, sp [2][]byte, filterKeys filterKeysFunc, add filterAdd) error {
	return db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Seek(sp[0]); it.Valid(); it.Next() {
			item := it.Item()
			if sp[1] != nil && bytes.Compare(item.Key(), sp[1]) >= 0 {
				break
			}
			if err := item.Value(func(v []byte) error { return filterKeys(item.Key(), v, add) }); err != nil {
				return err
			}
		}
		return nil
	})
}

// keySpans splits db's keys into two spans, [start, end) (nil: open), at
// the first key of its middle table; one span for a database of fewer
// than two tables.
func keySpans(db *badger.DB) [][2][]byte {
	infos := db.Tables()
	if len(infos) < 2 {
		return [][2][]byte{{nil, nil}}
	}
	slices.SortFunc(infos, func(a, b badger.TableInfo) int { return y.CompareKeys(a.Left, b.Left) })
	mid := bytes.Clone(y.ParseKey(infos[len(infos)/2].Left))
	return [][2][]byte{{nil, mid}, {mid, nil}}
}
