package server

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/receipt"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/suppress"
)

// Message limits.
const (
	// MaxMessageBytes is the largest request message accepted; larger ones
	// get RESOURCE_EXHAUSTED with an ErrorInfo.
	MaxMessageBytes = 16 << 20
	// transportLimit lets gRPC receive somewhat larger messages so that the
	// interceptors, not the transport, refuse them with an ErrorInfo.
	transportLimit = 4 * MaxMessageBytes
)

// Config is what New needs.
type Config struct {
	Data   Datasets
	Engine *screening.Engine
	Logger *slog.Logger
	// Admin, when set, serves DatasetService.
	Admin DatasetAdmin
	// Suppressions, when set, is the sender's suppression list: screening
	// applies it (rule 2.2) and SuppressionService manages it.
	Suppressions suppress.Store
	// Auditor receives screening and dataset events; nil records nothing.
	Auditor Auditor
	// Auth, when set, requires a bearer token from its token file on every
	// call but health checks (see auth.go); nil serves every client with the
	// admin role (open server, for loopback).
	Auth *Authenticator
	// RateLimit limits requests per client identity; the zero value is off.
	RateLimit RateLimit
	// MaxConcurrentStreams caps concurrent calls per connection; 0 leaves
	// gRPC's default (no limit).
	MaxConcurrentStreams uint32
	// MaxConnectionAge closes every connection after about this long (a
	// GOAWAY, with gRPC's jitter of ±10 %), so that clients that balance
	// over several replicas (round_robin over a headless Service)
	// re-resolve and spread again after a replica was added or restarted;
	// 0 never closes a connection for its age. Calls in flight then get
	// MaxConnectionAgeGrace to finish (0: no limit).
	MaxConnectionAge      time.Duration
	MaxConnectionAgeGrace time.Duration
	// StreamIdleTimeout closes a client-streaming call that waits longer
	// for its next request message (STREAM_IDLE); 0 means
	// DefaultStreamIdleTimeout, a negative value turns it off.
	StreamIdleTimeout time.Duration
	// ConnIdleTimeout closes a connection that had no call for that long
	// (keepalive MaxConnectionIdle, a GOAWAY); 0 means
	// DefaultConnIdleTimeout, a negative value turns it off.
	ConnIdleTimeout time.Duration
	// Metrics, when set, gets request metrics from the interceptors and every
	// Auditor event besides Auditor.
	Metrics *Metrics
	// Creds, when set, are the transport credentials (TLS) of every
	// connection but those of a LocalListener, which need none.
	Creds credentials.TransportCredentials
	// ExtraOptions are appended to the server options.
	ExtraOptions []grpc.ServerOption
	// ReceiptSigner, when set, signs the receipts of ScreenContacts
	// streams that ask for one and is published by GetReceiptKey; nil
	// refuses both (RECEIPTS_UNAVAILABLE).
	ReceiptSigner *receipt.Signer
}

// Server is the bootstrapped gRPC server with its health service.
type Server struct {
	GRPC    *grpc.Server
	Health  *health.Server
	data    Datasets
	dataset *DatasetService // nil without Config.Admin
}

// StopLoads cancels the running dataset loads, which go on after their
// callers disconnect, and waits for them at most timeout; call it when
// the server stops, before GracefulStop.
func (s *Server) StopLoads(timeout time.Duration) {
	if s.dataset != nil {
		s.dataset.StopLoads(timeout)
	}
}

// Service names reported by the health service.
var healthServices = []string{"", pb.ScreeningService_ServiceDesc.ServiceName}

// LivenessService is the health service name that reports SERVING while
// the process serves gRPC at all, whatever its datasets (NOT_SERVING only
// once it shuts down): a liveness probe checks it, so that a replica
// waiting for its data or holding a damaged version is taken out of
// rotation (readiness, service "") but not restarted.
const LivenessService = "liveness"

// New builds the gRPC server: interceptors (stream idle limit, panic
// recovery, bearer-token auth, per-client rate limit, message check,
// metrics, logging without personal data), a codec that lets undecodable
// requests be refused INVALID_ARGUMENT, message and stream limits,
// keepalive policy and connection idle limit, ScreeningService,
// grpc.health.v1 (NOT_SERVING until a dataset is loaded) and reflection.
func New(cfg Config) *Server {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	audit := cfg.Auditor
	if audit == nil {
		audit = nopAuditor{}
	}
	if cfg.Metrics != nil {
		audit = MultiAuditor{audit, cfg.Metrics}
	}
	rl := newRateLimiter(cfg.RateLimit)
	streamIdle := orDefault(cfg.StreamIdleTimeout, DefaultStreamIdleTimeout)
	// Order: stream idle limit (streams only; it runs the rest in the
	// handler's goroutine), recovery, auth, rate limit, message check,
	// metrics, logging.
	opts := []grpc.ServerOption{
		grpc.ForceServerCodecV2(newRequestCodec()),
		grpc.MaxRecvMsgSize(transportLimit),
		grpc.MaxSendMsgSize(transportLimit),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		// A client may ping every 10 s, with or without calls (the Go
		// client's defaults stay well above); more often is a GOAWAY.
		grpc.KeepaliveParams(keepaliveParams(cfg)),
		grpc.ChainUnaryInterceptor(recoverUnary(log), authUnary(cfg.Auth, log, audit), rateUnary(rl, log, audit), limitUnary,
			metricsUnary(cfg.Metrics), logUnary(log)),
		grpc.ChainStreamInterceptor(idleStreams(streamIdle, log), recoverStream(log), authStream(cfg.Auth, log, audit), rateStream(rl, log, audit), limitStream,
			metricsStream(cfg.Metrics), logStream(log)),
	}
	if cfg.MaxConcurrentStreams > 0 {
		opts = append(opts, grpc.MaxConcurrentStreams(cfg.MaxConcurrentStreams))
	}
	if cfg.Creds != nil {
		opts = append(opts, grpc.Creds(localCreds{cfg.Creds}))
	}
	opts = append(opts, cfg.ExtraOptions...)
	gs := grpc.NewServer(opts...)
	screen := NewScreeningService(cfg.Data, cfg.Engine, log, audit)
	screen.sup = cfg.Suppressions
	screen.SetReceiptSigner(cfg.ReceiptSigner)
	pb.RegisterScreeningServiceServer(gs, screen)
	if cfg.Suppressions != nil {
		pb.RegisterSuppressionServiceServer(gs, NewSuppressionService(cfg.Suppressions, log, audit))
	}
	hs := health.NewServer()
	hs.SetServingStatus(LivenessService, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(gs, hs)
	reflection.Register(gs)
	s := &Server{GRPC: gs, Health: hs, data: cfg.Data}
	if cfg.Admin != nil {
		s.dataset = NewDatasetService(cfg.Admin, audit, log, s.RefreshHealth)
		pb.RegisterDatasetServiceServer(gs, s.dataset)
	}
	s.RefreshHealth()
	return s
}

// keepaliveParams is the server's keepalive: a connection without calls is
// closed after cfg.ConnIdleTimeout (DefaultConnIdleTimeout when 0, never
// when negative), pinged after 2 minutes without traffic and dropped when
// the answer takes over 20 s; cfg.MaxConnectionAge (with its grace) closes
// every connection by age. keepalive's zero means "never" for the idle
// time, the age and the grace alike.
func keepaliveParams(cfg Config) keepalive.ServerParameters {
	return keepalive.ServerParameters{MaxConnectionIdle: max(orDefault(cfg.ConnIdleTimeout, DefaultConnIdleTimeout), 0), Time: 2 * time.Minute, Timeout: 20 * time.Second,
		MaxConnectionAge: max(cfg.MaxConnectionAge, 0), MaxConnectionAgeGrace: max(cfg.MaxConnectionAgeGrace, 0)}
}

// orDefault returns d, or def when d is 0.
func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// RefreshHealth sets SERVING when a verified dataset is loaded and
// NOT_SERVING otherwise. Call it after every load.
func (s *Server) RefreshHealth() {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if s.data.Ready() {
		st = healthpb.HealthCheckResponse_SERVING
	}
	for _, name := range healthServices {
		s.Health.SetServingStatus(name, st)
	}
}

// checkMessage refuses a request message that did not decode
// (requestCodec) or is over MaxMessageBytes.
func checkMessage(m any) error {
	if err := undecodable(m); err != nil {
		return err
	}
	return tooLarge(m)
}

// tooLarge refuses m when its encoding is over MaxMessageBytes: the
// generated SizeVT where m has it (the same size as proto.Size, without
// reflection), else proto.Size.
func tooLarge(m any) error {
	size := -1
	switch msg := m.(type) {
	case vtMarshaler:
		size = msg.SizeVT()
	case proto.Message:
		size = proto.Size(msg)
	}
	if size > MaxMessageBytes {
		return refuse(ReasonMessageTooLarge, "request message larger than the limit",
			map[string]string{"max_bytes": strconv.Itoa(MaxMessageBytes)})
	}
	return nil
}

func limitUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := checkMessage(req); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

type limitedStream struct{ grpc.ServerStream }

func (s limitedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return checkMessage(m)
}

func limitStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	return h(srv, limitedStream{ss})
}

func recoverUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				log.Error("panic in handler", "method", info.FullMethod)
				err = internalError()
			}
		}()
		return h(ctx, req)
	}
}

func recoverStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
		defer func() {
			if r := recover(); r != nil {
				log.Error("panic in handler", "method", info.FullMethod)
				err = internalError()
			}
		}()
		return h(srv, ss)
	}
}

// logUnary logs method, client identity, code and duration — never request
// content.
func logUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := h(ctx, req)
		if log.Enabled(ctx, slog.LevelDebug) {
			logRPC(ctx, log, info.FullMethod, start, err)
		}
		return resp, err
	}
}

// logRPC logs one unary call at debug level. A function of its own, so
// that its attributes are not on the stack while the handler runs (a
// handler's stack then stays in the goroutine's first 8 KiB: see
// docs/benchmarks-e2e.md, "Fifth round").
//
//go:noinline
func logRPC(ctx context.Context, log *slog.Logger, method string, start time.Time, err error) {
	log.LogAttrs(ctx, slog.LevelDebug, "rpc", slog.String("method", method), slog.String("client", IdentityFrom(ctx).Name),
		slog.String("code", status.Code(err).String()), slog.Duration("duration", time.Since(start)))
}

func logStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		start := time.Now()
		err := h(srv, ss)
		log.LogAttrs(ss.Context(), slog.LevelInfo, "stream", slog.String("method", info.FullMethod), slog.String("client", IdentityFrom(ss.Context()).Name),
			slog.String("code", status.Code(err).String()), slog.Duration("duration", time.Since(start)))
		return err
	}
}
