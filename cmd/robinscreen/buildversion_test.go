package main

import (
	"os"
	"testing"
)

// TestMain lets this test binary be the build process of the servers and
// loads the in-process tests open (they run os.Executable, which is this
// binary, as "build-version").
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == buildVersionCommand {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
