package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/robinscreen/robinscreen/store"
)

// buildVersionCommand is the hidden subcommand a server or an offline load
// runs to build a version in a process of its own (store.ServeBuild): a
// full disk or a fault while writing then ends that process, and the load
// is refused instead of the server going down.
const buildVersionCommand = "build-version"

// buildCommand returns the command line of the build process: this binary
// with the hidden subcommand. It returns an error when the binary's path
// is unknown.
func buildCommand() ([]string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("the path of the robinscreen binary, for its build process: %w", err)
	}
	return []string{exe, buildVersionCommand}, nil
}

// buildVersion runs the build process: its build arrives on stdin, the
// source file's reads go through fds 3 and 4, progress and the result go
// to stdout and log lines to stderr (see store.ServeBuild).
func buildVersion(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return errUsage
	}
	// Like an offline load: collect garbage at 50 % growth unless GOGC says.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	srcReq, srcResp := os.NewFile(3, "source-requests"), os.NewFile(4, "source")
	for _, f := range []*os.File{srcReq, srcResp} {
		if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			return errors.New("build-version is run by robinscreen serve and load (it reads the source file through fds 3 and 4), not by hand")
		}
	}
	return store.ServeBuild(os.Stdin, stdout, srcReq, srcResp, newLogger(stderr), func() { os.Exit(3) })
}
