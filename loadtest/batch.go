package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/robinscreen/robinscreen/internal/proccpu"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// batchConfig configures one batch run.
type batchConfig struct {
	Addr    string
	Chunk   int
	Streams int
	Window  int
	Channel pb.Channel
	Purpose pb.Purpose
	// FullDecode unmarshals responses into pb.ScreenContactsResponse.
	FullDecode bool
	// Insecure allows plaintext to a non-loopback address.
	Insecure bool
}

type chunk struct {
	msg *rawMessage
	n   int
}

type inflightChunk struct {
	c    *chunk
	sent time.Time
}

// runBatch screens every contact of set once through ScreenContacts.
func runBatch(ctx context.Context, cfg batchConfig, set *contactSet) (*BatchResult, error) {
	if cfg.Chunk <= 0 || cfg.Streams <= 0 {
		return nil, errors.New("batch: --chunk and --streams must be positive")
	}
	if cfg.Window <= 0 {
		cfg.Window = 1
	}
	decode := "light"
	if cfg.FullDecode {
		decode = "full"
	}
	res := &BatchResult{Mode: "batch", Addr: cfg.Addr, Contacts: len(set.Contacts), ExpectedListed: set.Listed,
		Chunk: cfg.Chunk, Streams: cfg.Streams, Window: cfg.Window, Decode: decode, Channel: cfg.Channel.String()}
	prep := time.Now()
	var chunks []*chunk
	for lo := 0; lo < len(set.Contacts); lo += cfg.Chunk {
		hi := min(lo+cfg.Chunk, len(set.Contacts))
		b, err := proto.Marshal(&pb.ScreenContactsRequest{Channel: cfg.Channel, Purpose: cfg.Purpose, Contacts: set.Contacts[lo:hi]})
		if err != nil {
			return nil, err
		}
		chunks = append(chunks, &chunk{msg: &rawMessage{b}, n: hi - lo})
	}
	conns, err := dial(cfg.Addr, cfg.Streams, cfg.Insecure)
	if err != nil {
		return nil, err
	}
	defer closeAll(conns)
	// Wait for every connection with a health-free probe: one tiny stream.
	for _, c := range conns {
		if err := probe(ctx, c); err != nil {
			return nil, fmt.Errorf("batch: %w", err)
		}
	}
	res.PrepareSeconds = time.Since(prep).Seconds()

	codec := newLightCodec()
	var (
		next    atomic.Int64
		results atomic.Int64
		failed  atomic.Int64
		decs    [4]atomic.Int64
		mu      sync.Mutex
		hist    = newHist()
		errCode = map[string]int64{}
		wg      sync.WaitGroup
	)
	fail := func(err error, contacts int) {
		failed.Add(int64(contacts))
		mu.Lock()
		errCode[status.Code(err).String()] += int64(contacts)
		mu.Unlock()
	}
	cpu0 := proccpu.Seconds()
	start := time.Now()
	for s := range cfg.Streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sctx, cancel := context.WithCancel(ctx)
			defer cancel()
			st, err := conns[s].NewStream(sctx, &pb.ScreeningService_ServiceDesc.Streams[0],
				pb.ScreeningService_ScreenContacts_FullMethodName, grpc.ForceCodecV2(codec))
			if err != nil {
				// The other streams take this stream's chunks; if none
				// works, the contacts show up as NotScreened.
				fail(err, 0)
				return
			}
			queue := make(chan inflightChunk, cfg.Window)
			sendErr := make(chan error, 1)
			go func() {
				defer close(queue)
				for {
					i := next.Add(1) - 1
					if i >= int64(len(chunks)) {
						sendErr <- st.CloseSend()
						return
					}
					c := chunks[i]
					queue <- inflightChunk{c: c, sent: time.Now()} // blocks at window
					if err := st.SendMsg(c.msg); err != nil {
						sendErr <- err
						return
					}
				}
			}()
			var dc decisionCounts
			var full pb.ScreenContactsResponse
			broken := false
			for ic := range queue {
				if broken {
					fail(errors.New("stream broken"), ic.c.n)
					continue
				}
				var n int
				var err error
				if cfg.FullDecode {
					full.Reset()
					if err = st.RecvMsg(&full); err == nil {
						n = len(full.Results)
						for _, r := range full.Results {
							if d := r.GetDecision(); d >= 0 && int(d) < len(decs) {
								decs[d].Add(1)
							}
						}
					}
				} else if err = st.RecvMsg(&dc); err == nil {
					n = dc.results
					for d, v := range dc.byDec {
						decs[d].Add(int64(v))
					}
				}
				if err != nil {
					fail(err, ic.c.n)
					broken = true
					cancel()
					continue
				}
				if n != ic.c.n {
					fail(fmt.Errorf("%d results for %d contacts", n, ic.c.n), ic.c.n-n)
				}
				results.Add(int64(n))
				lat := time.Since(ic.sent)
				mu.Lock()
				recordUS(hist, lat)
				mu.Unlock()
			}
			if err := <-sendErr; err != nil && !broken && !errors.Is(err, io.EOF) {
				fail(err, 0)
				return
			}
			if !broken {
				if err := st.RecvMsg(&dc); !errors.Is(err, io.EOF) {
					fail(fmt.Errorf("stream end: %v", err), 0)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	res.ClientCPU = proccpu.Seconds() - cpu0
	res.Seconds = el.Seconds()
	res.Results = results.Load()
	res.Errors = failed.Load()
	res.ContactsPerSec = float64(res.Results) / el.Seconds()
	res.ChunkLatency = summarise(hist)
	res.ErrorsByCode = errCode
	res.Decisions = map[string]int64{}
	for d := range decs {
		if v := decs[d].Load(); v > 0 {
			res.Decisions[pb.Decision(d).String()] = v
		}
	}
	if missing := int64(len(set.Contacts)) - res.Results - res.Errors; missing > 0 {
		errCode["NotScreened"] += missing
		res.Errors += missing
	}
	for k, v := range errCode {
		if v == 0 {
			delete(errCode, k)
		}
	}
	return res, nil
}

// probe waits until the connection is up and the service answers.
func probe(ctx context.Context, c *grpc.ClientConn) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := pb.NewScreeningServiceClient(c).ScreenContact(cctx, &pb.ScreenContactRequest{
		Channel: pb.Channel_CHANNEL_POST, Contact: &pb.Contact{Ref: "probe", Name: "Probe Probesen", Address: "Probevej 1, 9999 Probe"},
	}, grpc.WaitForReady(true))
	return err
}
