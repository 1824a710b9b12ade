package server

import (
	"net"
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
