package server

import (
	"context"
	"errors"
	"log/slog"
	"syscall"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/store"
	"github.com/robinscreen/robinscreen/suppress"
)

// ErrorDomain is the ErrorInfo domain of every error this service returns.
const ErrorDomain = "robinscreen.v1"

// ErrorInfo reasons.
const (
	ReasonInvalidRequest   = "INVALID_REQUEST"
	ReasonNoDataset        = "NO_DATASET"
	ReasonBatchTooLarge    = "BATCH_TOO_LARGE"
	ReasonMessageTooLarge  = "MESSAGE_TOO_LARGE"
	ReasonLoadInProgress   = "LOAD_IN_PROGRESS"
	ReasonFileRefused      = "FILE_REFUSED"
	ReasonNoSpace          = "NO_SPACE"
	ReasonNoPrevious       = "NO_PREVIOUS_VERSION"
	ReasonSynthetic        = "SYNTHETIC_DATASET"
	ReasonShuttingDown     = "SHUTTING_DOWN"
	ReasonInternal         = "INTERNAL"
	ReasonCanceled         = "CANCELED"
	ReasonDeadlineExceeded = "DEADLINE_EXCEEDED"
	// ReasonDatasetDamaged: a dataset version failed verification (a
	// checksum, a file hash or a read); the request is not answered from
	// it (UNAVAILABLE).
	ReasonDatasetDamaged = "DATASET_DAMAGED"
	// ReasonSuppressionUnavailable: the suppression list's storage cannot
	// be reached, so no contact is screened (never a silent ALLOW).
	ReasonSuppressionUnavailable = "SUPPRESSION_UNAVAILABLE"
)

// requestError is a request-level fault found by validation.
type requestError struct {
	code       codes.Code
	reason     string
	msg        string
	violations []*errdetails.BadRequest_FieldViolation
	meta       map[string]string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(field, desc string) *requestError {
	return &requestError{code: codes.InvalidArgument, reason: ReasonInvalidRequest, msg: field + ": " + desc,
		violations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: desc}}}
}

// errorTable maps domain errors to status codes and ErrorInfo reasons; it is
// the one place where errors are translated.
var errorTable = []struct {
	err    error
	code   codes.Code
	reason string
	msg    string
}{
	{screening.ErrNoDataset, codes.FailedPrecondition, ReasonNoDataset, "no verified Robinson dataset is loaded; nothing can be screened"},
	{screening.ErrChannel, codes.InvalidArgument, ReasonInvalidRequest, "channel is missing or unknown"},
	{store.ErrLoadInProgress, codes.Aborted, ReasonLoadInProgress, "a load of this dataset is already in progress"},
	{store.ErrNoPrevious, codes.FailedPrecondition, ReasonNoPrevious, "no previous version to roll back to"},
	{store.ErrSynthetic, codes.FailedPrecondition, ReasonSynthetic, "the data directory holds the synthetic demo dataset; load real data into another data directory"},
	{store.ErrClosed, codes.Unavailable, ReasonShuttingDown, "the server is shutting down"},
	{suppress.ErrUnavailable, codes.Unavailable, ReasonSuppressionUnavailable, "the suppression list cannot be reached; nothing is screened until it can"},
	{suppress.ErrClosed, codes.Unavailable, ReasonShuttingDown, "the server is shutting down"},
	{suppress.ErrKeyMismatch, codes.FailedPrecondition, ReasonSuppressionUnavailable, "the suppression list was written under another pseudonym key"},
	{context.Canceled, codes.Canceled, ReasonCanceled, "request canceled"},
	{context.DeadlineExceeded, codes.DeadlineExceeded, ReasonDeadlineExceeded, "deadline exceeded"},
}

// toStatus translates err into a gRPC status error carrying an ErrorInfo
// (and a BadRequest for invalid arguments). Unknown errors become INTERNAL
// with a generic message; their text is logged, never sent.
func toStatus(log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	if st, ok := status.FromError(err); ok {
		return ensureErrorInfo(st)
	}
	var le *store.LoadError
	if errors.As(err, &le) {
		// The message names counts and line numbers, never file content.
		return withDetails(codes.FailedPrecondition, le.Error()+"; the serving version is unchanged", ReasonFileRefused,
			map[string]string{"kind": le.Kind}, nil)
	}
	if errors.Is(err, store.ErrNoSpace) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		// The message names the data directory and byte counts, never
		// file content.
		msg := "out of disk space while receiving the upload"
		if errors.Is(err, store.ErrNoSpace) {
			msg = err.Error()
		}
		return withDetails(codes.ResourceExhausted, msg+"; the load is refused and the serving version is unchanged", ReasonNoSpace, nil, nil)
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
		return withDetails(codes.Unavailable, "a dataset version failed verification; nothing is screened against it (see the dataset status)", ReasonDatasetDamaged, meta, nil)
	}
	var re *requestError
	if errors.As(err, &re) {
		return withDetails(re.code, re.msg, re.reason, re.meta, re.violations)
	}
	if errors.Is(err, screening.ErrChannel) {
		return withDetails(codes.InvalidArgument, "channel is missing or unknown", ReasonInvalidRequest, nil,
			[]*errdetails.BadRequest_FieldViolation{{Field: "channel", Description: "must be one of CHANNEL_PHONE, CHANNEL_EMAIL, CHANNEL_SMS, CHANNEL_POST"}})
	}
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			return withDetails(e.code, e.msg, e.reason, nil, nil)
		}
	}
	log.Error("internal error", "err", err)
	return withDetails(codes.Internal, "internal error", ReasonInternal, nil, nil)
}

func withDetails(code codes.Code, msg, reason string, meta map[string]string, violations []*errdetails.BadRequest_FieldViolation) error {
	st := status.New(code, msg)
	details := []protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: reason, Domain: ErrorDomain, Metadata: meta}}
	if len(violations) > 0 {
		details = append(details, &errdetails.BadRequest{FieldViolations: violations})
	}
	if withD, err := st.WithDetails(details...); err == nil {
		st = withD
	}
	return st.Err()
}

// ensureErrorInfo adds an ErrorInfo to a status produced outside the error
// table (by gRPC itself, e.g. RESOURCE_EXHAUSTED for an oversized message).
func ensureErrorInfo(st *status.Status) error {
	if st.Code() == codes.OK {
		return nil
	}
	for _, d := range st.Details() {
		if _, ok := d.(*errdetails.ErrorInfo); ok {
			return st.Err()
		}
	}
	reason := st.Code().String()
	if st.Code() == codes.ResourceExhausted {
		reason = ReasonMessageTooLarge
	}
	return withDetails(st.Code(), st.Message(), reason, nil, nil)
}
