package server

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/grpc"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// RateLimit is the per-client request rate: a token bucket of Burst
// requests refilled at PerSecond, per client identity (token name, else
// client certificate name, else peer IP). The zero value disables it.
//
// A unary call takes one token and is refused with RESOURCE_EXHAUSTED
// (ErrorInfo reason RATE_LIMITED, metadata retry_after_ms, and a
// google.rpc.RetryInfo with the same delay) when none is left. Opening a stream takes one token the same way; every further
// ScreenContacts request message waits for a token (back-pressure, no
// error), so a long stream cannot bypass the limit. DatasetService upload
// chunks and health checks are not limited.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// rateLimiter keeps one token bucket per client identity.
type rateLimiter struct {
	cfg RateLimit
	now func() time.Time

	mu      sync.Mutex
	clients map[string]*clientBucket
	sweep   time.Time
}

type clientBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// idleAfter is how long an unused bucket is kept; an evicted client starts
// again with a full bucket.
const idleAfter = 10 * time.Minute

func newRateLimiter(cfg RateLimit) *rateLimiter {
	if cfg.PerSecond <= 0 {
		return nil
	}
	if cfg.Burst < 1 {
		cfg.Burst = max(1, int(2*cfg.PerSecond))
	}
	return &rateLimiter{cfg: cfg, now: time.Now, clients: map[string]*clientBucket{}}
}

func (r *rateLimiter) bucket(id Identity) *rate.Limiter {
	key := id.Source + ":" + id.Name
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.sweep) > idleAfter {
		for k, b := range r.clients {
			if now.Sub(b.seen) > idleAfter {
				delete(r.clients, k)
			}
		}
		r.sweep = now
	}
	b := r.clients[key]
	if b == nil {
		b = &clientBucket{lim: rate.NewLimiter(rate.Limit(r.cfg.PerSecond), r.cfg.Burst)}
		r.clients[key] = b
	}
	b.seen = now
	return b.lim
}

// allow takes a token for the caller in ctx or returns RESOURCE_EXHAUSTED
// with an ErrorInfo (reason RATE_LIMITED) and a RetryInfo giving the delay
// after which a token will be there.
func (r *rateLimiter) allow(ctx context.Context) error {
	lim := r.bucket(IdentityFrom(ctx))
	res := lim.ReserveN(r.now(), 1)
	if d := res.DelayFrom(r.now()); d > 0 {
		res.CancelAt(r.now())
		d = max(d, time.Millisecond)
		return (&refusal{reason: ReasonRateLimited, msg: "request rate limit exceeded; retry later", retryAfter: d,
			meta: map[string]string{
				"limit_per_second": strconv.FormatFloat(r.cfg.PerSecond, 'f', -1, 64),
				"burst":            strconv.Itoa(r.cfg.Burst),
				"retry_after_ms":   retryAfterMeta(d),
			}}).status()
	}
	return nil
}

func limited(method string) bool {
	return !strings.HasPrefix(method, "/grpc.health.v1.Health/")
}

func rateUnary(r *rateLimiter, log *slog.Logger, audit Auditor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if r != nil && limited(info.FullMethod) {
			if err := r.allow(ctx); err != nil {
				denied(ctx, log, audit, info.FullMethod, err)
				return nil, err
			}
		}
		return h(ctx, req)
	}
}

func rateStream(r *rateLimiter, log *slog.Logger, audit Auditor) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if r == nil || !limited(info.FullMethod) {
			return h(srv, ss)
		}
		if err := r.allow(ss.Context()); err != nil {
			denied(ss.Context(), log, audit, info.FullMethod, err)
			return err
		}
		if info.FullMethod == pb.ScreeningService_ScreenContacts_FullMethodName {
			return h(srv, &pacedStream{ServerStream: ss, lim: r.bucket(IdentityFrom(ss.Context()))})
		}
		return h(srv, ss)
	}
}

// pacedStream waits for a rate token after receiving every request message
// but the first (paid for when the stream opened), before it is handled.
type pacedStream struct {
	grpc.ServerStream
	lim  *rate.Limiter
	more bool
}

func (s *pacedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err // io.EOF and errors cost nothing
	}
	if s.more {
		if err := s.lim.Wait(s.Context()); err != nil {
			if cerr := s.Context().Err(); cerr != nil {
				return toStatus(slog.New(slog.DiscardHandler), cerr)
			}
			// The wait would outlast the call's deadline.
			return refuse(ReasonRateLimited, "request rate limit exceeded before the deadline", nil)
		}
	}
	s.more = true
	return nil
}
