package clients

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrorDomain is the ErrorInfo domain of the robinscreen server's errors.
const ErrorDomain = "robinscreen.v1"

// ErrorInfo reasons sent by the server (they mirror server/errors.go).
const (
	ReasonInvalidRequest   = "INVALID_REQUEST"
	ReasonNoDataset        = "NO_DATASET"
	ReasonBatchTooLarge    = "BATCH_TOO_LARGE"
	ReasonMessageTooLarge  = "MESSAGE_TOO_LARGE"
	ReasonLoadInProgress   = "LOAD_IN_PROGRESS"
	ReasonInternal         = "INTERNAL"
	ReasonCanceled         = "CANCELED"
	ReasonDeadlineExceeded = "DEADLINE_EXCEEDED"
	// ReasonSuppressionUnavailable comes with UNAVAILABLE: the server cannot
	// read the suppression list and screens nothing until it can.
	ReasonSuppressionUnavailable = "SUPPRESSION_UNAVAILABLE"
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
	// ErrUnavailable: the server stayed UNAVAILABLE through every retry.
	ErrUnavailable = errors.New("robinscreen: server unavailable")
	// ErrProtocol: the server answered with the wrong number of results or
	// with results for other contacts than those sent.
	ErrProtocol = errors.New("robinscreen: protocol violation")
)

// FieldViolation is one google.rpc.BadRequest field violation.
type FieldViolation struct {
	Field       string
	Description string
}

// Error is a failed RPC with its gRPC status and the details the server
// attached. It matches ErrInvalidRequest, ErrNoDataset, ErrBatchTooLarge,
// ErrMessageTooLarge, ErrUnavailable, context.Canceled and
// context.DeadlineExceeded with errors.Is, and status.FromError still works
// on it.
type Error struct {
	// Code is the gRPC status code.
	Code codes.Code
	// Message is the status message.
	Message string
	// Reason, Domain and Metadata come from the google.rpc.ErrorInfo detail;
	// Reason is empty when the status carried none (e.g. transport errors).
	Reason   string
	Domain   string
	Metadata map[string]string
	// Violations come from a google.rpc.BadRequest detail.
	Violations []FieldViolation
	// Attempts is how many times the call was tried (1 without retries).
	Attempts int

	st *status.Status
}

// Error formats the code, reason, message and violations.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("robinscreen: ")
	b.WriteString(e.Code.String())
	if e.Reason != "" {
		b.WriteString(" (" + e.Reason + ")")
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
// context.Canceled / context.DeadlineExceeded.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrInvalidRequest:
		return e.Reason == ReasonInvalidRequest
	case ErrNoDataset:
		return e.Reason == ReasonNoDataset
	case ErrBatchTooLarge:
		return e.Reason == ReasonBatchTooLarge
	case ErrMessageTooLarge:
		return e.Reason == ReasonMessageTooLarge
	case ErrUnavailable:
		return e.Code == codes.Unavailable
	case context.Canceled:
		return e.Code == codes.Canceled
	case context.DeadlineExceeded:
		return e.Code == codes.DeadlineExceeded
	}
	return false
}

// Retryable reports whether the failed call may be retried as is: only
// UNAVAILABLE is.
func (e *Error) Retryable() bool { return e.Code == codes.Unavailable }

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
			e.Reason, e.Domain, e.Metadata = d.GetReason(), d.GetDomain(), d.GetMetadata()
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				e.Violations = append(e.Violations, FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
			}
		}
	}
	return e
}

// protocolError is ErrProtocol with detail.
func protocolError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}
