package server

import (
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
