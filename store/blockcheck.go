package store

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/fb"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/badger/v4/y"
	"google.golang.org/protobuf/proto"
)

// Badger's Txn.Get does not report a block that fails its checksum: the
// table iterator stops with the error and the level read reports "not
// found" (levelHandler.get: `if !it.Valid() { continue }`). A listed
// person's block damaged after the version opened would then read as
// "not listed": a silent ALLOW. So a read that the filter let through and
// Badger answers "not found" checks, itself, the checksums of the blocks
// Badger looked at (blockChecker). Such misses are the filter's false
// positives: a few in a hundred lookups, and a block costs a 4 KiB read
// from the page cache and a CRC.

// blockChecker verifies the Badger blocks a key lives in. It reads each
// table's index from the table file on first use and keeps it. Encrypted
// versions are not checked this way (their blocks need the data keys).
type blockChecker struct {
	dir    string // the Badger directory
	tables []badger.TableInfo
	mu     sync.Mutex
	open   map[uint64]*tableFile
}

// tableFile is one table's file and index, kept by the blockChecker.
type tableFile struct {
	f     *os.File
	index *fb.TableIndex
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
		t.f.Close()
	}
	c.open = map[uint64]*tableFile{}
}

// check verifies the checksums of the blocks a Get of key reads: the last
// block starting at or before the key and the one after it. It returns a
// *DamageError-ready description (file, problem) when one fails, or "".
func (c *blockChecker) check(key []byte) (file, problem string) {
	if c == nil {
		return "", ""
	}
	kts := y.KeyWithTs(key, math.MaxUint64)
	i := sort.Search(len(c.tables), func(i int) bool { return y.CompareKeys(c.tables[i].Right, kts) >= 0 })
	for ; i < len(c.tables) && y.CompareKeys(c.tables[i].Left, y.KeyWithTs(key, 0)) <= 0; i++ {
		info := c.tables[i]
		name := table.IDToFilename(info.ID)
		file = badgerDir + "/" + name
		c.mu.Lock()
		t, err := c.table(info.ID, filepath.Join(c.dir, name))
		if err != nil {
			c.mu.Unlock()
			return file, err.Error()
		}
		n := t.index.OffsetsLength()
		var ko fb.BlockOffset
		b := sort.Search(n, func(j int) bool {
			return t.index.Offsets(&ko, j) && y.CompareKeys(ko.KeyBytes(), kts) > 0
		})
		for j := max(b-1, 0); j <= b && j < n; j++ {
			if !t.index.Offsets(&ko, j) {
				c.mu.Unlock()
				return file, "table index unreadable"
			}
			if p := checkBlock(t.f, int64(ko.Offset()), int(ko.Len())); p != "" {
				c.mu.Unlock()
				return file, fmt.Sprintf("block %d at offset %d: %s", j, ko.Offset(), p)
			}
		}
		c.mu.Unlock()
	}
	return "", ""
}

// table returns the kept file and index of table id, reading them first
// if needed. c.mu must be held. It returns an error for a table file
// that cannot be read or whose footer is damaged.
func (c *blockChecker) table(id uint64, path string) (*tableFile, error) {
	if t := c.open[id]; t != nil {
		return t, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	idx, problem := readTableIndex(f, fi.Size())
	if problem != "" {
		f.Close()
		return nil, fmt.Errorf("%s", problem)
	}
	t := &tableFile{f: f, index: fb.GetRootAsTableIndex(idx, 0)}
	c.open[id] = t
	return t, nil
}

// readTableIndex reads and checks a table's index from the end of its
// file: checksum length, checksum, index length, index. It returns the
// index or what is wrong.
func readTableIndex(f *os.File, size int64) ([]byte, string) {
	var b4 [4]byte
	pos := size - 4
	if pos < 0 {
		return nil, "shorter than a table footer (truncated)"
	}
	if _, err := f.ReadAt(b4[:], pos); err != nil {
		return nil, "cannot be read: " + err.Error()
	}
	chkLen := int64(binary.BigEndian.Uint32(b4[:]))
	if chkLen > pos-4 {
		return nil, "table footer out of bounds (truncated or damaged)"
	}
	pos -= chkLen
	cb := make([]byte, chkLen)
	if _, err := f.ReadAt(cb, pos); err != nil {
		return nil, "cannot be read: " + err.Error()
	}
	var chk pb.Checksum
	if err := proto.Unmarshal(cb, &chk); err != nil {
		return nil, "table checksum unreadable (damaged)"
	}
	pos -= 4
	if _, err := f.ReadAt(b4[:], pos); err != nil {
		return nil, "cannot be read: " + err.Error()
	}
	idxLen := int64(binary.BigEndian.Uint32(b4[:]))
	if idxLen > pos {
		return nil, "table index out of bounds (truncated or damaged)"
	}
	idx := make([]byte, idxLen)
	if _, err := f.ReadAt(idx, pos-idxLen); err != nil {
		return nil, "cannot be read: " + err.Error()
	}
	if err := verifyBadgerChecksum(idx, &chk); err != nil {
		return nil, "table index does not match its checksum"
	}
	return idx, ""
}

// checkBlock verifies one block of an unencrypted, uncompressed table:
// the block ends with its checksum and the checksum's length, and the
// checksum covers everything before them. It returns what is wrong, or "".
func checkBlock(f *os.File, off int64, n int) string {
	if n < 4 {
		return "shorter than a block"
	}
	blk := make([]byte, n)
	if _, err := f.ReadAt(blk, off); err != nil {
		return "cannot be read: " + err.Error()
	}
	chkLen := int(binary.BigEndian.Uint32(blk[n-4:]))
	if chkLen > n-4 {
		return "checksum length out of bounds"
	}
	var chk pb.Checksum
	if err := proto.Unmarshal(blk[n-4-chkLen:n-4], &chk); err != nil {
		return "checksum unreadable"
	}
	if err := verifyBadgerChecksum(blk[:n-4-chkLen], &chk); err != nil {
		return "fails its checksum"
	}
	return ""
}
