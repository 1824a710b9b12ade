package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/robinscreen/robinscreen/server"
)

// errorHandler writes err as a google.rpc.Status in JSON. A status from the
// server already carries its ErrorInfo and a message without personal data
// and is sent as it is; any other error was made by the HTTP layer and is
// replaced by one with an ErrorInfo and a message that quotes nothing of the
// request (see httpError).
func errorHandler(log *slog.Logger) runtime.ErrorHandlerFunc {
	return func(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
		httpStatus := 0
		var hse *runtime.HTTPStatusError
		if errors.As(err, &hse) {
			httpStatus, err = hse.HTTPStatus, hse.Err
		}
		st := status.Convert(err)
		if errorInfo(st) == nil {
			st = httpError(log, st)
		}
		writeStatusCode(w, r, log, st, httpStatus)
	}
}

// routingErrorHandler answers a path no binding has (404) or a method the
// path does not take (405).
func routingErrorHandler(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	msg := "no such path; the paths are listed in GET " + OpenAPIPath
	switch httpStatus {
	case http.StatusMethodNotAllowed:
		msg = "the path does not take method " + r.Method + "; see GET " + OpenAPIPath
	case http.StatusNotFound:
	default:
		msg = "the request cannot be routed"
	}
	st := newStatus(codes.InvalidArgument, msg, server.ReasonInvalidRequest, map[string]string{"http_method": r.Method}, nil)
	writeStatusCode(w, r, nil, st, httpStatus)
}

// writeStatus writes st with the HTTP status of its code.
func writeStatus(w http.ResponseWriter, r *http.Request, log *slog.Logger, st *status.Status) {
	writeStatusCode(w, r, log, st, 0)
}

// writeStatusCode writes st as JSON with httpStatus, or, when that is 0,
// the HTTP status of st's code (413 for MESSAGE_TOO_LARGE). An
// UNAUTHENTICATED answer names the Bearer scheme, a RATE_LIMITED one carries
// Retry-After in seconds.
func writeStatusCode(w http.ResponseWriter, _ *http.Request, log *slog.Logger, st *status.Status, httpStatus int) {
	info := errorInfo(st)
	if httpStatus == 0 {
		httpStatus = runtime.HTTPStatusFromCode(st.Code())
		if info.GetReason() == reasonName(server.ReasonMessageTooLarge) {
			httpStatus = http.StatusRequestEntityTooLarge
		}
	}
	body, err := marshaler.Marshal(st.Proto())
	if err != nil {
		if log != nil {
			log.Error("gateway: error status not encodable", "code", st.Code().String(), "err", err)
		}
		httpStatus = http.StatusInternalServerError
		body = []byte(`{"code":13,"message":"internal error","details":[]}`)
	}
	h := w.Header()
	h.Del("Trailer")
	h.Del("Transfer-Encoding")
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if st.Code() == codes.Unauthenticated {
		h.Set("WWW-Authenticate", `Bearer realm="robinscreen"`)
	}
	if ms, err := strconv.ParseInt(info.GetMetadata()["retry_after_ms"], 10, 64); err == nil && ms > 0 {
		h.Set("Retry-After", strconv.FormatInt((ms+999)/1000, 10))
	}
	w.WriteHeader(httpStatus)
	w.Write(body)
}

func errorInfo(st *status.Status) *errdetails.ErrorInfo {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

// reasonName is the wire name of one of the server's ErrorInfo reasons
// (server.Reason*): the name itself, or its WireName where the reasons are
// values of the ErrorReason enum.
func reasonName(r any) string {
	if w, ok := r.(interface{ WireName() string }); ok {
		return w.WireName()
	}
	if s, ok := r.(string); ok {
		return s
	}
	return reasonName(server.ReasonInternal)
}

// newStatus returns a status with an ErrorInfo of the server's domain and
// reason (a server.Reason*), and a BadRequest when violations are given.
func newStatus(code codes.Code, msg string, reason any, meta map[string]string, violations []*errdetails.BadRequest_FieldViolation) *status.Status {
	st := status.New(code, msg)
	details := []protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: reasonName(reason), Domain: server.ErrorDomain, Metadata: meta}}
	if len(violations) > 0 {
		details = append(details, &errdetails.BadRequest{FieldViolations: violations})
	}
	if withD, err := st.WithDetails(details...); err == nil {
		return withD
	}
	return st
}

func bodyTooLarge() *status.Status {
	return newStatus(codes.ResourceExhausted, "request body larger than the limit", server.ReasonMessageTooLarge,
		map[string]string{"max_bytes": strconv.Itoa(MaxBodyBytes)}, nil)
}

// httpError replaces a status made by the HTTP layer (grpc-gateway's
// decoding and routing, or the gRPC client) by one with an ErrorInfo and a
// fixed message: their messages may quote the request body.
func httpError(log *slog.Logger, st *status.Status) *status.Status {
	switch st.Code() {
	case codes.InvalidArgument:
		if strings.Contains(st.Message(), "request body too large") {
			return bodyTooLarge()
		}
		msg, field := describeDecodeError(st.Message())
		var violations []*errdetails.BadRequest_FieldViolation
		if field != "" {
			violations = []*errdetails.BadRequest_FieldViolation{{Field: field, Description: msg}}
		}
		return newStatus(codes.InvalidArgument, "the request does not fit this method: "+msg,
			server.ReasonInvalidRequest, nil, violations)
	case codes.Unavailable:
		// The connection to the in-process server fails only when it stops.
		return newStatus(codes.Unavailable, "the server is shutting down", server.ReasonShuttingDown, nil, nil)
	case codes.Canceled:
		return newStatus(codes.Canceled, "request canceled", server.ReasonCanceled, nil, nil)
	case codes.DeadlineExceeded:
		return newStatus(codes.DeadlineExceeded, "deadline exceeded", server.ReasonDeadlineExceeded, nil, nil)
	case codes.Unimplemented:
		// A service this server was started without.
		return newStatus(codes.Unimplemented, "this server does not offer the method", server.ReasonInvalidRequest, nil, nil)
	case codes.ResourceExhausted:
		// The gRPC client's own message limit: the answer is too large.
		return newStatus(codes.ResourceExhausted, "message larger than the limit", server.ReasonMessageTooLarge, nil, nil)
	}
	if log != nil {
		log.Error("gateway: internal error", "code", st.Code().String())
	}
	return newStatus(codes.Internal, "internal error", server.ReasonInternal, nil, nil)
}

var (
	decodeParam     = regexp.MustCompile(`(?:type mismatch, parameter: |missing parameter |parsing field ")([A-Za-z0-9_.]{1,64})`)
	decodePos       = regexp.MustCompile(`\(line \d+:\d+\)`)
	decodeUnknown   = regexp.MustCompile(`unknown field "([A-Za-z0-9_]{1,64})"`)
	decodeDuplicate = regexp.MustCompile(`duplicate field "([A-Za-z0-9_]{1,64})"`)
	decodeInvalid   = regexp.MustCompile(`invalid value for (\w{1,16}) field ([A-Za-z0-9_]{1,64}):`)
)

// describeDecodeError turns an error of decoding the request (its JSON
// body, its path or query parameters) into a description that names at most
// a field and a position, never a value, and returns the field's name
// (empty when unknown).
func describeDecodeError(msg string) (desc, field string) {
	pos := decodePos.FindString(msg)
	if pos != "" {
		pos = " " + pos
	}
	switch {
	case decodeParam.MatchString(msg):
		field = decodeParam.FindStringSubmatch(msg)[1]
		return "missing or invalid URL parameter " + strconv.Quote(field), field
	case decodeUnknown.MatchString(msg):
		field = decodeUnknown.FindStringSubmatch(msg)[1]
		return "unknown field " + strconv.Quote(field) + pos, field
	case decodeDuplicate.MatchString(msg):
		field = decodeDuplicate.FindStringSubmatch(msg)[1]
		return "duplicate field " + strconv.Quote(field) + pos, field
	case decodeInvalid.MatchString(msg):
		m := decodeInvalid.FindStringSubmatch(msg)
		field = m[2]
		return "invalid value for field " + strconv.Quote(field) + " (" + m[1] + " expected)" + pos, field
	case strings.Contains(msg, "invalid UTF-8"):
		return "a string is not valid UTF-8" + pos, ""
	}
	return "not valid JSON" + pos, ""
}
