package clients

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// TestEveryReasonKnown fails when a reason is added to errors.proto without
// the client knowing what it means (sentinel and retry policy).
func TestEveryReasonKnown(t *testing.T) {
	for n, name := range pb.ErrorReason_name {
		r := pb.ErrorReason(n)
		_, ok := reasons[r]
		switch {
		case r == pb.ErrorReason_ERROR_REASON_UNSPECIFIED && ok:
			t.Errorf("the client's reasons map ERROR_REASON_UNSPECIFIED, which is never sent")
		case r != pb.ErrorReason_ERROR_REASON_UNSPECIFIED && !ok:
			t.Errorf("%s is missing from the client's reasons (clients/errors.go)", name)
		}
	}
	for r := range reasons {
		if _, ok := pb.ErrorReason_name[int32(r)]; !ok {
			t.Errorf("the client's reasons map %d, which errors.proto does not declare", r)
		}
	}
}

func statusErr(t *testing.T, code codes.Code, reason string, delay time.Duration) error {
	t.Helper()
	st := status.New(code, "m")
	var details []protoadapt.MessageV1
	if reason != "" {
		details = append(details, &errdetails.ErrorInfo{Reason: reason, Domain: ErrorDomain})
	}
	if delay != 0 {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(delay)})
	}
	st, err := st.WithDetails(details...)
	if err != nil {
		t.Fatal(err)
	}
	return st.Err()
}

func TestErrorRetryable(t *testing.T) {
	tests := []struct {
		name      string
		code      codes.Code
		reason    string
		delay     time.Duration
		wantRetry bool
		wantDelay time.Duration
		wantIs    error
	}{
		{"rate limited with RetryInfo", codes.ResourceExhausted, "RATE_LIMITED", 1500 * time.Millisecond, true, 1500 * time.Millisecond, ErrRateLimited},
		{"rate limited without RetryInfo", codes.ResourceExhausted, "RATE_LIMITED", 0, false, 0, ErrRateLimited},
		{"negative delay is none", codes.ResourceExhausted, "RATE_LIMITED", -time.Second, false, 0, ErrRateLimited},
		{"shutting down", codes.Unavailable, "SHUTTING_DOWN", 0, true, 0, ErrUnavailable},
		{"transport failure", codes.Unavailable, "", 0, true, 0, ErrUnavailable},
		{"TLS required is not retried", codes.Unavailable, "TLS_REQUIRED", 0, false, 0, ErrTLSRequired},
		{"dataset damaged: back-off (a rollback may answer)", codes.Unavailable, "DATASET_DAMAGED", 0, true, 0, ErrDatasetDamaged},
		{"TLS required is unavailable too", codes.Unavailable, "TLS_REQUIRED", 0, false, 0, ErrUnavailable},
		{"no dataset", codes.FailedPrecondition, "NO_DATASET", 0, false, 0, ErrNoDataset},
		{"RetryInfo on a refusal that is never retried", codes.InvalidArgument, "INVALID_REQUEST", time.Second, false, time.Second, ErrInvalidRequest},
		{"unauthenticated", codes.Unauthenticated, "UNAUTHENTICATED", 0, false, 0, ErrUnauthenticated},
		{"stream idle: a new stream", codes.DeadlineExceeded, "STREAM_IDLE", 0, true, 0, ErrStreamIdle},
		{"unknown reason, unavailable", codes.Unavailable, "FROM_A_NEWER_SERVER", 0, true, 0, ErrUnavailable},
		{"unknown reason, other code", codes.FailedPrecondition, "FROM_A_NEWER_SERVER", time.Second, false, time.Second, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := toError(statusErr(t, tt.code, tt.reason, tt.delay))
			if got := e.Retryable(); got != tt.wantRetry {
				t.Errorf("Retryable = %v, want %v", got, tt.wantRetry)
			}
			if e.RetryDelay != tt.wantDelay {
				t.Errorf("RetryDelay = %v, want %v", e.RetryDelay, tt.wantDelay)
			}
			if e.WireReason != tt.reason {
				t.Errorf("WireReason = %q, want %q", e.WireReason, tt.reason)
			}
			if tt.wantIs != nil && !errors.Is(e, tt.wantIs) {
				t.Errorf("%v does not match %v", e, tt.wantIs)
			}
			if tt.wantIs == nil && e.Reason != pb.ErrorReason_ERROR_REASON_UNSPECIFIED {
				t.Errorf("Reason = %v for an unknown wire reason", e.Reason)
			}
		})
	}
}

func TestRetryWait(t *testing.T) {
	c := newClient(nil, buildOptions([]Option{WithRetry(5, 10*time.Millisecond, 40*time.Millisecond)}))
	long, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	short, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	tests := []struct {
		name     string
		ctx      context.Context
		delay    time.Duration
		attempt  int
		min, max time.Duration
		ok       bool
	}{
		{"server delay", long, 2 * time.Second, 1, 2 * time.Second, 2200 * time.Millisecond, true},
		{"server delay is not capped by the back-off maximum", context.Background(), time.Minute, 3, time.Minute, 66 * time.Second, true},
		{"server delay past the deadline", short, time.Second, 1, 0, 0, false},
		{"back-off first attempt", long, 0, 1, 7500 * time.Microsecond, 12500 * time.Microsecond, true},
		{"back-off capped", long, 0, 4, 30 * time.Millisecond, 50 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := c.retryWait(tt.ctx, &Error{RetryDelay: tt.delay}, tt.attempt)
			if ok != tt.ok || got < tt.min || got > tt.max {
				t.Errorf("retryWait = %v, %v; want %v..%v, %v", got, ok, tt.min, tt.max, tt.ok)
			}
		})
	}
}
