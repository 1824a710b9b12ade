package main

import (
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
)

// manifestArgs returns the container arguments of the Kubernetes base's
// StatefulSet (the "- --flag" lines of its args list), with every
// $(VARIABLE) replaced by value.
func manifestArgs(t *testing.T, value string) []string {
	t.Helper()
	b, err := os.ReadFile("../../deploy/base/statefulset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	vars := regexp.MustCompile(`\$\([A-Z_]+\)`)
	var args []string
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "args:":
			in = true
		case in && strings.HasPrefix(trimmed, "- --"):
			args = append(args, vars.ReplaceAllString(strings.TrimPrefix(trimmed, "- "), value))
		case in && trimmed != "" && !strings.HasPrefix(trimmed, "#"):
			in = false
		}
	}
	if len(args) == 0 {
		t.Fatal("no args in deploy/base/statefulset.yaml")
	}
	return args
}

// TestDeployArgsParse: serve accepts every argument the Kubernetes base
// gives it (the image's entrypoint adds --data /data), and they set what
// the fleet relies on.
func TestDeployArgsParse(t *testing.T) {
	args := manifestArgs(t, "postgres://robinscreen@db.example/robinscreen")
	m := NewMain(io.Discard)
	if err := m.ParseFlags(append([]string{"--data", "/data"}, args...)); err != nil {
		t.Fatalf("serve refuses the manifest's arguments %q: %v", args, err)
	}
	c := m.Config
	if c.MaxConnectionAge <= 0 || !c.PlaintextHealth || c.Seed.from == "" || c.Seed.caFile == "" || c.Seed.tokenFile == "" {
		t.Errorf("config from the manifest: max-connection-age %v, plaintext-health %v, seed %+v", c.MaxConnectionAge, c.PlaintextHealth, c.Seed)
	}
	// The check can fail: an argument serve does not know is refused.
	if err := NewMain(io.Discard).ParseFlags(append([]string{"--data", "/data", "--no-such-flag"}, args...)); err == nil {
		t.Error("an unknown argument was accepted")
	}
}
