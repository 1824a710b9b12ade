package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/fb"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/badger/v4/y"
	"google.golang.org/protobuf/proto"
)

// A point read through Badger's Txn.Get costs several microseconds on a
// version of the 1M list: it walks all seven levels (taking each level's
// lock), seeks a new table iterator through the table's index as Badger
// reads it from the memory map, copies the value three times and makes
// half a dozen allocations; and the store adds its own checks around it
// (the index head of every table that may hold the key, and on a miss the
// blocks Badger read). A version is immutable and, as loads build it
// (one StreamWriter pass), its tables lie on one level without
// overlapping, each key once, at version 1. For such a version the store
// reads the tables itself (blockIndex): one sorted array of every block
// of every table, built at open from the table indexes verified by their
// checksums, finds the one block that can hold a key; that block's
// checksum is verified before anything in it is trusted, and the key is
// searched in it. It reads the same bytes Badger would, and trusts no
// more of them.

// blockIndex is the read path of a version whose tables the store reads
// itself: every block of every table, in key order. It is built at open
// (buildBlockIndex) and never changes; the mappings are the blockChecker's.
type blockIndex struct {
	tables []*tableFile
	names  []string // each table's file, relative to the version directory
	// prefix holds the first 8 bytes of each block's first key (without
	// Badger's timestamp), big-endian and zero-padded, so that a search
	// compares integers in one small array; first holds the whole keys.
	prefix   []uint64
	first    []byte
	firstEnd []uint32 // block b's first key is first[firstEnd[b-1]:firstEnd[b]]
	blocks   []indexedBlock
}

// indexedBlock is where one block lies, and which parts of its table's
// index describe it.
type indexedBlock struct {
	table  uint32 // position in blockIndex.tables
	num    uint32 // the block's number in its table
	off, n uint32 // the block's bytes in the table file
	// spans are the parts of the table's index that describe this block
	// (its entry in the vector of blocks, the entry's table, vtable and
	// key), as offsets into the index: a lookup of the block compares them
	// with the copy verified when the table was read. n == 0: unused.
	spans [4]indexSpan
}

// indexSpan is a range of bytes of a table's index.
type indexSpan struct{ off, n uint32 }

// errNoBlockIndex is returned by buildBlockIndex for a version the store
// leaves to Badger's reads; its text says why.
type errNoBlockIndex string

func (e errNoBlockIndex) Error() string { return "reads go through Badger: " + string(e) }

// buildBlockIndex returns the block index of the unencrypted version whose
// Badger database db lies in dir, mapping its tables into c. It returns
// an errNoBlockIndex when the version must be read through Badger: tables
// that are compressed or encrypted, overlap, or hold more than one
// version of a key, or entries Badger keeps outside its tables (memtable
// files); and an error for a table that cannot be mapped or whose index
// fails its checksum (Badger's own reads then find the damage).
func buildBlockIndex(db *badger.DB, dir string, c *blockChecker, opt badger.Options) (ix *blockIndex, err error) {
	if c == nil {
		return nil, errNoBlockIndex("encrypted version")
	}
	// The flatbuffers accessors panic on an index they cannot follow; the
	// indexes are verified, but a panic here must only mean "not indexed".
	defer func() {
		if p := recover(); p != nil {
			ix, err = nil, errors.New("a table index could not be read")
		}
	}()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".mem") {
			return nil, errNoBlockIndex("memtable file " + e.Name())
		}
	}
	mf, err := os.Open(filepath.Join(dir, badger.ManifestFilename))
	if err != nil {
		return nil, err
	}
	bm, _, err := badger.ReplayManifestFile(mf, opt.ExternalMagicVersion, opt)
	mf.Close()
	if err != nil {
		return nil, err
	}
	infos := db.Tables()
	if len(infos) != len(bm.Tables) {
		return nil, errNoBlockIndex("Badger's MANIFEST and its open tables differ")
	}
	slices.SortFunc(infos, func(a, b badger.TableInfo) int { return y.CompareKeys(a.Left, b.Left) })
	ix = &blockIndex{}
	for i, info := range infos {
		tm, ok := bm.Tables[info.ID]
		switch {
		case !ok:
			return nil, errNoBlockIndex("a table missing from Badger's MANIFEST")
		case tm.Compression != options.None || tm.KeyID != 0:
			return nil, errNoBlockIndex("compressed or encrypted tables")
		case info.MaxVersion != 1:
			return nil, errNoBlockIndex("keys at other versions than 1")
		case len(info.Left) < 8 || len(info.Right) < 8:
			return nil, errNoBlockIndex("a table without keys")
		case i > 0 && bytes.Compare(y.ParseKey(infos[i-1].Right), y.ParseKey(info.Left)) >= 0:
			return nil, errNoBlockIndex("overlapping tables")
		}
		name := table.IDToFilename(info.ID)
		t, err := c.table(info.ID, filepath.Join(c.dir, name))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		c.mu.RUnlock()
		if err := ix.addTable(t, badgerDir+"/"+name); err != nil {
			return nil, err
		}
	}
	return ix, nil
}

// addTable appends the blocks of one table, whose keys all follow those
// of the tables added before it. It returns an errNoBlockIndex for a
// table the index cannot hold.
func (ix *blockIndex) addTable(t *tableFile, name string) error {
	if len(ix.tables) >= 1<<31 || len(t.data) >= 1<<32 {
		return errNoBlockIndex("a table too large")
	}
	if t.index.MaxVersion() != 1 {
		return errNoBlockIndex("keys at other versions than 1")
	}
	pos := uint32(len(ix.tables))
	ix.tables = append(ix.tables, t)
	ix.names = append(ix.names, name)
	var ko fb.BlockOffset
	for j := range t.index.OffsetsLength() {
		if !t.index.Offsets(&ko, j) {
			return errNoBlockIndex("a block missing from a table's index")
		}
		k := ko.KeyBytes()
		if len(k) < 8 {
			return errNoBlockIndex("a block without a key")
		}
		k = y.ParseKey(k)
		if n := len(ix.firstEnd); n > 0 && bytes.Compare(ix.firstKey(n-1), k) >= 0 {
			return errNoBlockIndex("blocks out of order")
		}
		ix.prefix = append(ix.prefix, keyPrefix(k))
		ix.first = append(ix.first, k...)
		if len(ix.first) >= 1<<32 {
			return errNoBlockIndex("too many keys")
		}
		ix.firstEnd = append(ix.firstEnd, uint32(len(ix.first)))
		ix.blocks = append(ix.blocks, indexedBlock{
			table: pos, num: uint32(j), off: ko.Offset(), n: ko.Len(),
			spans: entrySpans(t.indexCopy, &ko, j),
		})
	}
	return nil
}

// entrySpans returns the parts of a table index (a flatbuffer) that
// describe block j, whose entry ko is: the block's element of the vector
// of entries, the entry's table, its vtable and its key; ranges less than
// 64 bytes apart are merged.
func entrySpans(idx []byte, ko *fb.BlockOffset, j int) [4]indexSpan {
	tab := ko.Table()
	pos := int(tab.Pos)
	vt := pos - int(int32(binary.LittleEndian.Uint32(idx[pos:])))
	vtLen, tLen := int(binary.LittleEndian.Uint16(idx[vt:])), int(binary.LittleEndian.Uint16(idx[vt+2:]))
	key := ko.KeyBytes()
	keyStart := cap(idx) - cap(key) - 4 // with its length
	// The vector's element j: the root table's field 4 points at the
	// vector, whose elements follow its length.
	root := fb.GetRootAsTableIndex(idx, 0).Table()
	vo := int(root.Offset(4)) + int(root.Pos)
	elem := vo + int(binary.LittleEndian.Uint32(idx[vo:])) + 4 + 4*j
	rs := []indexSpan{
		{uint32(elem), 4},
		{uint32(vt), uint32(vtLen)},
		{uint32(pos), uint32(tLen)},
		{uint32(keyStart), uint32(4 + len(key))},
	}
	slices.SortFunc(rs, func(a, b indexSpan) int { return cmp.Compare(a.off, b.off) })
	var out [4]indexSpan
	n := 0
	for _, s := range rs {
		if n > 0 && s.off <= out[n-1].off+out[n-1].n+64 {
			out[n-1].n = max(out[n-1].n, s.off+s.n-out[n-1].off)
			continue
		}
		out[n] = s
		n++
	}
	return out
}

// keyPrefix returns the first 8 bytes of k, big-endian, zero-padded.
func keyPrefix(k []byte) uint64 {
	if len(k) >= 8 {
		return binary.BigEndian.Uint64(k)
	}
	var p [8]byte
	copy(p[:], k)
	return binary.BigEndian.Uint64(p[:])
}

// firstKey returns block b's first key, without its timestamp.
func (ix *blockIndex) firstKey(b int) []byte {
	start := uint32(0)
	if b > 0 {
		start = ix.firstEnd[b-1]
	}
	return ix.first[start:ix.firstEnd[b]]
}

// find returns the only block that can hold key: the last block whose
// first key is not after key, or -1 when key comes before every key of
// the version.
func (ix *blockIndex) find(key []byte) int {
	p := keyPrefix(key)
	lo, hi := 0, len(ix.prefix)
	// Blocks before lo start at or before key, those from hi after it.
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		c := cmp.Compare(ix.prefix[m], p)
		if c == 0 {
			c = bytes.Compare(ix.firstKey(m), key)
		}
		if c <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}

// indexUnchanged reports whether the parts of block b's table index that
// describe it, and the index's head, are still in the file as verified
// when the table was read. The lookup itself reads only the verified
// copy; this finds damage to the index on the lookups it concerns.
func (ix *blockIndex) indexUnchanged(b int) bool {
	blk := &ix.blocks[b]
	t := ix.tables[blk.table]
	if t.headChanged() {
		return false
	}
	for _, s := range blk.spans {
		if s.n == 0 {
			break
		}
		start, end := t.indexStart+int(s.off), t.indexStart+int(s.off+s.n)
		if end > len(t.data) || int(s.off+s.n) > len(t.indexCopy) || !bytes.Equal(t.data[start:end], t.indexCopy[s.off:s.off+s.n]) {
			return false
		}
	}
	return true
}

// blockEntry is what a block holds for a key.
type blockEntry int

const (
	entryAbsent blockEntry = iota // the block holds no entry for the key
	entryValue                    // a plain value, stored in the entry
	entryOther                    // anything else (deleted, expiring, in the value log, empty): Badger decides
)

// lookupBlock searches an uncompressed Badger block, whose checksum the
// caller has verified, for key (without timestamp) and returns what it
// holds for it and, for entryValue, the value. problem says what is wrong
// with a block that cannot be read, or is "".
//
// A block is its entries, the entries' offsets (4 bytes each, in the
// machine's byte order, as Badger writes them), their number (4 bytes,
// big-endian), the checksum and the checksum's length (4 bytes,
// big-endian). An entry is a header (the length its key shares with the
// block's first key and the length of the rest, 2 bytes each in the
// machine's byte order), the rest of the key, and the value: meta and
// user meta bytes, the expiry as a uvarint, the value itself.
func lookupBlock(blk, key []byte) (what blockEntry, val []byte, problem string) {
	n := len(blk)
	if n < 12 {
		return entryAbsent, nil, "shorter than a block"
	}
	chkLen := int(binary.BigEndian.Uint32(blk[n-4:]))
	if chkLen > n-8 {
		return entryAbsent, nil, "checksum length out of bounds"
	}
	end := n - 8 - chkLen // the entries' offsets end here
	count := int(binary.BigEndian.Uint32(blk[end:]))
	if count == 0 || count > end/4 {
		return entryAbsent, nil, "entry count out of bounds"
	}
	dataEnd := end - 4*count
	offsets := blk[dataEnd:end]
	entry := func(i int) ([]byte, bool) {
		start := int(binary.NativeEndian.Uint32(offsets[4*i:]))
		stop := dataEnd
		if i+1 < count {
			stop = int(binary.NativeEndian.Uint32(offsets[4*i+4:]))
		}
		if start+4 > stop || stop > dataEnd {
			return nil, false
		}
		return blk[start:stop], true
	}
	e0, ok := entry(0)
	if !ok {
		return entryAbsent, nil, "entry offsets out of bounds"
	}
	baseLen := int(binary.NativeEndian.Uint16(e0[2:]))
	if 4+baseLen > len(e0) {
		return entryAbsent, nil, "first key out of bounds"
	}
	base := e0[4 : 4+baseLen]
	// parse splits entry i into the key's part shared with base, the rest
	// of the key and the value struct.
	parse := func(i int) (shared, rest, vs []byte, ok bool) {
		e, ok := entry(i)
		if !ok {
			return nil, nil, nil, false
		}
		overlap, diff := int(binary.NativeEndian.Uint16(e)), int(binary.NativeEndian.Uint16(e[2:]))
		if overlap > len(base) || 4+diff > len(e) || overlap+diff < 8 {
			return nil, nil, nil, false
		}
		return base[:overlap], e[4 : 4+diff], e[4+diff:], true
	}
	// The first entry whose key is not before key.
	lo, hi := 0, count
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		shared, rest, _, ok := parse(m)
		if !ok {
			return entryAbsent, nil, "entry out of bounds"
		}
		if compareEntryKey(shared, rest, key) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == count {
		return entryAbsent, nil, ""
	}
	shared, rest, vs, ok := parse(lo)
	if !ok {
		return entryAbsent, nil, "entry out of bounds"
	}
	if compareEntryKey(shared, rest, key) != 0 {
		return entryAbsent, nil, ""
	}
	// The key's timestamp: the version (1 for every key of the version)
	// is stored as math.MaxUint64 minus it, big-endian.
	var ts [8]byte
	full := len(shared) + len(rest)
	for i := range ts {
		if p := full - 8 + i; p < len(shared) {
			ts[i] = shared[p]
		} else {
			ts[i] = rest[p-len(shared)]
		}
	}
	if len(vs) < 3 {
		return entryAbsent, nil, "value out of bounds"
	}
	expires, w := binary.Uvarint(vs[2:])
	if w <= 0 {
		return entryAbsent, nil, "value out of bounds"
	}
	val = vs[2+w:]
	if ^binary.BigEndian.Uint64(ts[:]) != 1 || vs[0] != 0 || expires != 0 || len(val) == 0 {
		return entryOther, nil, ""
	}
	return entryValue, val[:len(val):len(val)], ""
}

// compareEntryKey compares the key without its timestamp of an entry,
// shared followed by rest (the timestamp is the last 8 bytes), with key.
func compareEntryKey(shared, rest, key []byte) int {
	n := len(shared) + len(rest) - 8
	a := shared[:min(len(shared), n)]
	b := rest[:n-len(a)]
	m := min(len(a), len(key))
	if c := bytes.Compare(a[:m], key[:m]); c != 0 {
		return c
	}
	if m < len(a) {
		return 1 // key is a prefix of the entry's key
	}
	return bytes.Compare(b, key[m:])
}

// checkBlockSum verifies the block of n bytes at off in the table data of
// an unencrypted, uncompressed table: the block ends with its checksum and
// the checksum's length, and the checksum covers everything before them.
// It reads the checksum's message itself when it has the usual form. It
// returns what is wrong, or "".
func checkBlockSum(data []byte, off, n int) string {
	if n < 4 || off < 0 || off+n > len(data) {
		return "out of bounds (truncated or damaged)"
	}
	blk := data[off : off+n]
	chkLen := int(binary.BigEndian.Uint32(blk[n-4:]))
	if chkLen > n-4 {
		return "checksum length out of bounds"
	}
	msg := blk[n-4-chkLen : n-4]
	algo, sum, ok := parseChecksum(msg)
	if !ok {
		var chk pb.Checksum
		if err := proto.Unmarshal(msg, &chk); err != nil {
			return "checksum unreadable"
		}
		algo, sum = chk.Algo, chk.Sum
	}
	switch algo {
	case pb.Checksum_CRC32C, pb.Checksum_XXHash64:
		if y.CalculateChecksum(blk[:n-4-chkLen], algo) != sum {
			return "fails its checksum"
		}
		return ""
	}
	return "checksum unreadable"
}

// parseChecksum reads a Badger checksum message (pb.Checksum) made of
// its two varint fields only, algorithm (1) and sum (2), each at most
// once; ok is false for anything else.
func parseChecksum(b []byte) (algo pb.Checksum_Algorithm, sum uint64, ok bool) {
	var seen [3]bool
	for len(b) > 0 {
		tag := b[0]
		field := tag >> 3
		if tag&7 != 0 || field < 1 || field > 2 || seen[field] {
			return 0, 0, false
		}
		seen[field] = true
		v, w := binary.Uvarint(b[1:])
		if w <= 0 {
			return 0, 0, false
		}
		b = b[1+w:]
		if field == 1 {
			if v > 1<<31-1 {
				return 0, 0, false
			}
			algo = pb.Checksum_Algorithm(v)
		} else {
			sum = v
		}
	}
	return algo, sum, true
}
