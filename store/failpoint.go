package store

import (
	"fmt"
	"os"
	"strings"
	"sync"
)

// Failpoints name the moments of a load at which a crash test stops the
// process. They are inert unless the environment variable
// ROBINSCREEN_FAILPOINTS lists them (comma-separated): then the process
// prints "FAILPOINT <name>" to stderr and blocks forever, so that a test can
// kill it with SIGKILL at exactly that moment.
const (
	FailpointReading  = "load-reading"  // mid-parse, build directory half written
	FailpointBuilt    = "load-built"    // version built and synced, not yet renamed
	FailpointRenamed  = "load-renamed"  // version renamed into place, state unchanged
	FailpointSwitched = "load-switched" // state file switched, old version not yet pruned
)

// Failpoints lists every failpoint, in the order a load reaches them.
var Failpoints = []string{FailpointReading, FailpointBuilt, FailpointRenamed, FailpointSwitched}

var failpointsOnce = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Split(os.Getenv("ROBINSCREEN_FAILPOINTS"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			m[f] = true
		}
	}
	return m
})

func failpoint(name string) {
	if failpointsOnce()[name] {
		fmt.Fprintf(os.Stderr, "FAILPOINT %s\n", name)
		select {}
	}
}
