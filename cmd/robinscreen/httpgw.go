package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/robinscreen/robinscreen/server"
	"github.com/robinscreen/robinscreen/server/gateway"
)

// HTTP listener timeouts: a batch of 10,000 contacts must get through a
// slow link, an idle keep-alive connection is not kept for long.
const (
	httpReadHeaderTimeout = 10 * time.Second
	httpReadTimeout       = 5 * time.Minute
	httpWriteTimeout      = 5 * time.Minute
	httpIdleTimeout       = 2 * time.Minute
)

// httpGateway is serve's HTTP/JSON listener (--http-listen): the gateway
// handler, forwarding over an in-memory connection to the gRPC server.
type httpGateway struct {
	local *server.LocalListener
	conn  *grpc.ClientConn
	lis   net.Listener // plain TCP or TLS
	tls   bool
	srv   *http.Server
}

// checkHTTPListen applies serve's exposure rules to the HTTP address: it is
// refused like --listen (plaintext or open on a non-loopback address without
// --insecure), with the flag named.
func (f *securityFlags) checkHTTPListen(addr string) error {
	if addr == "" {
		return nil
	}
	if err := f.check(addr); err != nil {
		return fmt.Errorf("--http-listen: %w", err)
	}
	return nil
}

// openHTTPGateway opens the gateway's in-memory listener and its connection
// to it (Main.Run serves the listener on the gRPC server), and the HTTP
// listener on addr, with TLS 1.3 from the --tls-* flags when set (the
// same certificate, and the same client CA for mutual TLS, as gRPC). On
// error, what was opened is closed and the error names the flag.
func openHTTPGateway(addr string, sec *securityFlags, log *slog.Logger) (_ *httpGateway, err error) {
	g := &httpGateway{local: server.NewLocalListener()}
	defer func() {
		if err != nil {
			g.close()
		}
	}()
	g.conn, err = grpc.NewClient("passthrough:///robinscreen-local",
		grpc.WithContextDialer(g.local.DialContext),
		grpc.WithTransportCredentials(insecure.NewCredentials()), // in memory, never on a network
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(gateway.MaxBodyBytes), grpc.MaxCallSendMsgSize(gateway.MaxBodyBytes)))
	if err != nil {
		return nil, fmt.Errorf("HTTP gateway: %w", err)
	}
	h, err := gateway.New(g.conn, log)
	if err != nil {
		return nil, fmt.Errorf("HTTP gateway: %w", err)
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, flagError(err, "--http-listen", addr)
	}
	g.lis = lis
	if sec.tlsOn() {
		cfg, err := server.TLSConfig(sec.tlsCert, sec.tlsKey, sec.clientCA)
		if err != nil {
			return nil, flagError(err, "--tls-cert", sec.tlsCert, "--tls-key", sec.tlsKey, "--client-ca", sec.clientCA)
		}
		cfg.NextProtos = []string{"h2", "http/1.1"}
		g.lis, g.tls = tls.NewListener(lis, cfg), true
	}
	g.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: httpReadHeaderTimeout,
		ReadTimeout:       httpReadTimeout,
		WriteTimeout:      httpWriteTimeout,
		IdleTimeout:       httpIdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return g, nil
}

// serve serves HTTP until shutdown; it returns nil after a shutdown. The
// gRPC server must also serve g.local (Main.Run does).
func (g *httpGateway) serve() error {
	err := g.srv.Serve(g.lis)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// url is the listener's base URL, for the log.
func (g *httpGateway) url() string {
	scheme := "http"
	if g.tls {
		scheme = "https"
	}
	return scheme + "://" + g.lis.Addr().String()
}

// close closes the HTTP server and its connections, the gateway's
// connection and the in-memory listener. It may be called more than once.
func (g *httpGateway) close() {
	if g.srv != nil {
		g.srv.Close()
	} else if g.lis != nil {
		g.lis.Close()
	}
	if g.conn != nil {
		g.conn.Close()
	}
	g.local.Close()
}
