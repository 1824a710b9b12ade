package server

import (
	"context"
	"net"
	"strings"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"
)

// ForwardedClientKey is the metadata key in which the in-process HTTP
// gateway names the HTTP client behind a call: "cert:NAME" for a verified
// client certificate's common name, else "peer:IP". The server reads it only
// on connections of a LocalListener, which nothing outside the process can
// reach; on any other connection it is ignored, so a gRPC client cannot
// choose the identity it is rate-limited and audited under.
const ForwardedClientKey = "x-robinscreen-forwarded-client"

// localBufferBytes is the in-memory buffer of each local connection.
const localBufferBytes = 1 << 20

// LocalListener is an in-memory listener for the in-process HTTP gateway:
// the gRPC server serves it besides its network listener, the gateway dials
// it with DialContext, and every call then passes the same interceptors
// (tokens, roles, rate limit, message limit, audit, metrics) as a call from
// the network. Its connections skip the TLS handshake (the HTTP listener
// did it) and carry the HTTP client's identity in ForwardedClientKey.
type LocalListener struct {
	bl *bufconn.Listener
}

// NewLocalListener returns an open LocalListener.
func NewLocalListener() *LocalListener {
	return &LocalListener{bl: bufconn.Listen(localBufferBytes)}
}

// Accept returns the next local connection; net.ErrClosed after Close.
func (l *LocalListener) Accept() (net.Conn, error) {
	c, err := l.bl.Accept()
	if err != nil {
		return nil, net.ErrClosed
	}
	return &localConn{Conn: c}, nil
}

// Close closes the listener; connections already accepted stay open until
// the server closes them.
func (l *LocalListener) Close() error { return l.bl.Close() }

// Addr returns the listener's address ("local").
func (l *LocalListener) Addr() net.Addr { return localAddr{} }

// DialContext opens a connection to the listener (for
// grpc.WithContextDialer). It returns an error when the listener is closed
// or ctx ends first.
func (l *LocalListener) DialContext(ctx context.Context, _ string) (net.Conn, error) {
	return l.bl.DialContext(ctx)
}

// localConn is the server side of a local connection; its remote address
// marks it as such.
type localConn struct{ net.Conn }

func (c *localConn) RemoteAddr() net.Addr { return localAddr{} }
func (c *localConn) LocalAddr() net.Addr  { return localAddr{} }

// localAddr is the address of both ends of a local connection. It can only
// be produced by this package.
type localAddr struct{}

func (localAddr) Network() string { return "local" }
func (localAddr) String() string  { return "local" }

// localAuthInfo is the AuthInfo of a local connection under TLS
// credentials.
type localAuthInfo struct{ credentials.CommonAuthInfo }

func (localAuthInfo) AuthType() string { return "local" }

// localCreds passes local connections through without a handshake and
// hands every other connection to the wrapped credentials.
type localCreds struct {
	credentials.TransportCredentials
}

// ServerHandshake returns a local connection as it is and runs the wrapped
// handshake on any other.
func (c localCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	if _, ok := raw.(*localConn); ok {
		return raw, localAuthInfo{credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}}, nil
	}
	return c.TransportCredentials.ServerHandshake(raw)
}

func (c localCreds) Clone() credentials.TransportCredentials {
	return localCreds{c.TransportCredentials.Clone()}
}

// forwardedIdentity is the identity the gateway forwarded for a call on a
// local connection. A call without a well-formed one (which the gateway
// never sends) is named "gateway", so that it is still limited and audited.
func forwardedIdentity(ctx context.Context, role Role) Identity {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get(ForwardedClientKey)
	if len(vals) == 1 {
		source, name, ok := strings.Cut(vals[0], ":")
		if ok && name != "" && len(name) <= 256 && (source == "cert" || source == "peer") {
			return Identity{Name: name, Source: source, Role: role}
		}
	}
	return Identity{Name: "gateway", Source: "peer", Role: role}
}
