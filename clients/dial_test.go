package clients_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/robinscreen/robinscreen/clients"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

func TestIsLoopbackTarget(t *testing.T) {
	tests := []struct {
		target string
		want   bool
	}{
		{"127.0.0.1:50051", true},
		{"127.9.9.9:1", true},
		{"[::1]:50051", true},
		{"localhost:50051", true},
		{"LOCALHOST", true},
		{"dns:///localhost:50051", true},
		{"passthrough:///127.0.0.1:1", true},
		{"unix:///run/robinscreen.sock", true},
		{"10.1.2.3:50051", false},
		{"[2001:db8::1]:50051", false},
		{":50051", false},
		{"0.0.0.0:50051", false},
		{"screening.example.org:443", false},
		{"dns:///screening.example.org:443", false},
		{"localhost.example.org:443", false},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			if got := clients.IsLoopbackTarget(tc.target); got != tc.want {
				t.Errorf("IsLoopbackTarget(%q) = %v, want %v", tc.target, got, tc.want)
			}
		})
	}
}

// TestDialPlaintextPolicy: plaintext only to loopback unless explicitly
// allowed; TLS to anywhere.
func TestDialPlaintextPolicy(t *testing.T) {
	tests := []struct {
		name    string
		target  string
		opts    []clients.Option
		wantErr error
	}{
		{"loopback plaintext", "127.0.0.1:50051", nil, nil},
		{"loopback plaintext with token", "localhost:50051", []clients.Option{clients.WithBearerToken("t")}, nil},
		{"remote plaintext refused", "10.1.2.3:50051", nil, clients.ErrPlaintextRefused},
		{"remote plaintext with token refused", "10.1.2.3:50051", []clients.Option{clients.WithBearerToken("t")}, clients.ErrPlaintextRefused},
		{"every interface refused", ":50051", nil, clients.ErrPlaintextRefused},
		{"remote plaintext allowed explicitly", "10.1.2.3:50051", []clients.Option{clients.WithInsecurePlaintext()}, nil},
		{"remote tls", "10.1.2.3:50051", []clients.Option{clients.WithTLS(&tls.Config{})}, nil},
		{"tls capped at 1.2", "10.1.2.3:50051", []clients.Option{clients.WithTLS(&tls.Config{MaxVersion: tls.VersionTLS12})}, clients.ErrTLSVersion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := clients.Dial(tc.target, tc.opts...)
			if err == nil {
				c.Close()
			}
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Dial(%q) = %v, want %v", tc.target, err, tc.wantErr)
			}
		})
	}
}

// allowAll answers every contact ALLOW and records the bearer token seen.
type allowAll struct {
	pb.UnimplementedScreeningServiceServer
	token chan string
}

func (a *allowAll) ScreenContact(ctx context.Context, req *pb.ScreenContactRequest) (*pb.ScreenContactResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	select {
	case a.token <- strings.Join(md.Get("authorization"), ","):
	default:
	}
	return &pb.ScreenContactResponse{Result: &pb.ScreeningResult{Ref: req.GetContact().GetRef(), Decision: pb.Decision_DECISION_ALLOW}}, nil
}

// serveTLS starts a ScreeningService on loopback with cfg (nil: plaintext)
// and returns its address.
func serveTLS(t *testing.T, cfg *tls.Config, svc pb.ScreeningServiceServer) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var opts []grpc.ServerOption
	if cfg != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(cfg)))
	}
	srv := grpc.NewServer(opts...)
	pb.RegisterScreeningServiceServer(srv, svc)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// TestTLSVersion: a server that offers TLS 1.2 at most is refused in the
// handshake, whatever MinVersion the caller's config asks for; the same
// server allowing TLS 1.3 is reached.
func TestTLSVersion(t *testing.T) {
	ca, caKey := newCA(t)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	serverCert := leafCert(t, ca, caKey, "127.0.0.1", false)
	tests := []struct {
		name      string
		serverMax uint16
		clientMin uint16
		wantCode  codes.Code
	}{
		{"tls 1.3 server", 0, 0, codes.OK},
		{"tls 1.2 server refused", tls.VersionTLS12, 0, codes.Unavailable},
		{"tls 1.2 server refused though the caller asks for 1.2", tls.VersionTLS12, tls.VersionTLS12, codes.Unavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{serverCert}, MaxVersion: tc.serverMax}, &allowAll{})
			c, err := clients.Dial(addr, clients.WithTLS(&tls.Config{RootCAs: pool, MinVersion: tc.clientMin}), clients.WithRetry(1, time.Millisecond, time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err = c.ScreenContact(ctx, pb.Channel_CHANNEL_POST, pb.Purpose_PURPOSE_OTHER, &pb.Contact{Ref: "1"})
			if status.Code(err) != tc.wantCode {
				t.Fatalf("ScreenContact: %v, want code %v", err, tc.wantCode)
			}
		})
	}
}

// TestTokenOverLoopbackPlaintext: the token reaches a plaintext server on
// loopback (where the policy allows plaintext).
func TestTokenOverLoopbackPlaintext(t *testing.T) {
	svc := &allowAll{token: make(chan string, 1)}
	addr := serveTLS(t, nil, svc)
	c, err := clients.Dial(addr, clients.WithBearerToken("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.ScreenContact(ctx, pb.Channel_CHANNEL_POST, pb.Purpose_PURPOSE_OTHER, &pb.Contact{Ref: "1"}); err != nil {
		t.Fatal(err)
	}
	if got := <-svc.token; got != "Bearer s3cret" {
		t.Fatalf("authorization = %q", got)
	}
}

func TestTLSFilesConfig(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := newCA(t)
	caFile := writePEM(t, dir, "ca.pem", "CERTIFICATE", ca.Raw)
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	leaf := leafCert(t, ca, caKey, "client", true)
	keyDER, err := x509.MarshalECPrivateKey(leaf.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	certFile := writePEM(t, dir, "client.pem", "CERTIFICATE", leaf.Certificate[0])
	keyFile := writePEM(t, dir, "client.key", "EC PRIVATE KEY", keyDER)
	tests := []struct {
		name    string
		files   clients.TLSFiles
		wantErr string
		certs   int
	}{
		{"system roots", clients.TLSFiles{}, "", 0},
		{"ca", clients.TLSFiles{CA: caFile, ServerName: "screening"}, "", 0},
		{"mutual tls", clients.TLSFiles{CA: caFile, Cert: certFile, Key: keyFile}, "", 1},
		{"ca not pem", clients.TLSFiles{CA: notPEM}, "no PEM certificate", 0},
		{"ca missing", clients.TLSFiles{CA: filepath.Join(dir, "nope")}, "--ca", 0},
		{"cert without key", clients.TLSFiles{Cert: certFile}, "together", 0},
		{"key is not the cert's", clients.TLSFiles{Cert: certFile, Key: notPEM}, "--cert/--key", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := tc.files.Config()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Config() error = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MinVersion != tls.VersionTLS13 || cfg.ServerName != tc.files.ServerName || len(cfg.Certificates) != tc.certs || (tc.files.CA != "") != (cfg.RootCAs != nil) {
				t.Fatalf("Config() = min %x, name %q, %d certs, roots %v", cfg.MinVersion, cfg.ServerName, len(cfg.Certificates), cfg.RootCAs != nil)
			}
		})
	}
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func newCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func leafCert(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, name string, client bool) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	} else {
		tmpl.IPAddresses = []net.IP{net.ParseIP(name)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
