package clients

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// MinTLSVersion is the lowest TLS version any robinscreen client accepts.
// Call lists carry personal numbers: a server offering only TLS 1.2 or
// older is refused during the handshake.
const MinTLSVersion = tls.VersionTLS13

// ErrPlaintextRefused is returned (wrapped) by Security.DialOptions and Dial
// for a plaintext connection to an address that is not loopback when
// plaintext was not explicitly allowed (Security.InsecurePlaintext,
// WithInsecurePlaintext, the CLIs' --insecure).
var ErrPlaintextRefused = errors.New("robinscreen: refusing a plaintext connection to an address that is not loopback")

// ErrTLSVersion is returned by Security.DialOptions and Dial for a TLS
// configuration whose MaxVersion is below MinTLSVersion.
var ErrTLSVersion = errors.New("robinscreen: the TLS configuration allows no version at or above TLS 1.3")

// Security is the one connection policy of robinscreen's clients: the Go
// client (Dial), the admin commands of the robinscreen binary and the
// call-list tool build their connections through it.
//
//   - With TLS set, the connection uses TLS, at least MinTLSVersion (a
//     lower MinVersion is raised). A config carrying a client certificate
//     does mutual TLS.
//   - Without TLS, the connection is plaintext, which is refused for an
//     address that is not loopback (or a Unix socket) unless
//     InsecurePlaintext is set.
//   - Token, when not empty, is sent as "authorization: Bearer TOKEN" on
//     every call; over plaintext only where plaintext is allowed.
type Security struct {
	TLS               *tls.Config
	InsecurePlaintext bool
	Token             string
}

// DialOptions returns the gRPC dial options that secure a connection to
// target (host:port, or a gRPC target such as dns:///host:port or
// unix:///path) under s. It returns an error wrapping ErrPlaintextRefused
// for refused plaintext and ErrTLSVersion for a TLS config capped below
// TLS 1.3; it does not connect.
func (s Security) DialOptions(target string) ([]grpc.DialOption, error) {
	var opts []grpc.DialOption
	if s.TLS != nil {
		cfg := s.TLS.Clone()
		if cfg.MaxVersion != 0 && cfg.MaxVersion < MinTLSVersion {
			return nil, ErrTLSVersion
		}
		cfg.MinVersion = max(cfg.MinVersion, MinTLSVersion)
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	} else {
		if !s.InsecurePlaintext && !IsLoopbackTarget(target) {
			return nil, fmt.Errorf("%w (%s): use TLS, or allow plaintext explicitly", ErrPlaintextRefused, target)
		}
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	if s.Token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearerToken{token: s.Token, requireTLS: s.TLS != nil}))
	}
	return opts, nil
}

// IsLoopbackTarget reports whether a gRPC target names this machine: a Unix
// socket, "localhost" or a loopback IP, with or without a port and a
// dns:/// or passthrough:/// scheme. An empty host (":50051") is not
// loopback.
func IsLoopbackTarget(target string) bool {
	if strings.HasPrefix(target, "unix:") || strings.HasPrefix(target, "unix-abstract:") {
		return true
	}
	for _, scheme := range []string{"dns:///", "passthrough:///"} {
		target = strings.TrimPrefix(target, scheme)
	}
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		host = target
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// TLSFiles names the PEM files of a TLS client configuration, as the CLIs'
// --ca, --cert, --key and --server-name flags give them.
type TLSFiles struct {
	// CA holds the CA certificates that verify the server; empty means the
	// system roots.
	CA string
	// Cert and Key are the client certificate and key for mutual TLS; both
	// or neither.
	Cert, Key string
	// ServerName is the name verified in the server's certificate; empty
	// means the host of the address dialled.
	ServerName string
}

// Config reads the files into a TLS configuration with MinVersion
// MinTLSVersion. It returns an error (naming the flag and file, never their
// contents) when a file cannot be read, the CA file holds no PEM
// certificate, only one of Cert and Key is given, or the key pair is
// invalid.
func (f TLSFiles) Config() (*tls.Config, error) {
	if (f.Cert == "") != (f.Key == "") {
		return nil, errors.New("--cert and --key must be given together")
	}
	cfg := &tls.Config{MinVersion: MinTLSVersion, ServerName: f.ServerName}
	if f.CA != "" {
		pem, err := os.ReadFile(f.CA)
		if err != nil {
			return nil, fmt.Errorf("--ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca %s: no PEM certificate found", f.CA)
		}
		cfg.RootCAs = pool
	}
	if f.Cert != "" {
		cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, fmt.Errorf("--cert/--key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
