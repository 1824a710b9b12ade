//go:build !linux

package blockbloom

// adviseHuge does nothing outside Linux (see huge_linux.go).
func (f *Filter) adviseHuge(bool) {}
