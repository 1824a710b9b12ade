package store

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// ErrNoSpace means the data directory's file system has too little free
// space for a load (a *NoSpaceError). The serving version is untouched.
var ErrNoSpace = errors.New("store: not enough free disk space")

// NoSpaceError refuses a load for want of disk space: before the build
// (Needed > 0: the estimate did not fit) or during it (Err: the file
// system's ENOSPC, or the build process's fault on a memory-mapped file).
// errors.Is(err, ErrNoSpace) holds.
type NoSpaceError struct {
	Dir    string // the directory the version is built in
	Needed uint64 // the estimate checked before the build; 0 when it passed
	Free   uint64 // free bytes when the load was refused
	Err    error  // what failed during the build; nil for the pre-check
}

func (e *NoSpaceError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("store: not enough free disk space in %s: the load needs about %d bytes, %d are free", e.Dir, e.Needed, e.Free)
	}
	return fmt.Sprintf("store: out of disk space in %s while loading (%d bytes free): %v", e.Dir, e.Free, e.Err)
}

// Is makes errors.Is(err, ErrNoSpace) hold.
func (e *NoSpaceError) Is(target error) bool { return target == ErrNoSpace }

func (e *NoSpaceError) Unwrap() error { return e.Err }

// Space estimate: a version takes less room than its source file (a
// synthetic list of 200,000 records: 0.8 of the file; the 6 M list: 0.45),
// so the source's size plus a quarter, plus room for Badger's fixed files
// and the manifests, is a safe upper bound.
const (
	spaceMargin = 32 << 20
)

// spaceNeeded estimates the disk space a version built from a source file
// of size bytes needs while it is built.
func spaceNeeded(size int64) uint64 {
	return uint64(max(size, 0))*5/4 + spaceMargin
}

// FakeFreeSpaceEnv names a test hook that exists only in a binary built
// with the build tag "failpoints" (like the failpoints): there, when set,
// the number of free bytes the store assumes in the data directory instead
// of asking the file system, so that a test can trigger the space check
// without filling a disk (a small value), or pass it to reach a full disk
// during the build (a large one). Other builds ignore it.
const FakeFreeSpaceEnv = "ROBINSCREEN_FAKE_FREE_BYTES"

// fakeFree, when set (a test, or the failpoints build), returns the free
// bytes to assume instead of the file system's, and whether to.
var fakeFree func() (uint64, bool)

// freeSpace returns the bytes available to this process in dir's file
// system, or fakeFree's number. It returns statfs's error.
func freeSpace(dir string) (uint64, error) {
	if fakeFree != nil {
		if n, ok := fakeFree(); ok {
			return n, nil
		}
	}
	return statFree(dir)
}

// statFree returns the bytes available to this process in dir's file
// system, as the file system says (fakeFree does not apply: it describes
// a failure that happened). It returns statfs's error.
func statFree(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// checkSpace refuses a load from a source of size bytes into dir when the
// file system has less free space than spaceNeeded: a *NoSpaceError. It
// returns statfs's error.
func checkSpace(dir string, size int64) error {
	free, err := freeSpace(dir)
	if err != nil {
		return fmt.Errorf("store: free space in %s: %w", dir, err)
	}
	if need := spaceNeeded(size); free < need {
		return &NoSpaceError{Dir: dir, Needed: need, Free: free}
	}
	return nil
}

// noSpace turns a failure for want of space into a *NoSpaceError naming
// dir; other errors are returned as they are.
func noSpace(dir string, err error) error {
	if err == nil || errors.Is(err, ErrNoSpace) || !isNoSpace(err) {
		return err
	}
	free, _ := statFree(dir)
	return &NoSpaceError{Dir: dir, Free: free, Err: err}
}

// isNoSpace reports whether err is the file system's ENOSPC or EDQUOT,
// also when a library flattened it into text of its own: Badger reports
// a full disk at open as `Cannot write pid file "…" err: write …: no
// space left on device`, which errors.Is does not reach.
func isNoSpace(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, syscall.ENOSPC.Error()) || strings.Contains(s, syscall.EDQUOT.Error())
}
