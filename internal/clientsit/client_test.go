package clientsit_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/robinscreen/robinscreen/clients"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/server"
)

const (
	listedName = "Søren Testesen"
	listedAddr = "Fiktivvej 12, 2. tv, 2100 København Ø"
)

// contactN is contact i of a synthetic batch: every 7th is the listed demo
// person, the others are unlisted.
func contactN(i int) *pb.Contact {
	if i%7 == 0 {
		return &pb.Contact{Ref: strconv.Itoa(i), Name: listedName, Address: listedAddr}
	}
	return &pb.Contact{Ref: strconv.Itoa(i), Name: fmt.Sprintf("Ole Nysen%d", i), Address: fmt.Sprintf("Nyvej %d, 2100 København Ø", i%200+1)}
}

// errInternal marks a case expecting the server's INTERNAL status back.
var errInternal = errors.New("INTERNAL")

func fastRetry() clients.Option {
	return clients.WithRetry(40, 20*time.Millisecond, 200*time.Millisecond)
}

// TestKillServerMidRun stops the server (hard) in the middle of a 50k-row
// batch, restarts a new server on the same address and checks that every
// row comes back exactly once, in order, with the right decision.
func TestKillServerMidRun(t *testing.T) {
	const n = 50000
	srv, addr, err := serveOn(demoStore, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu        sync.Mutex
		cur       = srv
		killOnce  sync.Once
		restarted = make(chan struct{})
	)
	defer func() { mu.Lock(); cur.GRPC.Stop(); mu.Unlock() }()
	kill := func() {
		mu.Lock()
		old := cur
		mu.Unlock()
		old.GRPC.Stop() // drops the connection with chunks in flight
		go func() {
			time.Sleep(300 * time.Millisecond)
			var nsrv *server.Server
			for i := 0; i < 100; i++ { // the port may take a moment to free
				if nsrv, _, err = serveOn(demoStore, addr); err == nil {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if nsrv == nil {
				t.Errorf("restart on %s: %v", addr, err)
				return
			}
			mu.Lock()
			cur = nsrv
			mu.Unlock()
			close(restarted)
		}()
	}
	c, err := clients.Dial(addr, clients.WithChunkSize(500), clients.WithStreams(2), fastRetry(),
		clients.WithProgress(func(p clients.Progress) {
			if p.Chunks == 20 {
				killOnce.Do(kill)
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	i := 0
	src := clients.SourceFunc(func() (clients.Item, error) {
		if i == n {
			return clients.Item{}, io.EOF
		}
		it := clients.Item{Channel: pb.Channel_CHANNEL_POST, Contact: contactN(i), Tag: i}
		i++
		return it, nil
	})
	next := 0
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := c.ScreenStream(ctx, src, func(it clients.Item, r *pb.ScreeningResult) error {
		if got := it.Tag.(int); got != next {
			return fmt.Errorf("item %d delivered at position %d", got, next)
		}
		if r.GetRef() != strconv.Itoa(next) {
			return fmt.Errorf("row %d: result ref %q", next, r.GetRef())
		}
		want := pb.Decision_DECISION_ALLOW
		if next%7 == 0 {
			want = pb.Decision_DECISION_BLOCK
		}
		if r.GetDecision() != want {
			return fmt.Errorf("row %d: decision %v, want %v", next, r.GetDecision(), want)
		}
		next++
		return nil
	})
	if err != nil {
		t.Fatalf("ScreenStream: %v (progress %+v)", err, p)
	}
	select {
	case <-restarted:
	default:
		t.Fatal("the server was never restarted")
	}
	if next != n || p.Items != n || p.Screened != n {
		t.Fatalf("delivered %d rows, progress %+v; want %d", next, p, n)
	}
	if p.Reconnects == 0 {
		t.Errorf("no reconnect recorded: %+v", p)
	}
	t.Logf("progress: %+v", p)
}

// fakeService answers ScreenContacts by a script: on stream attempt k it
// answers script[k].answer request messages (after reading script[k].read
// of them) and then fails with script[k].code. Attempts past the script are
// answered in full.
type fakeService struct {
	pb.UnimplementedScreeningServiceServer
	script   []streamStep
	attempts atomic.Int32
	mu       sync.Mutex
	answered map[string]int // ref -> times answered
}

type streamStep struct {
	read, answer int
	code         codes.Code
}

func (f *fakeService) ScreenContacts(stream pb.ScreeningService_ScreenContactsServer) error {
	k := int(f.attempts.Add(1)) - 1
	step := streamStep{read: -1, answer: -1}
	if k < len(f.script) {
		step = f.script[k]
	}
	var reqs []*pb.ScreenContactsRequest
	answer := func(req *pb.ScreenContactsRequest) error {
		resp := &pb.ScreenContactsResponse{}
		f.mu.Lock()
		for _, c := range req.GetContacts() {
			f.answered[c.GetRef()]++
			resp.Results = append(resp.Results, &pb.ScreeningResult{Ref: c.GetRef(), Decision: pb.Decision_DECISION_ALLOW})
		}
		f.mu.Unlock()
		return stream.Send(resp)
	}
	for {
		if step.read >= 0 && len(reqs) == step.read {
			for _, r := range reqs[:step.answer] {
				if err := answer(r); err != nil {
					return err
				}
			}
			return status.Error(step.code, "scripted failure")
		}
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			if step.read >= 0 { // fewer chunks than the script expected
				for _, r := range reqs[:min(step.answer, len(reqs))] {
					_ = answer(r)
				}
				return status.Error(step.code, "scripted failure")
			}
			return nil
		}
		if err != nil {
			return err
		}
		if step.read < 0 {
			if err := answer(req); err != nil {
				return err
			}
			continue
		}
		reqs = append(reqs, req)
	}
}

func startFake(t *testing.T, svc pb.ScreeningServiceServer, opts ...grpc.ServerOption) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(opts...)
	pb.RegisterScreeningServiceServer(gs, svc)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	return lis.Addr().String()
}

// TestStreamFailures fails streams at chosen points and checks that each
// contact is answered by the server exactly as often as the script implies
// (answered chunks are never re-sent) and delivered exactly once in order.
func TestStreamFailures(t *testing.T) {
	tests := []struct {
		name       string
		script     []streamStep
		wantErr    error
		maxAttempt int
	}{
		{name: "no failure"},
		{name: "fail before answering", script: []streamStep{{read: 3, answer: 0, code: codes.Unavailable}}},
		{name: "answer some then fail", script: []streamStep{{read: 4, answer: 2, code: codes.Unavailable}}},
		{name: "fail repeatedly", script: []streamStep{
			{read: 2, answer: 1, code: codes.Unavailable},
			{read: 1, answer: 0, code: codes.Unavailable},
			{read: 3, answer: 3, code: codes.Unavailable},
		}},
		{name: "not retryable", script: []streamStep{{read: 2, answer: 1, code: codes.Internal}}, wantErr: errInternal},
		{name: "retries exhausted", script: []streamStep{
			{read: 1, answer: 0, code: codes.Unavailable},
			{read: 1, answer: 0, code: codes.Unavailable},
			{read: 1, answer: 0, code: codes.Unavailable},
		}, maxAttempt: 3, wantErr: clients.ErrUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const n, chunk = 1000, 50
			svc := &fakeService{script: tc.script, answered: map[string]int{}}
			addr := startFake(t, svc)
			attempts := 40
			if tc.maxAttempt > 0 {
				attempts = tc.maxAttempt
			}
			c, err := clients.Dial(addr, clients.WithChunkSize(chunk), clients.WithWindow(4),
				clients.WithRetry(attempts, time.Millisecond, 10*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			contacts := make([]*pb.Contact, n)
			for i := range contacts {
				contacts[i] = contactN(i)
			}
			res, err := c.ScreenContacts(context.Background(), pb.Channel_CHANNEL_POST, pb.Purpose_PURPOSE_OTHER, contacts)
			if tc.wantErr != nil {
				if tc.wantErr == errInternal { // a non-retryable code is returned as is
					if status.Code(err) != codes.Internal {
						t.Fatalf("err = %v, want INTERNAL", err)
					}
					return
				}
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range res {
				if r.GetRef() != strconv.Itoa(i) {
					t.Fatalf("result %d has ref %q", i, r.GetRef())
				}
			}
			// A contact is answered once, plus once for every failure that
			// answered its chunk before failing... which the script never
			// does for chunks it did not answer: so exactly once.
			for i := range n {
				if got := svc.answered[strconv.Itoa(i)]; got != 1 {
					t.Fatalf("contact %d answered %d times, want 1", i, got)
				}
			}
		})
	}
}

// TestChunking checks chunk cuts on channel and purpose changes and
// pass-through items.
func TestChunking(t *testing.T) {
	c, err := clients.Dial(demoAddr, clients.WithChunkSize(3))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	items := []clients.Item{
		{Channel: pb.Channel_CHANNEL_POST, Contact: &pb.Contact{Ref: "a", Name: listedName, Address: listedAddr}},
		{Channel: pb.Channel_CHANNEL_EMAIL, Contact: &pb.Contact{Ref: "b", Name: "Ole Nysen", Email: "ole@example.invalid"}},
		{Tag: "skipped"},
		{Channel: pb.Channel_CHANNEL_EMAIL, Contact: &pb.Contact{Ref: "c", Name: "Ole Nysen", Email: "ole@example.invalid", Consent: true}},
		{Channel: pb.Channel_CHANNEL_POST, Contact: &pb.Contact{Ref: "d", Name: "Ole Nysen", Address: "Nyvej 3, 2100 København Ø"}},
		{Channel: pb.Channel_CHANNEL_PHONE, Purpose: pb.Purpose_PURPOSE_INSURANCE, Contact: &pb.Contact{Ref: "e", Name: "Ole Nysen", Address: "Nyvej 3, 2100 København Ø"}},
	}
	want := []string{"a DECISION_BLOCK", "b DECISION_BLOCK", "<nil>", "c DECISION_ALLOW", "d DECISION_ALLOW", "e DECISION_ALLOW"}
	i := 0
	var got []string
	_, err = c.ScreenStream(context.Background(), clients.SourceFunc(func() (clients.Item, error) {
		if i == len(items) {
			return clients.Item{}, io.EOF
		}
		i++
		return items[i-1], nil
	}), func(it clients.Item, r *pb.ScreeningResult) error {
		if r == nil {
			got = append(got, "<nil>")
		} else {
			got = append(got, r.GetRef()+" "+r.GetDecision().String())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func TestErrors(t *testing.T) {
	empty, err := openEmptyServer(t)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		addr       string
		channel    pb.Channel
		timeout    time.Duration
		wantIs     error
		wantCode   codes.Code
		wantReason pb.ErrorReason
	}{
		{name: "missing channel", addr: demoAddr, wantIs: clients.ErrInvalidRequest, wantCode: codes.InvalidArgument, wantReason: clients.ReasonInvalidRequest},
		{name: "no dataset", addr: empty, channel: pb.Channel_CHANNEL_POST, wantIs: clients.ErrNoDataset, wantCode: codes.FailedPrecondition, wantReason: clients.ReasonNoDataset},
		{name: "unreachable", addr: deadAddr(t), channel: pb.Channel_CHANNEL_POST, wantIs: clients.ErrUnavailable, wantCode: codes.Unavailable},
		{name: "deadline", addr: deadAddr(t), channel: pb.Channel_CHANNEL_POST, timeout: 300 * time.Millisecond, wantIs: context.DeadlineExceeded, wantCode: codes.DeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			retry := clients.WithRetry(3, 10*time.Millisecond, 20*time.Millisecond)
			if tc.timeout > 0 {
				retry = clients.WithRetry(1000, 100*time.Millisecond, 100*time.Millisecond)
			}
			c, err := clients.Dial(tc.addr, retry)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			start := time.Now()
			for _, call := range []string{"unary", "stream"} {
				var err error
				if call == "unary" {
					_, err = c.ScreenContact(ctx, tc.channel, pb.Purpose_PURPOSE_OTHER, contactN(1))
				} else {
					_, err = c.ScreenContacts(ctx, tc.channel, pb.Purpose_PURPOSE_OTHER, []*pb.Contact{contactN(1), contactN(2)})
				}
				var e *clients.Error
				if !errors.As(err, &e) {
					t.Fatalf("%s: err = %T %v, want *clients.Error", call, err, err)
				}
				if !errors.Is(err, tc.wantIs) || e.Code != tc.wantCode || e.Reason != tc.wantReason {
					t.Errorf("%s: err = %v (code %v, reason %v), want Is %v, code %v, reason %v", call, err, e.Code, e.Reason, tc.wantIs, tc.wantCode, tc.wantReason)
				}
				if status.Code(err) != tc.wantCode {
					t.Errorf("%s: status.Code = %v", call, status.Code(err))
				}
				if tc.wantReason != 0 && e.Domain != clients.ErrorDomain {
					t.Errorf("%s: domain %q", call, e.Domain)
				}
			}
			if tc.timeout > 0 && time.Since(start) > 3*tc.timeout {
				t.Errorf("deadline not honoured: took %v", time.Since(start))
			}
		})
	}
}

// TestReasonsMatchServer keeps the client's domain and chunk limit in step
// with the server's (the reasons are the proto's ErrorReason on both sides;
// TestEveryReasonKnown checks the client covers every one).
func TestReasonsMatchServer(t *testing.T) {
	if clients.ErrorDomain != server.ErrorDomain {
		t.Errorf("client domain %q != server %q", clients.ErrorDomain, server.ErrorDomain)
	}
	if clients.MaxChunkSize != server.MaxBatch {
		t.Errorf("MaxChunkSize %d != server.MaxBatch %d", clients.MaxChunkSize, server.MaxBatch)
	}
}

// emptyData is a Datasets with nothing loaded.
func openEmptyServer(t *testing.T) (string, error) {
	st, err := openStore(t.TempDir())
	if err != nil {
		return "", err
	}
	t.Cleanup(func() { st.Close() })
	srv, addr, err := serveOn(st, "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	t.Cleanup(srv.GRPC.Stop)
	return addr, nil
}

// deadAddr is a loopback address nobody listens on.
func deadAddr(t *testing.T) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}

// TestTLS runs the client against a TLS (and mutual TLS) test server that
// requires a bearer token.
func TestTLS(t *testing.T) {
	caCert, caKey := newCA(t)
	serverCert := leafCert(t, caCert, caKey, "127.0.0.1", false)
	clientCert := leafCert(t, caCert, caKey, "client", true)
	pool := x509.NewCertPool()
	pool.AddCert(caCert)

	auth := func(ctx context.Context) error {
		md, _ := metadata.FromIncomingContext(ctx)
		if v := md.Get("authorization"); len(v) != 1 || v[0] != "Bearer s3cret" {
			return status.Error(codes.Unauthenticated, "bad token")
		}
		return nil
	}
	interceptors := []grpc.ServerOption{
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if err := auth(ctx); err != nil {
				return nil, err
			}
			return h(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			if err := auth(ss.Context()); err != nil {
				return err
			}
			return h(srv, ss)
		}),
	}
	svc := func() pb.ScreeningServiceServer { return &fakeService{answered: map[string]int{}, script: nil} }
	tlsAddr := startFake(t, &unaryFake{fakeService: svc().(*fakeService)}, append(interceptors,
		grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{serverCert}})))...)
	mtlsAddr := startFake(t, &unaryFake{fakeService: svc().(*fakeService)}, append(interceptors,
		grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{serverCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert})))...)

	tests := []struct {
		name     string
		addr     string
		opts     []clients.Option
		dialErr  bool
		wantCode codes.Code
	}{
		{name: "tls and token", addr: tlsAddr, opts: []clients.Option{clients.WithTLS(&tls.Config{RootCAs: pool}), clients.WithBearerToken("s3cret")}},
		{name: "wrong token", addr: tlsAddr, opts: []clients.Option{clients.WithTLS(&tls.Config{RootCAs: pool}), clients.WithBearerToken("nope")}, wantCode: codes.Unauthenticated},
		{name: "untrusted server", addr: tlsAddr, opts: []clients.Option{clients.WithTLS(&tls.Config{}), clients.WithBearerToken("s3cret")}, wantCode: codes.Unavailable},
		{name: "mtls", addr: mtlsAddr, opts: []clients.Option{clients.WithTLS(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{clientCert}}), clients.WithBearerToken("s3cret")}},
		{name: "mtls without client cert", addr: mtlsAddr, opts: []clients.Option{clients.WithTLS(&tls.Config{RootCAs: pool}), clients.WithBearerToken("s3cret")}, wantCode: codes.Unavailable},
		{name: "plaintext to a tls server", addr: tlsAddr, opts: []clients.Option{clients.WithBearerToken("s3cret")}, wantCode: codes.Unavailable},
		{name: "token over plaintext off loopback", addr: "10.1.2.3:50051", opts: []clients.Option{clients.WithBearerToken("s3cret")}, dialErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := clients.Dial(tc.addr, append(tc.opts, clients.WithRetry(1, time.Millisecond, time.Millisecond))...)
			if tc.dialErr {
				if err == nil {
					c.Close()
					t.Fatal("Dial succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err = c.ScreenContact(ctx, pb.Channel_CHANNEL_POST, 0, contactN(1))
			if status.Code(err) != tc.wantCode {
				t.Fatalf("unary: err = %v, want code %v", err, tc.wantCode)
			}
			_, err = c.ScreenContacts(ctx, pb.Channel_CHANNEL_POST, 0, []*pb.Contact{contactN(1), contactN(2)})
			if status.Code(err) != tc.wantCode {
				t.Fatalf("stream: err = %v, want code %v", err, tc.wantCode)
			}
		})
	}
}

// unaryFake adds ScreenContact to fakeService.
type unaryFake struct{ *fakeService }

func (f *unaryFake) ScreenContact(_ context.Context, req *pb.ScreenContactRequest) (*pb.ScreenContactResponse, error) {
	return &pb.ScreenContactResponse{Result: &pb.ScreeningResult{Ref: req.GetContact().GetRef(), Decision: pb.Decision_DECISION_ALLOW}}, nil
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

// TestRateLimitRetry runs the client against a server that allows one call
// per second per client: a refused call is repeated after the RetryInfo
// delay and succeeds; with retries off, or a deadline shorter than the
// delay, the refusal itself is returned.
func TestRateLimitRetry(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{Data: demoStore, Engine: &screening.Engine{}, RateLimit: server.RateLimit{PerSecond: 1, Burst: 1}})
	go srv.GRPC.Serve(lis)
	t.Cleanup(srv.GRPC.Stop)
	tests := []struct {
		name       string
		stream     bool
		attempts   int
		timeout    time.Duration
		wantErr    bool
		wantCalls  int64
		minElapsed time.Duration
	}{
		{name: "unary retried after the delay", attempts: 8, wantCalls: 2, minElapsed: 500 * time.Millisecond},
		{name: "stream retried after the delay", stream: true, attempts: 8, wantCalls: 2, minElapsed: 500 * time.Millisecond},
		{name: "retries off", attempts: 1, wantErr: true, wantCalls: 1},
		{name: "deadline shorter than the delay", attempts: 8, timeout: 200 * time.Millisecond, wantErr: true, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			count := grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, inv grpc.UnaryInvoker, opts ...grpc.CallOption) error {
				calls.Add(1)
				return inv(ctx, method, req, reply, cc, opts...)
			})
			countStream := grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, s grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
				calls.Add(1)
				return s(ctx, desc, cc, method, opts...)
			})
			c, err := clients.Dial(lis.Addr().String(), clients.WithRetry(8, 10*time.Millisecond, 20*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			counted, err := clients.Dial(lis.Addr().String(), clients.WithRetry(tt.attempts, 10*time.Millisecond, 20*time.Millisecond),
				clients.WithDialOptions(count, countStream))
			if err != nil {
				t.Fatal(err)
			}
			defer counted.Close()
			// Take the one token (every test's clients share the peer IP),
			// waiting for it if an earlier case used it.
			if _, err := c.ScreenContact(context.Background(), pb.Channel_CHANNEL_POST, pb.Purpose_PURPOSE_OTHER, contactN(1)); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			start := time.Now()
			if tt.stream {
				_, err = counted.ScreenContacts(ctx, pb.Channel_CHANNEL_POST, pb.Purpose_PURPOSE_OTHER, []*pb.Contact{contactN(1), contactN(2)})
			} else {
				_, err = counted.ScreenContact(ctx, pb.Channel_CHANNEL_POST, pb.Purpose_PURPOSE_OTHER, contactN(1))
			}
			elapsed := time.Since(start)
			if tt.wantErr {
				var e *clients.Error
				if !errors.Is(err, clients.ErrRateLimited) || !errors.As(err, &e) || e.RetryDelay <= 0 || e.Code != codes.ResourceExhausted {
					t.Fatalf("err = %v, want RATE_LIMITED with a RetryDelay", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("%d calls, want %d", got, tt.wantCalls)
			}
			if elapsed < tt.minElapsed {
				t.Errorf("retried after %v, before the server's delay", elapsed)
			}
		})
	}
}

// TestSlowSourceOutlastsStreamIdle: a source that pauses longer than the
// server's stream idle timeout mid-batch still gets every result, in order:
// the client opens a new stream once it has a chunk to send.
func TestSlowSourceOutlastsStreamIdle(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{Data: demoStore, Engine: &screening.Engine{}, StreamIdleTimeout: 300 * time.Millisecond})
	go srv.GRPC.Serve(lis)
	t.Cleanup(srv.GRPC.Stop)
	c, err := clients.Dial(lis.Addr().String(), clients.WithChunkSize(2), clients.WithRetry(2, 10*time.Millisecond, 20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 8
	i := 0
	src := clients.SourceFunc(func() (clients.Item, error) {
		if i == n {
			return clients.Item{}, io.EOF
		}
		if i == 3 || i == 6 {
			time.Sleep(900 * time.Millisecond) // three idle timeouts
		}
		it := clients.Item{Channel: pb.Channel_CHANNEL_POST, Contact: contactN(i), Tag: i}
		i++
		return it, nil
	})
	next := 0
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := c.ScreenStream(ctx, src, func(it clients.Item, r *pb.ScreeningResult) error {
		if it.Tag.(int) != next || r.GetRef() != strconv.Itoa(next) {
			return fmt.Errorf("item %v (ref %q) delivered at position %d", it.Tag, r.GetRef(), next)
		}
		next++
		return nil
	})
	if err != nil {
		t.Fatalf("ScreenStream: %v (progress %+v)", err, p)
	}
	if next != n {
		t.Fatalf("%d results, want %d", next, n)
	}
	if p.Reconnects < 1 {
		t.Errorf("Reconnects = %d: the server never closed an idle stream, the test proves nothing", p.Reconnects)
	}
}

// TestTLSRequiredNotRetried: a plaintext client of the real server's
// TLS-only listener gets TLS_REQUIRED once, not after every retry.
func TestTLSRequiredNotRetried(t *testing.T) {
	caCert, caKey := newCA(t)
	serverCert := leafCert(t, caCert, caKey, "127.0.0.1", false)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{Data: demoStore, Engine: &screening.Engine{},
		ExtraOptions: []grpc.ServerOption{grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{serverCert}, MinVersion: tls.VersionTLS13}))}})
	tlsLis := server.RequireTLS(lis, nil)
	go srv.GRPC.Serve(tlsLis)
	t.Cleanup(func() { srv.GRPC.Stop(); tlsLis.Close() })
	c, err := clients.Dial(lis.Addr().String(), clients.WithRetry(5, 50*time.Millisecond, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, call := range []string{"unary", "stream"} {
		if call == "unary" {
			_, err = c.ScreenContact(context.Background(), pb.Channel_CHANNEL_POST, pb.Purpose_PURPOSE_OTHER, contactN(1))
		} else {
			_, err = c.ScreenContacts(context.Background(), pb.Channel_CHANNEL_POST, pb.Purpose_PURPOSE_OTHER, []*pb.Contact{contactN(1)})
		}
		var e *clients.Error
		if !errors.Is(err, clients.ErrTLSRequired) || !errors.As(err, &e) {
			t.Fatalf("%s: err = %v, want TLS_REQUIRED", call, err)
		}
		if e.Attempts != 1 || e.Retryable() {
			t.Errorf("%s: %d attempts, Retryable %v: a TLS-only server was asked again", call, e.Attempts, e.Retryable())
		}
	}
}
