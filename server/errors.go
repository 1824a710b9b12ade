package server

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"syscall"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/store"
	"github.com/robinscreen/robinscreen/suppress"
)

// ErrorDomain is the ErrorInfo domain of every error this service returns.
const ErrorDomain = "robinscreen.v1"

// ErrorInfo reasons, declared in proto/robinscreen/v1/errors.proto; on the
// wire each is its WireName ("NO_DATASET").
const (
	ReasonInvalidRequest  = pb.ErrorReason_ERROR_REASON_INVALID_REQUEST
	ReasonNoDataset       = pb.ErrorReason_ERROR_REASON_NO_DATASET
	ReasonBatchTooLarge   = pb.ErrorReason_ERROR_REASON_BATCH_TOO_LARGE
	ReasonMessageTooLarge = pb.ErrorReason_ERROR_REASON_MESSAGE_TOO_LARGE
	ReasonLoadInProgress  = pb.ErrorReason_ERROR_REASON_LOAD_IN_PROGRESS
	ReasonFileRefused     = pb.ErrorReason_ERROR_REASON_FILE_REFUSED
	ReasonNoSpace         = pb.ErrorReason_ERROR_REASON_NO_SPACE
	ReasonDatasetDamaged  = pb.ErrorReason_ERROR_REASON_DATASET_DAMAGED
	// ReasonSuppressionUnavailable: the suppression list's storage cannot
	// be reached, so no contact is screened (never a silent ALLOW).
	ReasonSuppressionUnavailable = pb.ErrorReason_ERROR_REASON_SUPPRESSION_UNAVAILABLE
	// ReasonVersionUnreadable: a file of a version being sent to a replica
	// could not be read; the replica tries again (UNAVAILABLE).
	ReasonVersionUnreadable = pb.ErrorReason_ERROR_REASON_VERSION_UNREADABLE
	// ReasonVersionNotServed: the kind a replica asked for serves no
	// version (NOT_FOUND).
	ReasonVersionNotServed = pb.ErrorReason_ERROR_REASON_VERSION_NOT_SERVED
	ReasonNoPrevious       = pb.ErrorReason_ERROR_REASON_NO_PREVIOUS_VERSION
	ReasonSynthetic        = pb.ErrorReason_ERROR_REASON_SYNTHETIC_DATASET
	ReasonShuttingDown     = pb.ErrorReason_ERROR_REASON_SHUTTING_DOWN
	ReasonInternal         = pb.ErrorReason_ERROR_REASON_INTERNAL
	ReasonCanceled         = pb.ErrorReason_ERROR_REASON_CANCELED
	ReasonDeadlineExceeded = pb.ErrorReason_ERROR_REASON_DEADLINE_EXCEEDED
	ReasonUnauthenticated  = pb.ErrorReason_ERROR_REASON_UNAUTHENTICATED
	ReasonPermissionDenied = pb.ErrorReason_ERROR_REASON_PERMISSION_DENIED
	ReasonRateLimited      = pb.ErrorReason_ERROR_REASON_RATE_LIMITED
	ReasonTLSRequired      = pb.ErrorReason_ERROR_REASON_TLS_REQUIRED
	ReasonStreamIdle       = pb.ErrorReason_ERROR_REASON_STREAM_IDLE
	// ReasonReceiptsUnavailable: a receipt asked for, or GetReceiptKey, on
	// a server without a receipt key (FAILED_PRECONDITION).
	ReasonReceiptsUnavailable = pb.ErrorReason_ERROR_REASON_RECEIPTS_UNAVAILABLE
)

// reasonCodes is the error table: the gRPC code sent with each ErrorInfo
// reason. Every status the server builds takes its code from here
// (refusal.status); a test checks that it covers every ErrorReason.
var reasonCodes = map[pb.ErrorReason]codes.Code{
	ReasonInvalidRequest:         codes.InvalidArgument,
	ReasonNoDataset:              codes.FailedPrecondition,
	ReasonBatchTooLarge:          codes.InvalidArgument,
	ReasonMessageTooLarge:        codes.ResourceExhausted,
	ReasonLoadInProgress:         codes.Aborted,
	ReasonFileRefused:            codes.FailedPrecondition,
	ReasonNoSpace:                codes.ResourceExhausted,
	ReasonDatasetDamaged:         codes.Unavailable,
	ReasonSuppressionUnavailable: codes.Unavailable,
	ReasonVersionUnreadable:      codes.Unavailable,
	ReasonVersionNotServed:       codes.NotFound,
	ReasonReceiptsUnavailable:    codes.FailedPrecondition,
	ReasonNoPrevious:             codes.FailedPrecondition,
	ReasonSynthetic:              codes.FailedPrecondition,
	ReasonShuttingDown:           codes.Unavailable,
	ReasonInternal:               codes.Internal,
	ReasonCanceled:               codes.Canceled,
	ReasonDeadlineExceeded:       codes.DeadlineExceeded,
	ReasonUnauthenticated:        codes.Unauthenticated,
	ReasonPermissionDenied:       codes.PermissionDenied,
	ReasonRateLimited:            codes.ResourceExhausted,
	ReasonTLSRequired:            codes.Unavailable,
	ReasonStreamIdle:             codes.DeadlineExceeded,
}

// domainErrors maps the domain and storage packages' sentinel errors to a
// reason and a message (and, for a faulty request field, a BadRequest
// violation).
var domainErrors = []struct {
	err          error
	reason       pb.ErrorReason
	msg          string
	field, fdesc string
}{
	{screening.ErrNoDataset, ReasonNoDataset, "no verified Robinson dataset is loaded; nothing can be screened", "", ""},
	{screening.ErrChannel, ReasonInvalidRequest, "channel is missing or unknown",
		"channel", "must be one of CHANNEL_PHONE, CHANNEL_EMAIL, CHANNEL_SMS, CHANNEL_POST"},
	{store.ErrLoadInProgress, ReasonLoadInProgress, "a load of this dataset is already in progress", "", ""},
	{store.ErrNoPrevious, ReasonNoPrevious, "no previous version to roll back to", "", ""},
	{store.ErrSynthetic, ReasonSynthetic, "the data directory holds the synthetic demo dataset; load real data into another data directory", "", ""},
	{store.ErrClosed, ReasonShuttingDown, "the server is shutting down", "", ""},
	{suppress.ErrUnavailable, ReasonSuppressionUnavailable, "the suppression list cannot be reached; nothing is screened until it can", "", ""},
	{suppress.ErrClosed, ReasonShuttingDown, "the server is shutting down", "", ""},
	// The list cannot be read under this key: unavailable like an
	// unreachable list (one code per reason), nothing is screened.
	{suppress.ErrKeyMismatch, ReasonSuppressionUnavailable, "the suppression list was written under another pseudonym key", "", ""},
	{context.Canceled, ReasonCanceled, "request canceled", "", ""},
	{context.DeadlineExceeded, ReasonDeadlineExceeded, "deadline exceeded", "", ""},
}

// codeReasons gives a status built outside the server (by gRPC itself, e.g.
// RESOURCE_EXHAUSTED for a message over the transport limit, or CANCELLED
// when the client goes away) the reason it gets; other codes become
// INTERNAL.
var codeReasons = map[codes.Code]pb.ErrorReason{
	codes.InvalidArgument:   ReasonInvalidRequest,
	codes.ResourceExhausted: ReasonMessageTooLarge,
	codes.Canceled:          ReasonCanceled,
	codes.DeadlineExceeded:  ReasonDeadlineExceeded,
	codes.Unauthenticated:   ReasonUnauthenticated,
	codes.PermissionDenied:  ReasonPermissionDenied,
	codes.Unavailable:       ReasonShuttingDown,
}

// refusal is an error the server answers: an ErrorInfo reason, a message
// without personal data, and optional details. Its gRPC code comes from
// reasonCodes.
type refusal struct {
	reason     pb.ErrorReason
	msg        string
	meta       map[string]string
	violations []*errdetails.BadRequest_FieldViolation
	// retryAfter, when positive, is sent as a google.rpc.RetryInfo: the
	// client may repeat the call unchanged after that delay.
	retryAfter time.Duration
}

// Error returns the message.
func (r *refusal) Error() string { return r.msg }

// status returns the gRPC status error: the code from reasonCodes (INTERNAL
// for a reason missing there), an ErrorInfo, and a BadRequest and a
// RetryInfo when the refusal has them.
func (r *refusal) status() error {
	code, ok := reasonCodes[r.reason]
	if !ok {
		code = codes.Internal
	}
	st := status.New(code, r.msg)
	details := []protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: r.reason.WireName(), Domain: ErrorDomain, Metadata: r.meta}}
	if len(r.violations) > 0 {
		details = append(details, &errdetails.BadRequest{FieldViolations: r.violations})
	}
	if r.retryAfter > 0 {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(r.retryAfter)})
	}
	if withD, err := st.WithDetails(details...); err == nil {
		st = withD
	}
	return st.Err()
}

// refuse returns the status error for reason with msg and metadata meta.
func refuse(reason pb.ErrorReason, msg string, meta map[string]string) error {
	return (&refusal{reason: reason, msg: msg, meta: meta}).status()
}

// badRequest is an INVALID_REQUEST refusal naming the faulty field.
func badRequest(field, desc string) *refusal {
	return &refusal{reason: ReasonInvalidRequest, msg: field + ": " + desc,
		violations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: desc}}}
}

// toStatus translates err into a gRPC status error carrying an ErrorInfo
// (and a BadRequest for invalid arguments): a refusal as it is, a refused
// file as FILE_REFUSED, a full disk as NO_SPACE, a damaged dataset version
// as DATASET_DAMAGED, the domain errors through domainErrors, a status
// from elsewhere with an ErrorInfo added. Unknown errors become INTERNAL
// with a generic message; their text is logged, never sent.
func toStatus(log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	if st, ok := status.FromError(err); ok {
		return ensureErrorInfo(log, st)
	}
	var le *store.LoadError
	if errors.As(err, &le) {
		// The message names counts and line numbers, never file content.
		return refuse(ReasonFileRefused, le.Error()+"; the serving version is unchanged", map[string]string{"kind": le.Kind})
	}
	if errors.Is(err, store.ErrNoSpace) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		// The message names the data directory and byte counts, never
		// file content.
		msg := "out of disk space while receiving the upload"
		if errors.Is(err, store.ErrNoSpace) {
			msg = err.Error()
		}
		return refuse(ReasonNoSpace, msg+"; the load is refused and the serving version is unchanged", nil)
	}
	if errors.Is(err, store.ErrDamaged) {
		// Never the cause's text: Badger's errors may quote a key.
		meta := map[string]string{}
		var de *store.DamageError
		var rde *store.ReadError
		switch {
		case errors.As(err, &de):
			meta["kind"], meta["version"] = de.Kind, de.Version
		case errors.As(err, &rde):
			meta["version"] = rde.Version
			if rde.Kind != "" {
				meta["kind"] = rde.Kind
			}
		}
		log.Error("request refused: a dataset version is damaged", "version", meta["version"])
		return refuse(ReasonDatasetDamaged, "a dataset version failed verification; nothing is screened against it (see the dataset status)", meta)
	}
	var r *refusal
	if errors.As(err, &r) {
		return r.status()
	}
	for _, e := range domainErrors {
		if errors.Is(err, e.err) {
			r := &refusal{reason: e.reason, msg: e.msg}
			if e.field != "" {
				r.violations = []*errdetails.BadRequest_FieldViolation{{Field: e.field, Description: e.fdesc}}
			}
			return r.status()
		}
	}
	log.Error("internal error", "err", err)
	return internalError()
}

// internalError is the INTERNAL status sent for every server fault.
func internalError() error { return refuse(ReasonInternal, "internal error", nil) }

// ensureErrorInfo returns st as an error that carries an ErrorInfo: as it
// is when it has one, else with the reason codeReasons gives its code.
// A status of another code (a gRPC-internal fault) is logged and answered
// INTERNAL.
func ensureErrorInfo(log *slog.Logger, st *status.Status) error {
	if st.Code() == codes.OK {
		return nil
	}
	for _, d := range st.Details() {
		if _, ok := d.(*errdetails.ErrorInfo); ok {
			return st.Err()
		}
	}
	reason, ok := codeReasons[st.Code()]
	if !ok {
		log.Error("internal error", "code", st.Code().String(), "err", st.Message())
		return internalError()
	}
	return refuse(reason, st.Message(), nil)
}

// retryAfterMeta formats d for the retry_after_ms ErrorInfo metadata.
func retryAfterMeta(d time.Duration) string {
	return strconv.FormatInt(max(1, d.Milliseconds()), 10)
}
