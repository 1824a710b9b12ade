package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/robinscreen/robinscreen/store"
)

// TestBinaryFailpoints checks that the binary as it ships has no failpoint
// code (no -tags failpoints in its build information, and neither the
// environment variables — the failpoints', the fake free space's — nor
// the message in its text), while the crash
// tests' binary has both: a failpoint that blocks forever on an
// environment variable must never reach production.
func TestBinaryFailpoints(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary twice")
	}
	tests := []struct {
		name  string
		build func(*testing.T) string
		want  bool
	}{
		{"production binary has none", binary, false},
		{"crash-test binary has them", binaryWithFailpoints, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := tt.build(t)
			info, err := exec.Command("go", "version", "-m", bin).Output()
			if err != nil {
				t.Fatal(err)
			}
			tagged := false
			for _, l := range strings.Split(string(info), "\n") {
				f := strings.Fields(l)
				if len(f) >= 2 && f[0] == "build" && strings.HasPrefix(f[1], "-tags=") {
					for _, tag := range strings.Split(strings.TrimPrefix(f[1], "-tags="), ",") {
						tagged = tagged || tag == "failpoints"
					}
				}
			}
			if tagged != tt.want {
				t.Errorf("build tag failpoints: %v, want %v\n%s", tagged, tt.want, info)
			}
			text, err := os.ReadFile(bin)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{"ROBINSCREEN_FAILPOINTS", "FAILPOINT %s", store.FakeFreeSpaceEnv} {
				if got := bytes.Contains(text, []byte(s)); got != tt.want {
					t.Errorf("binary holds %q: %v, want %v", s, got, tt.want)
				}
			}
		})
	}
}
