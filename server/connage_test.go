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
		{name: "age 1s closes the connection", age: time.Second, goesWay: true},
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
			start := time.Now()
			if _, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
				t.Fatal(err)
			}
			s := conn.GetState()
			// A slow machine (-race, a loaded CI host) may take the call
			// past the age (less its jitter of 10 %): the connection has
			// then gone already, which is what is tested.
			aged := tc.age > 0 && time.Since(start) >= tc.age*9/10
			if s != connectivity.Ready && !aged {
				t.Fatalf("state after a call: %v", s)
			}
			// Wait well past the age.
			timeout := 3 * time.Second
			if tc.goesWay {
				timeout = 6 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			left := s != connectivity.Ready || conn.WaitForStateChange(ctx, connectivity.Ready)
			if left != tc.goesWay {
				t.Fatalf("connection left READY within %v: %v, want %v (state %v)", timeout, left, tc.goesWay, conn.GetState())
			}
		})
	}
}
