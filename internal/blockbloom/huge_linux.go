//go:build linux

package blockbloom

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// adviseHuge asks the kernel to back the 2 MiB-aligned interior of blocks
// with transparent huge pages: MADV_HUGEPAGE, so that the pages faulted in
// from now on are huge, and, when collapse is set, MADV_COLLAPSE, which
// rebuilds the pages present already (memory the Go heap reused). A test
// of a large filter touches a random block: with 4 KiB pages nearly every
// test also misses the TLB, with 2 MiB pages almost none does. It is
// advice only: every error (an older kernel, THP disabled) is ignored and
// the filter works the same without it.
func adviseHuge(blocks []uint64, collapse bool) {
	size := uintptr(len(blocks)) * 8
	if size < 2*hugePage {
		return
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(blocks)))
	lo := (start + hugePage - 1) &^ (hugePage - 1)
	hi := (start + size) &^ (hugePage - 1)
	if hi <= lo {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(blocks))), size)[lo-start : hi-start]
	if collapse {
		_ = unix.Madvise(b, unix.MADV_COLLAPSE)
		return
	}
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
}
