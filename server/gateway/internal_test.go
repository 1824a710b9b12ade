package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/robinscreen/robinscreen/server"
)

// TestBodyCutAtLimit: a body that comes without a Content-Length and runs
// over the limit is cut where the limit ends, and the answer is 413
// MESSAGE_TOO_LARGE, not a decoding error; one under the limit is decoded
// (and then fails only because nothing serves the connection).
func TestBodyCutAtLimit(t *testing.T) {
	// A connection that is never used: decoding fails before any call.
	conn, err := grpc.NewClient("passthrough:///nowhere", grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const limit = 1024
	h, err := newHandler(conn, nil, limit)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		refBytes   int
		httpStatus int
		reason     string
	}{
		{"over the limit", 2 * limit, http.StatusRequestEntityTooLarge, "MESSAGE_TOO_LARGE"},
		{"far over the limit", 100 * limit, http.StatusRequestEntityTooLarge, "MESSAGE_TOO_LARGE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"channel":"CHANNEL_POST","contacts":[{"ref":"` + strings.Repeat("x", tt.refBytes) + `"}]}`
			req := httptest.NewRequest("POST", "/v1/contacts:screenBatch", strings.NewReader(body))
			req.ContentLength = -1 // as a chunked body
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.httpStatus {
				t.Errorf("HTTP %d, want %d: %s", rec.Code, tt.httpStatus, rec.Body)
			}
			var st spb.Status
			if err := protojson.Unmarshal(rec.Body.Bytes(), &st); err != nil {
				t.Fatalf("not a google.rpc.Status: %v: %s", err, rec.Body)
			}
			var info errdetails.ErrorInfo
			if len(st.GetDetails()) == 0 || st.GetDetails()[0].UnmarshalTo(&info) != nil || info.GetReason() != tt.reason {
				t.Errorf("details %v, want ErrorInfo %s", st.GetDetails(), tt.reason)
			}
		})
	}
}

func TestDescribeDecodeError(t *testing.T) {
	tests := []struct {
		name, msg, want, field string
	}{
		{"unknown field", `proto: (line 1:2): unknown field "nmae"`, `unknown field "nmae" (line 1:2)`, "nmae"},
		{"value quoted", `proto: (line 1:19): invalid value for string field cpr: 1234567890`, `invalid value for field "cpr" (string expected) (line 1:19)`, "cpr"},
		{"duplicate", `proto: (line 1:27): duplicate field "channel"`, `duplicate field "channel" (line 1:27)`, "channel"},
		{"syntax", `proto: syntax error (line 1:1): invalid value Søren`, `not valid JSON (line 1:1)`, ""},
		{"encoding/json", `invalid character 'S' looking for beginning of value`, `not valid JSON`, ""},
		{"odd field name", `proto: (line 1:2): unknown field "Søren Testesen"`, `not valid JSON (line 1:2)`, ""},
		{"invalid UTF-8", `proto: (line 1:40): invalid UTF-8 in string`, `a string is not valid UTF-8 (line 1:40)`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, field := describeDecodeError(tt.msg)
			if got != tt.want || field != tt.field {
				t.Errorf("got %q, %q; want %q, %q", got, field, tt.want, tt.field)
			}
		})
	}
}

// wireNamed is a reason of the enum kind.
type wireNamed int

func (wireNamed) WireName() string { return "FROM_ENUM" }

func TestReasonName(t *testing.T) {
	tests := []struct {
		name   string
		reason any
		want   string
	}{
		{"string", "INVALID_REQUEST", "INVALID_REQUEST"},
		{"enum", wireNamed(3), "FROM_ENUM"},
		{"anything else is internal", 42, "INTERNAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := reasonName(tt.reason); got != tt.want {
				t.Errorf("reasonName(%v) = %q, want %q", tt.reason, got, tt.want)
			}
		})
	}
}

// TestForwardClient: the HTTP client is named by its verified certificate's
// common name, else by its IP address; an unverified certificate counts
// for nothing.
func TestForwardClient(t *testing.T) {
	verified := func(cn string) *tls.ConnectionState {
		return &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{{Subject: pkix.Name{CommonName: cn}}}}}
	}
	tests := []struct {
		name   string
		remote string
		tls    *tls.ConnectionState
		want   string
	}{
		{"plaintext IPv4", "192.0.2.7:51234", nil, "peer:192.0.2.7"},
		{"plaintext IPv6", "[2001:db8::1]:443", nil, "peer:2001:db8::1"},
		{"TLS without client certificate", "192.0.2.7:51234", &tls.ConnectionState{}, "peer:192.0.2.7"},
		{"unverified certificate", "192.0.2.7:51234", &tls.ConnectionState{PeerCertificates: []*x509.Certificate{{Subject: pkix.Name{CommonName: "admin"}}}}, "peer:192.0.2.7"},
		{"verified certificate", "192.0.2.7:51234", verified("crm.example"), "cert:crm.example"},
		{"verified certificate without a name", "192.0.2.7:51234", verified(""), "peer:192.0.2.7"},
		{"no address", "", nil, "peer:unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/v1/contacts:screen", nil)
			r.RemoteAddr, r.TLS = tt.remote, tt.tls
			got := forwardClient(context.Background(), r).Get(server.ForwardedClientKey)
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("forwarded %q, want %q", got, tt.want)
			}
		})
	}
}

// TestHTTPError: a status made outside the server gets an ErrorInfo and a
// fixed message that quotes nothing of the request.
func TestHTTPError(t *testing.T) {
	tests := []struct {
		name   string
		in     *status.Status
		code   codes.Code
		reason string
	}{
		{"decoding", status.New(codes.InvalidArgument, `proto: (line 1:19): invalid value for string field cpr: 1503821234`), codes.InvalidArgument, "INVALID_REQUEST"},
		{"body cut", status.New(codes.InvalidArgument, "http: request body too large"), codes.ResourceExhausted, "MESSAGE_TOO_LARGE"},
		{"service not offered", status.New(codes.Unimplemented, "unknown service robinscreen.v1.SuppressionService"), codes.Unimplemented, "INVALID_REQUEST"},
		{"connection down", status.New(codes.Unavailable, "connection error: desc = 1503821234"), codes.Unavailable, "SHUTTING_DOWN"},
		{"anything else", status.New(codes.DataLoss, "1503821234"), codes.Internal, "INTERNAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := httpError(nil, tt.in)
			info := errorInfo(got)
			if got.Code() != tt.code || info.GetReason() != tt.reason || info.GetDomain() != server.ErrorDomain {
				t.Errorf("got %v %v, want %v %s", got.Code(), info, tt.code, tt.reason)
			}
			if strings.Contains(got.Message(), "1503821234") {
				t.Errorf("message quotes the request: %q", got.Message())
			}
		})
	}
}
