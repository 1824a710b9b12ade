// Package tcpproxy is a loopback TCP forwarder for fault tests: a server
// reaches a dependency (PostgreSQL) through it, and the test cuts the line
// with Stop, as a network failure or a database going down would.
package tcpproxy

import (
	"io"
	"net"
	"sync"
)

// Proxy forwards connections from its loopback address to a target.
type Proxy struct {
	lis    net.Listener
	target string

	mu    sync.Mutex
	conns []net.Conn
	down  bool
	wg    sync.WaitGroup
}

// Start listens on 127.0.0.1 (a free port) and forwards every connection
// to target. It returns the listener's error.
func Start(target string) (*Proxy, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{lis: lis, target: target}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the proxy's host:port.
func (p *Proxy) Addr() string { return p.lis.Addr().String() }

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.lis.Accept()
		if err != nil {
			return
		}
		t, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			t.Close()
			return
		}
		p.conns = append(p.conns, c, t)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, t)
		go p.pipe(t, c)
	}
}

func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// Stop closes the listener and every forwarded connection, and waits for
// the forwarding goroutines: the target is unreachable from then on.
func (p *Proxy) Stop() {
	p.mu.Lock()
	p.down = true
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	p.lis.Close()
	for _, c := range conns {
		c.Close()
	}
	p.wg.Wait()
}
