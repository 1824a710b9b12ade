//go:build linux

package blockbloom

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// adviseHuge asks the kernel to back the 2 MiB-aligned interior of f's
// blocks with transparent huge pages: MADV_HUGEPAGE, so that the pages
// faulted in from now on are huge, and, when collapse is set,
// MADV_COLLAPSE, which rebuilds the pages present already (memory the Go
// heap reused). A test of a large filter touches a random block: with
// 4 KiB pages nearly every test also misses the TLB, with 2 MiB pages
// almost none does. Once f is garbage, a cleanup advises the range back
// (MADV_NOHUGEPAGE), so that the Go heap memory it leaves behind is not
// gathered into huge pages again. It is advice only: every error (an older
// kernel, THP disabled) is ignored and the filter works the same without
// it.
func (f *Filter) adviseHuge(collapse bool) {
	size := uintptr(len(f.blocks)) * 8
	if size < 2*hugePage {
		return
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(f.blocks)))
	lo := (start + hugePage - 1) &^ (hugePage - 1)
	hi := (start + size) &^ (hugePage - 1)
	if hi <= lo {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(f.blocks))), size)[lo-start : hi-start]
	if collapse {
		_ = unix.Madvise(b, unix.MADV_COLLAPSE)
		return
	}
	if unix.Madvise(b, unix.MADV_HUGEPAGE) == nil {
		runtime.AddCleanup(f, func(r [2]uintptr) {
			_, _, _ = unix.Syscall(unix.SYS_MADVISE, r[0], r[1], unix.MADV_NOHUGEPAGE)
		}, [2]uintptr{lo, hi - lo})
	}
}
