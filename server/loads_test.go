package server

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/store"
)

// heldAdmin is the store with a LoadSource that waits until the test lets
// it finish (proceed) or its context ends, and reports which.
type heldAdmin struct {
	*store.Store
	started chan struct{}
	proceed chan struct{}
	ended   chan error // the context's error, nil when let through
}

func (a *heldAdmin) LoadSource(ctx context.Context, kind string, src store.Source, opt store.LoadOptions) (*store.Manifest, error) {
	// Progress first: a test that waits for started then reads the
	// status must find the lines read.
	opt.Progress(store.Progress{Phase: store.PhaseReading, Lines: 7})
	close(a.started)
	select {
	case <-a.proceed:
		a.ended <- nil
		return &store.Manifest{Kind: kind, Version: "20260101T000000Z-test", Records: 3, Lines: 7}, nil
	case <-ctx.Done():
		a.ended <- ctx.Err()
		return nil, ctx.Err()
	}
}

func newHeldServer(t *testing.T) (*heldAdmin, *Server, pb.DatasetServiceClient) {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	admin := &heldAdmin{Store: st, started: make(chan struct{}), proceed: make(chan struct{}), ended: make(chan error, 1)}
	srv := New(Config{Data: st, Admin: admin, Engine: &screening.Engine{}})
	lis := bufconn.Listen(1 << 20)
	go srv.GRPC.Serve(lis)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.StopLoads(5 * time.Second)
		srv.GRPC.Stop()
		st.Close()
	})
	return admin, srv, pb.NewDatasetServiceClient(conn)
}

// startHeld uploads a small file and returns the load's ID once the held
// LoadSource runs; cancel drops the caller.
func startHeld(t *testing.T, c pb.DatasetServiceClient, admin *heldAdmin) (id string, cancel context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := c.LoadDataset(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*pb.LoadDatasetRequest{
		{Msg: &pb.LoadDatasetRequest_Start{Start: &pb.LoadDatasetStart{Kind: pb.DatasetKind_DATASET_KIND_ROBINSON, FileName: "list.txt"}}},
		{Msg: &pb.LoadDatasetRequest_Chunk{Chunk: []byte("not parsed by the held admin\n")}},
	} {
		if err := stream.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	stream.CloseSend()
	first, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	<-admin.started
	return first.GetLoadId(), cancel
}

// loadInfo returns the status's LoadInfo of id, waiting up to 5 s for its
// state to be want.
func loadInfo(t *testing.T, c pb.DatasetServiceClient, id string, want pb.LoadState) *pb.LoadInfo {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := c.GetDatasetStatus(context.Background(), &pb.GetDatasetStatusRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var got *pb.LoadInfo
		for _, l := range resp.GetLoads() {
			if l.GetId() == id {
				got = l
			}
		}
		if got.GetState() == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLoadOutlivesCaller(t *testing.T) {
	for _, tc := range []struct {
		name      string
		end       func(srv *Server, admin *heldAdmin)
		wantCtx   error
		wantState pb.LoadState
		wantWhy   string
	}{
		{"let through", func(_ *Server, a *heldAdmin) { close(a.proceed) }, nil, pb.LoadState_LOAD_STATE_LOADED, ""},
		{"server stops", func(srv *Server, _ *heldAdmin) { srv.StopLoads(5 * time.Second) }, context.Canceled, pb.LoadState_LOAD_STATE_FAILED, ReasonCanceled.WireName()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			admin, srv, c := newHeldServer(t)
			id, cancel := startHeld(t, c, admin)
			cancel() // the caller goes away
			running := loadInfo(t, c, id, pb.LoadState_LOAD_STATE_RUNNING)
			if running.GetState() != pb.LoadState_LOAD_STATE_RUNNING || running.GetLinesRead() != 7 || running.GetSourceName() != "list.txt" || running.GetBytesReceived() == 0 {
				t.Fatalf("after the caller left: %v, want the load running", running)
			}
			select {
			case err := <-admin.ended:
				t.Fatalf("the load ended with its caller: %v", err)
			case <-time.After(100 * time.Millisecond):
			}
			tc.end(srv, admin)
			if err := <-admin.ended; err != tc.wantCtx {
				t.Errorf("the load's context ended with %v, want %v", err, tc.wantCtx)
			}
			got := loadInfo(t, c, id, tc.wantState)
			if got.GetState() != tc.wantState || got.GetErrorReason() != tc.wantWhy || got.GetFinishedAt() == nil {
				t.Errorf("load %v, want state %v reason %q", got, tc.wantState, tc.wantWhy)
			}
			if tc.wantState == pb.LoadState_LOAD_STATE_LOADED && (got.GetVersion() != "20260101T000000Z-test" || got.GetRecordsAccepted() != 3) {
				t.Errorf("loaded: %v", got)
			}
		})
	}
}

// TestLoadRegistryKeeps: the registry keeps the running loads and the
// newest ended ones, at most maxLoads in all, newest first.
func TestLoadRegistryKeeps(t *testing.T) {
	g := newLoadRegistry()
	running := g.start(pb.DatasetKind_DATASET_KIND_CPR, "running.txt", pb.LoadPhase_LOAD_PHASE_READING)
	var last *loadRun
	for i := 0; i < maxLoads+5; i++ {
		last = g.start(pb.DatasetKind_DATASET_KIND_ROBINSON, "x.txt", pb.LoadPhase_LOAD_PHASE_READING)
		last.finish(&pb.LoadDatasetResponse{}, nil)
	}
	list := g.list()
	if len(list) != maxLoads {
		t.Fatalf("%d loads kept, want %d", len(list), maxLoads)
	}
	if list[0].GetId() != last.id {
		t.Errorf("first listed %s, want the newest %s", list[0].GetId(), last.id)
	}
	found := false
	ids := map[string]bool{}
	for _, l := range list {
		found = found || l.GetId() == running.id
		ids[l.GetId()] = true
	}
	if !found {
		t.Errorf("the running load was dropped")
	}
	if len(ids) != len(list) {
		t.Errorf("load IDs repeat: %v", ids)
	}
}

// TestSlotFreeWhenLoadAnswers: by the time the caller has a load's final
// answer, the kind's load slot is free again, so an admin who loads or
// rolls back at once is not refused LOAD_IN_PROGRESS by the load that just
// ended (the slot used to be released after the answer was sent).
func TestSlotFreeWhenLoadAnswers(t *testing.T) {
	admin, _, c := newHeldServer(t)
	ctx := context.Background()
	stream, err := c.LoadDataset(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*pb.LoadDatasetRequest{
		{Msg: &pb.LoadDatasetRequest_Start{Start: &pb.LoadDatasetStart{Kind: pb.DatasetKind_DATASET_KIND_ROBINSON, FileName: "list.txt"}}},
		{Msg: &pb.LoadDatasetRequest_Chunk{Chunk: []byte("not parsed by the held admin\n")}},
	} {
		if err := stream.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	stream.CloseSend()
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	<-admin.started
	close(admin.proceed)
	for {
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		if resp.GetPhase() == pb.LoadPhase_LOAD_PHASE_DONE {
			break
		}
	}
	release, err := admin.Store.Reserve(screening.KindRobinson)
	if err != nil {
		t.Fatalf("the slot after the final answer: %v, want free", err)
	}
	release()
}
