package store

// Failpoints name the moments of a load at which a crash test stops the
// process. They exist only in a binary built with the build tag
// "failpoints" (failpoint_on.go), which the crash tests build: there they
// are inert unless the environment variable ROBINSCREEN_FAILPOINTS lists
// them (comma-separated), and then the process prints "FAILPOINT <name>"
// to stderr and blocks forever, so that a test can kill it with SIGKILL at
// exactly that moment. In every other build failpoint does nothing
// (failpoint_off.go), whatever the environment says.
const (
	FailpointReading  = "load-reading"  // mid-parse, build directory half written
	FailpointBuilt    = "load-built"    // version built and synced, not yet renamed
	FailpointRenamed  = "load-renamed"  // version renamed into place, state unchanged
	FailpointSwitched = "load-switched" // state file switched, old version not yet pruned
)

// Failpoints lists every failpoint, in the order a load reaches them.
var Failpoints = []string{FailpointReading, FailpointBuilt, FailpointRenamed, FailpointSwitched}
