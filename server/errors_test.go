package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/store"
)

// TestToStatusNoSpace: a load refused for want of disk space, before or
// during its build or while its upload is staged, is RESOURCE_EXHAUSTED
// with the reason NO_SPACE, never INTERNAL.
func TestToStatusNoSpace(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name string
		err  error
		want string // in the message
	}{
		{"pre-check", &store.NoSpaceError{Dir: "/data/robinson", Needed: 2000, Free: 1000}, "needs about 2000 bytes, 1000 are free"},
		{"during the build", fmt.Errorf("load: %w", &store.NoSpaceError{Dir: "/data/robinson", Err: errors.New("the build process failed")}), "the build process failed"},
		{"staging", &os.PathError{Op: "write", Path: "/data/incoming/upload-1.enc", Err: syscall.ENOSPC}, "while receiving the upload"},
		{"quota", &os.PathError{Op: "write", Path: "/data/incoming/upload-1.enc", Err: syscall.EDQUOT}, "while receiving the upload"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := status.Convert(toStatus(log, tc.err))
			if st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), tc.want) || !strings.Contains(st.Message(), "serving version is unchanged") {
				t.Errorf("got %v %q", st.Code(), st.Message())
			}
			var reason string
			for _, d := range st.Details() {
				if ei, ok := d.(*errdetails.ErrorInfo); ok {
					reason = ei.GetReason()
				}
			}
			if reason != ReasonNoSpace.WireName() {
				t.Errorf("reason %q, want %s", reason, ReasonNoSpace.WireName())
			}
			if strings.Contains(st.Message(), "upload-1.enc") {
				t.Errorf("the staged file's name leaks: %q", st.Message())
			}
		})
	}
}

// TestToStatus runs errors of every origin through the one translation:
// each comes out with the code of its reason in reasonCodes and exactly one
// ErrorInfo; the text of unknown errors is logged, never sent.
func TestToStatus(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantCode   codes.Code
		wantReason pb.ErrorReason
		wantField  string // BadRequest violation, "" = none
		wantMsg    string // substring of the message
	}{
		{"no dataset", screening.ErrNoDataset, codes.FailedPrecondition, ReasonNoDataset, "", "no verified Robinson dataset"},
		{"wrapped no dataset", fmt.Errorf("screen: %w", screening.ErrNoDataset), codes.FailedPrecondition, ReasonNoDataset, "", "nothing can be screened"},
		{"channel from the engine", fmt.Errorf("x: %w", screening.ErrChannel), codes.InvalidArgument, ReasonInvalidRequest, "channel", "channel"},
		{"load in progress", store.ErrLoadInProgress, codes.Aborted, ReasonLoadInProgress, "", "already in progress"},
		{"no previous", store.ErrNoPrevious, codes.FailedPrecondition, ReasonNoPrevious, "", "roll back"},
		{"synthetic", store.ErrSynthetic, codes.FailedPrecondition, ReasonSynthetic, "", "synthetic"},
		{"closed store", store.ErrClosed, codes.Unavailable, ReasonShuttingDown, "", "shutting down"},
		{"canceled", context.Canceled, codes.Canceled, ReasonCanceled, "", "canceled"},
		{"deadline", context.DeadlineExceeded, codes.DeadlineExceeded, ReasonDeadlineExceeded, "", "deadline"},
		{"refused file", &store.LoadError{Kind: "cpr", File: "x", Err: errors.New("999 count 10, 3 records")}, codes.FailedPrecondition, ReasonFileRefused, "", "serving version is unchanged"},
		{"no space", &store.NoSpaceError{Dir: "/data/robinson", Needed: 2000, Free: 1000}, codes.ResourceExhausted, ReasonNoSpace, "", "1000 are free"},
		{"damaged version", fmt.Errorf("get: %w", &store.DamageError{Kind: "robinson", Version: "v1"}), codes.Unavailable, ReasonDatasetDamaged, "", "failed verification"},
		{"bad request", badRequest("contacts", "must hold at least one contact"), codes.InvalidArgument, ReasonInvalidRequest, "contacts", "contacts"},
		{"gRPC status without ErrorInfo", status.Error(codes.ResourceExhausted, "grpc: received message larger than max"), codes.ResourceExhausted, ReasonMessageTooLarge, "", "larger"},
		{"gRPC cancel", status.Error(codes.Canceled, "context canceled"), codes.Canceled, ReasonCanceled, "", "canceled"},
		{"gRPC-internal fault", status.Error(codes.Internal, "grpc: something inside"), codes.Internal, ReasonInternal, "", "internal error"},
		{"status with ErrorInfo passes", refuse(ReasonRateLimited, "slow down", nil), codes.ResourceExhausted, ReasonRateLimited, "", "slow down"},
		{"unknown error", errors.New("badger: table 000042.sst for Søren Testesen"), codes.Internal, ReasonInternal, "", "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			err := toStatus(slog.New(slog.NewTextHandler(&logs, nil)), tt.err)
			st := errorInfo(t, err, tt.wantCode, tt.wantReason)
			if !strings.Contains(st.Message(), tt.wantMsg) {
				t.Errorf("message %q, want it to contain %q", st.Message(), tt.wantMsg)
			}
			if strings.Contains(st.Message(), "Søren") || strings.Contains(st.Message(), "badger") {
				t.Errorf("message %q leaks the internal error", st.Message())
			}
			infos := 0
			for _, d := range st.Details() {
				if _, ok := d.(*errdetails.ErrorInfo); ok {
					infos++
				}
			}
			if infos != 1 {
				t.Errorf("%d ErrorInfo details, want 1", infos)
			}
			if tt.wantField != "" {
				fieldViolation(t, st, tt.wantField)
			}
		})
	}
	if got := toStatus(slog.New(slog.DiscardHandler), nil); got != nil {
		t.Errorf("toStatus(nil) = %v", got)
	}
}
