package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// startMain opens a Main on 127.0.0.1:0 with a temporary data directory
// and runs it; stop cancels Run, waits for it and closes the Main. A test
// that ends early is stopped by its cleanup.
func startMain(t *testing.T, extra ...string) (m *Main, stop func() error) {
	t.Helper()
	m = NewMain(io.Discard)
	if err := m.ParseFlags(append([]string{
		"--data", filepath.Join(t.TempDir(), "data"),
		"--key-file", filepath.Join(t.TempDir(), "pseudonym.key"),
		"--listen", "127.0.0.1:0",
	}, extra...)); err != nil {
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

// TestMainInProcessSecure runs the server in-process with TLS, a token
// file, an audit log and a metrics listener: a TLS client with a token is
// screened, a plaintext client is refused with TLS_REQUIRED, and after
// Close no goroutine (token reload, metrics server, TLS sniffer, audit
// syncer) is left and the audit log is complete.
func TestMainInProcessSecure(t *testing.T) {
	verifyNoLeaks(t)
	dir := t.TempDir()
	caFile, certFile, keyFile := writeTestPKI(t, dir)
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("screen:"+sha256Hex("screen-tok")+":crm\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	audit := filepath.Join(dir, "audit.jsonl")
	m, stop := startMain(t, "--demo", "--tls-cert", certFile, "--tls-key", keyFile, "--token-file", tokens,
		"--audit-log", audit, "--metrics-listen", "127.0.0.1:0")
	addr := m.Addr().String()

	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	creds := credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS13})
	tlsConn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tlsConn.Close() })
	plainConn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plainConn.Close() })

	// A contact of the synthetic demo list: blocked.
	req := &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_PHONE, Contact: &pb.Contact{Ref: "c-1", Name: "Søren Testesen",
		Address: "Fiktivvej 12, 2. tv, 2100 København Ø", Cpr: "1503821234", Phone: "+4512345678"}}
	withToken := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer screen-tok")
	tests := []struct {
		name   string
		conn   *grpc.ClientConn
		ctx    context.Context
		code   codes.Code
		reason string // ErrorInfo reason of a refusal
	}{
		{"TLS with token", tlsConn, withToken, codes.OK, ""},
		{"TLS without token", tlsConn, context.Background(), codes.Unauthenticated, ""},
		{"plaintext", plainConn, withToken, codes.Unavailable, "TLS_REQUIRED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(tt.ctx, 10*time.Second)
			defer cancel()
			resp, err := pb.NewScreeningServiceClient(tt.conn).ScreenContact(ctx, req)
			if status.Code(err) != tt.code {
				t.Fatalf("code %v (%v), want %v", status.Code(err), err, tt.code)
			}
			if err == nil && resp.GetResult().GetDecision() != pb.Decision_DECISION_BLOCK {
				t.Errorf("decision %v, want BLOCK", resp.GetResult().GetDecision())
			}
			if tt.reason != "" {
				found := false
				for _, d := range status.Convert(err).Details() {
					if info, ok := d.(*errdetails.ErrorInfo); ok {
						found = found || info.GetReason() == tt.reason
					}
				}
				if !found {
					t.Errorf("no ErrorInfo %s in %v", tt.reason, status.Convert(err).Details())
				}
			}
		})
	}
	tlsConn.Close()
	plainConn.Close()

	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Errorf("port not released after Close: %v", err)
	} else {
		l.Close()
	}
	log, err := os.ReadFile(audit)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(log, []byte("crm")) {
		t.Errorf("audit log holds no event of the screen token's client:\n%s", log)
	}
}
