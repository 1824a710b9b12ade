package clients

import (
	"context"
	"crypto/tls"
	"math/rand/v2"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// Limits of the server this client respects.
const (
	// MaxChunkSize is the most contacts the server accepts in one
	// ScreenContactsRequest.
	MaxChunkSize = 10000
	// maxChunkBytes caps the encoded size of one request message, well under
	// the server's 16 MiB.
	maxChunkBytes = 4 << 20
	// maxRecvBytes is the receive limit for response messages (results with
	// findings are larger than the contacts sent).
	maxRecvBytes = 64 << 20
)

// Client screens contacts against a robinscreen server. It is safe for
// concurrent use.
type Client struct {
	conn  *grpc.ClientConn // nil when built with NewFromConn
	svc   pb.ScreeningServiceClient
	o     options
	sleep func(context.Context, time.Duration) error
}

type options struct {
	tls         *tls.Config
	insecure    bool
	token       string
	dialOpts    []grpc.DialOption
	chunkSize   int
	streams     int
	window      int
	maxAttempts int
	baseBackoff time.Duration
	maxBackoff  time.Duration
	progress    func(Progress)
	receipt     func(*pb.ScreeningReceipt)
}

// Option configures a Client.
type Option func(*options)

// WithTLS connects over TLS with cfg, at least TLS 1.3 (MinTLSVersion; a
// lower MinVersion is raised). A cfg with Certificates (or
// GetClientCertificate) set does mutual TLS. Without WithTLS the connection
// is plaintext, which Dial refuses for an address that is not loopback
// unless WithInsecurePlaintext is given (see Security).
func WithTLS(cfg *tls.Config) Option { return func(o *options) { o.tls = cfg.Clone() } }

// WithInsecurePlaintext allows a plaintext connection to an address that is
// not loopback. Contacts and tokens then cross the network unencrypted: use
// it only inside a network that is itself protected.
func WithInsecurePlaintext() Option { return func(o *options) { o.insecure = true } }

// WithBearerToken sends "authorization: Bearer TOKEN" on every RPC as
// per-RPC credentials: over TLS, or over plaintext where Dial allows
// plaintext (loopback, or WithInsecurePlaintext).
func WithBearerToken(token string) Option { return func(o *options) { o.token = token } }

// WithDialOptions appends raw gRPC dial options (interceptors, custom
// dialers, ...).
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOpts = append(o.dialOpts, opts...) }
}

// WithChunkSize sets how many contacts one request message carries
// (default 1000, clamped to 1..MaxChunkSize).
func WithChunkSize(n int) Option { return func(o *options) { o.chunkSize = n } }

// WithStreams sets how many ScreenContacts streams a batch uses in parallel
// (default 1). Results stay in input order.
func WithStreams(n int) Option { return func(o *options) { o.streams = n } }

// WithWindow sets how many chunks may be sent on one stream before their
// answers arrive (default 4).
func WithWindow(n int) Option { return func(o *options) { o.window = n } }

// WithRetry sets the retry policy: at most maxAttempts consecutive attempts
// without progress (default 8; 1 disables retries). UNAVAILABLE (a
// transport failure or SHUTTING_DOWN) is retried with exponential back-off
// from base to max (default 200ms to 5s) with jitter; RATE_LIMITED after the
// delay of the server's google.rpc.RetryInfo (not capped by max; when it
// would outlast the context's deadline the refusal is returned at once); a
// stream the server closed as idle (STREAM_IDLE) is replaced at once. Other
// refusals are never retried.
func WithRetry(maxAttempts int, base, max time.Duration) Option {
	return func(o *options) { o.maxAttempts, o.baseBackoff, o.maxBackoff = maxAttempts, base, max }
}

// WithProgress calls fn after every answered chunk of a batch, from the
// goroutine that called ScreenStream or ScreenContacts.
func WithProgress(fn func(Progress)) Option { return func(o *options) { o.progress = fn } }

// WithReceipts asks the server for a signed receipt (screening-rules.md
// rule 5.4) at the end of every ScreenContacts stream a batch opens and
// hands each receipt to fn, on a goroutine of the batch, before
// ScreenStream returns. A receipt covers the contacts of its stream, in
// the order sent: a batch on one stream (WithStreams(1)) that did not
// reconnect (Progress.Reconnects == 0) gets one receipt covering every
// contact it screened. A server without a receipt key refuses the batch
// (FAILED_PRECONDITION).
func WithReceipts(fn func(*pb.ScreeningReceipt)) Option {
	return func(o *options) { o.receipt = fn }
}

func buildOptions(opts []Option) options {
	o := options{chunkSize: 1000, streams: 1, window: 4, maxAttempts: 8, baseBackoff: 200 * time.Millisecond, maxBackoff: 5 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	o.chunkSize = min(max(o.chunkSize, 1), MaxChunkSize)
	o.streams = max(o.streams, 1)
	o.window = max(o.window, 1)
	o.maxAttempts = max(o.maxAttempts, 1)
	if o.baseBackoff <= 0 {
		o.baseBackoff = 200 * time.Millisecond
	}
	if o.maxBackoff < o.baseBackoff {
		o.maxBackoff = o.baseBackoff
	}
	return o
}

// Dial returns a Client for target ("host:port" or any gRPC target),
// secured by the project's one connection policy (Security). It does not
// wait for the server: the connection is made on first use. It returns an
// error wrapping ErrPlaintextRefused for plaintext to an address that is not
// loopback without WithInsecurePlaintext, ErrTLSVersion for a TLS config
// capped below TLS 1.3, and gRPC's error for an invalid target or option.
func Dial(target string, opts ...Option) (*Client, error) {
	o := buildOptions(opts)
	dopts, err := Security{TLS: o.tls, InsecurePlaintext: o.insecure, Token: o.token}.DialOptions(target)
	if err != nil {
		return nil, err
	}
	dopts = append(dopts,
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxRecvBytes)),
		// Reconnect quickly after a server restart; the client's own retry
		// loop paces the RPCs.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: o.maxBackoff},
			MinConnectTimeout: 5 * time.Second,
		}),
	)
	dopts = append(dopts, o.dialOpts...)
	conn, err := grpc.NewClient(target, dopts...)
	if err != nil {
		return nil, err
	}
	c := newClient(pb.NewScreeningServiceClient(conn), o)
	c.conn = conn
	return c, nil
}

// NewFromConn returns a Client on an existing connection (which the caller
// closes); WithTLS, WithBearerToken and WithDialOptions are ignored.
func NewFromConn(conn grpc.ClientConnInterface, opts ...Option) *Client {
	return newClient(pb.NewScreeningServiceClient(conn), buildOptions(opts))
}

func newClient(svc pb.ScreeningServiceClient, o options) *Client {
	return &Client{svc: svc, o: o, sleep: sleepCtx}
}

// Close closes the connection made by Dial.
func (c *Client) Close() error {
	if c.conn == nil {
		return nil
	}
	return c.conn.Close()
}

// ScreenContact screens one contact, retrying UNAVAILABLE with back-off and
// RATE_LIMITED after the server's delay (see WithRetry).
// Errors are *Error (errors.Is matches ErrInvalidRequest, ErrNoDataset,
// ErrUnavailable, context.DeadlineExceeded, ...).
func (c *Client) ScreenContact(ctx context.Context, channel pb.Channel, purpose pb.Purpose, contact *pb.Contact) (*pb.ScreeningResult, error) {
	req := &pb.ScreenContactRequest{Channel: channel, Purpose: purpose, Contact: contact}
	for attempt := 1; ; attempt++ {
		resp, err := c.svc.ScreenContact(ctx, req)
		if err == nil {
			return resp.GetResult(), nil
		}
		e := toError(err)
		e.Attempts = attempt
		if !e.Retryable() || attempt >= c.o.maxAttempts {
			return nil, e
		}
		wait, ok := c.retryWait(ctx, e, attempt)
		if !ok {
			return nil, e
		}
		if err := c.sleep(ctx, wait); err != nil {
			e := toError(err)
			e.Attempts = attempt
			return nil, e
		}
	}
}

// retryWait is the wait before repeating a call refused with e after
// attempt tries: the server's RetryInfo delay plus up to 10 % (so that
// clients refused together do not all come back at once), or else the
// back-off. ok is false when the server's delay would outlast ctx's
// deadline: waiting could only end in DEADLINE_EXCEEDED.
func (c *Client) retryWait(ctx context.Context, e *Error, attempt int) (wait time.Duration, ok bool) {
	if reasons[e.Reason].retry == retryReopen {
		return 0, true
	}
	if e.RetryDelay <= 0 {
		return c.backoff(attempt), true
	}
	wait = e.RetryDelay + time.Duration(0.1*rand.Float64()*float64(e.RetryDelay))
	if dl, has := ctx.Deadline(); has && time.Until(dl) < e.RetryDelay {
		return 0, false
	}
	return wait, true
}

// backoff is the wait before attempt+1: exponential, capped, with ±25%
// jitter.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.o.baseBackoff
	for i := 1; i < attempt && d < c.o.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.o.maxBackoff)
	return time.Duration(float64(d) * (0.75 + 0.5*rand.Float64()))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// bearerToken is per-RPC credentials sending "authorization: Bearer TOKEN".
// requireTLS is false only on plaintext connections the policy allowed
// (loopback, or explicitly insecure); otherwise gRPC never sends it in
// plaintext.
type bearerToken struct {
	token      string
	requireTLS bool
}

func (t bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + t.token}, nil
}

func (t bearerToken) RequireTransportSecurity() bool { return t.requireTLS }
