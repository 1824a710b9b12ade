package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"

	"github.com/robinscreen/robinscreen/clients"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// TestDialPolicy: the load generator dials through the clients' policy, so
// it sends its (synthetic) personal data in plaintext only to loopback
// unless --insecure.
func TestDialPolicy(t *testing.T) {
	tests := []struct {
		name     string
		addr     string
		insecure bool
		wantErr  error
	}{
		{"loopback", "127.0.0.1:50051", false, nil},
		{"remote refused", "10.1.2.3:50051", false, clients.ErrPlaintextRefused},
		{"remote with --insecure", "10.1.2.3:50051", true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conns, err := dial(tc.addr, 2, tc.insecure)
			closeAll(conns)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("dial(%q) = %v, want %v", tc.addr, err, tc.wantErr)
			}
			if err == nil && len(conns) != 2 {
				t.Fatalf("dial made %d connections, want 2", len(conns))
			}
		})
	}
}

// countingScreen answers ScreenContact and counts the calls it got.
type countingScreen struct {
	pb.UnimplementedScreeningServiceServer
	calls atomic.Int64
}

func (c *countingScreen) ScreenContact(context.Context, *pb.ScreenContactRequest) (*pb.ScreenContactResponse, error) {
	c.calls.Add(1)
	return &pb.ScreenContactResponse{}, nil
}

// TestDialFleet: a comma-separated --addr is one round_robin connection
// over the replicas, returned once per stream, that spreads calls evenly
// once dial returns; a replica that does not answer fails the dial instead
// of leaving the run measuring fewer replicas than it names.
func TestDialFleet(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(lis.Addr().String())
	lis.Close()
	var addrs []string
	var servers []*countingScreen
	for i := 1; i <= 3; i++ {
		addr := net.JoinHostPort(fmt.Sprintf("127.0.0.%d", i), port)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("cannot listen on %s: %v", addr, err)
		}
		s := grpc.NewServer()
		cs := &countingScreen{}
		pb.RegisterScreeningServiceServer(s, cs)
		go s.Serve(l)
		t.Cleanup(s.Stop)
		addrs = append(addrs, addr)
		servers = append(servers, cs)
	}
	tests := []struct {
		name    string
		addr    string
		wantErr bool
	}{
		{"three replicas", strings.Join(addrs, ","), false},
		{"one replica down", strings.Join(addrs, ",") + "," + net.JoinHostPort("127.0.0.4", port), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, s := range servers {
				s.calls.Store(0)
			}
			conns, err := dial(tc.addr, 6, false)
			if tc.wantErr {
				closeAll(conns)
				if err == nil {
					t.Fatal("dial succeeded with a replica down")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer closeAll(conns)
			if len(conns) != 6 {
				t.Fatalf("dial returned %d connections, want 6", len(conns))
			}
			before := make([]int64, len(servers))
			for i, s := range servers {
				before[i] = s.calls.Load()
			}
			for _, c := range conns {
				if _, err := pb.NewScreeningServiceClient(c).ScreenContact(context.Background(), &pb.ScreenContactRequest{}); err != nil {
					t.Fatal(err)
				}
			}
			for i, s := range servers {
				if got := s.calls.Load() - before[i]; got != 2 {
					t.Errorf("replica %s got %d of 6 calls, want 2", addrs[i], got)
				}
			}
		})
	}
}
