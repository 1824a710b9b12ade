package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// buildBinaries builds robinscreen-screen and the robinscreen server into
// a temporary directory.
func buildBinaries(t *testing.T) (screen, server string) {
	t.Helper()
	dir := t.TempDir()
	screen, server = filepath.Join(dir, "robinscreen-screen"), filepath.Join(dir, "robinscreen")
	for _, b := range []struct{ out, pkg string }{{screen, "."}, {server, "../robinscreen"}} {
		if out, err := exec.Command("go", "build", "-o", b.out, b.pkg).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	return screen, server
}

// serveDemo starts `robinscreen serve --demo` (with args added) and waits
// until it serves; stop kills it.
func serveDemo(t *testing.T, bin string, args ...string) (addr string, stop func()) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = l.Addr().String()
	l.Close()
	var log bytes.Buffer
	cmd := exec.Command(bin, append([]string{"serve", "--demo", "--data", filepath.Join(t.TempDir(), "data"), "--listen", addr}, args...)...)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	t.Cleanup(stop)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	for deadline := time.Now().Add(60 * time.Second); ; {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return addr, stop
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("server not serving after 60s (%v); log:\n%s", err, log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// execRunner runs the built tool in dir.
func execRunner(bin string) runner {
	return func(t *testing.T, dir string, args []string) (int, string) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0, stderr.String()
		case errors.As(err, &ee):
			return ee.ExitCode(), stderr.String()
		}
		t.Fatalf("run %s: %v", bin, err)
		return 0, ""
	}
}

// TestBinaryFileKinds screens every kind of call list with the built tool
// against the built server.
func TestBinaryFileKinds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binaries")
	}
	screen, server := buildBinaries(t)
	addr, _ := serveDemo(t, server)
	checkFileKinds(t, addr, execRunner(screen))
}

// TestBinaryFailedRunLeavesNoOutput stops real runs half way, by killing
// the server and by interrupting the tool: the output never appears under
// its final name, and the temporary file is removed.
func TestBinaryFailedRunLeavesNoOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binaries")
	}
	screen, server := buildBinaries(t)
	tests := []struct {
		name string
		// stop ends the run once the tool has written part of its output.
		stop     func(tool *exec.Cmd, killServer func())
		wantText string
	}{
		{"the server is killed", func(_ *exec.Cmd, killServer func()) { killServer() }, "no output written to liste.screened.csv"},
		{"the tool is interrupted", func(tool *exec.Cmd, _ func()) { tool.Process.Signal(syscall.SIGINT) }, "no output written to liste.screened.csv"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr, stopServer := serveDemo(t, server)
			dir := t.TempDir()
			// Large enough that the run lasts well beyond the first
			// chunks on a loaded machine.
			const n = 400000
			var b strings.Builder
			b.WriteString("navn;adresse;postnr\r\n")
			for i := 0; i < n; i++ {
				fmt.Fprintf(&b, "Kunde%06d;Nyvej %d;2100\r\n", i, i%90+10)
			}
			if err := os.WriteFile(filepath.Join(dir, "liste.csv"), []byte(b.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(screen, "--addr", addr, "--progress", "never", "--channel", "post", "--retries", "2", "--chunk", "500", "liste.csv")
			cmd.Dir = dir
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Wait for a temporary output holding some rows.
			deadline := time.Now().Add(60 * time.Second)
			for {
				if m, _ := filepath.Glob(filepath.Join(dir, ".liste.screened.csv.*.partial")); len(m) == 1 {
					if st, err := os.Stat(m[0]); err == nil && st.Size() > 64<<10 {
						break
					}
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					cmd.Wait()
					t.Fatalf("no partial output after 60s; stderr:\n%s", stderr.String())
				}
				time.Sleep(5 * time.Millisecond)
			}
			tc.stop(cmd, stopServer)
			err := cmd.Wait()
			t.Logf("stderr:\n%s", stderr.String())
			if err == nil {
				t.Fatal("the run succeeded; it was meant to be stopped half way (make the list longer?)")
			}
			if !strings.Contains(stderr.String(), tc.wantText) {
				t.Errorf("stderr lacks %q", tc.wantText)
			}
			entries, _ := os.ReadDir(dir)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if fmt.Sprint(names) != "[liste.csv]" {
				t.Errorf("files after the failed run: %q, want only the input", names)
			}
		})
	}
}
