package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/robinscreen/robinscreen/server"
)

// securityFlags are serve's transport-security, access-control, audit and
// observability flags.
type securityFlags struct {
	tlsCert, tlsKey, clientCA string
	insecure                  bool
	tokenFile                 string
	auditLog                  string
	metricsListen             string
	rateLimit                 float64
	rateBurst                 int
	maxStreams                uint
	streamIdle, connIdle      time.Duration
}

func (f *securityFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.tlsCert, "tls-cert", "", "PEM server certificate (chain); with --tls-key serves TLS 1.3")
	fs.StringVar(&f.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&f.clientCA, "client-ca", "", "PEM CA certificate(s); clients must present a certificate it signed (mutual TLS)")
	fs.BoolVar(&f.insecure, "insecure", false, "allow plaintext on a non-loopback address, and no token file there")
	fs.StringVar(&f.tokenFile, "token-file", "", "bearer tokens, one 'role:sha256hex[:name]' per line (re-read on SIGHUP)")
	fs.StringVar(&f.auditLog, "audit-log", "", "append-only JSON-lines audit log file (default: none)")
	fs.StringVar(&f.metricsListen, "metrics-listen", "", "serve Prometheus /metrics over HTTP on this address, e.g. 127.0.0.1:9090 (default: off)")
	fs.Float64Var(&f.rateLimit, "rate-limit", 0, "requests per second per client (token, certificate or IP); 0 = no limit")
	fs.IntVar(&f.rateBurst, "rate-burst", 0, "requests a client may make at once above --rate-limit (default 2 x rate)")
	fs.UintVar(&f.maxStreams, "max-streams", 100, "concurrent calls per connection; 0 = no limit")
	fs.DurationVar(&f.streamIdle, "stream-idle-timeout", server.DefaultStreamIdleTimeout, "close a streaming call that sends no message for this long (STREAM_IDLE); 0 = never")
	fs.DurationVar(&f.connIdle, "conn-idle-timeout", server.DefaultConnIdleTimeout, "close a connection that has had no call for this long (GOAWAY); 0 = never")
}

// check refuses flag combinations that would expose the service: plaintext
// or no authentication on a non-loopback listen address without --insecure.
func (f *securityFlags) check(listen string) error {
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key must be given together")
	}
	if f.clientCA != "" && f.tlsCert == "" {
		return errors.New("--client-ca needs --tls-cert and --tls-key")
	}
	if f.rateLimit < 0 || f.rateBurst < 0 {
		return errors.New("--rate-limit and --rate-burst must not be negative")
	}
	if f.maxStreams > 1<<31 {
		return errors.New("--max-streams is too large")
	}
	if f.streamIdle < 0 || f.connIdle < 0 {
		return errors.New("--stream-idle-timeout and --conn-idle-timeout must not be negative")
	}
	loopback := isLoopbackAddr(listen)
	if f.tlsCert == "" && !loopback && !f.insecure {
		return fmt.Errorf("refusing to serve plaintext on %s, which is not a loopback address: give --tls-cert and --tls-key (or --insecure to accept plaintext)", listen)
	}
	if f.tokenFile == "" && f.clientCA == "" && !loopback && !f.insecure {
		return fmt.Errorf("refusing to serve %s, which is not a loopback address, open to every client: give --token-file or --client-ca (or --insecure to run open)", listen)
	}
	return nil
}

// tlsOn reports whether the server speaks TLS.
func (f *securityFlags) tlsOn() bool { return f.tlsCert != "" }

// apply fills cfg's security, audit and metrics fields from the flags and
// starts the metrics listener and the SIGHUP token reload. The returned
// cleanup stops them and closes the audit log.
//
// Every error names its flag and file or address (flagError) and is one
// line. On error, what was started is stopped again: the deferred cleanup
// runs the closers itself, so a failure never calls a nil cleanup (it did:
// the named result was nil on every error return, a nil-pointer panic for
// every configuration error).
func (f *securityFlags) apply(listen string, data server.DatasetStatuser, cfg *server.Config, log *slog.Logger) (func(), error) {
	if err := f.check(listen); err != nil {
		return nil, err
	}
	var closers []func()
	cleanup := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	ok := false
	defer func() {
		if !ok {
			cleanup()
		}
	}()
	loopback := isLoopbackAddr(listen)

	if f.tlsCert != "" {
		// The key pair first, then the client CA, so that the error names
		// the flag at fault.
		if _, err := server.TLSConfig(f.tlsCert, f.tlsKey, ""); err != nil {
			return nil, flagError(err, "--tls-cert", f.tlsCert, "--tls-key", f.tlsKey)
		}
		creds, err := server.TLSCredentials(f.tlsCert, f.tlsKey, f.clientCA)
		if err != nil {
			return nil, flagError(err, "--client-ca", f.clientCA)
		}
		cfg.Creds = creds
		log.Info("TLS 1.3", "mutual_tls", f.clientCA != "")
	} else if !loopback {
		log.Warn("serving plaintext on a non-loopback address (--insecure): requests, tokens and results cross the network unencrypted")
	}

	switch {
	case f.tokenFile != "":
		auth, err := server.LoadTokenFile(f.tokenFile)
		if err != nil {
			return nil, flagError(err, "--token-file", f.tokenFile)
		}
		cfg.Auth = auth
		log.Info("bearer tokens required", "tokens", auth.Len())
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		done := make(chan struct{})
		go func() {
			for {
				select {
				case <-done:
					return
				case <-hup:
					if err := auth.Reload(); err != nil {
						log.Error("token file not reloaded; the previous tokens stay in force", "err", err)
					} else {
						log.Info("token file reloaded", "tokens", auth.Len())
					}
				}
			}
		}()
		closers = append(closers, func() { signal.Stop(hup); close(done) })
	case f.clientCA != "":
		log.Warn("no token file: every client with a certificate from --client-ca may use every service, DatasetService included")
	case loopback:
		log.Warn("no token file: the server is open to every client on loopback")
	default:
		log.Warn("no token file: the server is open to every client (--insecure)")
	}

	cfg.RateLimit = server.RateLimit{PerSecond: f.rateLimit, Burst: f.rateBurst}
	cfg.MaxConcurrentStreams = uint32(f.maxStreams)
	cfg.StreamIdleTimeout, cfg.ConnIdleTimeout = offIfZero(f.streamIdle), offIfZero(f.connIdle)

	var auditors server.MultiAuditor
	if cfg.Auditor != nil {
		auditors = append(auditors, cfg.Auditor)
	}
	if f.auditLog != "" {
		al, err := server.OpenAuditLog(f.auditLog, log)
		if err != nil {
			return nil, flagError(err, "--audit-log", f.auditLog)
		}
		closers = append(closers, func() {
			if err := al.Close(); err != nil {
				log.Error("audit log close", "err", err)
			}
		})
		auditors = append(auditors, al)
		log.Info("audit log", "file", f.auditLog)
	}
	if len(auditors) > 0 {
		cfg.Auditor = auditors
	}

	if f.metricsListen != "" {
		m := server.NewMetrics(data)
		cfg.Metrics = m
		lis, err := net.Listen("tcp", f.metricsListen)
		if err != nil {
			return nil, flagError(err, "--metrics-listen", f.metricsListen)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Handler())
		hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
		go func() {
			if err := hs.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics listener", "err", err)
			}
		}()
		closers = append(closers, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			hs.Shutdown(ctx)
		})
		log.Info("metrics", "addr", "http://"+lis.Addr().String()+"/metrics")
	}
	ok = true
	return cleanup, nil
}

// offIfZero maps a flag's 0 ("never") to server.Config's negative "off"
// (its 0 means the default).
func offIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
