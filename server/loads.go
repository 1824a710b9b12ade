package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"sync"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// maxLoads is how many loads the registry keeps (running ones always).
const maxLoads = 16

// loadRun is one load: its identity, progress and outcome. A load runs on
// after its caller's connection drops; whoever follows it waits on changed.
type loadRun struct {
	id string

	mu      sync.Mutex
	info    *pb.LoadInfo
	final   *pb.LoadDatasetResponse // LOADED: the last response
	err     error                   // FAILED: the status error
	changed chan struct{}           // closed and replaced on every update
	done    chan struct{}           // closed when the load ends
}

// update changes the load's progress and wakes its followers.
func (r *loadRun) update(fn func(*pb.LoadInfo)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(r.info)
	close(r.changed)
	r.changed = make(chan struct{})
}

// snapshot returns a copy of the load's info, the channel closed at its
// next update, and whether it has ended.
func (r *loadRun) snapshot() (*pb.LoadInfo, <-chan struct{}, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return proto.Clone(r.info).(*pb.LoadInfo), r.changed, r.info.GetState() != pb.LoadState_LOAD_STATE_RUNNING
}

// finish ends the load with its last response (loaded) or the status
// error its caller gets (failed).
func (r *loadRun) finish(final *pb.LoadDatasetResponse, stErr error) {
	r.update(func(i *pb.LoadInfo) {
		i.FinishedAt = timestamppb.Now()
		if stErr != nil {
			st := status.Convert(stErr)
			i.State, i.ErrorMessage = pb.LoadState_LOAD_STATE_FAILED, st.Message()
			i.ErrorReason = st.Code().String()
			for _, d := range st.Details() {
				if ei, ok := d.(*errdetails.ErrorInfo); ok {
					i.ErrorReason = ei.GetReason()
				}
			}
			r.err = stErr
			return
		}
		i.State, i.Phase = pb.LoadState_LOAD_STATE_LOADED, pb.LoadPhase_LOAD_PHASE_DONE
		i.Version, i.LinesRead = final.GetVersion().GetVersion(), final.GetLinesRead()
		i.RecordsAccepted, i.LinesRejected = final.GetRecordsAccepted(), final.GetLinesRejected()
		r.final = final
	})
	close(r.done)
}

// outcome returns the last response or the status error of an ended load.
func (r *loadRun) outcome() (*pb.LoadDatasetResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.final, r.err
}

// loadRegistry holds the running loads and the last ended ones, and the
// context that ends the running ones when the server stops.
type loadRegistry struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	runs []*loadRun // oldest first
}

func newLoadRegistry() *loadRegistry {
	ctx, cancel := context.WithCancel(context.Background())
	return &loadRegistry{ctx: ctx, cancel: cancel}
}

// start registers a new running load of kind.
func (g *loadRegistry) start(kind pb.DatasetKind, source string, phase pb.LoadPhase) *loadRun {
	var b [8]byte
	rand.Read(b[:])
	r := &loadRun{id: hex.EncodeToString(b[:]), changed: make(chan struct{}), done: make(chan struct{})}
	r.info = &pb.LoadInfo{Id: r.id, Kind: kind, State: pb.LoadState_LOAD_STATE_RUNNING, Phase: phase, StartedAt: timestamppb.Now(), SourceName: source}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.runs = append(g.runs, r)
	// Forget the oldest ended loads beyond maxLoads.
	for i := 0; len(g.runs) > maxLoads && i < len(g.runs); {
		select {
		case <-g.runs[i].done:
			g.runs = slices.Delete(g.runs, i, i+1)
		default:
			i++
		}
	}
	return r
}

// list returns every kept load's info, newest first.
func (g *loadRegistry) list() []*pb.LoadInfo {
	g.mu.Lock()
	runs := slices.Clone(g.runs)
	g.mu.Unlock()
	var out []*pb.LoadInfo
	for i := len(runs) - 1; i >= 0; i-- {
		info, _, _ := runs[i].snapshot()
		out = append(out, info)
	}
	return out
}

// stop cancels the running loads and waits until they have ended, at
// most until timeout.
func (g *loadRegistry) stop(timeout time.Duration) {
	g.cancel()
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
	}
}
