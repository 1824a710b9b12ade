package store

import (
	"strings"
	"testing"
	"time"
)

// TestFailpointTag checks each failpoint with ROBINSCREEN_FAILPOINTS naming
// every one: without the build tag "failpoints" it returns at once (the
// production build has none); with it, it blocks. Run the tagged case with
// go test -tags failpoints ./store -run TestFailpointTag.
func TestFailpointTag(t *testing.T) {
	t.Setenv("ROBINSCREEN_FAILPOINTS", strings.Join(Failpoints, ","))
	for _, name := range Failpoints {
		t.Run(name, func(t *testing.T) {
			returned := make(chan struct{})
			go func() {
				failpoint(name)
				close(returned)
			}()
			wait := 5 * time.Second // generous for a loaded machine; a no-op returns at once
			if failpointsBuilt {
				wait = 200 * time.Millisecond // the goroutine stays blocked, as the crash tests need
			}
			select {
			case <-returned:
				if failpointsBuilt {
					t.Fatalf("failpoint %s returned in a build with failpoints", name)
				}
			case <-time.After(wait):
				if !failpointsBuilt {
					t.Fatalf("failpoint %s blocked in a build without failpoints", name)
				}
			}
		})
	}
}
