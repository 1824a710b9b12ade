package server

import (
	"bufio"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

// ReasonTLSRequired is the ErrorInfo reason a plaintext client gets from a
// TLS listener.
const ReasonTLSRequired = "TLS_REQUIRED"

// RequireTLS wraps the listener of a TLS server. Connections that open with
// a TLS handshake are handed to the server as they are. Any other
// connection — a client that forgot TLS — is answered by a plaintext gRPC
// server that refuses every call with UNAVAILABLE and an ErrorInfo
// (reason TLS_REQUIRED), so the client learns why instead of seeing a bare
// handshake failure. That server processes no request and reads nothing
// but the call's name. Closing the returned listener closes lis and stops
// the refusing server.
func RequireTLS(lis net.Listener, log *slog.Logger) net.Listener {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &tlsSniffer{Listener: lis, tls: make(chan net.Conn), done: make(chan struct{}), plain: &chanListener{addr: lis.Addr(), conns: make(chan net.Conn), done: make(chan struct{})}}
	r.refuser = grpc.NewServer(grpc.UnknownServiceHandler(func(any, grpc.ServerStream) error {
		return withDetails(codes.Unavailable, "this server accepts TLS connections only", ReasonTLSRequired, nil, nil)
	}))
	go r.refuser.Serve(r.plain)
	go r.acceptLoop(log)
	return r
}

type tlsSniffer struct {
	net.Listener
	// tls hands TLS connections to Accept. It is never closed: the
	// per-connection goroutines that send on it may outlive the accept
	// loop, so they select on done instead.
	tls chan net.Conn
	// done is closed when the accept loop ends; err, written before, says
	// why.
	done    chan struct{}
	err     error
	plain   *chanListener
	refuser *grpc.Server
	once    sync.Once
}

// tlsHandshake is the first byte of a TLS record carrying a handshake.
const tlsHandshake = 0x16

func (r *tlsSniffer) acceptLoop(log *slog.Logger) {
	for {
		c, err := r.Listener.Accept()
		if err != nil {
			r.err = err
			close(r.done)
			return
		}
		go func() {
			br := bufio.NewReaderSize(c, 512)
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			first, err := br.Peek(1)
			c.SetReadDeadline(time.Time{})
			if err != nil {
				c.Close()
				return
			}
			pc := &peekedConn{Conn: c, r: br}
			if first[0] == tlsHandshake {
				select {
				case r.tls <- pc:
				case <-r.done: // the listener is closed: nobody accepts
					c.Close()
				}
				return
			}
			log.Warn("plaintext connection to the TLS listener refused", "peer", c.RemoteAddr().String())
			if !r.plain.push(pc) {
				c.Close()
			}
		}()
	}
}

// Accept returns the next connection that opened with a TLS handshake.
func (r *tlsSniffer) Accept() (net.Conn, error) {
	select {
	case c := <-r.tls:
		return c, nil
	case <-r.done:
		if r.err != nil {
			return nil, r.err
		}
		return nil, net.ErrClosed
	}
}

// Close closes the listener and stops the refusing server.
func (r *tlsSniffer) Close() error {
	err := r.Listener.Close()
	r.once.Do(func() {
		r.plain.Close()
		r.refuser.Stop()
	})
	return err
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

func (l *chanListener) push(c net.Conn) bool {
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
		return nil, errors.New("listener closed")
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }
