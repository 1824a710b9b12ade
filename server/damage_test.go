package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/store"
)

func TestDamageToStatus(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantMeta map[string]string
	}{
		{"damage found at open or by the scrub",
			&store.DamageError{Kind: "robinson", Version: "v1", Dir: "/data/robinson/v1", File: "badger/000001.sst", Problem: "SHA-256 does not match the manifest"},
			map[string]string{"kind": "robinson", "version": "v1"}},
		{"a failed read, wrapped", fmt.Errorf("screening: %w", &store.ReadError{Version: "v2"}), map[string]string{"version": "v2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			err := toStatus(slog.New(slog.NewTextHandler(&logs, nil)), tt.err)
			st, _ := status.FromError(err)
			if st.Code() != codes.Unavailable {
				t.Fatalf("code %v, want UNAVAILABLE", st.Code())
			}
			var info *errdetails.ErrorInfo
			for _, d := range st.Details() {
				if i, ok := d.(*errdetails.ErrorInfo); ok {
					info = i
				}
			}
			if info == nil || info.GetReason() != ReasonDatasetDamaged.WireName() {
				t.Fatalf("ErrorInfo %v, want reason %s", info, ReasonDatasetDamaged.WireName())
			}
			for k, v := range tt.wantMeta {
				if info.GetMetadata()[k] != v {
					t.Errorf("metadata %s = %q, want %q", k, info.GetMetadata()[k], v)
				}
			}
			if strings.Contains(st.Message(), "/data/") || strings.Contains(st.Message(), "sst") {
				t.Errorf("message %q shows server paths", st.Message())
			}
		})
	}
	if errors.Is(&store.ReadError{Version: "v"}, store.ErrLoadInProgress) {
		t.Error("a ReadError matches an unrelated error")
	}
}

// TestDamagedVersionThroughTheServer: the scrub finds the serving Robinson
// version damaged; health turns NOT_SERVING through the change hook,
// screening is refused (UNAVAILABLE, DATASET_DAMAGED) in unary and stream
// calls, the dataset status names version and file, and the metrics show
// it.
func TestDamagedVersionThroughTheServer(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	st, err := store.Open(filepath.Join(dir, "data"), store.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	loadDemo(t, st, dir)
	m := NewMetrics(st)
	srv := New(Config{Data: st, Admin: st, Engine: &screening.Engine{}, Logger: log, Metrics: m})
	st.SetOnChange(srv.RefreshHealth)
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
		srv.GRPC.Stop()
		st.Close()
	})
	client := pb.NewScreeningServiceClient(conn)
	ctx := context.Background()
	resp, err := client.ScreenContact(ctx, &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_POST, Contact: listed})
	if err != nil || resp.GetResult().GetDecision() != pb.Decision_DECISION_BLOCK {
		t.Fatalf("before the damage: %v, %v", resp.GetResult().GetDecision(), err)
	}
	if got := scrape(t, m); !strings.Contains(got, `robinscreen_dataset_damaged{kind="robinson"} 0`) {
		t.Errorf("metrics before the damage:\n%s", grepLines(got, "damaged"))
	}

	version := st.Status(time.Now())[0].Version
	filter := filepath.Join(dir, "data", "robinson", version, "bloom-sig3.bin")
	b, err := os.ReadFile(filter)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(filter, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := st.Scrub(); !errors.Is(err, store.ErrDamaged) {
		t.Fatalf("scrub: %v", err)
	}
	hc := healthpb.NewHealthClient(conn)
	deadline := time.Now().Add(10 * time.Second)
	for {
		h, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
		if err == nil && h.GetStatus() == healthpb.HealthCheckResponse_NOT_SERVING {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health %v (%v) after the damage, want NOT_SERVING", h.GetStatus(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	_, err = client.ScreenContact(ctx, &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_POST, Contact: listed})
	errorInfo(t, err, codes.Unavailable, ReasonDatasetDamaged)
	stream, err := client.ScreenContacts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST, Contacts: []*pb.Contact{listed}}); err != nil {
		t.Fatal(err)
	}
	_, err = stream.Recv()
	errorInfo(t, err, codes.Unavailable, ReasonDatasetDamaged)

	ds, err := pb.NewDatasetServiceClient(conn).GetDatasetStatus(ctx, &pb.GetDatasetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if d := ds.GetDatasets()[0].GetDamaged(); !strings.Contains(d, version) || !strings.Contains(d, "bloom-sig3.bin") {
		t.Errorf("status damaged = %q, want version %s and the filter file named", d, version)
	}
	got := scrape(t, m)
	for _, want := range []string{`robinscreen_dataset_damaged{kind="robinson"} 1`, `robinscreen_scrub_runs_total 1`, `robinscreen_scrub_failures_total 1`, `robinscreen_scrub_last_success_timestamp_seconds 0`} {
		if !strings.Contains(got, want) {
			t.Errorf("metrics lack %s; have:\n%s", want, grepLines(got, "scrub"))
		}
	}
}
