package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// rawBytes is a codec that puts a test's bytes on the wire as they are.
type rawBytes struct{}

func (rawBytes) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}

func (rawBytes) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

func (rawBytes) Name() string { return "proto" }

// reasonOf returns err's code and ErrorInfo reason.
func reasonOf(err error) (codes.Code, string) {
	st, _ := status.FromError(err)
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return st.Code(), info.GetReason()
		}
	}
	return st.Code(), ""
}

// TestServeRequestLimits runs the binary with --stream-idle-timeout and
// sends it an undecodable request and an idle stream.
func TestServeRequestLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	addr := freeAddr(t)
	cmd := exec.Command(binary(t), "serve", "--demo", "--data", t.TempDir(), "--listen", addr,
		"--stream-idle-timeout", "400ms", "--conn-idle-timeout", "1m")
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitServing(t, conn)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	t.Run("undecodable request", func(t *testing.T) {
		in, out := []byte{0x0a, 0xff, 0xff, 0xff, 0xff}, []byte(nil)
		err := conn.Invoke(ctx, pb.ScreeningService_ScreenContact_FullMethodName, &in, &out, grpc.ForceCodecV2(rawBytes{}))
		if code, reason := reasonOf(err); code != codes.InvalidArgument || reason != "INVALID_REQUEST" {
			t.Fatalf("err = %v, want INVALID_ARGUMENT INVALID_REQUEST", err)
		}
	})
	t.Run("idle stream", func(t *testing.T) {
		s, err := pb.NewScreeningServiceClient(conn).ScreenContacts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = s.Recv()
		if code, reason := reasonOf(err); code != codes.DeadlineExceeded || reason != "STREAM_IDLE" {
			t.Fatalf("err = %v, want DEADLINE_EXCEEDED STREAM_IDLE", err)
		}
		if d := time.Since(start); d < 350*time.Millisecond || d > 10*time.Second {
			t.Errorf("closed after %v, want about 400ms", d)
		}
		// The log reaches the pipe on its own schedule.
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(stderr.String(), "stream closed: idle"); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("not logged:\n%s", stderr.String())
			}
		}
	})
}
