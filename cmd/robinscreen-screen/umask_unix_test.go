//go:build unix

package main

import (
	"syscall"
	"testing"
)

// setUmask sets the process umask for the test, so file modes do not depend
// on the umask the tests run under.
func setUmask(t *testing.T, mask int) {
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}
