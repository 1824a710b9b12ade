package main

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// startMain opens a Main on 127.0.0.1:0 with a temporary data directory
// and runs it; stop cancels Run, waits for it and closes the Main. A test
// that ends early is stopped by its cleanup.
func startMain(t *testing.T) (m *Main, stop func() error) {
	t.Helper()
	m = NewMain(io.Discard)
	if err := m.ParseFlags([]string{
		"--data", filepath.Join(t.TempDir(), "data"),
		"--key-file", filepath.Join(t.TempDir(), "pseudonym.key"),
		"--listen", "127.0.0.1:0",
	}); err != nil {
		t.Fatal(err)
	}
	if err := m.Open(); err != nil {
		m.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- m.Run(ctx) }()
	var once sync.Once
	var stopErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-ran:
			case <-time.After(2 * shutdownGrace):
				stopErr = errors.New("Run did not return after its context ended")
			}
			stopErr = errors.Join(stopErr, m.Close())
		})
		return stopErr
	}
	t.Cleanup(func() { stop() })
	return m, stop
}

// verifyNoLeaks checks, after the test and its cleanups, that no goroutine
// started during the test is left.
func verifyNoLeaks(t *testing.T) {
	t.Helper()
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, before) }) // runs after the later cleanups
}

// TestMainInProcess runs the server in the test process: it loads two
// versions of a small list through a real gRPC client, screens against
// each, shuts down, and checks that the port is released and no goroutine
// is left behind.
func TestMainInProcess(t *testing.T) {
	verifyNoLeaks(t)
	oldFile, newFile, _, _ := versionFiles(t, t.TempDir(), 10)

	m, stop := startMain(t)
	addr := m.Addr().String()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	p := &serverProc{conn: conn, screen: pb.NewScreeningServiceClient(conn), admin: pb.NewDatasetServiceClient(conn)}

	steps := []struct {
		name string
		file string
		want string
	}{
		{"first version", oldFile, "old"},
		{"second version", newFile, "new"},
	}
	for _, s := range steps {
		// The server releases the load slot just after it answers the
		// previous load.
		for deadline := time.Now().Add(10 * time.Second); m.Store.Loading("robinson"); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the previous load still holds the slot after 10 s")
			}
		}
		if err := adminLoad(p, s.file, time.Time{}); err != nil {
			t.Fatalf("%s: load: %v", s.name, err)
		}
		waitServing(t, conn)
		if got := p.which(t); got != s.want {
			t.Errorf("%s: screening answered %q, want %q", s.name, got, s.want)
		}
	}
	if n := p.records(t); n == 0 {
		t.Error("status reports no records")
	}
	conn.Close()

	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// The port is free again: nothing listens on it any more.
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after Close", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Errorf("port not released after Close: %v", err)
	} else {
		l.Close()
	}
}

// TestMainOpenErrorReleases opens a Main whose listen address is taken:
// Open fails naming --listen, and Close releases the data directory, so a
// second Main can open it.
func TestMainOpenErrorReleases(t *testing.T) {
	verifyNoLeaks(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	data, key := filepath.Join(t.TempDir(), "data"), filepath.Join(t.TempDir(), "k")
	args := []string{"--data", data, "--key-file", key, "--listen", busy.Addr().String()}

	m := NewMain(io.Discard)
	if err := m.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	err = m.Open()
	if err == nil {
		t.Fatal("Open on a busy port succeeded")
	}
	if want := "--listen " + busy.Addr().String() + ": "; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
		t.Errorf("error %q does not start with %q", err, want)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	again := NewMain(io.Discard)
	if err := again.ParseFlags(args[:4]); err != nil {
		t.Fatal(err)
	}
	again.Config.Listen = "127.0.0.1:0"
	if err := again.Open(); err != nil {
		t.Fatalf("data directory not released by Close: %v", err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
}
