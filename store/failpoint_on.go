//go:build failpoints

package store

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// The failpoints build also fakes the free space when FakeFreeSpaceEnv is
// set (see space.go).
func init() {
	fakeFree = func() (uint64, bool) {
		n, err := strconv.ParseUint(os.Getenv(FakeFreeSpaceEnv), 10, 64)
		return n, err == nil
	}
}

// failpointsBuilt reports whether this binary was built with failpoints.
const failpointsBuilt = true

var failpointsOnce = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Split(os.Getenv("ROBINSCREEN_FAILPOINTS"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			m[f] = true
		}
	}
	return m
})

// failpoint blocks forever, after printing "FAILPOINT name" to stderr,
// when ROBINSCREEN_FAILPOINTS lists name.
func failpoint(name string) {
	if failpointsOnce()[name] {
		fmt.Fprintf(os.Stderr, "FAILPOINT %s\n", name)
		select {}
	}
}
