package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
	"google.golang.org/grpc/status"

	"github.com/robinscreen/robinscreen/clients"
	"github.com/robinscreen/robinscreen/internal/proccpu"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// unaryConfig configures one open-loop unary run.
type unaryConfig struct {
	Addr        string
	Rate        float64
	Duration    time.Duration
	Warmup      time.Duration
	Connections int
	Channel     pb.Channel
	Purpose     pb.Purpose
	MaxInflight int
	Timeout     time.Duration
	// Health calls grpc.health.v1.Health/Check instead of ScreenContact:
	// the same connections and schedule with no screening work, which
	// measures the floor that client, transport and machine set.
	Health bool
	// Insecure allows plaintext to a non-loopback address.
	Insecure bool
}

// dial opens n plaintext connections to addr under the clients' dial
// policy (clients.Security): refused for an address that is not loopback
// unless insecure. A comma-separated addr names several replicas: then one
// connection balances over all of them with client-side round_robin, as a
// client of a fleet does, and it is returned n times, so that n streams or
// callers spread over the replicas call by call. It returns the dial
// policy's error (clients.ErrPlaintextRefused) or grpc.NewClient's.
func dial(addr string, n int, insecure bool) ([]*grpc.ClientConn, error) {
	if strings.Contains(addr, ",") {
		return dialFleet(strings.Split(addr, ","), n, insecure)
	}
	sec, err := clients.Security{InsecurePlaintext: insecure}.DialOptions(addr)
	if err != nil {
		return nil, err
	}
	opts := append(sec, grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(256<<20), grpc.MaxCallSendMsgSize(64<<20)))
	var conns []*grpc.ClientConn
	for range n {
		c, err := grpc.NewClient(addr, opts...)
		if err != nil {
			closeAll(conns)
			return nil, err
		}
		c.Connect()
		conns = append(conns, c)
	}
	return conns, nil
}

// dialFleet opens one round_robin connection over addrs (each checked
// against the dial policy) and returns it n times. It waits until the
// connection is READY and then briefly, so that every replica's
// subchannel has joined the picker before the caller's first calls: on
// loopback they connect within milliseconds. It returns the dial
// policy's error, grpc.NewClient's, or an error naming the first
// replica address that does not connect within 10 s.
func dialFleet(addrs []string, n int, insecure bool) ([]*grpc.ClientConn, error) {
	var sec []grpc.DialOption
	var state resolver.State
	for _, a := range addrs {
		a = strings.TrimSpace(a)
		s, err := clients.Security{InsecurePlaintext: insecure}.DialOptions(a)
		if err != nil {
			return nil, err
		}
		sec = s
		state.Addresses = append(state.Addresses, resolver.Address{Addr: a})
	}
	r := manual.NewBuilderWithScheme("loadtest-fleet")
	r.InitialState(state)
	opts := append(sec, grpc.WithResolvers(r),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(256<<20), grpc.MaxCallSendMsgSize(64<<20)))
	c, err := grpc.NewClient("loadtest-fleet:///replicas", opts...)
	if err != nil {
		return nil, err
	}
	// Every replica must answer first: a replica that is down would
	// otherwise leave the run measuring fewer replicas than it names.
	for _, a := range state.Addresses {
		one, err := dial(a.Addr, 1, insecure)
		if err != nil {
			c.Close()
			return nil, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = probe(ctx, one[0])
		cancel()
		closeAll(one)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("replica %s: %w", a.Addr, err)
		}
	}
	c.Connect()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for st := c.GetState(); st != connectivity.Ready; st = c.GetState() {
		if !c.WaitForStateChange(ctx, st) {
			c.Close()
			return nil, fmt.Errorf("round_robin over %d replicas: not ready within 10 s", len(addrs))
		}
	}
	time.Sleep(200 * time.Millisecond)
	out := make([]*grpc.ClientConn, n)
	for i := range out {
		out[i] = c
	}
	return out, nil
}

func closeAll(conns []*grpc.ClientConn) {
	for _, c := range conns {
		c.Close()
	}
}

// shard is one connection's client and histogram.
type shard struct {
	client pb.ScreeningServiceClient
	health healthpb.HealthClient
	mu     sync.Mutex
	hist   *hdrhistogram.Histogram
	errs   map[string]int64
}

// runUnary runs the open-loop test: an optional warmup at the same rate
// (not recorded), then the measured period.
func runUnary(ctx context.Context, cfg unaryConfig, set *contactSet) (*UnaryResult, error) {
	if cfg.Rate <= 0 || cfg.Duration <= 0 {
		return nil, errors.New("unary: --rate and --duration must be positive")
	}
	if cfg.Connections <= 0 {
		cfg.Connections = 1
	}
	if cfg.MaxInflight <= 0 {
		cfg.MaxInflight = 50000
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	conns, err := dial(cfg.Addr, cfg.Connections, cfg.Insecure)
	if err != nil {
		return nil, err
	}
	defer closeAll(conns)
	shards := make([]*shard, len(conns))
	for i, c := range conns {
		shards[i] = &shard{client: pb.NewScreeningServiceClient(c), health: healthpb.NewHealthClient(c), hist: newHist(), errs: map[string]int64{}}
	}
	// One synchronous call per connection first, so that connection setup
	// is not measured.
	for i, sh := range shards {
		req := &pb.ScreenContactRequest{Channel: cfg.Channel, Purpose: cfg.Purpose, Contact: set.Contacts[i%len(set.Contacts)]}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := sh.client.ScreenContact(cctx, req, grpc.WaitForReady(true))
		cancel()
		if err != nil {
			return nil, fmt.Errorf("unary: first call: %w", err)
		}
	}
	next := 0
	if cfg.Warmup > 0 {
		var discard UnaryResult
		next = schedule(ctx, cfg, set, shards, cfg.Warmup, next, false, &discard)
		for _, sh := range shards {
			sh.hist.Reset()
			clear(sh.errs)
		}
	}
	res := &UnaryResult{Mode: "unary", Addr: cfg.Addr, Rate: cfg.Rate, Seconds: cfg.Duration.Seconds(), Warmup: cfg.Warmup.Seconds(),
		Connections: cfg.Connections, Channel: cfg.Channel.String()}
	cpu0 := proccpu.Seconds()
	schedule(ctx, cfg, set, shards, cfg.Duration, next, true, res)
	res.ClientCPU = proccpu.Seconds() - cpu0
	all := newHist()
	res.ErrorsByCode = map[string]int64{}
	for _, sh := range shards {
		all.Merge(sh.hist)
		for k, v := range sh.errs {
			res.ErrorsByCode[k] += v
		}
	}
	if res.Dropped > 0 {
		res.ErrorsByCode["Dropped"] += res.Dropped
	}
	res.Latency = summarise(all)
	return res, nil
}

// schedule sends requests at fixed intervals for d, starting with contact
// next, and returns the next contact index. Latency runs from each
// request's intended send time.
func schedule(ctx context.Context, cfg unaryConfig, set *contactSet, shards []*shard, d time.Duration, next int, record bool, res *UnaryResult) int {
	total := int64(d.Seconds() * cfg.Rate)
	var (
		wg       sync.WaitGroup
		inflight atomic.Int64
		ok, errs atomic.Int64
		decs     [4]atomic.Int64
		maxLag   time.Duration
		dropped  int64
		lastDone atomic.Int64 // ns since start
	)
	start := time.Now()
	nsPer := float64(time.Second) / cfg.Rate
	for i := int64(0); i < total; i++ {
		if ctx.Err() != nil {
			break
		}
		intended := start.Add(time.Duration(float64(i) * nsPer))
		if wait := time.Until(intended); wait > 0 {
			time.Sleep(wait)
		} else if lag := -wait; lag > maxLag {
			maxLag = lag
		}
		if inflight.Load() >= int64(cfg.MaxInflight) {
			dropped++
			continue
		}
		sh := shards[int(i)%len(shards)]
		req := &pb.ScreenContactRequest{Channel: cfg.Channel, Purpose: cfg.Purpose, Contact: set.Contacts[next]}
		next++
		if next == len(set.Contacts) {
			next = 0
		}
		inflight.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer inflight.Add(-1)
			cctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
			var resp *pb.ScreenContactResponse
			var err error
			if cfg.Health {
				_, err = sh.health.Check(cctx, &healthpb.HealthCheckRequest{})
			} else {
				resp, err = sh.client.ScreenContact(cctx, req)
			}
			cancel()
			now := time.Now()
			lat := now.Sub(intended)
			for {
				old := lastDone.Load()
				cur := int64(now.Sub(start))
				if cur <= old || lastDone.CompareAndSwap(old, cur) {
					break
				}
			}
			if !record {
				return
			}
			if err != nil {
				errs.Add(1)
			} else {
				ok.Add(1)
				if d := resp.GetResult().GetDecision(); resp != nil && d >= 0 && int(d) < len(decs) {
					decs[d].Add(1)
				}
			}
			sh.mu.Lock()
			recordUS(sh.hist, lat)
			if err != nil {
				sh.errs[status.Code(err).String()]++
			}
			sh.mu.Unlock()
		}()
	}
	wg.Wait()
	if record {
		res.Scheduled = total
		res.Dropped = dropped
		res.OK = ok.Load()
		res.Errors = errs.Load() + dropped
		res.Sent = res.OK + errs.Load()
		if s := time.Duration(lastDone.Load()).Seconds(); s > 0 {
			res.AchievedRate = float64(res.Sent) / s
		}
		res.MaxSendLagMS = float64(maxLag.Microseconds()) / 1000
		res.Decisions = map[string]int64{}
		for d := range decs {
			if v := decs[d].Load(); v > 0 {
				res.Decisions[pb.Decision(d).String()] = v
			}
		}
	}
	return next
}
