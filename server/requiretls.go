package server

import (
	"bufio"
	"log/slog"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// sniffTimeout bounds the wait for a new connection's first byte.
const sniffTimeout = 10 * time.Second

// RequireTLS wraps the listener of a TLS server. Connections that open with
// a TLS handshake are handed to the server as they are. Any other
// connection — a client that forgot TLS — is answered by a plaintext gRPC
// server that refuses every call with UNAVAILABLE and an ErrorInfo
// (reason TLS_REQUIRED), so the client learns why instead of seeing a bare
// handshake failure. That server processes no request and reads nothing
// but the call's name.
//
// Closing the returned listener closes lis, closes the connections still
// waiting to be classified or accepted, stops the refusing server and
// waits for every goroutine of the listener to end; Accept then returns
// net.ErrClosed. Errors of lis.Accept other than its closing are passed on
// to Accept, so that the gRPC server retries temporary ones as it does on
// a plain listener.
func RequireTLS(lis net.Listener, log *slog.Logger) net.Listener {
	return RequireTLSHealth(lis, log, nil)
}

// RequireTLSHealth is RequireTLS whose plaintext server also answers the
// standard health service (grpc.health.v1) from hs, when hs is not nil:
// Kubernetes' native gRPC probes cannot speak TLS, and health reports no
// more than what a load balancer may know (SERVING or NOT_SERVING). Every
// other call stays refused with TLS_REQUIRED.
func RequireTLSHealth(lis net.Listener, log *slog.Logger, hs healthpb.HealthServer) net.Listener {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &tlsSniffer{Listener: lis, log: log, ready: make(chan accepted), closed: make(chan struct{}),
		sniffing: map[net.Conn]struct{}{}, plain: &chanListener{addr: lis.Addr(), conns: make(chan net.Conn), done: make(chan struct{})}}
	r.refuser = grpc.NewServer(grpc.UnknownServiceHandler(func(any, grpc.ServerStream) error {
		return refuse(ReasonTLSRequired, "this server accepts TLS connections only", nil)
	}))
	if hs != nil {
		healthpb.RegisterHealthServer(r.refuser, hs)
		r.health = true
	}
	r.wg.Go(func() { r.refuser.Serve(r.plain) })
	r.wg.Go(r.acceptLoop)
	return r
}

// tlsSniffer is the listener RequireTLS returns. Its goroutines (the
// accept loop, one per connection being classified, the refusing server)
// are counted in wg; none of them outlives Close.
type tlsSniffer struct {
	net.Listener
	log *slog.Logger
	// ready hands what the accept loop and the per-connection goroutines
	// produced to Accept. It is never closed: its senders select on
	// closed instead.
	ready chan accepted
	// closed is closed by Close, before anything else is torn down.
	closed    chan struct{}
	closeOnce sync.Once
	closeErr  error
	// mu guards sniffing and shut: the connections whose first byte is
	// awaited, which Close closes so that no goroutine waits on them.
	mu       sync.Mutex
	sniffing map[net.Conn]struct{}
	shut     bool
	wg       sync.WaitGroup
	plain    *chanListener
	refuser  *grpc.Server
	// health: the plaintext server answers grpc.health.v1.
	health bool
}

// accepted is a TLS connection, or an error of the wrapped listener.
type accepted struct {
	c   net.Conn
	err error
}

// tlsHandshake is the first byte of a TLS record carrying a handshake.
const tlsHandshake = 0x16

func (r *tlsSniffer) acceptLoop() {
	for {
		c, err := r.Listener.Accept()
		if err != nil {
			select {
			case r.ready <- accepted{err: err}:
				continue
			case <-r.closed:
				return
			}
		}
		if !r.track(c) {
			c.Close()
			return
		}
		r.wg.Go(func() { r.sniff(c) })
	}
}

// track records c as being classified; false means the listener is closed.
func (r *tlsSniffer) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.shut {
		return false
	}
	r.sniffing[c] = struct{}{}
	return true
}

// untrack ends c's classification; false means Close has closed it.
func (r *tlsSniffer) untrack(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.sniffing, c)
	return !r.shut
}

// sniff reads c's first byte and hands c to Accept (a TLS handshake) or to
// the refusing server (anything else).
func (r *tlsSniffer) sniff(c net.Conn) {
	br := bufio.NewReaderSize(c, 512)
	c.SetReadDeadline(time.Now().Add(sniffTimeout))
	first, err := br.Peek(1)
	c.SetReadDeadline(time.Time{})
	if !r.untrack(c) || err != nil {
		c.Close()
		return
	}
	pc := &peekedConn{Conn: c, r: br}
	if first[0] == tlsHandshake {
		select {
		case r.ready <- accepted{c: pc}:
		case <-r.closed: // nobody accepts any more
			c.Close()
		}
		return
	}
	if r.health {
		// Probes connect every few seconds: not worth a warning each.
		r.log.Debug("plaintext connection to the TLS listener: health checks only", "peer", c.RemoteAddr().String())
	} else {
		r.log.Warn("plaintext connection to the TLS listener refused", "peer", c.RemoteAddr().String())
	}
	if !r.plain.push(pc) {
		c.Close()
	}
}

// Accept returns the next connection that opened with a TLS handshake, or
// the next error of the wrapped listener; net.ErrClosed after Close.
func (r *tlsSniffer) Accept() (net.Conn, error) {
	select {
	case <-r.closed:
		return nil, net.ErrClosed
	case a := <-r.ready:
		select {
		case <-r.closed: // Close ran meanwhile: hand nothing out after it
			if a.c != nil {
				a.c.Close()
			}
			return nil, net.ErrClosed
		default:
			return a.c, a.err
		}
	}
}

// Close closes the listener as RequireTLS describes and returns the error
// of closing the wrapped listener. Calls after the first return the same.
func (r *tlsSniffer) Close() error {
	r.closeOnce.Do(func() {
		close(r.closed)
		r.closeErr = r.Listener.Close()
		r.mu.Lock()
		r.shut = true
		for c := range r.sniffing {
			c.Close()
		}
		clear(r.sniffing)
		r.mu.Unlock()
		r.plain.Close()
		r.refuser.Stop()
		r.wg.Wait()
	})
	return r.closeErr
}

// peekedConn replays the bytes read while sniffing.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (p *peekedConn) Read(b []byte) (int, error) { return p.r.Read(b) }

// chanListener is a net.Listener fed from a channel.
type chanListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

// push hands c to Accept; false means the listener is closed.
func (l *chanListener) push(c net.Conn) bool {
	select {
	case <-l.done:
		return false
	default:
	}
	select {
	case l.conns <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }
