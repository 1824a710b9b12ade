//go:build failpoints

package store

import (
	"fmt"
	"os"
	"strings"
	"sync"
)

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
