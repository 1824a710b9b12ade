package store

import (
	"bytes"
	"fmt"
	"io"

	"github.com/bits-and-blooms/bloom/v3"

	"github.com/robinscreen/robinscreen/internal/blockbloom"
)

// keyFilter is a version's filter in front of Badger: Test false means no
// stored key (or, for a signature filter, no record) answers.
type keyFilter interface {
	// AddIn adds key to group; TestIn reports whether it may be there.
	// A filter of plain keys takes group nil.
	AddIn(group, key []byte)
	TestIn(group, key []byte) bool
	// AddAllIn adds keys, width bytes each, to group; CountMissingIn
	// counts those of them that test false. The tests only read the
	// filter: several goroutines may test it at once (not while adding).
	AddAllIn(group, keys []byte, width int)
	CountMissingIn(group, keys []byte, width int) int
	// TestAnyIn reports whether any of keys, width bytes each, may be in
	// group (robinson.Filter).
	TestAnyIn(group, keys []byte, width int) bool
	WriteTo(w io.Writer) (int64, error)
	// GroupHash and TouchHashes load groups' memory ahead of tests
	// (robinson.Prefetcher).
	GroupHash(group []byte) uint64
	TouchHashes(hs []uint64) uint64
	// empty reports a filter that holds no key.
	empty() bool
}

// classicBloom is bits-and-blooms' filter: key filters (format 1) and the
// first signature filter (format 2).
// Its keys are ungrouped: a group is prefixed to the key.
type classicBloom struct{ *bloom.BloomFilter }

func (c classicBloom) AddIn(group, key []byte) {
	if len(group) > 0 {
		key = append(append([]byte(nil), group...), key...)
	}
	c.Add(key)
}

func (c classicBloom) TestIn(group, key []byte) bool {
	if len(group) > 0 {
		key = append(append([]byte(nil), group...), key...)
	}
	return c.Test(key)
}

func (c classicBloom) AddAllIn(group, keys []byte, width int) {
	for i := 0; width > 0 && i+width <= len(keys); i += width {
		c.AddIn(group, keys[i:i+width])
	}
}

func (c classicBloom) CountMissingIn(group, keys []byte, width int) int {
	n := 0
	for i := 0; width > 0 && i+width <= len(keys); i += width {
		if !c.TestIn(group, keys[i:i+width]) {
			n++
		}
	}
	return n
}

func (c classicBloom) TestAnyIn(group, keys []byte, width int) bool {
	for i := 0; width > 0 && i+width <= len(keys); i += width {
		if c.TestIn(group, keys[i:i+width]) {
			return true
		}
	}
	return false
}

func (c classicBloom) empty() bool { return c.ApproximatedSize() == 0 }

// GroupHash and TouchHashes do nothing: a classic filter spreads a key
// over the whole array.
func (c classicBloom) GroupHash([]byte) uint64 { return 0 }

// TouchHashes does nothing (see GroupHash).
func (c classicBloom) TouchHashes([]uint64) uint64 { return 0 }

// blocked is a blocked Bloom filter: format 3 and 4 (paired) signature
// filters, where a contact tests several signature keys and each test must
// cost one memory access.
type blocked struct{ *blockbloom.Filter }

func (b blocked) empty() bool { return b.Keys() == 0 }

// blockedBitsPerKey is the size of a signature-v3 filter: 16 bits per
// key. With 12, the blocks of the synthetic list's busiest addresses
// filled up and let a quarter more contacts through to Badger
// (docs/benchmarks-e2e.md).
const blockedBitsPerKey = 16

// newFilter returns an empty filter of the kind a manifest's filter names,
// sized for n keys.
func newFilter(filter string, n int) keyFilter {
	switch filter {
	case filterSignaturesV3:
		return blocked{blockbloom.NewPaired(n, blockedBitsPerKey)}
	case filterSignaturesV2:
		return blocked{blockbloom.New(n, 12)}
	}
	return classicBloom{bloom.NewWithEstimates(uint(max(n, 1)), bloomFPRate)}
}

// readFilter parses a filter file of the kind a manifest's filter names.
func readFilter(filter string, raw []byte) (keyFilter, error) {
	if filter == filterSignaturesV2 || filter == filterSignaturesV3 {
		f, err := blockbloom.ReadFrom(raw)
		if err != nil {
			return nil, err
		}
		return blocked{f}, nil
	}
	f := &bloom.BloomFilter{}
	if _, err := f.ReadFrom(bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("bloom filter: %w", err)
	}
	return classicBloom{f}, nil
}
