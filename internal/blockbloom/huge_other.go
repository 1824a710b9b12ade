//go:build !linux

package blockbloom

// adviseHuge does nothing outside Linux (see huge_linux.go).
func adviseHuge([]uint64, bool) {}
