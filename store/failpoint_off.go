//go:build !failpoints

package store

// failpointsBuilt reports whether this binary was built with failpoints.
const failpointsBuilt = false

// failpoint does nothing: this build has no failpoints (build with -tags
// failpoints for the crash tests).
func failpoint(string) {}
