package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"

	"github.com/robinscreen/robinscreen/internal/demo"
	"github.com/robinscreen/robinscreen/internal/seed"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/server"
	"github.com/robinscreen/robinscreen/server/gateway"
	"github.com/robinscreen/robinscreen/store"
	"github.com/robinscreen/robinscreen/suppress"
)

// shutdownGrace is how long Run waits for in-flight calls after its context
// ends before it cuts them off.
const shutdownGrace = 10 * time.Second

// serve runs `robinscreen serve`: parse, open, run until SIGINT or
// SIGTERM, close.
func serve(args []string, stderr io.Writer) error {
	m := NewMain(stderr)
	if err := m.ParseFlags(args); err != nil {
		return err
	}
	if err := m.Open(); err != nil {
		m.Close()
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := m.Run(ctx)
	if cerr := m.Close(); cerr != nil {
		m.log.Error("closing the data directory", "err", cerr)
	}
	return err
}

// serveConfig is serve's configuration, filled from its flags.
type serveConfig struct {
	Data   string
	Listen string
	// HTTPListen, when set, serves HTTP/JSON (the gateway) there.
	HTTPListen string
	Demo       bool
	ImportDir  string
	// ScrubInterval is how often the serving versions are re-verified
	// (0: never); OnDamage is the damage policy (store.ParseDamagePolicy).
	ScrubInterval time.Duration
	OnDamage      string
	// MaxConnectionAge closes every client connection after about this
	// long (0: never), so that clients balancing over replicas spread
	// again; MaxConnectionAgeGrace is how long calls in flight then get
	// (0: no limit).
	MaxConnectionAge      time.Duration
	MaxConnectionAgeGrace time.Duration
	// PlaintextHealth answers grpc.health.v1 in plaintext on the TLS
	// listener (Kubernetes' gRPC probes speak no TLS).
	PlaintextHealth bool
	Seed            seedFlags
	// ReceiptKeyFile is the receipt signing key; empty means
	// DefaultReceiptKeyFile(Data).
	ReceiptKeyFile string
	Store          storeFlags
	Security       securityFlags
	// Suppressions chooses where the suppression list is kept.
	Suppressions suppressionFlags
}

// Main is the serve command as a value, so that tests can run the server
// in-process as well as through the binary: Config is parsed from the
// flags (ParseFlags, or set directly), Open opens the store, the listeners
// and the server, Run serves until its context ends, and Close stops what
// Open started in reverse order.
type Main struct {
	Config serveConfig
	// Stderr receives the structured log (never personal data).
	Stderr io.Writer

	// Set by Open.
	Store  *store.Store
	Server *server.Server
	// Suppressions is the suppression list (embedded or PostgreSQL).
	Suppressions suppress.Store

	log     *slog.Logger
	lis     net.Listener
	seed    *seed.Config // nil without --seed-from
	http    *httpGateway // --http-listen, else nil
	cleanup func()       // stops what securityFlags.apply started
}

// NewMain returns a Main with serve's default configuration that logs to
// stderr.
func NewMain(stderr io.Writer) *Main {
	m := &Main{Stderr: stderr}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	m.register(fs) // the flags' defaults
	return m
}

// register binds serve's flags to m.Config.
func (m *Main) register(fs *flag.FlagSet) {
	c := &m.Config
	fs.StringVar(&c.Data, "data", "./data", "data directory")
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:50051", "gRPC listen address")
	fs.StringVar(&c.HTTPListen, "http-listen", "", "also serve HTTP/JSON (POST /v1/contacts:screen, ..., GET /v1/openapi.json) on this address, e.g. 127.0.0.1:8080 (default: off)")
	fs.BoolVar(&c.Demo, "demo", false, "load the bundled synthetic demo dataset when the data directory holds none")
	fs.StringVar(&c.ImportDir, "import-dir", "", "directory from which admin loads may name files (default: uploads only)")
	fs.DurationVar(&c.ScrubInterval, "scrub-interval", time.Hour, "how often the serving dataset versions' files are re-verified against their manifests (0: never)")
	fs.StringVar(&c.OnDamage, "on-damage", "not-serving", "what a damaged serving dataset version leads to: not-serving (fail closed until a load) or rollback (serve the previous version if it verifies)")
	fs.DurationVar(&c.MaxConnectionAge, "max-connection-age", 0, "close every client connection after about this long (GOAWAY), so that clients balancing over several replicas spread again; 0 = never")
	fs.DurationVar(&c.MaxConnectionAgeGrace, "max-connection-age-grace", 0, "how long calls in flight on a connection closed for its age may still run; 0 = no limit")
	fs.BoolVar(&c.PlaintextHealth, "plaintext-health", false, "with TLS: answer the grpc.health.v1 health checks of plaintext clients on the same port (Kubernetes' gRPC probes cannot speak TLS); every other plaintext call stays refused")
	c.Seed.register(fs)
	fs.StringVar(&c.ReceiptKeyFile, "receipt-key-file", "", "Ed25519 key signing receipts, 32 hex-encoded bytes, mode 0600 (default DIR/receipt.key, created when missing; make one with robinscreen receipt-key)")
	c.Store.register(fs)
	c.Security.register(fs)
	c.Suppressions.register(fs)
}

// ParseFlags fills m.Config from serve's arguments. It returns errUsage for
// a command-line mistake (after printing it and the usage to Stderr) and
// the security check's error for a flag combination that would expose the
// service.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	m.register(fs)
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	if err := m.Config.Security.check(m.Config.Listen); err != nil {
		return err
	}
	return m.Config.Security.checkHTTPListen(m.Config.HTTPListen)
}

// Open opens the data directory, loads the demo dataset if asked, starts
// the security helpers (token reload, audit log, metrics listener), builds
// the gRPC server and opens its listener. Every error is one line naming
// its flag (flagError); on error, call Close to release what was opened.
func (m *Main) Open() error {
	c := &m.Config
	sf, sec := &c.Store, &c.Security
	if err := sec.check(c.Listen); err != nil {
		return err
	}
	if err := sec.checkHTTPListen(c.HTTPListen); err != nil {
		return err
	}
	m.log = newLogger(m.Stderr)
	log := m.log
	opts, err := sf.options(log)
	if err != nil {
		return err
	}
	opts.ImportDir = c.ImportDir
	if opts.OnDamage, err = store.ParseDamagePolicy(c.OnDamage); err != nil {
		return flagError(err, "--on-damage", c.OnDamage)
	}
	if c.ScrubInterval < 0 {
		return flagError(errors.New("must not be negative"), "--scrub-interval", c.ScrubInterval.String())
	}
	if c.MaxConnectionAge < 0 || c.MaxConnectionAgeGrace < 0 {
		return flagError(errors.New("must not be negative"), "--max-connection-age", c.MaxConnectionAge.String(), "--max-connection-age-grace", c.MaxConnectionAgeGrace.String())
	}
	opts.AllowSynthetic = c.Demo
	if opts.BuildCommand, err = buildCommand(); err != nil {
		return err
	}
	st, err := store.Open(c.Data, opts)
	if err != nil {
		return storeOpenError(err, c.Data, sf.keyFile)
	}
	m.Store = st
	if m.seed, err = c.Seed.config(st, log, c.Security.insecure); err != nil {
		return err
	}
	if c.Demo && !st.Ready() {
		if err := demo.Load(context.Background(), st, time.Now().UTC().Truncate(24*time.Hour), true); err != nil {
			return fmt.Errorf("demo dataset: %w", err)
		}
		log.Info("loaded the synthetic demo dataset")
	}
	sup, err := c.Suppressions.open(c.Data, sf.keyFile, opts.EncryptionKey, log)
	if err != nil {
		return err
	}
	m.Suppressions = sup
	signer, err := receiptSigner(c.ReceiptKeyFile, c.Data, c.Demo, log)
	if err != nil {
		return err
	}
	cfg := server.Config{Data: st, Admin: st, Engine: &screening.Engine{}, Logger: log, Suppressions: sup, ReceiptSigner: signer,
		MaxConnectionAge: c.MaxConnectionAge, MaxConnectionAgeGrace: c.MaxConnectionAgeGrace}
	cleanup, err := sec.apply(c.Listen, st, &cfg, log)
	if err != nil {
		return err
	}
	m.cleanup = cleanup
	m.Server = server.New(cfg)
	// A damaged version found by the scrub or a failed read, and a
	// rollback from it, change health.
	st.SetOnChange(m.Server.RefreshHealth)
	m.Server.RefreshHealth()
	lis, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return flagError(err, "--listen", c.Listen)
	}
	if sec.tlsOn() {
		// A client that forgot TLS gets UNAVAILABLE with an ErrorInfo
		// (TLS_REQUIRED) instead of a bare handshake failure.
		if c.PlaintextHealth {
			lis = server.RequireTLSHealth(lis, log, m.Server.Health)
		} else {
			lis = server.RequireTLS(lis, log)
		}
	}
	m.lis = lis
	if c.HTTPListen != "" {
		if m.http, err = openHTTPGateway(c.HTTPListen, sec, log); err != nil {
			return err
		}
	}
	for _, s := range st.Status(time.Now()) {
		log.Info("dataset", "kind", s.Kind, "version", s.Version, "records", s.Records, "published", s.Published.Format(time.DateOnly), "stale", s.Stale)
	}
	for _, kind := range store.Kinds {
		if de := st.Damage(kind); de != nil {
			log.Error("dataset damaged: not screened against", "kind", kind, "error", de.Error())
		}
	}
	if !st.Ready() {
		log.Warn("no Robinson dataset loaded: health is NOT_SERVING and screening answers FAILED_PRECONDITION")
	}
	return nil
}

// Addr is the address the server listens on (after Open): the port chosen
// for --listen 127.0.0.1:0.
func (m *Main) Addr() net.Addr { return m.lis.Addr() }

// HTTPAddr is the address of the HTTP/JSON listener (after Open), nil
// without --http-listen.
func (m *Main) HTTPAddr() net.Addr {
	if m.http == nil {
		return nil
	}
	return m.http.lis.Addr()
}

// Run serves until ctx ends, then stops gracefully: health turns
// NOT_SERVING, the HTTP listener stops taking requests and finishes those
// in flight, new gRPC calls are refused and in-flight calls finish; after
// shutdownGrace in all, what is left is cut off. It returns the gRPC
// server's error, or the HTTP server's (nil after a shutdown). When one of
// them fails on its own, the other is stopped too.
func (m *Main) Run(ctx context.Context) error {
	m.log.Info("serving", "addr", m.lis.Addr().String())
	// The scrub runs while Run does, and has ended when Run returns.
	scrubCtx, stopScrub := context.WithCancel(ctx)
	scrubbed := make(chan struct{})
	go func() {
		defer close(scrubbed)
		if m.Config.ScrubInterval > 0 {
			m.Store.RunScrub(scrubCtx, m.Config.ScrubInterval)
		}
	}()
	defer func() { stopScrub(); <-scrubbed }()
	// Seeding from a peer runs while Run does, too.
	seeded := make(chan struct{})
	go func() {
		defer close(seeded)
		runSeed(scrubCtx, m.seed, m.log, m.Server.RefreshHealth)
	}()
	defer func() { stopScrub(); <-seeded }()
	served := make(chan error, 1)
	go func() { served <- m.Server.GRPC.Serve(m.lis) }()
	var localServed, httpServed chan error // nil without --http-listen
	if m.http != nil {
		localServed, httpServed = make(chan error, 1), make(chan error, 1)
		go func() {
			err := m.Server.GRPC.Serve(m.http.local)
			if errors.Is(err, grpc.ErrServerStopped) {
				err = nil // stopped before this Serve began: a shutdown
			}
			localServed <- err
		}()
		go func() { httpServed <- m.http.serve() }()
		m.log.Info("serving HTTP/JSON", "url", m.http.url(), "openapi", m.http.url()+gateway.OpenAPIPath)
	}
	var err error
	select {
	case err = <-served:
		served = nil
	case err = <-httpServed:
		httpServed = nil
	case <-ctx.Done():
		m.log.Info("shutting down")
	}
	m.Server.Health.Shutdown()
	m.Server.StopLoads(shutdownGrace) // loads outlive their callers, not the server
	deadline := time.Now().Add(shutdownGrace)
	if m.http != nil {
		sctx, cancel := context.WithDeadline(context.Background(), deadline)
		if serr := m.http.srv.Shutdown(sctx); serr != nil {
			m.http.srv.Close()
		}
		cancel()
	}
	done := make(chan struct{})
	go func() { m.Server.GRPC.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Until(deadline)):
		m.Server.GRPC.Stop()
		<-done
	}
	for _, c := range []chan error{served, localServed, httpServed} {
		if c == nil {
			continue
		}
		if cerr := <-c; err == nil {
			err = cerr
		}
	}
	return err
}

// Close stops what Open started, in reverse order: the HTTP listener and
// the gateway's connection, the gRPC server and its listener, the running
// dataset loads (which outlive their callers), the security helpers (token
// reload, metrics listener, audit log), the suppression list, then the
// store, which waits for running loads. It returns the store's (else the
// suppression list's) close error. Close may be called after a failed Open,
// and more
// than once.
func (m *Main) Close() error {
	if m.http != nil {
		m.http.close()
		m.http = nil
	}
	if m.Server != nil {
		m.Server.GRPC.Stop()
		m.Server.StopLoads(shutdownGrace)
	}
	if m.lis != nil {
		m.lis.Close() // already closed when Run served on it
		m.lis = nil
	}
	if m.cleanup != nil {
		m.cleanup()
		m.cleanup = nil
	}
	var err error
	if m.Suppressions != nil {
		err = m.Suppressions.Close()
		m.Suppressions = nil
	}
	if m.Store != nil {
		if serr := m.Store.Close(); serr != nil {
			err = serr
		}
	}
	return err
}

// storeOpenError names the flag behind a failed store.Open: --key-file for
// the pseudonym key (its file, or a key that does not fit the CPR
// dataset), else --data.
func storeOpenError(err error, dir, keyFile string) error {
	if keyFile == "" {
		keyFile = store.DefaultKeyFile(dir)
	}
	var pe *os.PathError
	if errors.Is(err, store.ErrKeyMismatch) || errors.As(err, &pe) && pe.Path == keyFile || strings.Contains(err.Error(), keyFile) {
		return flagError(err, "--key-file", keyFile)
	}
	return flagError(err, "--data", dir)
}
