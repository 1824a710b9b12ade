package server

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// TestRequireTLSShutdownRace: clients that open with a TLS handshake while
// the listener shuts down must not crash the server (a send on a closed
// channel) nor leave goroutines blocked forever. Run it with -race.
func TestRequireTLSShutdownRace(t *testing.T) {
	for round := range 20 {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		r := RequireTLS(lis, nil)
		var wg sync.WaitGroup
		// A server that accepts a few connections, then stops accepting.
		wg.Go(func() {
			for i := 0; i < round%3; i++ {
				c, err := r.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		})
		for range 10 {
			wg.Go(func() {
				c, err := net.DialTimeout("tcp", lis.Addr().String(), time.Second)
				if err != nil {
					return
				}
				defer c.Close()
				c.Write([]byte{tlsHandshake, 3, 1})
				c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				var b [1]byte
				c.Read(b[:])
			})
		}
		time.Sleep(time.Duration(round%4) * time.Millisecond)
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		// Accept after Close reports the closed listener, at once.
		done := make(chan error, 1)
		go func() { _, err := r.Accept(); done <- err }()
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("Accept after Close returned a connection")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Accept after Close blocks")
		}
	}
}

// TestRequireTLSCloseReleasesConnections: Close does not wait for clients
// that connected and sent nothing, nor leave their connections open until
// the sniffing timeout.
func TestRequireTLSCloseReleasesConnections(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := RequireTLS(lis, nil)
	var conns []net.Conn
	for range 5 {
		c, err := net.DialTimeout("tcp", lis.Addr().String(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	time.Sleep(50 * time.Millisecond) // let the accept loop take them
	start := time.Now()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > sniffTimeout/2 {
		t.Fatalf("Close took %v: it waited for silent clients", d)
	}
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		var b [1]byte
		if _, err := c.Read(b[:]); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("connection %d still open after Close (read: %v)", i, err)
		}
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// flakyListener fails its first Accept with a temporary error.
type flakyListener struct {
	net.Listener
	failed bool
}

type tempError struct{}

func (tempError) Error() string   { return "too many open files" }
func (tempError) Timeout() bool   { return false }
func (tempError) Temporary() bool { return true }

func (f *flakyListener) Accept() (net.Conn, error) {
	if !f.failed {
		f.failed = true
		return nil, tempError{}
	}
	return f.Listener.Accept()
}

// TestRequireTLSAcceptErrorPassedOn: a failed accept of the wrapped
// listener reaches Accept (the gRPC server backs off on a temporary one)
// and the listener goes on accepting afterwards.
func TestRequireTLSAcceptErrorPassedOn(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := RequireTLS(&flakyListener{Listener: lis}, nil)
	defer r.Close()
	if _, err := r.Accept(); !errors.Is(err, tempError{}) {
		t.Fatalf("first Accept: %v, want the wrapped listener's error", err)
	}
	c, err := net.DialTimeout("tcp", lis.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte{tlsHandshake, 3, 3}); err != nil {
		t.Fatal(err)
	}
	got := make(chan net.Conn, 1)
	go func() {
		sc, err := r.Accept()
		if err != nil {
			t.Error(err)
		}
		got <- sc
	}()
	select {
	case sc := <-got:
		if sc == nil {
			return
		}
		defer sc.Close()
		var b [3]byte
		if _, err := io.ReadFull(sc, b[:]); err != nil || b != [3]byte{tlsHandshake, 3, 3} {
			t.Errorf("accepted connection reads %x, %v; want the client's first bytes", b, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no connection accepted after a temporary accept error")
	}
}
