package main

import (
	"bytes"
	"context"
	"flag"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/store"
)

// startReplica runs `robinscreen serve` on data listening on addr with
// extra flags; it waits until the server is SERVING when serving is set.
func startReplica(t *testing.T, data, addr string, serving bool, extra ...string) *serverProc {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"serve", "--data", data, "--listen", addr}, extra...)...)
	p := &serverProc{cmd: cmd, stderr: &lockedBuffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	p.conn, p.screen, p.admin = conn, pb.NewScreeningServiceClient(conn), pb.NewDatasetServiceClient(conn)
	t.Cleanup(p.kill)
	if serving {
		waitServing(t, conn)
	}
	return p
}

// fleetAddrs returns n loopback addresses 127.0.0.1 … 127.0.0.n that share
// one port (free on 127.0.0.1 at least), as the pods behind a headless
// Service share theirs.
func fleetAddrs(t *testing.T, n int) []string {
	t.Helper()
	_, port, _ := net.SplitHostPort(freeAddr(t))
	out := make([]string, n)
	for i := range out {
		out[i] = net.JoinHostPort("127.0.0."+string(rune('1'+i)), port)
	}
	return out
}

// offlineLoad loads a Robinson file into a data directory no server uses.
func offlineLoad(t *testing.T, data, file string) {
	t.Helper()
	if code, _, stderr := runCLI(t, "load", "--data", data, "--robinson", file); code != 0 {
		t.Fatalf("load %s: exit %d: %s", file, code, stderr)
	}
}

// contentNamed reports whether this build names a version by its content
// (issue 14 point 1): the same file loaded into two fresh data
// directories gives the same version. Without it, replicas that loaded the
// same file report different versions, and the checks that they end on
// one version are skipped, saying so.
func contentNamed(t *testing.T, file string) bool {
	t.Helper()
	var vs []string
	for range 2 {
		data := filepath.Join(t.TempDir(), "probe")
		offlineLoad(t, data, file)
		v, err := store.ServingVersionIn(data, "robinson")
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
		time.Sleep(1100 * time.Millisecond) // past a load-time name's second
	}
	return vs[0] == vs[1]
}

// TestFleetAdmin runs three servers on loopback and the admin commands
// over all of them through the real binary: status side by side with a
// mismatch flagged, a rolling load that stops at the first refusal and
// leaves the rest on their versions, a rolling rollback, one DNS name
// standing for the replicas, and a rolling load that ends with every
// replica on the same version.
func TestFleetAdmin(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three servers")
	}
	dir := t.TempDir()
	oldFile, newFile, _, _ := versionFiles(t, dir, 200)
	// A list ten times as large: loading the new one over it shrinks it
	// below 90 %, which the server refuses without --allow-shrink.
	bigDir := filepath.Join(dir, "big")
	if err := os.Mkdir(bigDir, 0o700); err != nil {
		t.Fatal(err)
	}
	bigFile, _, _, _ := versionFiles(t, bigDir, 2000)
	addrs := fleetAddrs(t, 3)
	var reps []*serverProc
	for i, f := range []string{oldFile, bigFile, oldFile} {
		data := filepath.Join(dir, "data"+string(rune('1'+i)))
		offlineLoad(t, data, f)
		reps = append(reps, startReplica(t, data, addrs[i], true))
	}
	addrFlags := []string{"--addr", addrs[0], "--addr", addrs[1], "--addr", addrs[2]}
	admin := func(args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, append(append([]string{"admin"}, args...), addrFlags...)...)
	}
	whiches := func() []string {
		var out []string
		for _, r := range reps {
			out = append(out, r.which(t))
		}
		return out
	}

	t.Run("status side by side, mismatch flagged", func(t *testing.T) {
		code, out, stderr := admin("status")
		if code != 1 || !strings.Contains(out, "robinson: MISMATCH") {
			t.Fatalf("exit %d, want 1 with a mismatch\n%s%s", code, out, stderr)
		}
		for _, a := range addrs {
			if !strings.Contains(out, a) {
				t.Errorf("status does not show replica %s:\n%s", a, out)
			}
		}
	})

	t.Run("one DNS name for the replicas", func(t *testing.T) {
		defer func(f func(context.Context, string) ([]string, error)) { lookupHost = f }(lookupHost)
		lookupHost = func(_ context.Context, host string) ([]string, error) {
			if host != "robinscreen.fleet.test" {
				t.Errorf("looked up %q", host)
			}
			return []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}, nil
		}
		_, port, _ := net.SplitHostPort(addrs[0])
		var out, errOut bytes.Buffer
		code := run([]string{"admin", "status", "--addr", "robinscreen.fleet.test:" + port}, &out, &errOut)
		if code != 1 || !strings.Contains(out.String(), "robinson: MISMATCH") {
			t.Fatalf("exit %d, want 1 with a mismatch\n%s%s", code, out.String(), errOut.String())
		}
		for _, a := range addrs {
			if !strings.Contains(out.String(), a) {
				t.Errorf("status does not show replica %s:\n%s", a, out.String())
			}
		}
	})

	t.Run("several replicas need --rolling", func(t *testing.T) {
		if code, _, stderr := admin("load", "--robinson", newFile); code != 2 || !strings.Contains(stderr, "--rolling") {
			t.Fatalf("exit %d, want 2 asking for --rolling: %s", code, stderr)
		}
	})

	t.Run("rolling load stops at the first refusal", func(t *testing.T) {
		code, out, stderr := admin("load", "--rolling", "--robinson", newFile)
		if code != 1 {
			t.Fatalf("exit %d, want 1\n%s%s", code, out, stderr)
		}
		if !strings.Contains(stderr, addrs[1]+": FailedPrecondition FILE_REFUSED") || !strings.Contains(stderr, "not loaded (they keep their versions)") || !strings.Contains(stderr, "stopped: "+addrs[2]+" not loaded") {
			t.Errorf("the refusal does not name the replica and those left:\n%s", stderr)
		}
		if got := strings.Join(whiches(), " "); got != "new old old" {
			t.Errorf("replicas serve %s, want new old old (the first loaded, the refusing one and the one after it unchanged)", got)
		}
	})

	t.Run("rolling rollback stops where there is no previous version", func(t *testing.T) {
		code, out, stderr := admin("rollback", "--kind", "robinson")
		if code != 1 || !strings.Contains(stderr, addrs[1]+": ") || !strings.Contains(stderr, "stopped: "+addrs[2]+" not rolled back") {
			t.Fatalf("exit %d, want 1 naming %s\n%s%s", code, addrs[1], out, stderr)
		}
		if got := strings.Join(whiches(), " "); got != "old old old" {
			t.Errorf("replicas serve %s, want old old old", got)
		}
	})

	t.Run("rolling load brings every replica to one version", func(t *testing.T) {
		code, out, stderr := admin("load", "--rolling", "--allow-shrink", "--robinson", newFile)
		if got := strings.Join(whiches(), " "); got != "new new new" {
			t.Errorf("replicas serve %s, want new new new", got)
		}
		if !contentNamed(t, newFile) {
			t.Skip("versions are named by their load time in this build (content-named versions, issue 14 point 1, are not here): one version on every replica is not checked")
		}
		if code != 0 || strings.Contains(out, "MISMATCH") {
			t.Fatalf("exit %d, want 0 and one version on every replica\n%s%s", code, out, stderr)
		}
		if code, out, stderr := admin("status"); code != 0 {
			t.Fatalf("status: exit %d\n%s%s", code, out, stderr)
		}
	})
}

// TestSeedFrom starts a replica with an empty data directory and
// --seed-from a peer that is not up yet: it stays NOT_SERVING and refuses
// to screen; once the peer serves, it copies the peer's version, serves
// it under the same name with the same answers, and after a restart serves
// it from its own data directory without the peer.
func TestSeedFrom(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two servers")
	}
	dir := t.TempDir()
	oldFile, _, _, _ := versionFiles(t, dir, 200)
	peerAddr, newAddr := freeAddr(t), freeAddr(t)
	newData := filepath.Join(dir, "new")
	n := startReplica(t, newData, newAddr, false, "--seed-from", peerAddr, "--seed-retry", "100ms")
	n.waitFor(t, "seeding the data directory")
	n.waitFor(t, "not done; trying again")
	ctx := context.Background()
	if _, err := n.screen.ScreenContact(ctx, &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_POST, Contact: personA}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("screening before the seed: %v, want FAILED_PRECONDITION", err)
	}
	if h, err := healthpb.NewHealthClient(n.conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || h.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("health before the seed: %v %v, want NOT_SERVING", h.GetStatus(), err)
	}

	peerData := filepath.Join(dir, "peer")
	offlineLoad(t, peerData, oldFile)
	auditLog := filepath.Join(dir, "peer-audit.jsonl")
	p := startReplica(t, peerData, peerAddr, true, "--audit-log", auditLog)
	waitServing(t, n.conn)
	if got := n.which(t); got != "old" {
		t.Fatalf("the seeded replica answers %s, want old", got)
	}
	version := func(p *serverProc) string {
		t.Helper()
		resp, err := p.admin.GetDatasetStatus(ctx, &pb.GetDatasetStatusRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetDatasets()[0].GetServing().GetVersion()
	}
	if pv, nv := version(p), version(n); pv == "" || pv != nv {
		t.Fatalf("peer serves %q, the seeded replica %q", pv, nv)
	}
	p.stderr.mu.Lock()
	sent := strings.Contains(p.stderr.b.String(), "dataset version sent to a replica")
	p.stderr.mu.Unlock()
	if !sent {
		t.Error("the peer did not log the version it sent")
	}
	audit, err := os.ReadFile(auditLog)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(audit), `"action":"version_sent"`) || !strings.Contains(string(audit), version(p)) {
		t.Errorf("the peer's audit log has no version_sent record naming the version:\n%s", audit)
	}

	p.kill()
	n.kill()
	n2 := startReplica(t, newData, newAddr, true, "--seed-from", peerAddr, "--seed-retry", "100ms")
	if got := n2.which(t); got != "old" {
		t.Fatalf("after a restart without the peer: %s, want old", got)
	}
	if strings.Contains(n2.stderr.String(), "seeding the data directory") {
		t.Error("a replica with data seeded again")
	}
}

// TestSeedFromDir seeds an empty replica from a directory laid out as a
// data directory (a copy of another replica's): an intact copy serves,
// under the same version name; a copy with one byte of a table changed is
// refused and the replica stays NOT_SERVING.
func TestSeedFromDir(t *testing.T) {
	if testing.Short() {
		t.Skip("runs servers")
	}
	dir := t.TempDir()
	oldFile, _, _, _ := versionFiles(t, dir, 200)
	source := filepath.Join(dir, "source")
	offlineLoad(t, source, oldFile)
	tests := []struct {
		name    string
		damage  bool
		serving bool
	}{
		{name: "intact copy", serving: true},
		{name: "a changed byte in a table", damage: true, serving: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from := filepath.Join(t.TempDir(), "copy")
			if err := os.CopyFS(from, os.DirFS(source)); err != nil {
				t.Fatal(err)
			}
			if tc.damage {
				tables, _ := filepath.Glob(filepath.Join(from, "robinson", "*", "badger", "*.sst"))
				if len(tables) == 0 {
					t.Fatal("no table in the copy")
				}
				b, err := os.ReadFile(tables[0])
				if err != nil {
					t.Fatal(err)
				}
				b[len(b)/3] ^= 0x01
				if err := os.WriteFile(tables[0], b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			n := startReplica(t, filepath.Join(t.TempDir(), "data"), freeAddr(t), tc.serving, "--seed-from", from, "--seed-retry", "100ms")
			if !tc.serving {
				n.waitFor(t, "not done; trying again")
				n.waitFor(t, "SHA-256 does not match")
				h, err := healthpb.NewHealthClient(n.conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
				if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
					t.Fatalf("health %v %v, want NOT_SERVING", h.GetStatus(), err)
				}
				return
			}
			if got := n.which(t); got != "old" {
				t.Fatalf("answers %s, want old", got)
			}
			want, err := store.ServingVersionIn(source, "robinson")
			if err != nil {
				t.Fatal(err)
			}
			resp, err := n.admin.GetDatasetStatus(context.Background(), &pb.GetDatasetStatusRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.GetDatasets()[0].GetServing().GetVersion(); got != want {
				t.Fatalf("serves version %s, want %s", got, want)
			}
		})
	}
}

// TestClientFlagsAddrs: --addr as parsed for a command that talks to one
// server (dial) and for the replicas of a fleet (replicas).
func TestClientFlagsAddrs(t *testing.T) {
	lookupLoopback := func(_ context.Context, host string) ([]string, error) {
		if host == "one.test" {
			return []string{"127.0.0.9"}, nil
		}
		return []string{"127.0.0.1", "127.0.0.2"}, nil
	}
	defer func(f func(context.Context, string) ([]string, error)) { lookupHost = f }(lookupHost)
	lookupHost = lookupLoopback
	tests := []struct {
		name         string
		args         []string
		dialErr      string // "" = dial succeeds
		replicas     []string
		serverNameOf string // the TLS server name the replicas verify, with --ca
	}{
		{name: "default", args: nil, replicas: []string{"127.0.0.1:50051"}},
		{name: "one address", args: []string{"--addr", "127.0.0.1:7"}, replicas: []string{"127.0.0.1:7"}},
		{name: "repeated", args: []string{"--addr", "127.0.0.1:7", "--addr", "127.0.0.2:7"}, dialErr: "this command talks to one server", replicas: []string{"127.0.0.1:7", "127.0.0.2:7"}},
		{name: "comma-separated", args: []string{"--addr", "127.0.0.1:7,127.0.0.3:7"}, dialErr: "this command talks to one server", replicas: []string{"127.0.0.1:7", "127.0.0.3:7"}},
		{name: "a name for several", args: []string{"--addr", "fleet.test:7"}, dialErr: "refusing a plaintext connection", replicas: []string{"127.0.0.1:7", "127.0.0.2:7"}, serverNameOf: "fleet.test"},
		{name: "a name for one", args: []string{"--addr", "one.test:7"}, dialErr: "refusing a plaintext connection", replicas: []string{"one.test:7"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cf clientFlags
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			cf.register(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			reps, err := cf.replicas(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range reps {
				got = append(got, r.addr)
				if tc.serverNameOf != "" && r.serverName != tc.serverNameOf {
					t.Errorf("replica %s verifies TLS as %q, want %q", r.addr, r.serverName, tc.serverNameOf)
				}
			}
			if strings.Join(got, " ") != strings.Join(tc.replicas, " ") {
				t.Errorf("replicas %v, want %v", got, tc.replicas)
			}
			conn, err := cf.dial()
			if conn != nil {
				conn.Close()
			}
			if (err == nil) != (tc.dialErr == "") || err != nil && !strings.Contains(err.Error(), tc.dialErr) {
				t.Errorf("dial: %v, want error %q", err, tc.dialErr)
			}
		})
	}
}
