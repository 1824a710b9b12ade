package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/internal/demo"
)

// TestContentNamedVersionThroughBinary: the same Robinson file loaded by
// the built binary into two fresh data directories gets the same version
// (screening rule 5.3); loading it again changes nothing and says so.
func TestContentNamedVersionThroughBinary(t *testing.T) {
	src := t.TempDir()
	rob, _, err := demo.Files(time.Now().UTC().Truncate(24 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	file := writeSource(t, src, "robinson.txt", rob)
	loaded := regexp.MustCompile(`robinson: loaded version (\S+):`)
	load := func(t *testing.T, data string) string {
		t.Helper()
		code, out, errOut := runCLI(t, "load", "--data", data, "--robinson", file)
		if code != 0 {
			t.Fatalf("load: exit %d\n%s\n%s", code, out, errOut)
		}
		return out
	}
	data1, data2 := filepath.Join(t.TempDir(), "d1"), filepath.Join(t.TempDir(), "d2")
	m1, m2 := loaded.FindStringSubmatch(load(t, data1)), loaded.FindStringSubmatch(load(t, data2))
	if m1 == nil || m2 == nil {
		t.Fatalf("no version in the load output: %v %v", m1, m2)
	}
	if m1[1] != m2[1] {
		t.Errorf("two fresh data directories: versions %s and %s, want the same", m1[1], m2[1])
	}
	out := load(t, data1)
	if !strings.Contains(out, "robinson: version "+m1[1]+" (the same file) serves already") || !strings.Contains(out, "nothing changed") {
		t.Errorf("loading the same file again: %q", out)
	}
	if got := servingVersions(t, data1); got != "robinson="+m1[1]+" " {
		t.Errorf("serving after the second load: %q", got)
	}
}
