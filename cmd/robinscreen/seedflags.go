package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"

	"github.com/robinscreen/robinscreen/clients"
	"github.com/robinscreen/robinscreen/internal/seed"
	"github.com/robinscreen/robinscreen/store"
)

// seedFlags are serve's flags for seeding an empty data directory from a
// peer replica.
type seedFlags struct {
	from, caFile, serverName, tokenFile string
	retry                               time.Duration
}

func (f *seedFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.from, "seed-from", "", "when the data directory holds no Robinson list: copy the serving dataset versions from a peer at this host:port (a DNS name may stand for several, e.g. a headless Service), or from a directory (a path starting with / or .) laid out as a data directory, and stay NOT_SERVING until they are in")
	fs.StringVar(&f.caFile, "seed-ca", "", "PEM CA certificate(s) verifying the peer (enables TLS to it)")
	fs.StringVar(&f.serverName, "seed-server-name", "", "TLS server name of the peer (default the host of --seed-from)")
	fs.StringVar(&f.tokenFile, "seed-token-file", "", "file whose first line is an admin token of the peer")
	fs.DurationVar(&f.retry, "seed-retry", 5*time.Second, "pause between attempts to seed from the peers")
}

// config returns the seeding's configuration for st, or nil without
// --seed-from. Plaintext to a peer that is not on loopback needs serve's
// --insecure. It returns an error naming the flag for an unreadable CA or
// token file and a malformed address.
func (f *seedFlags) config(st *store.Store, log *slog.Logger, insecure bool) (*seed.Config, error) {
	if f.from == "" {
		return nil, nil
	}
	if f.retry <= 0 {
		return nil, flagError(errors.New("must be positive"), "--seed-retry", f.retry.String())
	}
	if isSeedDir(f.from) {
		fi, err := os.Stat(f.from)
		if err != nil {
			return nil, flagError(err, "--seed-from", f.from)
		}
		if !fi.IsDir() {
			return nil, flagError(errors.New("not a directory"), "--seed-from", f.from)
		}
		return &seed.Config{Dir: f.from, Store: st, Log: log, Retry: f.retry}, nil
	}
	host, _, err := net.SplitHostPort(f.from)
	if err != nil {
		return nil, flagError(err, "--seed-from", f.from)
	}
	sec := clients.Security{InsecurePlaintext: insecure}
	if f.tokenFile != "" {
		if sec.Token, err = readTokenFile(f.tokenFile); err != nil {
			return nil, flagError(err, "--seed-token-file", f.tokenFile)
		}
	}
	if f.caFile != "" {
		name := f.serverName
		if name == "" {
			name = host // the certificate names the Service, not a pod's IP
		}
		if sec.TLS, err = (clients.TLSFiles{CA: f.caFile, ServerName: name}).Config(); err != nil {
			return nil, flagError(err, "--seed-ca", f.caFile)
		}
	} else if !clients.IsLoopbackTarget(f.from) && !insecure {
		return nil, fmt.Errorf("--seed-from %s: refusing plaintext to a peer that is not on loopback: give --seed-ca (or --insecure)", f.from)
	}
	return &seed.Config{
		Target: f.from,
		Dial:   func(addr string) ([]grpc.DialOption, error) { return sec.DialOptions(addr) },
		Store:  st,
		Log:    log,
		Retry:  f.retry,
	}, nil
}

// isSeedDir: --seed-from names a directory (a path starting with / or
// .), not a peer's host:port.
func isSeedDir(from string) bool { return strings.HasPrefix(from, "/") || strings.HasPrefix(from, ".") }

// runSeed seeds the store (see package seed) unless it serves a Robinson
// list already, and calls done when it has one. It returns when seeding
// ended or ctx did.
func runSeed(ctx context.Context, cfg *seed.Config, log *slog.Logger, done func()) {
	if cfg == nil || cfg.Store.Ready() {
		return
	}
	from := cfg.Target
	if cfg.Dir != "" {
		from = cfg.Dir
	}
	log.Info("no Robinson list: seeding the data directory; NOT_SERVING until then", "from", from)
	if err := seed.Run(ctx, *cfg); err != nil {
		return // ctx ended: the server stops
	}
	done()
	log.Info("seeded: serving")
}
