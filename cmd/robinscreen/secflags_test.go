package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

func TestIsLoopbackAddr(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:50051", true},
		{"127.3.2.1:1", true},
		{"localhost:50051", true},
		{"[::1]:50051", true},
		{"::1", true},
		{"0.0.0.0:50051", false},
		{":50051", false},
		{"[::]:50051", false},
		{"10.0.0.5:50051", false},
		{"example.com:443", false},
		{"localhost.example.com:443", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := isLoopbackAddr(tt.addr); got != tt.want {
				t.Errorf("isLoopbackAddr(%q) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
}

func TestSecurityFlagsCheck(t *testing.T) {
	tests := []struct {
		name   string
		listen string
		f      securityFlags
		err    string // "" = accepted
	}{
		{"loopback plaintext open", "127.0.0.1:50051", securityFlags{}, ""},
		{"all interfaces plaintext", ":50051", securityFlags{tokenFile: "t"}, "refusing to serve plaintext"},
		{"public plaintext", "10.0.0.1:50051", securityFlags{tokenFile: "t"}, "refusing to serve plaintext"},
		{"public plaintext --insecure", "10.0.0.1:50051", securityFlags{tokenFile: "t", insecure: true}, ""},
		{"public TLS without tokens", "0.0.0.0:50051", securityFlags{tlsCert: "c", tlsKey: "k"}, "open to every client"},
		{"public TLS with tokens", "0.0.0.0:50051", securityFlags{tlsCert: "c", tlsKey: "k", tokenFile: "t"}, ""},
		{"public mTLS without tokens", "0.0.0.0:50051", securityFlags{tlsCert: "c", tlsKey: "k", clientCA: "ca"}, ""},
		{"public open --insecure", "0.0.0.0:50051", securityFlags{insecure: true}, ""},
		{"cert without key", "127.0.0.1:1", securityFlags{tlsCert: "c"}, "together"},
		{"client CA without TLS", "127.0.0.1:1", securityFlags{clientCA: "ca"}, "--client-ca needs"},
		{"negative rate", "127.0.0.1:1", securityFlags{rateLimit: -1}, "negative"},
		{"negative stream idle timeout", "127.0.0.1:1", securityFlags{streamIdle: -time.Second}, "--stream-idle-timeout"},
		{"negative connection idle timeout", "127.0.0.1:1", securityFlags{connIdle: -time.Second}, "--conn-idle-timeout"},
		{"idle timeouts off", "127.0.0.1:1", securityFlags{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.f.check(tt.listen)
			if tt.err == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestClientFlagsDial(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	notPEM := filepath.Join(dir, "ca")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	tests := []struct {
		name string
		c    clientFlags
		err  string // "" = accepted
	}{
		{"loopback plaintext", clientFlags{addr: "127.0.0.1:50051"}, ""},
		{"loopback plaintext with token", clientFlags{addr: "localhost:50051", token: "x"}, ""},
		{"remote plaintext", clientFlags{addr: "10.1.2.3:50051"}, "refusing a plaintext connection"},
		{"remote plaintext --insecure", clientFlags{addr: "10.1.2.3:50051", insecure: true, token: "x"}, ""},
		{"token and token file", clientFlags{addr: "127.0.0.1:1", token: "x", tokenFile: empty}, "not both"},
		{"empty token file", clientFlags{addr: "127.0.0.1:1", tokenFile: empty}, "empty first line"},
		{"missing token file", clientFlags{addr: "127.0.0.1:1", tokenFile: filepath.Join(dir, "nope")}, "--token-file"},
		{"CA not PEM", clientFlags{addr: "10.1.2.3:1", caFile: notPEM}, "no PEM certificate"},
		{"cert without key", clientFlags{addr: "10.1.2.3:1", certFile: notPEM}, "together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := tt.c.dial()
			if err == nil {
				conn.Close()
			}
			if tt.err == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestServeRefusesExposedListener(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"plaintext on all interfaces", []string{"--listen", "0.0.0.0:0"}, "refusing to serve plaintext on 0.0.0.0:0"},
		{"TLS but open", []string{"--listen", "0.0.0.0:0", "--tls-cert", "c", "--tls-key", "k"}, "open to every client"},
		{"cert without key", []string{"--tls-cert", "c"}, "--tls-cert and --tls-key must be given together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"serve", "--data", t.TempDir()}, tt.args...)...)
			if code != 1 || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 1 and %q", code, stderr, tt.want)
			}
		})
	}
}

// writeTestPKI writes a CA and a server certificate for 127.0.0.1 and
// returns the CA, certificate and key file names.
func writeTestPKI(t *testing.T, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	pemFile := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "robinscreen"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	return pemFile("ca.pem", "CERTIFICATE", caDER), pemFile("server.pem", "CERTIFICATE", leafDER), pemFile("server-key.pem", "PRIVATE KEY", keyDER)
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestServeSecure runs the binary with TLS, a token file, an audit log and
// a metrics listener, and talks to it through clientFlags.dial.
func TestServeSecure(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	caFile, certFile, keyFile := writeTestPKI(t, dir)
	tokens := filepath.Join(dir, "tokens")
	os.WriteFile(tokens, []byte("# test\nscreen:"+sha256Hex("screen-tok")+":crm\nadmin:"+sha256Hex("admin-tok")+":ops\n"), 0o600)
	adminTokFile := filepath.Join(dir, "admin.token")
	os.WriteFile(adminTokFile, []byte("admin-tok\n"), 0o600)
	audit := filepath.Join(dir, "audit.jsonl")
	addr, maddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(binary(t), "serve", "--demo", "--data", filepath.Join(dir, "data"), "--listen", addr,
		"--tls-cert", certFile, "--tls-key", keyFile, "--token-file", tokens, "--audit-log", audit,
		"--metrics-listen", maddr, "--rate-limit", "100", "--max-streams", "20")
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()

	dial := func(c clientFlags) pb.ScreeningServiceClient {
		t.Helper()
		conn, err := c.dial()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return pb.NewScreeningServiceClient(conn)
	}
	screenTLS := clientFlags{addr: addr, caFile: caFile, token: "screen-tok"}
	conn, err := screenTLS.dial()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitServing(t, conn) // health over TLS, with or without a token
	req := &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_PHONE, Contact: &pb.Contact{Ref: "c-1", Name: "Søren Testesen",
		Address: "Fiktivvej 12, 2. tv, 2100 København Ø", Cpr: "1503821234", Phone: "+4512345678", Email: "soeren@example.test"}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	tests := []struct {
		name string
		call func() error
		code codes.Code
	}{
		{"screen token", func() error {
			resp, err := pb.NewScreeningServiceClient(conn).ScreenContact(ctx, req)
			if err == nil && resp.GetResult().GetDecision() != pb.Decision_DECISION_BLOCK {
				t.Errorf("decision = %v", resp.GetResult().GetDecision())
			}
			return err
		}, codes.OK},
		{"no token", func() error {
			_, err := dial(clientFlags{addr: addr, caFile: caFile}).ScreenContact(ctx, req)
			return err
		}, codes.Unauthenticated},
		{"plaintext client against the TLS listener", func() error {
			pc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				return err
			}
			defer pc.Close()
			_, err = pb.NewScreeningServiceClient(pc).ScreenContact(ctx, req)
			if st, _ := status.FromError(err); len(st.Details()) == 0 || !strings.Contains(fmt.Sprint(st.Details()), "TLS_REQUIRED") {
				t.Errorf("plaintext against TLS: no TLS_REQUIRED ErrorInfo in %v", err)
			}
			return err
		}, codes.Unavailable},
		{"wrong token", func() error {
			_, err := dial(clientFlags{addr: addr, caFile: caFile, token: "guess"}).ScreenContact(ctx, req)
			return err
		}, codes.Unauthenticated},
		{"screen token on DatasetService", func() error {
			_, err := pb.NewDatasetServiceClient(conn).GetDatasetStatus(ctx, &pb.GetDatasetStatusRequest{})
			return err
		}, codes.PermissionDenied},
		{"admin token file on DatasetService", func() error {
			c, err := (&clientFlags{addr: addr, caFile: caFile, tokenFile: adminTokFile}).dial()
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = pb.NewDatasetServiceClient(c).GetDatasetStatus(ctx, &pb.GetDatasetStatusRequest{})
			return err
		}, codes.OK},
		{"plaintext client against TLS listener", func() error {
			_, err := dial(clientFlags{addr: addr, token: "screen-tok"}).ScreenContact(ctx, req)
			return err
		}, codes.Unavailable},
		{"health without token", func() error {
			_, err := healthpb.NewHealthClient(mustDial(t, clientFlags{addr: addr, caFile: caFile})).Check(ctx, &healthpb.HealthCheckRequest{})
			return err
		}, codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := status.Code(tt.call()); got != tt.code {
				t.Fatalf("code = %v, want %v", got, tt.code)
			}
		})
	}

	resp, err := http.Get("http://" + maddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`robinscreen_requests_total{code="OK",method="ScreeningService/ScreenContact"} 1`,
		`robinscreen_contacts_screened_total{decision="BLOCK",method="ScreeningService/ScreenContact"} 1`,
		`robinscreen_requests_refused_total{method="ScreeningService/ScreenContact",reason="UNAUTHENTICATED"} 2`,
		`robinscreen_dataset_records{kind="robinson"}`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve exited with %v; stderr:\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(audit)
	if err != nil {
		t.Fatal(err)
	}
	var screened bool
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if rec["event"] == "screen" && rec["client"] == "crm" && rec["contacts"] == float64(1) {
			screened = true
		}
	}
	if !screened {
		t.Errorf("no screen record for client crm in the audit log:\n%s", b)
	}
	all := string(b) + stderr.String()
	for _, pd := range []string{"Testesen", "Fiktivvej", "1503821234", "4512345678", "soeren@", "screen-tok", "admin-tok", "guess"} {
		if strings.Contains(all, pd) {
			t.Errorf("audit or application log contains %q", pd)
		}
	}
	if !strings.Contains(stderr.String(), "bearer tokens required") {
		t.Errorf("no start message about tokens:\n%s", stderr.String())
	}
}

func mustDial(t *testing.T, c clientFlags) *grpc.ClientConn {
	t.Helper()
	conn, err := c.dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestServeOpenOnLoopback: with no token file the server says it is open.
func TestServeOpenOnLoopback(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	cmd := exec.Command(binary(t), "serve", "--demo", "--data", t.TempDir(), "--listen", freeAddr(t))
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), `"serving"`) {
		if time.Now().After(deadline) {
			t.Fatalf("not serving:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(stderr.String(), "no token file: the server is open to every client on loopback") {
		t.Errorf("no open-server warning:\n%s", stderr.String())
	}
}

func TestTokenCommand(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		role string
	}{
		{"admin with name", []string{"token", "--role", "admin", "--name", "ops"}, 0, "admin"},
		{"default screen", []string{"token"}, 0, "screen"},
		{"bad role", []string{"token", "--role", "root"}, 1, ""},
		{"bad name", []string{"token", "--name", "a b"}, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o, e strings.Builder
			if code := run(tt.args, &o, &e); code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, e.String())
			}
			if tt.code != 0 {
				return
			}
			var tok, line string
			for _, l := range strings.Split(o.String(), "\n") {
				if v, ok := strings.CutPrefix(l, "token:"); ok {
					tok = strings.TrimSpace(v)
				}
				if v, ok := strings.CutPrefix(l, "token-file line:"); ok {
					line = strings.TrimSpace(v)
				}
			}
			if len(tok) < 40 || !strings.HasPrefix(line, tt.role+":"+sha256Hex(tok)) {
				t.Errorf("token %q, line %q", tok, line)
			}
		})
	}
}
