package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"google.golang.org/grpc"

	"github.com/robinscreen/robinscreen/clients"
)

// tokenEnv is read when neither --token nor --token-file is given, so a
// token need not appear in the process list.
const tokenEnv = "ROBINSCREEN_TOKEN"

// clientFlags are the connection flags shared by every client command
// (robinscreen admin ...): where the server is, how to secure the
// connection and which bearer token to present. The policy behind them is
// the client module's (clients.Security), which the call-list tool
// (robinscreen-screen) uses with the same flag names.
type clientFlags struct {
	addr, caFile, certFile, keyFile, serverName, token, tokenFile string
	useTLS, insecure                                              bool
	// addrs are the --addr flags given (replicas, see replicas); addr is
	// the one address dial connects to.
	addrs addrList
}

// register adds --addr, --tls, --ca, --cert, --key, --server-name, --token,
// --token-file and --insecure to fs.
func (c *clientFlags) register(fs *flag.FlagSet) {
	c.addr = "127.0.0.1:50051"
	fs.Var(&c.addrs, "addr", "server address host:port (default 127.0.0.1:50051); repeat it, or give one DNS name that resolves to several addresses, for the replicas of a fleet")
	fs.BoolVar(&c.useTLS, "tls", false, "connect with TLS 1.3 verified by the system roots (implied by --ca, --cert)")
	fs.StringVar(&c.caFile, "ca", "", "PEM CA certificate(s) verifying the server; enables TLS")
	fs.StringVar(&c.certFile, "cert", "", "PEM client certificate for mutual TLS (with --key; enables TLS)")
	fs.StringVar(&c.keyFile, "key", "", "PEM private key of --cert")
	fs.StringVar(&c.serverName, "server-name", "", "TLS server name to verify (default the host of --addr)")
	fs.StringVar(&c.token, "token", "", "bearer token (prefer --token-file or $"+tokenEnv+")")
	fs.StringVar(&c.tokenFile, "token-file", "", "file whose first line is the bearer token")
	fs.BoolVar(&c.insecure, "insecure", false, "allow a plaintext connection to a non-loopback address")
}

// dial connects to c.addr under the clients' connection policy
// (clients.Security): TLS 1.3 at least when --tls, --ca or --cert is given,
// presenting the client certificate when --cert/--key are set; otherwise
// plaintext, which is refused for a non-loopback address unless --insecure.
// The token (from --token, --token-file or $ROBINSCREEN_TOKEN) is sent as
// "authorization: Bearer TOKEN" on every call. It returns an error for
// unreadable or invalid certificate/token files and refused plaintext
// (wrapping clients.ErrPlaintextRefused) and for several --addr flags
// (replicas is for those); the connection itself is
// established lazily by gRPC.
func (c *clientFlags) dial() (*grpc.ClientConn, error) {
	switch len(c.addrs) {
	case 0:
	case 1:
		c.addr = c.addrs[0]
	default:
		return nil, fmt.Errorf("%d addresses given with --addr (%s): this command talks to one server", len(c.addrs), c.addrs.String())
	}
	token, err := c.bearerToken()
	if err != nil {
		return nil, err
	}
	sec := clients.Security{InsecurePlaintext: c.insecure, Token: token}
	if c.useTLS || c.caFile != "" || c.certFile != "" || c.keyFile != "" {
		sec.TLS, err = clients.TLSFiles{CA: c.caFile, Cert: c.certFile, Key: c.keyFile, ServerName: c.serverName}.Config()
		if err != nil {
			return nil, err
		}
	}
	opts, err := sec.DialOptions(c.addr)
	if err != nil {
		if errors.Is(err, clients.ErrPlaintextRefused) {
			return nil, fmt.Errorf("refusing a plaintext connection to %s, which is not a loopback address: give --ca or --tls (TLS) or --insecure", c.addr)
		}
		return nil, err
	}
	return grpc.NewClient(c.addr, opts...)
}

// bearerToken returns the token from --token, --token-file or the
// environment, in that order ("" when none is given).
func (c *clientFlags) bearerToken() (string, error) {
	if c.token != "" && c.tokenFile != "" {
		return "", errors.New("give --token or --token-file, not both")
	}
	if c.token != "" {
		return strings.TrimSpace(c.token), nil
	}
	if c.tokenFile != "" {
		t, err := readTokenFile(c.tokenFile)
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		return t, nil
	}
	return strings.TrimSpace(os.Getenv(tokenEnv)), nil
}

// readTokenFile returns the bearer token on the first line of the file at
// path, trimmed. It returns the file system's errors, and an error for an
// empty first line.
func readTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	t := strings.TrimSpace(line)
	if t == "" {
		return "", fmt.Errorf("%s: empty first line", path)
	}
	return t, nil
}

// isLoopbackAddr reports whether the host of a host:port address is a
// loopback IP or "localhost" (clients.IsLoopbackTarget, so the server's
// listen checks and the clients' dial policy agree). An empty host
// (":50051", every interface) is not loopback.
func isLoopbackAddr(addr string) bool { return clients.IsLoopbackTarget(addr) }
