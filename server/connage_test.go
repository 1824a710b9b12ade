package server

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/store"
)

// TestMaxConnectionAge: with MaxConnectionAge set, a connection in use is
// closed by the server (GOAWAY) after about that age, so the client leaves
// READY and reconnects; without it, the connection stays.
func TestMaxConnectionAge(t *testing.T) {
	tests := []struct {
		name    string
		age     time.Duration
		goesWay bool
	}{
		{name: "age 300ms closes the connection", age: 300 * time.Millisecond, goesWay: true},
		{name: "age 0 keeps it", age: 0, goesWay: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := store.Open(t.TempDir(), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			srv := New(Config{Data: st, Engine: &screening.Engine{}, MaxConnectionAge: tc.age, MaxConnectionAgeGrace: time.Second})
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go srv.GRPC.Serve(lis)
			defer srv.GRPC.Stop()
			conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
				t.Fatal(err)
			}
			if s := conn.GetState(); s != connectivity.Ready {
				t.Fatalf("state after a call: %v", s)
			}
			// The age has a jitter of ±10 %; wait well past it.
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			left := conn.WaitForStateChange(ctx, connectivity.Ready)
			if left != tc.goesWay {
				t.Fatalf("connection left READY within 3s: %v, want %v (state %v)", left, tc.goesWay, conn.GetState())
			}
		})
	}
}
