package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/store"
	"github.com/robinscreen/robinscreen/store/suppressbadger"
	"github.com/robinscreen/robinscreen/suppress"
)

// Tokens of the test token file.
const (
	screenToken = "s3cr3t-screen-token"
	adminToken  = "s3cr3t-admin-token"
	otherToken  = "s3cr3t-other-screen-token"
)

func testTokenFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tokens")
	body := "# robinscreen tokens\n\n" +
		"screen:" + HashToken(screenToken) + ":crm-batch\n" +
		"admin:" + strings.ToUpper(HashToken(adminToken)) + ":ops\n" +
		"screen:" + HashToken(otherToken) + "\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// pki is a CA with a server certificate for 127.0.0.1/localhost and a client
// certificate, written as PEM files.
type pki struct {
	dir                                 string
	caFile, certFile, keyFile           string
	clientCAFile, clientCert, clientKey string
	pool                                *x509.CertPool
	clientPair                          tls.Certificate
	strangerPair                        tls.Certificate // signed by another CA
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	p := &pki{dir: dir}
	caCert, caKey := makeCA(t, "robinscreen test CA")
	clientCA, clientCAKey := makeCA(t, "robinscreen test client CA")
	otherCA, otherCAKey := makeCA(t, "some other CA")
	p.caFile = writePEM(t, dir, "ca.pem", "CERTIFICATE", caCert.Raw)
	p.clientCAFile = writePEM(t, dir, "client-ca.pem", "CERTIFICATE", clientCA.Raw)
	srvDER, srvKey := makeLeaf(t, caCert, caKey, "localhost", true)
	p.certFile = writePEM(t, dir, "server.pem", "CERTIFICATE", srvDER)
	p.keyFile = writeKey(t, dir, "server-key.pem", srvKey)
	cliDER, cliKey := makeLeaf(t, clientCA, clientCAKey, "crm-client", false)
	p.clientCert = writePEM(t, dir, "client.pem", "CERTIFICATE", cliDER)
	p.clientKey = writeKey(t, dir, "client-key.pem", cliKey)
	var err error
	if p.clientPair, err = tls.LoadX509KeyPair(p.clientCert, p.clientKey); err != nil {
		t.Fatal(err)
	}
	strDER, strKey := makeLeaf(t, otherCA, otherCAKey, "stranger", false)
	if p.strangerPair, err = tls.LoadX509KeyPair(writePEM(t, dir, "s.pem", "CERTIFICATE", strDER), writeKey(t, dir, "s-key.pem", strKey)); err != nil {
		t.Fatal(err)
	}
	p.pool = x509.NewCertPool()
	p.pool.AddCert(caCert)
	return p
}

var serial = big.NewInt(1)

func nextSerial() *big.Int { serial = new(big.Int).Add(serial, big.NewInt(1)); return serial }

func makeCA(t *testing.T, cn string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

func makeLeaf(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, server bool) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeKey(t *testing.T, dir, name string, key *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, dir, name, "PRIVATE KEY", der)
}

// fakeDatasets is a DatasetService test double: the access rules, not the
// service, are under test.
type fakeDatasets struct {
	pb.UnimplementedDatasetServiceServer
}

func (fakeDatasets) GetDatasetStatus(context.Context, *pb.GetDatasetStatusRequest) (*pb.GetDatasetStatusResponse, error) {
	return &pb.GetDatasetStatusResponse{}, nil
}

// lockedBuffer is a bytes.Buffer safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// secureEnv is a server on a real loopback listener.
type secureEnv struct {
	addr  string
	pki   *pki
	st    *store.Store
	logs  *lockedBuffer
	audit string // audit log path
	local *LocalListener
}

type secureOpts struct {
	tls      bool
	mtls     bool
	tokens   bool
	rate     RateLimit
	metrics  bool
	auditLog bool
	streams  uint32 // max concurrent streams, default 10
	suppress bool   // keep a suppression list (embedded store)
}

func newSecureEnv(t *testing.T, o secureOpts) (*secureEnv, *Metrics) {
	t.Helper()
	dir := t.TempDir()
	e := &secureEnv{pki: newPKI(t), logs: &lockedBuffer{}}
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st, err := store.Open(filepath.Join(dir, "data"), store.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	loadDemo(t, st, dir)
	e.st = st
	if o.streams == 0 {
		o.streams = 10
	}
	cfg := Config{Data: st, Engine: &screening.Engine{}, Logger: log, RateLimit: o.rate, MaxConcurrentStreams: o.streams}
	if o.tls {
		ca := ""
		if o.mtls {
			ca = e.pki.clientCAFile
		}
		creds, err := TLSCredentials(e.pki.certFile, e.pki.keyFile, ca)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Creds = creds
	}
	if o.tokens {
		if cfg.Auth, err = LoadTokenFile(testTokenFile(t)); err != nil {
			t.Fatal(err)
		}
	}
	if o.suppress {
		h, err := suppress.NewHasher([]byte(strings.Repeat("p", 32)))
		if err != nil {
			t.Fatal(err)
		}
		sup, err := suppressbadger.Open(filepath.Join(dir, "data", "suppressions"), h, suppressbadger.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sup.Close() })
		cfg.Suppressions = sup
	}
	var m *Metrics
	if o.metrics {
		m = NewMetrics(st)
		cfg.Metrics = m
	}
	var al *AuditLog
	if o.auditLog {
		e.audit = filepath.Join(dir, "audit.jsonl")
		if al, err = OpenAuditLog(e.audit, log); err != nil {
			t.Fatal(err)
		}
		cfg.Auditor = al
	}
	srv := New(cfg)
	pb.RegisterDatasetServiceServer(srv.GRPC, fakeDatasets{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = lis.Addr().String()
	if o.tls {
		lis = RequireTLS(lis, nil)
	}
	go srv.GRPC.Serve(lis)
	// The in-process gateway's listener, served by the same server.
	e.local = NewLocalListener()
	go srv.GRPC.Serve(e.local)
	t.Cleanup(func() {
		srv.GRPC.Stop()
		if al != nil {
			al.Close()
		}
		st.Close()
	})
	return e, m
}

// dial connects with TLS (trusting the test CA, presenting cert if not
// nil) when tlsOn, plaintext otherwise.
func (e *secureEnv) dial(t *testing.T, tlsOn bool, cert *tls.Certificate) *grpc.ClientConn {
	t.Helper()
	creds := insecure.NewCredentials()
	if tlsOn {
		cfg := &tls.Config{RootCAs: e.pki.pool, MinVersion: tls.VersionTLS12}
		if cert != nil {
			cfg.Certificates = []tls.Certificate{*cert}
		}
		creds = credentials.NewTLS(cfg)
	}
	conn, err := grpc.NewClient(e.addr, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func withToken(token string) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	time.AfterFunc(11*time.Second, cancel)
	if token == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// Calls exercised by the access tests.
var (
	callScreen = func(ctx context.Context, c *grpc.ClientConn) error {
		_, err := pb.NewScreeningServiceClient(c).ScreenContact(ctx, &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_POST, Contact: listed})
		return err
	}
	callScreenStream = func(ctx context.Context, c *grpc.ClientConn) error {
		s, err := pb.NewScreeningServiceClient(c).ScreenContacts(ctx)
		if err != nil {
			return err
		}
		// Send reports io.EOF when the server already ended the stream; Recv
		// then returns the status.
		if err := s.Send(&pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST, Contacts: []*pb.Contact{listed}}); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		s.CloseSend()
		for {
			if _, err := s.Recv(); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
		}
	}
	callDataset = func(ctx context.Context, c *grpc.ClientConn) error {
		_, err := pb.NewDatasetServiceClient(c).GetDatasetStatus(ctx, &pb.GetDatasetStatusRequest{})
		return err
	}
	callHealth = func(ctx context.Context, c *grpc.ClientConn) error {
		_, err := healthpb.NewHealthClient(c).Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	}
	callReflection = func(ctx context.Context, c *grpc.ClientConn) error {
		rc, err := reflectionpb.NewServerReflectionClient(c).ServerReflectionInfo(ctx)
		if err != nil {
			return err
		}
		rc.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
		_, err = rc.Recv()
		return err
	}
	callOversized = func(ctx context.Context, c *grpc.ClientConn) error {
		_, err := pb.NewScreeningServiceClient(c).ScreenContact(ctx, &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_POST,
			Contact: &pb.Contact{Name: strings.Repeat("x", MaxMessageBytes+1)}})
		return err
	}
)

func TestAuth(t *testing.T) {
	e, _ := newSecureEnv(t, secureOpts{tls: true, tokens: true})
	conn := e.dial(t, true, nil)
	tests := []struct {
		name   string
		token  string
		call   func(context.Context, *grpc.ClientConn) error
		code   codes.Code
		reason pb.ErrorReason // ErrorInfo reason when code != OK
	}{
		{"no token", "", callScreen, codes.Unauthenticated, ReasonUnauthenticated},
		{"no token stream", "", callScreenStream, codes.Unauthenticated, ReasonUnauthenticated},
		{"wrong token", "not-a-token", callScreen, codes.Unauthenticated, ReasonUnauthenticated},
		{"hash instead of token", HashToken(screenToken), callScreen, codes.Unauthenticated, ReasonUnauthenticated},
		{"screen token screens", screenToken, callScreen, codes.OK, 0},
		{"screen token streams", screenToken, callScreenStream, codes.OK, 0},
		{"unnamed screen token", otherToken, callScreen, codes.OK, 0},
		{"screen token on DatasetService", screenToken, callDataset, codes.PermissionDenied, ReasonPermissionDenied},
		{"no token on DatasetService", "", callDataset, codes.Unauthenticated, ReasonUnauthenticated},
		{"admin token on DatasetService", adminToken, callDataset, codes.OK, 0},
		{"admin token screens", adminToken, callScreen, codes.OK, 0},
		{"health without token", "", callHealth, codes.OK, 0},
		{"health with wrong token", "nope", callHealth, codes.OK, 0},
		{"reflection without token", "", callReflection, codes.Unauthenticated, ReasonUnauthenticated},
		{"reflection with screen token", screenToken, callReflection, codes.OK, 0},
		{"message over the limit", adminToken, callOversized, codes.ResourceExhausted, ReasonMessageTooLarge},
		{"message over the limit without token", "", callOversized, codes.Unauthenticated, ReasonUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(withToken(tt.token), conn)
			if tt.code == codes.OK {
				if err != nil {
					t.Fatalf("err = %v, want OK", err)
				}
				return
			}
			errorInfo(t, err, tt.code, tt.reason)
		})
	}
	if logs := e.logs.String(); strings.Contains(logs, screenToken) || strings.Contains(logs, "not-a-token") {
		t.Errorf("logs contain a token")
	}
}

func TestTransportSecurity(t *testing.T) {
	plain, _ := newSecureEnv(t, secureOpts{tokens: true})
	tlsEnv, _ := newSecureEnv(t, secureOpts{tls: true})
	mtls, _ := newSecureEnv(t, secureOpts{tls: true, mtls: true, auditLog: true})
	tls12 := func(e *secureEnv) *grpc.ClientConn {
		conn, err := grpc.NewClient(e.addr, grpc.WithTransportCredentials(credentials.NewTLS(
			&tls.Config{RootCAs: e.pki.pool, MaxVersion: tls.VersionTLS12})))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	tests := []struct {
		name  string
		conn  func(t *testing.T) *grpc.ClientConn
		token string
		code  codes.Code
	}{
		{"plaintext on loopback", func(t *testing.T) *grpc.ClientConn { return plain.dial(t, false, nil) }, screenToken, codes.OK},
		{"plaintext client against TLS listener", func(t *testing.T) *grpc.ClientConn { return tlsEnv.dial(t, false, nil) }, "", codes.Unavailable},
		{"TLS client against plaintext listener", func(t *testing.T) *grpc.ClientConn { return plain.dial(t, true, nil) }, screenToken, codes.Unavailable},
		{"TLS 1.3", func(t *testing.T) *grpc.ClientConn { return tlsEnv.dial(t, true, nil) }, "", codes.OK},
		{"TLS 1.2 refused", func(*testing.T) *grpc.ClientConn { return tls12(tlsEnv) }, "", codes.Unavailable},
		{"mTLS without client certificate", func(t *testing.T) *grpc.ClientConn { return mtls.dial(t, true, nil) }, "", codes.Unavailable},
		{"mTLS with certificate of another CA", func(t *testing.T) *grpc.ClientConn { return mtls.dial(t, true, &mtls.pki.strangerPair) }, "", codes.Unavailable},
		{"mTLS with client certificate", func(t *testing.T) *grpc.ClientConn { return mtls.dial(t, true, &mtls.pki.clientPair) }, "", codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := callScreen(withToken(tt.token), tt.conn(t))
			if got := status.Code(err); got != tt.code {
				t.Fatalf("code = %v (%v), want %v", got, err, tt.code)
			}
			if tt.name == "plaintext client against TLS listener" {
				errorInfo(t, err, codes.Unavailable, ReasonTLSRequired)
			}
		})
	}
	// Without a token file the verified certificate names the client.
	waitAudit(t, mtls.audit, `"client":"crm-client","client_source":"cert"`)
}

func TestRateLimit(t *testing.T) {
	e, m := newSecureEnv(t, secureOpts{tokens: true, metrics: true, rate: RateLimit{PerSecond: 0.001, Burst: 2}})
	conn := e.dial(t, false, nil)
	steps := []struct {
		name  string
		token string
		call  func(context.Context, *grpc.ClientConn) error
		code  codes.Code
	}{
		{"first within burst", screenToken, callScreen, codes.OK},
		{"second within burst", screenToken, callScreen, codes.OK},
		{"third over the limit", screenToken, callScreen, codes.ResourceExhausted},
		{"stream over the limit", screenToken, callScreenStream, codes.ResourceExhausted},
		{"health is not limited", screenToken, callHealth, codes.OK},
		{"another client has its own bucket", adminToken, callScreenStream, codes.OK},
		{"another client has its own bucket 2", adminToken, callScreen, codes.OK},
		{"another client over the limit", adminToken, callDataset, codes.ResourceExhausted},
	}
	for _, s := range steps {
		err := s.call(withToken(s.token), conn)
		if s.code == codes.OK {
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			continue
		}
		st := errorInfo(t, err, s.code, ReasonRateLimited)
		if !strings.Contains(fmt.Sprint(st.Details()), "retry_after_ms") {
			t.Errorf("%s: no retry_after_ms in %v", s.name, st.Details())
		}
		// AIP-193: the delay goes out as a google.rpc.RetryInfo. At 0.001
		// requests per second the next token is up to 1000 s away.
		var delay time.Duration
		for _, d := range st.Details() {
			if ri, ok := d.(*errdetails.RetryInfo); ok {
				delay = ri.GetRetryDelay().AsDuration()
			}
		}
		if delay < 500*time.Second || delay > 1000*time.Second {
			t.Errorf("%s: RetryInfo delay = %v, want the time to the next token (500 s to 1000 s)", s.name, delay)
		}
	}
	if got := scrape(t, m); !strings.Contains(got, `robinscreen_requests_refused_total{method="ScreeningService/ScreenContact",reason="RATE_LIMITED"} 1`) {
		t.Errorf("refused calls not counted:\n%s", grepLines(got, "refused"))
	}
}

func TestParseTokens(t *testing.T) {
	h := HashToken("t1")
	tests := []struct {
		name, file string
		err        string // substring of the error; "" = valid
		n          int
	}{
		{"valid", "# c\n\nscreen:" + h + ":crm\nadmin:" + HashToken("t2") + "\n", "", 2},
		{"windows line ends", "screen:" + h + ":crm\r\n", "", 1},
		{"unknown role", "root:" + h + "\n", "unknown role", 0},
		{"token instead of hash", "screen:t1\n", "64 hex digits", 0},
		{"not hex", "screen:" + strings.Repeat("zz", 32) + "\n", "64 hex digits", 0},
		{"missing hash", "screen\n", "role:sha256hex", 0},
		{"too many fields", "screen:" + h + ":a:b\n", "role:sha256hex", 0},
		{"bad name", "screen:" + h + ":two words\n", "name", 0},
		{"duplicate hash", "screen:" + h + "\nadmin:" + h + "\n", "duplicate token", 0},
		{"duplicate name", "screen:" + h + ":x\nadmin:" + HashToken("t2") + ":x\n", "duplicate name", 0},
		{"empty", "# nothing\n", "no token", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseTokens(strings.NewReader(tt.file))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Len() != tt.n {
				t.Errorf("Len = %d, want %d", a.Len(), tt.n)
			}
			if e, ok := a.lookup("t1"); !ok || e.role != RoleScreen {
				t.Errorf("lookup(t1) = %v, %v", e, ok)
			}
			if _, ok := a.lookup("t3"); ok {
				t.Error("lookup(t3) found a token")
			}
		})
	}
}

func TestTokenReload(t *testing.T) {
	p := testTokenFile(t)
	a, err := LoadTokenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, []byte("garbage\n"), 0o600)
	if err := a.Reload(); err == nil {
		t.Fatal("Reload of a bad file succeeded")
	}
	if _, ok := a.lookup(screenToken); !ok {
		t.Fatal("a failed reload dropped the tokens")
	}
	os.WriteFile(p, []byte("admin:"+HashToken("new")+":new\n"), 0o600)
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.lookup(screenToken); ok {
		t.Error("revoked token still valid")
	}
	if e, ok := a.lookup("new"); !ok || e.name != "new" || e.role != RoleAdmin {
		t.Errorf("new token = %v, %v", e, ok)
	}
}

// TestRateLimitPacesStreams: every ScreenContacts message after the first
// waits for a token instead of failing the stream.
func TestRateLimitPacesStreams(t *testing.T) {
	e, _ := newSecureEnv(t, secureOpts{rate: RateLimit{PerSecond: 20, Burst: 1}})
	conn := e.dial(t, false, nil)
	s, err := pb.NewScreeningServiceClient(conn).ScreenContacts(withToken(""))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	const n = 6
	for range n {
		if err := s.Send(&pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST, Contacts: []*pb.Contact{listed}}); err != nil {
			t.Fatal(err)
		}
	}
	s.CloseSend()
	for i := range n {
		if _, err := s.Recv(); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	// The first message rides on the stream's token; 5 more at 20/s >= 250 ms.
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("%d messages took %v; the stream was not paced", n, d)
	}
}

// TestMaxConcurrentStreams: with one stream allowed per connection, a call
// waits while a stream is open and proceeds once it is closed.
func TestMaxConcurrentStreams(t *testing.T) {
	e, _ := newSecureEnv(t, secureOpts{streams: 1})
	conn := e.dial(t, false, nil)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := pb.NewScreeningServiceClient(conn).ScreenContacts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Send(&pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST, Contacts: []*pb.Contact{listed}})
	if _, err := s.Recv(); err != nil { // the stream is open on the server
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelShort()
	if err := callScreen(short, conn); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("second call while the stream is open: %v, want DeadlineExceeded", err)
	}
	cancel()
	if err := callScreen(withToken(""), conn); err != nil {
		t.Fatalf("call after the stream closed: %v", err)
	}
}
