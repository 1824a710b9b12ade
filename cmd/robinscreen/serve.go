package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/robinscreen/robinscreen/internal/demo"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/server"
	"github.com/robinscreen/robinscreen/store"
)

func serve(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data", "./data", "data directory")
	listen := fs.String("listen", "127.0.0.1:50051", "gRPC listen address")
	withDemo := fs.Bool("demo", false, "load the bundled synthetic demo dataset when the data directory holds none")
	importDir := fs.String("import-dir", "", "directory from which admin loads may name files (default: uploads only)")
	var sf storeFlags
	sf.register(fs)
	var sec securityFlags
	sec.register(fs)
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	if err := sec.check(*listen); err != nil {
		return err
	}
	log := newLogger(stderr)
	opts, err := sf.options(log)
	if err != nil {
		return err
	}
	opts.ImportDir = *importDir
	opts.AllowSynthetic = *withDemo
	st, err := store.Open(*dir, opts)
	if err != nil {
		return storeOpenError(err, *dir, sf.keyFile)
	}
	defer st.Close()
	if *withDemo && !st.Ready() {
		if err := demo.Load(context.Background(), st, time.Now().UTC().Truncate(24*time.Hour), true); err != nil {
			return fmt.Errorf("demo dataset: %w", err)
		}
		log.Info("loaded the synthetic demo dataset")
	}
	cfg := server.Config{Data: st, Admin: st, Engine: &screening.Engine{}, Logger: log}
	cleanup, err := sec.apply(*listen, st, &cfg, log)
	if err != nil {
		return err
	}
	defer cleanup()
	srv := server.New(cfg)
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return flagError(err, "--listen", *listen)
	}
	if sec.tlsOn() {
		// A client that forgot TLS gets UNAVAILABLE with an ErrorInfo
		// (TLS_REQUIRED) instead of a bare handshake failure.
		lis = server.RequireTLS(lis, log)
	}
	for _, s := range st.Status(time.Now()) {
		log.Info("dataset", "kind", s.Kind, "version", s.Version, "records", s.Records, "published", s.Published.Format(time.DateOnly), "stale", s.Stale)
	}
	if !st.Ready() {
		log.Warn("no Robinson dataset loaded: health is NOT_SERVING and screening answers FAILED_PRECONDITION")
	}
	log.Info("serving", "addr", lis.Addr().String())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		log.Info("shutting down")
		srv.Health.Shutdown()
		done := make(chan struct{})
		go func() { srv.GRPC.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			srv.GRPC.Stop()
		}
	}()
	return srv.GRPC.Serve(lis)
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
