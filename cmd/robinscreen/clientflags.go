package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// tokenEnv is read when neither --token nor --token-file is given, so a
// token need not appear in the process list.
const tokenEnv = "ROBINSCREEN_TOKEN"

// clientFlags are the connection flags shared by every client command
// (robinscreen admin ...): where the server is, how to secure the
// connection and which bearer token to present.
type clientFlags struct {
	addr, caFile, certFile, keyFile, token, tokenFile string
	insecure                                          bool
}

// register adds --addr, --ca, --cert, --key, --token, --token-file and
// --insecure to fs.
func (c *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.addr, "addr", "127.0.0.1:50051", "server address host:port")
	fs.StringVar(&c.caFile, "ca", "", "PEM CA certificate(s) verifying the server; enables TLS")
	fs.StringVar(&c.certFile, "cert", "", "PEM client certificate for mutual TLS (with --key; enables TLS)")
	fs.StringVar(&c.keyFile, "key", "", "PEM private key of --cert")
	fs.StringVar(&c.token, "token", "", "bearer token (prefer --token-file or $"+tokenEnv+")")
	fs.StringVar(&c.tokenFile, "token-file", "", "file whose first line is the bearer token")
	fs.BoolVar(&c.insecure, "insecure", false, "allow a plaintext connection to a non-loopback address")
}

// dial connects to c.addr. It uses TLS 1.3 when --ca (or --cert) is given,
// presenting the client certificate when --cert/--key are set; otherwise
// plaintext, which is refused for a non-loopback address unless --insecure.
// The token (from --token, --token-file or $ROBINSCREEN_TOKEN) is sent as
// "authorization: Bearer TOKEN" on every call. It returns an error for
// unreadable or invalid certificate/token files and refused plaintext; the
// connection itself is established lazily by gRPC.
func (c *clientFlags) dial() (*grpc.ClientConn, error) {
	token, err := c.bearerToken()
	if err != nil {
		return nil, err
	}
	if (c.certFile == "") != (c.keyFile == "") {
		return nil, errors.New("--cert and --key must be given together")
	}
	useTLS := c.caFile != "" || c.certFile != ""
	var opts []grpc.DialOption
	if useTLS {
		cfg := &tls.Config{MinVersion: tls.VersionTLS13}
		if c.caFile != "" {
			pem, err := os.ReadFile(c.caFile)
			if err != nil {
				return nil, fmt.Errorf("--ca: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("--ca %s: no PEM certificate found", c.caFile)
			}
			cfg.RootCAs = pool
		}
		if c.certFile != "" {
			cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
			if err != nil {
				return nil, fmt.Errorf("--cert/--key: %w", err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	} else {
		if !c.insecure && !isLoopbackAddr(c.addr) {
			return nil, fmt.Errorf("refusing a plaintext connection to %s, which is not a loopback address: give --ca (TLS) or --insecure", c.addr)
		}
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	if token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearerCreds{token: token, requireTLS: useTLS}))
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
		b, err := os.ReadFile(c.tokenFile)
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		t := strings.TrimSpace(line)
		if t == "" {
			return "", fmt.Errorf("--token-file %s: empty first line", c.tokenFile)
		}
		return t, nil
	}
	return strings.TrimSpace(os.Getenv(tokenEnv)), nil
}

// bearerCreds sends the token as an authorization header. requireTLS is
// false only for plaintext connections already allowed by dial (loopback or
// --insecure).
type bearerCreds struct {
	token      string
	requireTLS bool
}

func (b bearerCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

func (b bearerCreds) RequireTransportSecurity() bool { return b.requireTLS }

// isLoopbackAddr reports whether the host of a host:port address is a
// loopback IP or "localhost". An empty host (":50051", every interface) is
// not loopback.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
