package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/fb"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/badger/v4/y"
	"google.golang.org/protobuf/proto"
)

// Versions read through the block index (blockindex.go) verify every
// block they read themselves; what follows is about the versions read
// through Badger, and the tables this checker maps for both.
//
// Badger's Txn.Get does not report a block that fails its checksum: the
// table iterator stops with the error and the level read reports "not
// found" (levelHandler.get: `if !it.Valid() { continue }`). A listed
// person's block damaged after the version opened would then read as
// "not listed": a silent ALLOW. So a read that the filter let through and
// Badger answers "not found" checks, itself, the checksums of the blocks
// Badger looked at (blockChecker). Such misses are the filter's false
// positives: a few in a hundred lookups, and a block costs a CRC over
// 4 KiB of the memory-mapped table.

// blockChecker verifies the Badger blocks a key lives in. It reads each
// table's index from the table file on first use and keeps it. Encrypted
// versions are not checked this way (their blocks need the data keys).
type blockChecker struct {
	dir    string // the Badger directory
	tables []badger.TableInfo
	mu     sync.RWMutex
	open   map[uint64]*tableFile
}

// tableFile is one table's file, mapped read-only into memory (sharing
// the page cache with Badger's own mapping), and its index, kept by the
// blockChecker.
//
// Badger reads an unencrypted table's index from its memory map on every
// lookup, checked against its checksum only when the table opened. A
// damaged index (a block's first key changed, say) sends a lookup to a
// block that passes its checksum but does not hold the key: "not found".
// So the checker keeps its own copy of the index, verified when it was
// read, and a miss is trusted only while the index in the file is still
// that copy.
type tableFile struct {
	data       []byte
	index      *fb.TableIndex // over indexCopy
	indexCopy  []byte
	indexStart int // where the index lies in data
	head       int // the length of the index's head (indexHead)
}

// headChanged reports whether the head of the table's index (indexHead)
// in the file differs from the copy verified when it was read.
func (t *tableFile) headChanged() bool {
	end := t.indexStart + t.head
	return end > len(t.data) || !bytes.Equal(t.data[t.indexStart:end], t.indexCopy[:t.head])
}

// indexChanged reports whether the table's index in the file differs
// from the copy verified when it was read.
func (t *tableFile) indexChanged() bool {
	end := t.indexStart + len(t.indexCopy)
	return end > len(t.data) || !bytes.Equal(t.data[t.indexStart:end], t.indexCopy)
}

// newBlockChecker returns the checker of db's tables in dir, or nil for
// an encrypted version.
func newBlockChecker(db *badger.DB, dir string, encrypted bool) *blockChecker {
	if encrypted {
		return nil
	}
	ts := db.Tables()
	sort.Slice(ts, func(i, j int) bool { return y.CompareKeys(ts[i].Left, ts[j].Left) < 0 })
	return &blockChecker{dir: dir, tables: ts, open: map[uint64]*tableFile{}}
}

// close closes the table files.
func (c *blockChecker) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.open {
		syscall.Munmap(t.data)
	}
	c.open = map[uint64]*tableFile{}
}

// check verifies the checksums of the blocks a Get of key reads: the last
// block starting at or before the key and the one after it. It returns a
// *DamageError-ready description (file, problem) when one fails, or "".
func (c *blockChecker) check(key []byte) (file, problem string) {
	kts := y.KeyWithTs(key, math.MaxUint64)
	return c.covering(key, func(t *tableFile) string {
		if t.indexChanged() {
			return "table index changed on disk since the table was verified"
		}
		n := t.index.OffsetsLength()
		var ko fb.BlockOffset
		b := sort.Search(n, func(j int) bool {
			return t.index.Offsets(&ko, j) && y.CompareKeys(ko.KeyBytes(), kts) > 0
		})
		for j := max(b-1, 0); j <= b && j < n; j++ {
			if !t.index.Offsets(&ko, j) {
				return "table index unreadable"
			}
			if p := checkBlock(t.data, int64(ko.Offset()), int(ko.Len())); p != "" {
				return fmt.Sprintf("block %d at offset %d: %s", j, ko.Offset(), p)
			}
		}
		return ""
	})
}

// guard checks, before Badger reads key, that the head of the index of
// every table that may hold key — the flatbuffer's root offset, root
// table and its vtable — is still the copy verified when the table was
// first read. Badger asserts on it as it looks a block up, and a failed
// assertion ends the process (log.Fatal) instead of panicking: a damaged
// head must be found first. It costs a comparison of a few dozen bytes
// per table. It returns a *DamageError-ready description (file, problem)
// when the head changed, or "".
func (c *blockChecker) guard(key []byte) (file, problem string) {
	return c.covering(key, func(t *tableFile) string {
		if t.headChanged() {
			return "table index changed on disk since the table was verified"
		}
		return ""
	})
}

// covering calls fn for every table whose key range holds key until fn
// returns a problem, and returns the table's file and the problem, or "".
// A table that cannot be mapped or whose index fails its checksum is a
// problem too.
func (c *blockChecker) covering(key []byte, fn func(*tableFile) string) (file, problem string) {
	if c == nil {
		return "", ""
	}
	kts := y.KeyWithTs(key, math.MaxUint64)
	i := sort.Search(len(c.tables), func(i int) bool { return y.CompareKeys(c.tables[i].Right, kts) >= 0 })
	for ; i < len(c.tables) && y.CompareKeys(c.tables[i].Left, y.KeyWithTs(key, 0)) <= 0; i++ {
		info := c.tables[i]
		name := table.IDToFilename(info.ID)
		file = badgerDir + "/" + name
		t, err := c.table(info.ID, filepath.Join(c.dir, name))
		if err != nil {
			return file, err.Error()
		}
		p := fn(t)
		c.mu.RUnlock()
		if p != "" {
			return file, p
		}
	}
	return "", ""
}

// table returns the kept mapping and index of table id, mapping and
// reading them first if needed, with c.mu read-locked: the caller
// unlocks it. It returns an error (c.mu unlocked) for a table file that
// cannot be read or whose footer is damaged.
func (c *blockChecker) table(id uint64, path string) (*tableFile, error) {
	c.mu.RLock()
	if t := c.open[id]; t != nil {
		return t, nil
	}
	c.mu.RUnlock()
	c.mu.Lock()
	t := c.open[id]
	if t == nil {
		data, err := mapFile(path)
		if err != nil {
			c.mu.Unlock()
			return nil, err
		}
		idx, problem := tableIndex(data)
		if problem != "" {
			syscall.Munmap(data)
			c.mu.Unlock()
			return nil, errors.New(problem)
		}
		// idx is data[start:start+len(idx)]: its capacity runs to data's end.
		cp := bytes.Clone(idx)
		t = &tableFile{data: data, index: fb.GetRootAsTableIndex(cp, 0), indexCopy: cp, indexStart: cap(data) - cap(idx), head: indexHead(cp)}
		c.open[id] = t
	}
	c.mu.Unlock()
	c.mu.RLock()
	if c.open[id] != t {
		c.mu.RUnlock()
		return nil, errors.New("the version is closed")
	}
	return t, nil
}

// indexHead returns the length of the head of a table index (a
// flatbuffer): its root offset, root table and the table's vtable, or the
// whole index when those do not lie inside it.
func indexHead(idx []byte) int {
	if len(idx) < 4 {
		return len(idx)
	}
	root := int(binary.LittleEndian.Uint32(idx))
	if root < 0 || root+4 > len(idx) {
		return len(idx)
	}
	vt := root - int(int32(binary.LittleEndian.Uint32(idx[root:])))
	if vt < 0 || vt+4 > len(idx) {
		return len(idx)
	}
	vtLen, tLen := int(binary.LittleEndian.Uint16(idx[vt:])), int(binary.LittleEndian.Uint16(idx[vt+2:]))
	return min(len(idx), max(4, root+max(tLen, 4), vt+max(vtLen, 4)))
}

// mapFile maps a file read-only into memory; unmap it with
// syscall.Munmap. It returns the file system's errors, and an error for an
// empty file.
func mapFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() == 0 {
		return nil, errors.New("empty (truncated)")
	}
	return syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
}

// tableIndex checks a table's footer and returns its index, read from the
// end of the table: checksum length, checksum, index length, index. It
// returns what is wrong instead when the lengths leave the table or the
// index does not match its checksum.
func tableIndex(b []byte) ([]byte, string) {
	pos := len(b) - 4
	if pos < 0 {
		return nil, "shorter than a table footer (truncated)"
	}
	chkLen := int(binary.BigEndian.Uint32(b[pos:]))
	if chkLen > pos-4 {
		return nil, "table footer out of bounds (truncated or damaged)"
	}
	pos -= chkLen
	var chk pb.Checksum
	if err := proto.Unmarshal(b[pos:pos+chkLen], &chk); err != nil {
		return nil, "table checksum unreadable (truncated or damaged)"
	}
	pos -= 4
	idxLen := int(binary.BigEndian.Uint32(b[pos:]))
	if idxLen > pos {
		return nil, "table index out of bounds (truncated or damaged)"
	}
	idx := b[pos-idxLen : pos]
	if err := verifyBadgerChecksum(idx, &chk); err != nil {
		return nil, "table index does not match its checksum"
	}
	return idx, ""
}

// checkBlock verifies the block of n bytes at off in the table data of an
// unencrypted, uncompressed table: the block ends with its checksum and
// the checksum's length, and the checksum covers everything before them.
// It returns what is wrong, or "".
func checkBlock(data []byte, off int64, n int) string {
	if off < 0 || off > int64(len(data)) {
		return "out of bounds (truncated or damaged)"
	}
	return checkBlockSum(data, int(off), n)
}
