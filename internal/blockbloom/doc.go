// Package blockbloom is a blocked Bloom filter for byte-string keys: every
// key sets and tests K bits inside one 512-bit block (one cache line), so a
// test costs one 64-bit hash and one memory access, however large the
// filter. In the paired layout (NewPaired) a group takes two neighbouring
// blocks and each key one of them, so that a group with many keys fills
// its blocks half as much. The filter is built once, written to a file and
// read back (WriteTo, ReadFrom); its hash (xxHash64) is fixed, so a file
// means the same in every process. On Linux a filter of a few megabytes
// or more asks for transparent huge pages (madvise), so that a test's
// random block rarely misses the TLB as well as the cache.
//
// It is written here rather than taken from a library because the
// well-known Go implementations of blocked filters could not be fetched
// through this project's module proxy, and bits-and-blooms/bloom, which
// the project uses elsewhere, probes ten scattered cache lines with a
// 128-bit hash per test: for the screening hot path, which tests several
// signature keys per contact, that was most of the time spent.
package blockbloom
