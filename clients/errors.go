package clients

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// ErrorDomain is the ErrorInfo domain of the robinscreen server's errors.
const ErrorDomain = "robinscreen.v1"

// ErrorInfo reasons, declared in the proto (robinscreen.v1.ErrorReason);
// Error.Reason holds one of them. The ones a screening client meets:
const (
	ReasonInvalidRequest   = pb.ErrorReason_ERROR_REASON_INVALID_REQUEST
	ReasonNoDataset        = pb.ErrorReason_ERROR_REASON_NO_DATASET
	ReasonBatchTooLarge    = pb.ErrorReason_ERROR_REASON_BATCH_TOO_LARGE
	ReasonMessageTooLarge  = pb.ErrorReason_ERROR_REASON_MESSAGE_TOO_LARGE
	ReasonShuttingDown     = pb.ErrorReason_ERROR_REASON_SHUTTING_DOWN
	ReasonInternal         = pb.ErrorReason_ERROR_REASON_INTERNAL
	ReasonCanceled         = pb.ErrorReason_ERROR_REASON_CANCELED
	ReasonDeadlineExceeded = pb.ErrorReason_ERROR_REASON_DEADLINE_EXCEEDED
	ReasonUnauthenticated  = pb.ErrorReason_ERROR_REASON_UNAUTHENTICATED
	ReasonPermissionDenied = pb.ErrorReason_ERROR_REASON_PERMISSION_DENIED
	ReasonRateLimited      = pb.ErrorReason_ERROR_REASON_RATE_LIMITED
	ReasonTLSRequired      = pb.ErrorReason_ERROR_REASON_TLS_REQUIRED
	ReasonStreamIdle       = pb.ErrorReason_ERROR_REASON_STREAM_IDLE
	ReasonLoadInProgress   = pb.ErrorReason_ERROR_REASON_LOAD_IN_PROGRESS
	// ReasonSuppressionUnavailable comes with UNAVAILABLE: the server cannot
	// read the suppression list and screens nothing until it can.
	ReasonSuppressionUnavailable = pb.ErrorReason_ERROR_REASON_SUPPRESSION_UNAVAILABLE
)

// Sentinel errors. An *Error matches them with errors.Is by its ErrorInfo
// reason or gRPC code.
var (
	// ErrInvalidRequest: the request was refused as invalid (reason
	// INVALID_REQUEST, e.g. a missing channel); see Error.Violations.
	ErrInvalidRequest = errors.New("robinscreen: invalid request")
	// ErrNoDataset: the server has no verified dataset loaded and screens
	// nothing (FAILED_PRECONDITION, reason NO_DATASET).
	ErrNoDataset = errors.New("robinscreen: no dataset loaded")
	// ErrBatchTooLarge: a request message held more contacts than the server
	// accepts (reason BATCH_TOO_LARGE).
	ErrBatchTooLarge = errors.New("robinscreen: batch too large")
	// ErrMessageTooLarge: a request message was larger than the server's
	// limit (reason MESSAGE_TOO_LARGE).
	ErrMessageTooLarge = errors.New("robinscreen: message too large")
	// ErrUnauthenticated: no bearer token, or one the server does not know
	// (reason UNAUTHENTICATED).
	ErrUnauthenticated = errors.New("robinscreen: unauthenticated")
	// ErrPermissionDenied: the token's role may not call the method (reason
	// PERMISSION_DENIED).
	ErrPermissionDenied = errors.New("robinscreen: permission denied")
	// ErrRateLimited: the server refused the call for the client's request
	// rate through every retry (reason RATE_LIMITED).
	ErrRateLimited = errors.New("robinscreen: rate limited")
	// ErrTLSRequired: a plaintext connection reached a TLS-only server
	// (reason TLS_REQUIRED); it is not retried.
	ErrTLSRequired = errors.New("robinscreen: server requires TLS")
	// ErrStreamIdle: the server closed a stream that sent nothing for
	// longer than its stream idle timeout (reason STREAM_IDLE). A batch
	// opens a new stream when it has something to send, so callers only
	// see it when that keeps failing.
	ErrStreamIdle = errors.New("robinscreen: stream idle too long")
	// ErrDatasetDamaged: a dataset version of the server failed
	// verification and nothing was screened against it (UNAVAILABLE,
	// reason DATASET_DAMAGED), through every retry.
	ErrDatasetDamaged = errors.New("robinscreen: dataset damaged")
	// ErrUnavailable: the server stayed UNAVAILABLE through every retry.
	ErrUnavailable = errors.New("robinscreen: server unavailable")
	// ErrProtocol: the server answered with the wrong number of results or
	// with results for other contacts than those sent.
	ErrProtocol = errors.New("robinscreen: protocol violation")
)

// retryPolicy says whether a call refused with a reason may be repeated.
type retryPolicy int

const (
	// noRetry: the refusal needs another request or a person.
	noRetry retryPolicy = iota
	// retryBackoff: repeat after exponential back-off (the server is
	// restarting or shutting down).
	retryBackoff
	// retryAfterDelay: repeat after the google.rpc.RetryInfo delay the
	// server sent; without one, not at all.
	retryAfterDelay
	// retryReopen: a stream closed for idleness; a batch opens a new one
	// as soon as it has a chunk to send.
	retryReopen
)

// reasonInfo is what the client knows of one ErrorInfo reason.
type reasonInfo struct {
	// is is the sentinel error an *Error with the reason matches (nil for
	// reasons only the dataset administration meets, or matched by code).
	is    error
	retry retryPolicy
}

// reasons covers every value of the proto's ErrorReason (a test fails when
// one is missing).
var reasons = map[pb.ErrorReason]reasonInfo{
	ReasonInvalidRequest:   {ErrInvalidRequest, noRetry},
	ReasonNoDataset:        {ErrNoDataset, noRetry},
	ReasonBatchTooLarge:    {ErrBatchTooLarge, noRetry},
	ReasonMessageTooLarge:  {ErrMessageTooLarge, noRetry},
	ReasonShuttingDown:     {ErrUnavailable, retryBackoff},
	ReasonInternal:         {nil, noRetry},
	ReasonCanceled:         {context.Canceled, noRetry},
	ReasonDeadlineExceeded: {context.DeadlineExceeded, noRetry},
	ReasonUnauthenticated:  {ErrUnauthenticated, noRetry},
	ReasonPermissionDenied: {ErrPermissionDenied, noRetry},
	ReasonRateLimited:      {ErrRateLimited, retryAfterDelay},
	ReasonTLSRequired:      {ErrTLSRequired, noRetry},
	ReasonStreamIdle:       {ErrStreamIdle, retryReopen},
	// The server rolls back to the previous version at once when so
	// configured: a retry may be answered from it.
	pb.ErrorReason_ERROR_REASON_DATASET_DAMAGED: {ErrDatasetDamaged, retryBackoff},
	// The list's database may be back after a while.
	ReasonSuppressionUnavailable: {ErrUnavailable, retryBackoff},
	// Dataset administration only.
	ReasonLoadInProgress:                            {nil, noRetry},
	pb.ErrorReason_ERROR_REASON_FILE_REFUSED:        {nil, noRetry},
	pb.ErrorReason_ERROR_REASON_NO_PREVIOUS_VERSION: {nil, noRetry},
	pb.ErrorReason_ERROR_REASON_SYNTHETIC_DATASET:   {nil, noRetry},
	pb.ErrorReason_ERROR_REASON_VERSION_UNREADABLE:  {nil, retryBackoff},
	pb.ErrorReason_ERROR_REASON_VERSION_NOT_SERVED:  {nil, noRetry},
	pb.ErrorReason_ERROR_REASON_NO_SPACE:            {nil, noRetry},
	// Receipts: the server has no receipt key; asking again does not help.
	pb.ErrorReason_ERROR_REASON_RECEIPTS_UNAVAILABLE: {nil, noRetry},
}

// FieldViolation is one google.rpc.BadRequest field violation.
type FieldViolation struct {
	Field       string
	Description string
}

// Error is a failed RPC with its gRPC status and the details the server
// attached. It matches ErrInvalidRequest, ErrNoDataset, ErrBatchTooLarge,
// ErrMessageTooLarge, ErrUnauthenticated, ErrPermissionDenied,
// ErrRateLimited, ErrTLSRequired, ErrStreamIdle, ErrDatasetDamaged,
// ErrUnavailable, context.Canceled and context.DeadlineExceeded with errors.Is, and
// status.FromError still works on it.
type Error struct {
	// Code is the gRPC status code.
	Code codes.Code
	// Message is the status message.
	Message string
	// Reason, Domain and Metadata come from the google.rpc.ErrorInfo detail.
	// Reason is ERROR_REASON_UNSPECIFIED when the status carried none (e.g.
	// transport errors) or one this client does not know; WireReason is
	// the reason as sent.
	Reason     pb.ErrorReason
	WireReason string
	Domain     string
	Metadata   map[string]string
	// Violations come from a google.rpc.BadRequest detail.
	Violations []FieldViolation
	// RetryDelay comes from a google.rpc.RetryInfo detail: the server asks
	// the client to wait that long before repeating the call.
	RetryDelay time.Duration
	// Attempts is how many times the call was tried (1 without retries).
	Attempts int

	st *status.Status
}

// Error formats the code, reason, message and violations.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("robinscreen: ")
	b.WriteString(e.Code.String())
	if e.WireReason != "" {
		b.WriteString(" (" + e.WireReason + ")")
	}
	b.WriteString(": " + e.Message)
	for _, v := range e.Violations {
		b.WriteString("; " + v.Field + ": " + v.Description)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	return b.String()
}

// GRPCStatus returns the original status, so status.FromError and
// status.Code work on an *Error.
func (e *Error) GRPCStatus() *status.Status {
	if e.st != nil {
		return e.st
	}
	return status.New(e.Code, e.Message)
}

// Is reports whether e matches one of the package's sentinel errors or
// context.Canceled / context.DeadlineExceeded: by its reason, and for
// ErrUnavailable and the context errors also by its code.
func (e *Error) Is(target error) bool {
	if target == nil {
		return false
	}
	if info, ok := reasons[e.Reason]; ok && info.is == target {
		return true
	}
	switch target {
	case ErrUnavailable:
		return e.Code == codes.Unavailable
	case context.Canceled:
		return e.Code == codes.Canceled
	case context.DeadlineExceeded:
		return e.Code == codes.DeadlineExceeded
	}
	return false
}

// Retryable reports whether the failed call may be repeated unchanged: a
// reason the client knows decides (SHUTTING_DOWN after back-off,
// RATE_LIMITED after the RetryInfo delay, STREAM_IDLE at once on a new
// stream, the others never); without a
// known reason, UNAVAILABLE is retried (a transport failure) and nothing
// else.
func (e *Error) Retryable() bool {
	if info, ok := reasons[e.Reason]; ok {
		switch info.retry {
		case retryBackoff, retryReopen:
			return true
		case retryAfterDelay:
			return e.RetryDelay > 0
		}
		return false
	}
	return e.Code == codes.Unavailable
}

// toError converts an RPC error into an *Error; nil stays nil and errors
// that are not gRPC statuses (context errors) become Canceled or
// DeadlineExceeded statuses.
func toError(err error) *Error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		return ce
	}
	st, ok := status.FromError(err)
	if !ok {
		st = status.FromContextError(err)
	}
	e := &Error{Code: st.Code(), Message: st.Message(), st: st, Attempts: 1}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			e.WireReason, e.Domain, e.Metadata = d.GetReason(), d.GetDomain(), d.GetMetadata()
			if e.Domain == ErrorDomain {
				e.Reason = pb.ParseErrorReason(e.WireReason)
			}
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				e.Violations = append(e.Violations, FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
			}
		case *errdetails.RetryInfo:
			e.RetryDelay = max(0, d.GetRetryDelay().AsDuration())
		}
	}
	return e
}

// protocolError is ErrProtocol with detail.
func protocolError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}
