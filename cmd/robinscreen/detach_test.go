package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// TestLoadOutlivesConnection drops the admin's connection right after a
// load started (its first response, which carries the load's ID): the
// load runs to its end on the server, admin status lists it, and
// admin load --attach ID follows it to its outcome.
func TestLoadOutlivesConnection(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	src := t.TempDir()
	oldFile, newFile, _, newN := versionFiles(t, src, 100000)
	empty := filepath.Join(src, "empty.txt")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "data")
	if code, _, errOut := runCLI(t, "load", "--data", data, "--robinson", oldFile); code != 0 {
		t.Fatal(errOut)
	}
	addr := freeAddr(t)
	p := startProc(t, exec.Command(binary(t), "serve", "--data", data, "--listen", addr, "--import-dir", src), addr)

	for _, tc := range []struct {
		name  string
		file  string
		code  int
		want  string // in admin load --attach's output
		state string // in admin status
		after string // which version answers afterwards
	}{
		{"loads", filepath.Base(newFile), 0, "done: now serving version", "loaded", "new"},
		{"refused", filepath.Base(empty), 1, "failed: FILE_REFUSED: robinson file empty.txt refused", "failed", "new"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A connection of its own, closed once the ID arrives.
			conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			stream, err := pb.NewDatasetServiceClient(conn).LoadDataset(ctx)
			if err != nil {
				t.Fatal(err)
			}
			start := &pb.LoadDatasetStart{Kind: pb.DatasetKind_DATASET_KIND_ROBINSON, ImportPath: tc.file}
			if err := stream.Send(&pb.LoadDatasetRequest{Msg: &pb.LoadDatasetRequest_Start{Start: start}}); err != nil {
				t.Fatal(err)
			}
			first, err := stream.Recv()
			if err != nil {
				t.Fatal(err)
			}
			id := first.GetLoadId()
			cancel()
			conn.Close()
			if len(id) != 16 {
				t.Fatalf("load ID %q, want 16 hex digits", id)
			}
			code, out, errOut := runCLI(t, "admin", "load", "--addr", addr, "--attach", id)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) || !strings.Contains(out+errOut, id) {
				t.Errorf("admin load --attach %s: exit %d, want %d and %q:\n%s%s", id, code, tc.code, tc.want, out, errOut)
			}
			code, out, _ = runCLI(t, "admin", "status", "--addr", addr)
			var line string
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, id) {
					line = l
				}
			}
			if code != 0 || !strings.Contains(line, tc.state) || !strings.Contains(line, tc.file) {
				t.Errorf("admin status: no %s line for load %s:\n%s", tc.state, id, out)
			}
			if got := p.which(t); got != tc.after {
				t.Errorf("after the load: %s answers, want %s", got, tc.after)
			}
			if tc.name == "loads" {
				if n := p.records(t); n != int64(newN) {
					t.Errorf("serving %d records, want %d", n, newN)
				}
			}
		})
	}
	if code, _, errOut := runCLI(t, "admin", "load", "--addr", addr, "--attach", "0123456789abcdef"); code != 1 || !strings.Contains(errOut, "has no load 0123456789abcdef") {
		t.Errorf("attach to an unknown load: exit %d, %s", code, errOut)
	}
	if code, _, _ := runCLI(t, "admin", "load", "--addr", addr, "--attach", "x", "--robinson", newFile); code != 2 {
		t.Errorf("--attach with a file: exit %d, want 2 (usage)", code)
	}
}

// startProc starts cmd, a server listening on addr, and waits until it is
// SERVING; the test's end kills it.
func startProc(t *testing.T, cmd *exec.Cmd, addr string) *serverProc {
	t.Helper()
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
	waitServing(t, conn)
	return p
}

// TestBuildVersionByHand: the hidden build-version command, run without
// the loading process's pipes, says so instead of waiting.
func TestBuildVersionByHand(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no pipes", []string{"build-version"}, 1, "not by hand"},
		{"arguments", []string{"build-version", "x"}, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.code, errOut)
			}
		})
	}
}

// droppingServer starts a load, sends its ID and then loses the caller
// (UNAVAILABLE, as when the connection drops).
type droppingServer struct {
	pb.UnimplementedDatasetServiceServer
}

func (droppingServer) LoadDataset(stream pb.DatasetService_LoadDatasetServer) error {
	if _, err := stream.Recv(); err != nil {
		return err
	}
	if err := stream.Send(&pb.LoadDatasetResponse{Phase: pb.LoadPhase_LOAD_PHASE_READING, LoadId: "00c0ffee00c0ffee"}); err != nil {
		return err
	}
	return status.Error(codes.Unavailable, "connection lost")
}

// TestAdminLoadNamesDetachedLoad: when the connection drops after the
// load started, admin load says that the load goes on and how to follow it.
func TestAdminLoadNamesDetachedLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	pb.RegisterDatasetServiceServer(gs, droppingServer{})
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	code, _, errOut := runCLI(t, "admin", "load", "--addr", lis.Addr().String(), "--import", "--robinson", "list.txt")
	want := "robinscreen: Unavailable: connection lost; the load goes on on the server: follow it with robinscreen admin load --attach 00c0ffee00c0ffee\n"
	if code != 1 || errOut != want {
		t.Errorf("exit %d, stderr %q, want 1 and %q", code, errOut, want)
	}
}
