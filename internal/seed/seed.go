package seed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/store"
)

// Config is what Run needs.
type Config struct {
	// Target is the peers' address host:port: one replica, or a DNS name
	// that resolves to several (a headless Service lists the ready ones).
	Target string
	// Dir, instead of Target: a directory with a data directory's layout
	// (RunDir).
	Dir string
	// Dial returns the options of a connection to one peer address
	// (transport security and token).
	Dial  func(addr string) ([]grpc.DialOption, error)
	Store *store.Store
	Log   *slog.Logger
	// Retry is the pause between rounds over the peers (default 5 s).
	Retry time.Duration
	// Lookup resolves Target's host (default net.DefaultResolver).
	Lookup func(ctx context.Context, host string) ([]string, error)
}

// order is the order kinds are installed in: the Robinson list last,
// since the replica serves (health SERVING) as soon as it has one.
var order = []pb.DatasetKind{pb.DatasetKind_DATASET_KIND_STREETS, pb.DatasetKind_DATASET_KIND_CPR, pb.DatasetKind_DATASET_KIND_CVR, pb.DatasetKind_DATASET_KIND_ROBINSON}

var kindNames = map[pb.DatasetKind]string{
	pb.DatasetKind_DATASET_KIND_ROBINSON: screening.KindRobinson,
	pb.DatasetKind_DATASET_KIND_CPR:      screening.KindCPR,
	pb.DatasetKind_DATASET_KIND_STREETS:  screening.KindStreets,
	pb.DatasetKind_DATASET_KIND_CVR:      screening.KindCVR,
}

// Run seeds the store from the first peer that is SERVING and sends its
// versions (or from cfg.Dir, RunDir), trying the peers again every Retry until the store serves a
// Robinson list, and returns nil then. A peer's kinds the store serves
// already are skipped. It returns ctx's error when ctx ends first.
// Failures of one round (no peer, a peer refusing, a file that does not
// match its hash) are logged, never with personal data, and retried.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Retry <= 0 {
		cfg.Retry = 5 * time.Second
	}
	if cfg.Lookup == nil {
		cfg.Lookup = net.DefaultResolver.LookupHost
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	from := cfg.Target
	if cfg.Dir != "" {
		from = cfg.Dir
	}
	for {
		var err error
		if cfg.Dir != "" {
			err = RunDir(ctx, cfg.Store, cfg.Dir, log)
		} else {
			err = round(ctx, cfg, log)
		}
		if err == nil && cfg.Store.Ready() {
			return nil
		}
		if err == nil {
			err = errors.New("no peer sent a Robinson list")
		}
		log.Warn("seeding the data directory: not done; trying again", "from", from, "err", err.Error(), "retry", cfg.Retry.String())
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(cfg.Retry):
		}
	}
}

// peers returns the addresses Target stands for.
func peers(ctx context.Context, cfg Config) ([]string, error) {
	host, port, err := net.SplitHostPort(cfg.Target)
	if err != nil {
		return nil, err
	}
	if net.ParseIP(host) != nil {
		return []string{cfg.Target}, nil
	}
	ips, err := cfg.Lookup(ctx, host)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = net.JoinHostPort(ip, port)
	}
	return out, nil
}

// round tries the peers in turn until one is SERVING and its versions
// install; it returns the last failure when none did.
func round(ctx context.Context, cfg Config, log *slog.Logger) error {
	addrs, err := peers(ctx, cfg)
	if err != nil {
		return err
	}
	var last error = errors.New("no peer address")
	for _, addr := range addrs {
		if err := fromPeer(ctx, cfg, log, addr); err != nil {
			last = fmt.Errorf("%s: %w", addr, err)
			continue
		}
		return nil
	}
	return last
}

// errPeerNotServing: the peer has no verified Robinson list itself.
var errPeerNotServing = errors.New("the peer is not SERVING")

func fromPeer(ctx context.Context, cfg Config, log *slog.Logger, addr string) error {
	opts, err := cfg.Dial(addr)
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return err
	}
	defer conn.Close()
	hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	h, err := healthpb.NewHealthClient(conn).Check(hctx, &healthpb.HealthCheckRequest{})
	cancel()
	if err != nil {
		return err
	}
	if h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return errPeerNotServing
	}
	c := pb.NewDatasetServiceClient(conn)
	for _, k := range order {
		kind := kindNames[k]
		if v := servingVersion(cfg.Store, kind); v != "" {
			continue
		}
		start := time.Now()
		man, err := fetch(ctx, c, cfg.Store, k, kind)
		if status.Code(err) == codes.NotFound {
			continue // the peer serves none of this kind
		}
		if err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		log.Info("seeded a dataset version from a peer", "kind", kind, "version", man.Version, "records", man.Records, "peer", addr, "duration", time.Since(start).String())
	}
	return nil
}

func servingVersion(st *store.Store, kind string) string {
	for _, s := range st.Status(time.Now()) {
		if s.Kind == kind {
			return s.Version
		}
	}
	return ""
}

// fetch receives one kind's serving version from c and installs it.
func fetch(ctx context.Context, c pb.DatasetServiceClient, st *store.Store, k pb.DatasetKind, kind string) (*store.Manifest, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.FetchDatasetVersion(ctx, &pb.FetchDatasetVersionRequest{Kind: k})
	if err != nil {
		return nil, err
	}
	first, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	version := first.GetVersion()
	if version == "" {
		return nil, errors.New("the peer did not name the version")
	}
	in, err := st.BeginInstall(kind, version)
	if err != nil {
		return nil, err
	}
	defer in.Abort()
	r := &chunkReader{stream: stream}
	for {
		msg, err := r.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		f := msg.GetFile()
		if f == nil {
			return nil, errors.New("the peer sent data outside a file")
		}
		if err := in.AddFile(f.GetPath(), f.GetSize(), f.GetSha256(), r); err != nil {
			return nil, err
		}
		if r.err != nil && !errors.Is(r.err, io.EOF) {
			return nil, r.err
		}
	}
	return in.Commit(ctx)
}

// chunkReader reads the chunks that follow a file's header as the file's
// bytes; the next header (or the stream's end) ends the file and is kept
// for next.
type chunkReader struct {
	stream  pb.DatasetService_FetchDatasetVersionClient
	pending *pb.FetchDatasetVersionResponse
	buf     []byte
	err     error // the stream's end or failure, once seen
}

// next returns the next message that is not a chunk (io.EOF at the
// stream's end), skipping the rest of the current file's chunks.
func (r *chunkReader) next() (*pb.FetchDatasetVersionResponse, error) {
	r.buf = nil
	for {
		if m := r.pending; m != nil {
			r.pending = nil
			return m, nil
		}
		if r.err != nil {
			return nil, r.err
		}
		m, err := r.stream.Recv()
		if err != nil {
			r.err = err
			return nil, err
		}
		if m.GetFile() != nil || m.GetVersion() != "" {
			return m, nil
		}
	}
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.pending != nil || r.err != nil {
			return 0, io.EOF
		}
		m, err := r.stream.Recv()
		if err != nil {
			r.err = err
			if errors.Is(err, io.EOF) {
				return 0, io.EOF
			}
			return 0, err
		}
		if _, ok := m.GetMsg().(*pb.FetchDatasetVersionResponse_Chunk); !ok {
			r.pending = m
			return 0, io.EOF
		}
		r.buf = m.GetChunk()
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// RunDir seeds the store from dataDir, the layout of another data
// directory (a copy or a volume snapshot of a replica's): for every kind
// the store does not serve, the version dataDir's state file names is
// copied and checked (store.InstallDir), the Robinson list last. It
// returns the first failure (nothing of that kind is then installed; the
// kinds before it are), and an error when the store still serves no
// Robinson list.
func RunDir(ctx context.Context, st *store.Store, dataDir string, log *slog.Logger) error {
	for _, k := range order {
		kind := kindNames[k]
		if servingVersion(st, kind) != "" {
			continue
		}
		v, err := store.ServingVersionIn(dataDir, kind)
		if err != nil {
			return err
		}
		if v == "" {
			continue
		}
		man, err := st.InstallDir(ctx, kind, filepath.Join(dataDir, kind, v))
		if err != nil {
			return fmt.Errorf("%s version %s: %w", kind, v, err)
		}
		log.Info("seeded a dataset version from a directory", "kind", kind, "version", man.Version, "records", man.Records)
	}
	if !st.Ready() {
		return errors.New("the directory holds no Robinson list")
	}
	return nil
}
