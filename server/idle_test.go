package server

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// TestStreamIdle runs ScreenContacts streams against a server with a short
// stream idle timeout over TCP: a stream that sends nothing for longer is
// closed with STREAM_IDLE, a stream that keeps sending is not, and neither
// unary nor server-streaming calls are timed.
func TestStreamIdle(t *testing.T) {
	const timeout = 500 * time.Millisecond
	limited := newTCPEnv(t, Config{StreamIdleTimeout: timeout})
	off := newTCPEnv(t, Config{StreamIdleTimeout: -1})
	chunk := &pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST, Contacts: []*pb.Contact{listed}}
	tests := []struct {
		name     string
		env      *tcpEnv
		sends    int           // chunks sent, each answered, before the pause
		interval time.Duration // pause between the sends
		pause    time.Duration // idle time after the sends, before CloseSend
		wantIdle bool
	}{
		{"idle from the start", limited, 0, 0, 5 * timeout, true},
		{"idle after an answered chunk", limited, 1, 0, 5 * timeout, true},
		{"sending more often than the timeout, longer than it", limited, 8, timeout / 5, 0, false},
		{"a pause shorter than the timeout", limited, 2, 0, timeout / 5, false},
		{"limit off", off, 1, 0, 3 * timeout, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			stream, err := pb.NewScreeningServiceClient(tt.env.conn).ScreenContacts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tt.sends {
				if i > 0 {
					time.Sleep(tt.interval)
				}
				if err := stream.Send(chunk); err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
				if _, err := stream.Recv(); err != nil {
					t.Fatalf("recv %d: %v", i, err)
				}
			}
			idleStart := time.Now()
			if !tt.wantIdle {
				time.Sleep(tt.pause)
				if err := stream.CloseSend(); err != nil {
					t.Fatal(err)
				}
				if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
					t.Fatalf("err = %v, want the stream to end normally", err)
				}
				return
			}
			_, err = stream.Recv()
			waited := time.Since(idleStart)
			errorInfo(t, err, codes.DeadlineExceeded, ReasonStreamIdle)
			if waited < timeout*9/10 || waited > tt.pause {
				t.Errorf("closed after %v idle, want about %v", waited, timeout)
			}
		})
	}
}

// TestStreamIdleNotForServerStreams: a health Watch (server-streaming)
// waits for news as long as the client likes.
func TestStreamIdleNotForServerStreams(t *testing.T) {
	e := newTCPEnv(t, Config{StreamIdleTimeout: 100 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	w, err := healthpb.NewHealthClient(e.conn).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Recv(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = w.Recv()
	// The call ends at the client's deadline (reported as DEADLINE_EXCEEDED
	// or CANCELLED, depending on which side notices first), not after the
	// server's 100 ms idle timeout.
	if c := status.Code(err); c != codes.DeadlineExceeded && c != codes.Canceled {
		t.Fatalf("err = %v, want the end of the client's deadline", err)
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("the watch ended after %v: %v", d, err)
	}
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			t.Errorf("ErrorInfo %v: the server closed the watch", info)
		}
	}
}

// TestConnIdle: a connection without calls for ConnIdleTimeout is closed
// by the server (GOAWAY), and the client's channel falls back to IDLE; with
// the limit off it stays READY.
func TestConnIdle(t *testing.T) {
	tests := []struct {
		name     string
		timeout  time.Duration
		wantIdle bool
	}{
		{"closed after the timeout", 200 * time.Millisecond, true},
		{"limit off", -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTCPEnv(t, Config{ConnIdleTimeout: tt.timeout})
			if _, err := healthpb.NewHealthClient(e.conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
				t.Fatal(err)
			}
			// On a loaded machine the state seen just after the call can
			// still be settling; wait (briefly) for READY first.
			rctx, rcancel := context.WithTimeout(context.Background(), 2*time.Second)
			for s := e.conn.GetState(); s != connectivity.Ready; s = e.conn.GetState() {
				if !e.conn.WaitForStateChange(rctx, s) {
					rcancel()
					t.Fatalf("state %v after a call", s)
				}
			}
			rcancel()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			changed := e.conn.WaitForStateChange(ctx, connectivity.Ready)
			if changed != tt.wantIdle {
				t.Fatalf("state changed: %v (now %v), want %v", changed, e.conn.GetState(), tt.wantIdle)
			}
			if changed && e.conn.GetState() != connectivity.Idle {
				t.Errorf("state %v, want IDLE", e.conn.GetState())
			}
		})
	}
}
