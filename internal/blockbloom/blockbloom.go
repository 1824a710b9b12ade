package blockbloom

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"

	"github.com/cespare/xxhash/v2"
)

// K is the number of bits a key sets in its block.
const K = 8

const (
	blockWords = 8 // 512 bits
	magic      = "RSBB0001"
	// magicPaired marks the paired layout (NewPaired).
	magicPaired = "RSBB0002"
)

// Filter is a blocked Bloom filter. The zero Filter holds nothing and
// tests false; use New or NewPaired. Add is not safe for concurrent use
// with anything else; Test is, once building is done.
type Filter struct {
	blocks []uint64 // len is a multiple of blockWords (of 2*blockWords when paired)
	n      uint64   // keys added
	// paired: a group picks two neighbouring blocks (128 bytes, two cache
	// lines) and each of its keys one of them, by a bit of its hash.
	paired bool
}

// New returns a filter sized for n keys at bitsPerKey bits each (at least
// one block). With 12 bits per key about 0.5 % of absent keys test
// positive.
func New(n, bitsPerKey int) *Filter {
	nb := (max(n, 1)*max(bitsPerKey, 1) + 511) / 512
	f := &Filter{blocks: make([]uint64, nb*blockWords)}
	f.adviseHuge(false)
	return f
}

// NewPaired returns a filter sized like New whose groups each take two
// neighbouring blocks: a group with many keys fills two blocks half as
// much as one, and so lets through fewer absent keys, for a second cache
// line next to the first.
func NewPaired(n, bitsPerKey int) *Filter {
	np := (max(n, 1)*max(bitsPerKey, 1) + 1023) / 1024
	f := &Filter{blocks: make([]uint64, np*2*blockWords), paired: true}
	f.adviseHuge(false)
	return f
}

// hugePage is the size of a transparent huge page on the platforms this
// runs on (x86-64, arm64 with 4 KiB base pages): a filter of at least two
// asks for them (adviseHuge) before its blocks are first written.
const hugePage = 2 << 20

// mix64 is a 64-bit finaliser (MurmurHash3's): every input bit affects
// every output bit.
func mix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// blockOf returns the offset of the block (or pair of blocks) that hash h
// picks.
func (f *Filter) blockOf(h uint64) int {
	if f.paired {
		hi, _ := bits.Mul64(h, uint64(len(f.blocks)/(2*blockWords)))
		return int(hi) * 2 * blockWords
	}
	hi, _ := bits.Mul64(h, uint64(len(f.blocks)/blockWords))
	return int(hi) * blockWords
}

// keyHash returns the hash that picks a key's bits in the block of its
// group, whose hash is gh. Keys of up to eight bytes (signatures) are
// packed into a word and mixed with the group's hash, which costs less
// than hashing them; longer keys are hashed.
func keyHash(gh uint64, key []byte) uint64 {
	if len(key) <= 8 {
		var v uint64
		for i, c := range key {
			v |= uint64(c) << (8 * i)
		}
		return mix64(gh ^ (v+uint64(len(key))<<56)*0x9e3779b97f4a7c15)
	}
	return mix64(gh ^ xxhash.Sum64(key))
}

// bitsOf sets (set) or tests the K bits of hash h in the block at b (in a
// paired filter, the block of the pair at b that the hash's top bit
// picks, a bit the K positions do not use); a test reports whether all
// are set.
func (f *Filter) bitsOf(b int, h uint64, set bool) bool {
	if f.paired {
		b += int(h>>63) * blockWords
	}
	blk := f.blocks[b : b+blockWords : b+blockWords]
	h1, h2 := uint32(h), uint32(h>>32)|1
	for i := uint32(0); i < K; i++ {
		p := (h1 + i*h2) & 511
		if set {
			blk[p>>6] |= 1 << (p & 63)
		} else if blk[p>>6]&(1<<(p&63)) == 0 {
			return false
		}
	}
	return true
}

// Add adds key, in a block of its own hash.
func (f *Filter) Add(key []byte) { f.AddIn(nil, key) }

// Test reports whether key, added with Add, may be in the filter.
func (f *Filter) Test(key []byte) bool { return f.TestIn(nil, key) }

// AddIn adds key to group: every key of one group lands in the block the
// group's hash picks, so that testing several keys of one group costs one
// memory access (TestAnyIn). A group with many keys fills its block and
// tests positive more often; it never loses a key. A nil group puts the
// key in a block of its own hash.
func (f *Filter) AddIn(group, key []byte) {
	if len(f.blocks) == 0 {
		return
	}
	f.n++
	if len(group) == 0 {
		h := xxhash.Sum64(key)
		f.bitsOf(f.blockOf(h), mix64(h), true)
		return
	}
	gh := xxhash.Sum64(group)
	f.bitsOf(f.blockOf(gh), keyHash(gh, key), true)
}

// TestIn reports whether key may have been added to group with AddIn;
// false means it was not.
func (f *Filter) TestIn(group, key []byte) bool {
	if len(f.blocks) == 0 {
		return false
	}
	if len(group) == 0 {
		h := xxhash.Sum64(key)
		return f.bitsOf(f.blockOf(h), mix64(h), false)
	}
	gh := xxhash.Sum64(group)
	return f.bitsOf(f.blockOf(gh), keyHash(gh, key), false)
}

// AddAllIn adds each of keys, width bytes each and concatenated, to group
// (AddIn), hashing the group once. Keys of a nil or empty group, which
// AddIn places by their own hash, are added one by one.
func (f *Filter) AddAllIn(group, keys []byte, width int) {
	if len(f.blocks) == 0 || width <= 0 {
		return
	}
	if len(group) == 0 {
		for i := 0; i+width <= len(keys); i += width {
			f.AddIn(nil, keys[i:i+width])
		}
		return
	}
	gh := xxhash.Sum64(group)
	b := f.blockOf(gh)
	for i := 0; i+width <= len(keys); i += width {
		f.bitsOf(b, keyHash(gh, keys[i:i+width]), true)
		f.n++
	}
}

// CountMissingIn returns how many of keys, width bytes each and
// concatenated, test false in group: zero for keys added with AddIn or
// AddAllIn.
func (f *Filter) CountMissingIn(group, keys []byte, width int) int {
	if width <= 0 {
		return 0
	}
	missing := 0
	if len(group) == 0 || len(f.blocks) == 0 {
		for i := 0; i+width <= len(keys); i += width {
			if !f.TestIn(group, keys[i:i+width]) {
				missing++
			}
		}
		return missing
	}
	gh := xxhash.Sum64(group)
	b := f.blockOf(gh)
	for i := 0; i+width <= len(keys); i += width {
		if !f.bitsOf(b, keyHash(gh, keys[i:i+width]), false) {
			missing++
		}
	}
	return missing
}

// TestAnyIn reports whether any of the keys, each width bytes long and
// concatenated in keys, may have been added to group: one group hash and
// one block for all of them. It reports false for no keys.
func (f *Filter) TestAnyIn(group, keys []byte, width int) bool {
	if len(f.blocks) == 0 || width <= 0 {
		return false
	}
	if len(group) == 0 {
		// Ungrouped keys lie in blocks of their own hash (AddIn).
		for i := 0; i+width <= len(keys); i += width {
			if f.TestIn(nil, keys[i:i+width]) {
				return true
			}
		}
		return false
	}
	gh := xxhash.Sum64(group)
	b := f.blockOf(gh)
	for i := 0; i+width <= len(keys); i += width {
		if f.bitsOf(b, keyHash(gh, keys[i:i+width]), false) {
			return true
		}
	}
	return false
}

// Paired reports whether the filter has the paired layout (NewPaired).
func (f *Filter) Paired() bool { return f.paired }

// Touch loads the first word of group's block (of both blocks of its
// pair, in the paired layout) and returns their sum: a caller that touches
// the blocks of several groups before testing them lets the processor
// fetch them from memory at once rather than one after the other. It
// changes nothing.
func (f *Filter) Touch(group []byte) uint64 {
	if len(f.blocks) == 0 || len(group) == 0 {
		return 0
	}
	b := f.blockOf(xxhash.Sum64(group))
	if f.paired {
		return f.blocks[b] + f.blocks[b+blockWords]
	}
	return f.blocks[b]
}

// GroupHash returns the hash of group that picks its block, which
// TouchHashes takes.
func (f *Filter) GroupHash(group []byte) uint64 { return xxhash.Sum64(group) }

// TouchHashes is Touch for several groups, given by their GroupHash: it
// works out every block first and then loads them one right after the
// other, so that the processor has all of them on their way from memory at
// once (between two Touch calls, the hashing of the next group would stand
// in the way). It returns the sum of the words read and changes nothing.
func (f *Filter) TouchHashes(hs []uint64) uint64 {
	if len(f.blocks) == 0 {
		return 0
	}
	var sum uint64
	for _, h := range hs {
		b := f.blockOf(h)
		sum += f.blocks[b]
		if f.paired {
			sum += f.blocks[b+blockWords]
		}
	}
	return sum
}

// Keys returns the number of keys added.
func (f *Filter) Keys() uint64 { return f.n }

// Bytes returns the size of the bit array.
func (f *Filter) Bytes() int { return len(f.blocks) * 8 }

// WriteTo writes the filter: a magic string (which tells the layout), the
// number of keys and of blocks, and the blocks, little-endian. It returns
// w's errors.
func (f *Filter) WriteTo(w io.Writer) (int64, error) {
	hdr := make([]byte, 0, 24)
	if f.paired {
		hdr = append(hdr, magicPaired...)
	} else {
		hdr = append(hdr, magic...)
	}
	hdr = binary.LittleEndian.AppendUint64(hdr, f.n)
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(len(f.blocks)/blockWords))
	n, err := w.Write(hdr)
	total := int64(n)
	if err != nil {
		return total, err
	}
	buf := make([]byte, 0, 64<<10)
	for i, x := range f.blocks {
		buf = binary.LittleEndian.AppendUint64(buf, x)
		if len(buf) == cap(buf) || i == len(f.blocks)-1 {
			n, err := w.Write(buf)
			total += int64(n)
			if err != nil {
				return total, err
			}
			buf = buf[:0]
		}
	}
	return total, nil
}

// ErrFormat is returned by ReadFrom for bytes that are not a filter.
var ErrFormat = errors.New("blockbloom: not a filter")

// ReadFrom parses what WriteTo wrote, which must be all of b. It returns
// an error wrapping ErrFormat for anything else.
func ReadFrom(b []byte) (*Filter, error) {
	if len(b) < 24 || string(b[:8]) != magic && string(b[:8]) != magicPaired {
		return nil, ErrFormat
	}
	paired := string(b[:8]) == magicPaired
	n := binary.LittleEndian.Uint64(b[8:])
	nb := binary.LittleEndian.Uint64(b[16:])
	b = b[24:]
	if nb == 0 || nb > uint64(len(b))/(8*blockWords) || uint64(len(b)) != nb*8*blockWords || paired && nb%2 != 0 {
		return nil, fmt.Errorf("%w: %d blocks in %d bytes", ErrFormat, nb, len(b))
	}
	f := &Filter{blocks: make([]uint64, nb*blockWords), n: n, paired: paired}
	f.adviseHuge(false)
	for i := range f.blocks {
		f.blocks[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	// The Go heap may have handed out memory that was in use before, whose
	// pages are small already: collapse them.
	f.adviseHuge(true)
	return f, nil
}
