package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/robinscreen/robinscreen/internal/demo"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/server"
	"github.com/robinscreen/robinscreen/server/gateway"
	"github.com/robinscreen/robinscreen/store"
	"github.com/robinscreen/robinscreen/store/suppressbadger"
	"github.com/robinscreen/robinscreen/suppress"
)

// Tokens of the test token file.
const (
	screenToken = "screen-secret"
	adminToken  = "admin-secret"
)

type envOpts struct {
	noData bool
	tokens bool
	rate   server.RateLimit
}

// env is a server with the demo dataset, its gateway on an httptest
// server, and a gRPC client of the same server for comparisons.
type env struct {
	url   string
	grpc  *grpc.ClientConn
	audit string
}

func dialLocal(t testing.TB, l *server.LocalListener) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///local", grpc.WithContextDialer(l.DialContext),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(gateway.MaxBodyBytes), grpc.MaxCallSendMsgSize(gateway.MaxBodyBytes)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func newEnv(t testing.TB, o envOpts) *env {
	t.Helper()
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	st, err := store.Open(filepath.Join(dir, "data"), store.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if !o.noData {
		if err := demo.Load(context.Background(), st, time.Now().UTC().Truncate(24*time.Hour), false); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{audit: filepath.Join(dir, "audit.jsonl")}
	al, err := server.OpenAuditLog(e.audit, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { al.Close() })
	h, err := suppress.NewHasher(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	sup, err := suppressbadger.Open(filepath.Join(dir, "suppressions"), h, suppressbadger.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sup.Close() })
	cfg := server.Config{Data: st, Admin: st, Engine: &screening.Engine{}, Logger: log, Auditor: al, RateLimit: o.rate, Suppressions: sup}
	if o.tokens {
		cfg.Auth, err = server.ParseTokens(strings.NewReader(
			"screen:" + server.HashToken(screenToken) + ":crm\nadmin:" + server.HashToken(adminToken) + ":ops\n"))
		if err != nil {
			t.Fatal(err)
		}
	}
	srv := server.New(cfg)
	gwLis, directLis := server.NewLocalListener(), server.NewLocalListener()
	go srv.GRPC.Serve(gwLis)
	go srv.GRPC.Serve(directLis)
	t.Cleanup(srv.GRPC.Stop)
	handler, err := gateway.New(dialLocal(t, gwLis), log)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(handler)
	t.Cleanup(hs.Close)
	e.url = hs.URL
	e.grpc = dialLocal(t, directLis)
	return e
}

// do sends an HTTP request with an optional bearer token and JSON body and
// returns the status and body.
func (e *env) do(t *testing.T, method, path, token, body string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func grpcCtx(token string) context.Context {
	ctx := context.Background()
	if token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	}
	return ctx
}

// statusOf decodes a google.rpc.Status JSON body and returns it with its
// ErrorInfo (nil when none) and the fields its BadRequest names.
func statusOf(t *testing.T, body []byte) (*spb.Status, *errdetails.ErrorInfo, []string) {
	t.Helper()
	var st spb.Status
	if err := protojson.Unmarshal(body, &st); err != nil {
		t.Fatalf("not a google.rpc.Status: %v\n%s", err, body)
	}
	var info *errdetails.ErrorInfo
	var fields []string
	for _, a := range st.GetDetails() {
		m, err := a.UnmarshalNew()
		if err != nil {
			t.Fatalf("detail %s: %v", a.GetTypeUrl(), err)
		}
		switch d := m.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	return &st, info, fields
}

var (
	listed    = &pb.Contact{Ref: "listed", Name: "Søren Testesen", Address: "Fiktivvej 12, 2. tv, 2100 København Ø", Phone: "+45 11 22 33 44"}
	clean     = &pb.Contact{Ref: "clean", Name: "Karen Uopført", Address: "Ikkelistet Vej 3, 8000 Aarhus C"}
	protected = &pb.Contact{Ref: "protected", Cpr: demo.DemoProtected}
	deceased  = &pb.Contact{Ref: "deceased", Cpr: demo.DemoDeceased, Consent: true}
	badCPR    = &pb.Contact{Ref: "bad-cpr", Cpr: "31-02-90-1234", Name: "Karen Uopført", Address: "Ikkelistet Vej 3, 8000 Aarhus C"}
	consented = &pb.Contact{Ref: "consent", Name: "Søren Testesen", Address: "Fiktivvej 12, 2. tv, 2100 København Ø", Email: "s@example.test", Consent: true}
)

// TestScreenSameAsGRPC: POST /v1/contacts:screen gives exactly the result
// of the gRPC call, for contacts of every decision.
func TestScreenSameAsGRPC(t *testing.T) {
	e := newEnv(t, envOpts{tokens: true})
	tests := []struct {
		name    string
		channel pb.Channel
		purpose pb.Purpose
		contact *pb.Contact
		want    pb.Decision
	}{
		{"listed by post", pb.Channel_CHANNEL_POST, 0, listed, pb.Decision_DECISION_BLOCK},
		{"listed by phone for insurance", pb.Channel_CHANNEL_PHONE, pb.Purpose_PURPOSE_INSURANCE, listed, pb.Decision_DECISION_BLOCK},
		{"not listed", pb.Channel_CHANNEL_POST, 0, clean, pb.Decision_DECISION_ALLOW},
		{"protected", pb.Channel_CHANNEL_PHONE, pb.Purpose_PURPOSE_OTHER, protected, pb.Decision_DECISION_BLOCK},
		{"deceased", pb.Channel_CHANNEL_EMAIL, 0, deceased, pb.Decision_DECISION_BLOCK},
		{"invalid personal number", pb.Channel_CHANNEL_POST, 0, badCPR, pb.Decision_DECISION_REVIEW},
		{"e-mail with consent", pb.Channel_CHANNEL_EMAIL, 0, consented, pb.Decision_DECISION_ALLOW},
		{"e-mail without consent", pb.Channel_CHANNEL_EMAIL, 0, clean, pb.Decision_DECISION_BLOCK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &pb.ScreenContactRequest{Channel: tt.channel, Purpose: tt.purpose, Contact: tt.contact}
			body, err := protojson.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			code, _, got := e.do(t, "POST", "/v1/contacts:screen", screenToken, string(body))
			if code != http.StatusOK {
				t.Fatalf("HTTP %d: %s", code, got)
			}
			var viaHTTP pb.ScreenContactResponse
			if err := protojson.Unmarshal(got, &viaHTTP); err != nil {
				t.Fatalf("response: %v\n%s", err, got)
			}
			viaGRPC, err := pb.NewScreeningServiceClient(e.grpc).ScreenContact(grpcCtx(screenToken), req)
			if err != nil {
				t.Fatal(err)
			}
			if d := viaHTTP.GetResult().GetDecision(); d != tt.want {
				t.Errorf("decision %v, want %v", d, tt.want)
			}
			if !proto.Equal(&viaHTTP, viaGRPC) {
				t.Errorf("HTTP result differs from gRPC:\nHTTP %v\ngRPC %v", &viaHTTP, viaGRPC)
			}
			if strings.Contains(string(got), demo.DemoProtected) || strings.Contains(string(got), demo.DemoDeceased) {
				t.Errorf("the response echoes a personal number: %s", got)
			}

			// The flat form for webhooks: channel in the path, purpose in
			// the query, the contact alone as the body.
			flat, err := protojson.Marshal(tt.contact)
			if err != nil {
				t.Fatal(err)
			}
			path := "/v1/channels/" + tt.channel.String() + "/contacts:screen?purpose=" + tt.purpose.String()
			code, _, got = e.do(t, "POST", path, screenToken, string(flat))
			if code != http.StatusOK {
				t.Fatalf("%s: HTTP %d: %s", path, code, got)
			}
			var viaFlat pb.ScreenContactResponse
			if err := protojson.Unmarshal(got, &viaFlat); err != nil {
				t.Fatalf("response: %v\n%s", err, got)
			}
			if !proto.Equal(&viaFlat, viaGRPC) {
				t.Errorf("%s: result differs from gRPC:\nHTTP %v\ngRPC %v", path, &viaFlat, viaGRPC)
			}
		})
	}
}

// TestScreenBatchSameAsGRPC: POST /v1/contacts:screenBatch gives one result
// per contact, in order, the results of the gRPC unary batch; JSON with the
// lowerCamel field names is read the same.
func TestScreenBatchSameAsGRPC(t *testing.T) {
	e := newEnv(t, envOpts{})
	contacts := []*pb.Contact{listed, clean, protected, deceased, badCPR, consented, listed}
	req := &pb.ScreenContactBatchRequest{Channel: pb.Channel_CHANNEL_POST, Contacts: contacts}
	viaGRPC, err := pb.NewScreeningServiceClient(e.grpc).ScreenContactBatch(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for _, names := range []struct {
		name string
		opts protojson.MarshalOptions
	}{{"proto names", protojson.MarshalOptions{UseProtoNames: true}}, {"JSON names", protojson.MarshalOptions{}}} {
		t.Run(names.name, func(t *testing.T) {
			body, err := names.opts.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			code, _, got := e.do(t, "POST", "/v1/contacts:screenBatch", "", string(body))
			if code != http.StatusOK {
				t.Fatalf("HTTP %d: %s", code, got)
			}
			var viaHTTP pb.ScreenContactBatchResponse
			if err := protojson.Unmarshal(got, &viaHTTP); err != nil {
				t.Fatal(err)
			}
			if len(viaHTTP.GetResults()) != len(contacts) {
				t.Fatalf("%d results for %d contacts", len(viaHTTP.GetResults()), len(contacts))
			}
			for i, r := range viaHTTP.GetResults() {
				if r.GetRef() != contacts[i].GetRef() {
					t.Errorf("result %d is %q, want %q", i, r.GetRef(), contacts[i].GetRef())
				}
			}
			if !proto.Equal(&viaHTTP, viaGRPC) {
				t.Errorf("HTTP results differ from gRPC")
			}
		})
	}
}

// TestErrors: every refusal is a google.rpc.Status JSON with an ErrorInfo
// of domain robinscreen.v1 and the HTTP status of its code, and no message
// quotes the request.
func TestErrors(t *testing.T) {
	e := newEnv(t, envOpts{tokens: true})
	empty := newEnv(t, envOpts{tokens: true, noData: true})
	const screen = "/v1/contacts:screen"
	valid := `{"channel":"CHANNEL_POST","contact":{"name":"Søren Testesen","address":"Fiktivvej 12, 2100 København Ø"}}`
	over := `{"channel":"CHANNEL_POST","contacts":[` + strings.Repeat(`{"ref":"x"},`, server.MaxBatch) + `{"ref":"y"}]}`
	tests := []struct {
		name       string
		env        *env
		method     string
		path       string
		token      string
		body       string
		httpStatus int
		code       codes.Code
		reason     string
		field      string // named in a BadRequest
		secret     string // must not appear in the answer
	}{
		{"no token", e, "POST", screen, "", valid, 401, codes.Unauthenticated, "UNAUTHENTICATED", "", ""},
		{"unknown token", e, "POST", screen, "guess", valid, 401, codes.Unauthenticated, "UNAUTHENTICATED", "", "guess"},
		{"screen role reads datasets", e, "GET", "/v1/datasets", screenToken, "", 403, codes.PermissionDenied, "PERMISSION_DENIED", "", screenToken},
		{"missing channel", e, "POST", screen, screenToken, `{"contact":{"name":"Søren Testesen"}}`, 400, codes.InvalidArgument, "INVALID_REQUEST", "channel", "Testesen"},
		{"missing contact", e, "POST", screen, screenToken, `{"channel":"CHANNEL_POST"}`, 400, codes.InvalidArgument, "INVALID_REQUEST", "contact", ""},
		{"empty body", e, "POST", screen, screenToken, "", 400, codes.InvalidArgument, "INVALID_REQUEST", "channel", ""},
		{"unknown channel", e, "POST", screen, screenToken, `{"channel":"CHANNEL_FAX","contact":{"cpr":"0101801230"}}`, 400, codes.InvalidArgument, "INVALID_REQUEST", "channel", "0101801230"},
		{"misspelt field", e, "POST", screen, screenToken, `{"channel":"CHANNEL_POST","contact":{"name":"Søren Testesen","optedout":true}}`, 400, codes.InvalidArgument, "INVALID_REQUEST", "optedout", "Testesen"},
		{"number for a string", e, "POST", screen, screenToken, `{"channel":"CHANNEL_POST","contact":{"cpr":1503821234}}`, 400, codes.InvalidArgument, "INVALID_REQUEST", "cpr", "1503821234"},
		{"string for a bool", e, "POST", screen, screenToken, `{"channel":"CHANNEL_POST","contact":{"consent":"Søren"}}`, 400, codes.InvalidArgument, "INVALID_REQUEST", "consent", "Søren"},
		{"not JSON", e, "POST", screen, screenToken, `name=Søren+Testesen`, 400, codes.InvalidArgument, "INVALID_REQUEST", "", "Testesen"},
		{"cut JSON", e, "POST", screen, screenToken, `{"channel":"CHANNEL_POST","contact":{"name":"Søren Testesen`, 400, codes.InvalidArgument, "INVALID_REQUEST", "", "Testesen"},
		{"invalid UTF-8", e, "POST", screen, screenToken, "{\"channel\":\"CHANNEL_POST\",\"contact\":{\"name\":\"S\xf8ren\"}}", 400, codes.InvalidArgument, "INVALID_REQUEST", "", "ren"},
		{"unknown channel in the path", e, "POST", "/v1/channels/CHANNEL_0101801230/contacts:screen", screenToken, `{"name":"Søren Testesen"}`, 400, codes.InvalidArgument, "INVALID_REQUEST", "channel", "0101801230"},
		{"unknown purpose in the query", e, "POST", "/v1/channels/CHANNEL_PHONE/contacts:screen?purpose=P0101801230", screenToken, `{"name":"Søren Testesen"}`, 400, codes.InvalidArgument, "INVALID_REQUEST", "purpose", "0101801230"},
		{"flat body with a request field", e, "POST", "/v1/channels/CHANNEL_PHONE/contacts:screen", screenToken, `{"channel":"CHANNEL_POST","name":"Søren Testesen"}`, 400, codes.InvalidArgument, "INVALID_REQUEST", "channel", "Testesen"},
		{"empty batch", e, "POST", "/v1/contacts:screenBatch", screenToken, `{"channel":"CHANNEL_POST","contacts":[]}`, 400, codes.InvalidArgument, "INVALID_REQUEST", "contacts", ""},
		{"batch over the maximum", e, "POST", "/v1/contacts:screenBatch", screenToken, over, 400, codes.InvalidArgument, "BATCH_TOO_LARGE", "contacts", ""},
		{"no dataset", empty, "POST", screen, screenToken, valid, 400, codes.FailedPrecondition, "NO_DATASET", "", "Testesen"},
		{"unknown path", e, "POST", "/v1/contacts:check", screenToken, valid, 404, codes.InvalidArgument, "INVALID_REQUEST", "", "Testesen"},
		{"wrong method", e, "PUT", screen, screenToken, valid, 405, codes.InvalidArgument, "INVALID_REQUEST", "", "Testesen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, header, body := tt.env.do(t, tt.method, tt.path, tt.token, tt.body)
			if code != tt.httpStatus {
				t.Errorf("HTTP %d, want %d: %s", code, tt.httpStatus, body)
			}
			if ct := header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			st, info, fields := statusOf(t, body)
			if codes.Code(st.GetCode()) != tt.code {
				t.Errorf("code %v, want %v", codes.Code(st.GetCode()), tt.code)
			}
			if info == nil || info.GetDomain() != server.ErrorDomain || info.GetReason() != tt.reason {
				t.Errorf("ErrorInfo %v, want reason %s", info, tt.reason)
			}
			if tt.field != "" && !strings.Contains(strings.Join(fields, " "), tt.field) {
				t.Errorf("BadRequest fields %v, want %s", fields, tt.field)
			}
			if tt.secret != "" && bytes.Contains(body, []byte(tt.secret)) {
				t.Errorf("the answer quotes the request (%q): %s", tt.secret, body)
			}
			if code == 401 && header.Get("WWW-Authenticate") != `Bearer realm="robinscreen"` {
				t.Errorf("WWW-Authenticate %q", header.Get("WWW-Authenticate"))
			}
		})
	}
	t.Run("admin reads datasets", func(t *testing.T) {
		code, _, body := e.do(t, "GET", "/v1/datasets", adminToken, "")
		var resp pb.GetDatasetStatusResponse
		if code != 200 || protojson.Unmarshal(body, &resp) != nil || len(resp.GetDatasets()) == 0 {
			t.Errorf("HTTP %d: %s", code, body)
		}
	})
}

// TestBodyAnnouncedTooLarge: a body announced over MaxBodyBytes is refused
// with 413 before it is read.
func TestBodyAnnouncedTooLarge(t *testing.T) {
	e := newEnv(t, envOpts{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "POST /v1/contacts:screenBatch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "+
		strconv.Itoa(gateway.MaxBodyBytes+1)+"\r\n\r\n{")
	resp, err := http.ReadResponse(bufioReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("HTTP %d: %s", resp.StatusCode, body)
	}
	if _, info, _ := statusOf(t, body); info.GetReason() != "MESSAGE_TOO_LARGE" {
		t.Errorf("ErrorInfo %v", info)
	}
}

// TestForwardedClient: calls are audited and rate-limited under the HTTP
// client's address; headers naming another client change nothing.
func TestForwardedClient(t *testing.T) {
	e := newEnv(t, envOpts{rate: server.RateLimit{PerSecond: 0.001, Burst: 1}})
	body := `{"channel":"CHANNEL_POST","contact":{"ref":"1"}}`
	spoof := []string{"Grpc-Metadata-" + server.ForwardedClientKey, "cert:admin", server.ForwardedClientKey, "cert:admin", "X-Forwarded-For", "192.0.2.9"}
	if code, _, b := e.do(t, "POST", "/v1/contacts:screen", "", body, spoof...); code != 200 {
		t.Fatalf("HTTP %d: %s", code, b)
	}
	code, header, b := e.do(t, "POST", "/v1/contacts:screen", "", body)
	if code != http.StatusTooManyRequests {
		t.Fatalf("second call: HTTP %d, want 429: %s", code, b)
	}
	if _, info, _ := statusOf(t, b); info.GetReason() != "RATE_LIMITED" {
		t.Errorf("ErrorInfo %v", info)
	}
	if s, err := strconv.Atoi(header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After %q", header.Get("Retry-After"))
	}
	log, err := os.ReadFile(e.audit)
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, line := range strings.Split(strings.TrimSpace(string(log)), "\n") {
		var rec server.AuditRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		events = append(events, rec.Event+" "+rec.ClientSource+":"+rec.Client+" "+rec.Method)
	}
	want := []string{
		"screen peer:127.0.0.1 " + pb.ScreeningService_ScreenContact_FullMethodName,
		"denied peer:127.0.0.1 " + pb.ScreeningService_ScreenContact_FullMethodName,
	}
	if strings.Join(events, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(events, "\n"), strings.Join(want, "\n"))
	}
}

func bufioReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }

// TestSuppressionsOverHTTP: POST /v1/suppressions (admin) adds to the list,
// POST /v1/suppressions:check (screen) finds the entry, and screening over
// HTTP then blocks the contact exactly as the gRPC call does.
func TestSuppressionsOverHTTP(t *testing.T) {
	e := newEnv(t, envOpts{tokens: true})
	const email = "optout@example.test"
	if code, _, body := e.do(t, "POST", "/v1/suppressions", screenToken, `{"entries":[{"email":"`+email+`"}]}`); code != http.StatusForbidden {
		t.Errorf("screen token adds: HTTP %d, want 403: %s", code, body)
	}
	code, _, body := e.do(t, "POST", "/v1/suppressions", adminToken, `{"entries":[{"email":"`+email+`","reason":"SUPPRESSION_REASON_REQUESTED"}]}`)
	var added pb.AddSuppressionsResponse
	if code != http.StatusOK || protojson.Unmarshal(body, &added) != nil || added.GetAdded() != 1 {
		t.Fatalf("add: HTTP %d: %s", code, body)
	}
	code, _, body = e.do(t, "POST", "/v1/suppressions:check", screenToken, `{"values":[{"email":"`+email+`"},{"email":"other@example.test"}]}`)
	var checked pb.CheckSuppressionsResponse
	if code != http.StatusOK || protojson.Unmarshal(body, &checked) != nil || len(checked.GetResults()) != 2 ||
		!checked.GetResults()[0].GetSuppressed() || checked.GetResults()[1].GetSuppressed() {
		t.Fatalf("check: HTTP %d: %s", code, body)
	}
	req := &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_EMAIL, Contact: &pb.Contact{Ref: "s", Email: email, Consent: true}}
	jsonReq, _ := protojson.Marshal(req)
	code, _, body = e.do(t, "POST", "/v1/contacts:screen", screenToken, string(jsonReq))
	var viaHTTP pb.ScreenContactResponse
	if code != http.StatusOK || protojson.Unmarshal(body, &viaHTTP) != nil {
		t.Fatalf("screen: HTTP %d: %s", code, body)
	}
	viaGRPC, err := pb.NewScreeningServiceClient(e.grpc).ScreenContact(grpcCtx(screenToken), req)
	if err != nil {
		t.Fatal(err)
	}
	if viaHTTP.GetResult().GetDecision() != pb.Decision_DECISION_BLOCK || !proto.Equal(&viaHTTP, viaGRPC) {
		t.Errorf("suppressed contact: HTTP %v, gRPC %v", &viaHTTP, viaGRPC)
	}

	// A brand's entry applies to a batch for that brand (or for every
	// brand), not to another brand's batch.
	const scoped = "brand-a@example.test"
	if code, _, body := e.do(t, "POST", "/v1/suppressions", adminToken, `{"entries":[{"email":"`+scoped+`","scope":"brand-a"}]}`); code != http.StatusOK {
		t.Fatalf("add scoped: HTTP %d: %s", code, body)
	}
	for _, tt := range []struct {
		scope string
		want  pb.Decision
	}{{"brand-a", pb.Decision_DECISION_BLOCK}, {"", pb.Decision_DECISION_BLOCK}, {"brand-b", pb.Decision_DECISION_ALLOW}} {
		batch := &pb.ScreenContactBatchRequest{Channel: pb.Channel_CHANNEL_EMAIL, Scope: tt.scope,
			Contacts: []*pb.Contact{{Ref: "x", Email: scoped, Consent: true}}}
		jsonBatch, _ := protojson.Marshal(batch)
		code, _, body := e.do(t, "POST", "/v1/contacts:screenBatch", screenToken, string(jsonBatch))
		var resp pb.ScreenContactBatchResponse
		if code != http.StatusOK || protojson.Unmarshal(body, &resp) != nil || len(resp.GetResults()) != 1 {
			t.Fatalf("scope %q: HTTP %d: %s", tt.scope, code, body)
		}
		if d := resp.GetResults()[0].GetDecision(); d != tt.want {
			t.Errorf("scope %q: %v, want %v", tt.scope, d, tt.want)
		}
	}
}
