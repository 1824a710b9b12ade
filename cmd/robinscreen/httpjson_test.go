package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi2"
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
	"github.com/robinscreen/robinscreen/server/gateway"
)

// httpCall is one curl: method, URL, bearer token (none when empty) and
// JSON body. It returns the HTTP status, the headers and the body.
func httpCall(t *testing.T, client *http.Client, method, url, token, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// rpcStatus decodes a google.rpc.Status JSON body and returns its code and
// the reason of its ErrorInfo (empty when it has none).
func rpcStatus(t *testing.T, body []byte) (codes.Code, string, *errdetails.ErrorInfo) {
	t.Helper()
	var st spb.Status
	if err := protojson.Unmarshal(body, &st); err != nil {
		t.Fatalf("not a google.rpc.Status: %v\n%s", err, body)
	}
	for _, a := range st.GetDetails() {
		var info errdetails.ErrorInfo
		if a.UnmarshalTo(&info) == nil {
			return codes.Code(st.GetCode()), info.GetReason(), &info
		}
	}
	return codes.Code(st.GetCode()), "", nil
}

// TestServeHTTPJSON runs the binary with --demo, a token file, an audit log
// and --http-listen, and sends the requests a CRM would: the decision over
// HTTP is the gRPC call's, refusals are google.rpc.Status JSON with an
// ErrorInfo, and the OpenAPI document is served.
func TestServeHTTPJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("screen:"+sha256Hex("screen-tok")+":crm\nadmin:"+sha256Hex("admin-tok")+":ops\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	audit := filepath.Join(dir, "audit.jsonl")
	addr, haddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(binary(t), "serve", "--demo", "--data", filepath.Join(dir, "data"), "--listen", addr,
		"--http-listen", haddr, "--token-file", tokens, "--audit-log", audit)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", stderr.String())
		}
	}()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitServing(t, conn)
	base := "http://" + haddr
	client := &http.Client{Timeout: 30 * time.Second}
	grpcCtx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer screen-tok")

	t.Run("same decision as gRPC", func(t *testing.T) {
		tests := []struct {
			name string
			req  *pb.ScreenContactRequest
			want pb.Decision
		}{
			{"listed", &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_POST, Contact: &pb.Contact{Ref: "c-1", Name: "Søren Testesen",
				Address: "Fiktivvej 12, 2. tv, 2100 København Ø"}}, pb.Decision_DECISION_BLOCK},
			{"protected by personal number", &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_PHONE, Purpose: pb.Purpose_PURPOSE_BOOKS,
				Contact: &pb.Contact{Ref: "c-2", Cpr: demo.DemoProtected}}, pb.Decision_DECISION_BLOCK},
			{"not listed", &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_POST, Contact: &pb.Contact{Ref: "c-3", Name: "Karen Uopført",
				Address: "Ikkelistet Vej 3, 8000 Aarhus C"}}, pb.Decision_DECISION_ALLOW},
			{"invalid personal number", &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_POST, Contact: &pb.Contact{Ref: "c-4", Cpr: "3102901234"}},
				pb.Decision_DECISION_REVIEW},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				body, err := protojson.Marshal(tt.req)
				if err != nil {
					t.Fatal(err)
				}
				code, _, got := httpCall(t, client, "POST", base+"/v1/contacts:screen", "screen-tok", string(body))
				if code != http.StatusOK {
					t.Fatalf("HTTP %d: %s", code, got)
				}
				var viaHTTP pb.ScreenContactResponse
				if err := protojson.Unmarshal(got, &viaHTTP); err != nil {
					t.Fatalf("%v: %s", err, got)
				}
				viaGRPC, err := pb.NewScreeningServiceClient(conn).ScreenContact(grpcCtx, tt.req)
				if err != nil {
					t.Fatal(err)
				}
				if viaHTTP.GetResult().GetDecision() != viaGRPC.GetResult().GetDecision() || viaHTTP.GetResult().GetDecision() != tt.want {
					t.Errorf("HTTP %v, gRPC %v, want %v", viaHTTP.GetResult().GetDecision(), viaGRPC.GetResult().GetDecision(), tt.want)
				}
				if !proto.Equal(&viaHTTP, viaGRPC) {
					t.Errorf("HTTP result differs from gRPC:\nHTTP %v\ngRPC %v", &viaHTTP, viaGRPC)
				}
			})
		}
	})

	t.Run("batch", func(t *testing.T) {
		body := `{"channel":"CHANNEL_POST","contacts":[{"ref":"a","name":"Søren Testesen","address":"Fiktivvej 12, 2. tv, 2100 København Ø"},` +
			`{"ref":"b","name":"Karen Uopført","address":"Ikkelistet Vej 3, 8000 Aarhus C"},{"ref":"c","cpr":"` + demo.DemoDeceased + `"}]}`
		code, _, got := httpCall(t, client, "POST", base+"/v1/contacts:screenBatch", "screen-tok", body)
		var resp pb.ScreenContactBatchResponse
		if code != http.StatusOK || protojson.Unmarshal(got, &resp) != nil {
			t.Fatalf("HTTP %d: %s", code, got)
		}
		var short []string
		for _, r := range resp.GetResults() {
			short = append(short, r.GetRef()+" "+strings.TrimPrefix(r.GetDecision().String(), "DECISION_"))
		}
		if want := "a BLOCK, b ALLOW, c BLOCK"; strings.Join(short, ", ") != want {
			t.Errorf("results %v, want %s", short, want)
		}
	})

	t.Run("errors", func(t *testing.T) {
		valid := `{"channel":"CHANNEL_POST","contact":{"name":"Søren Testesen"}}`
		tests := []struct {
			name, method, path, token, body string
			httpStatus                      int
			code                            codes.Code
			reason                          string
		}{
			{"no token", "POST", "/v1/contacts:screen", "", valid, 401, codes.Unauthenticated, "UNAUTHENTICATED"},
			{"screen token on datasets", "GET", "/v1/datasets", "screen-tok", "", 403, codes.PermissionDenied, "PERMISSION_DENIED"},
			{"missing channel", "POST", "/v1/contacts:screen", "screen-tok", `{"contact":{"name":"Søren Testesen"}}`, 400, codes.InvalidArgument, "INVALID_REQUEST"},
			{"unknown field", "POST", "/v1/contacts:screen", "screen-tok", `{"channel":"CHANNEL_POST","contact":{"postcode":"2100"}}`, 400, codes.InvalidArgument, "INVALID_REQUEST"},
			{"not JSON", "POST", "/v1/contacts:screenBatch", "screen-tok", `ref;name`, 400, codes.InvalidArgument, "INVALID_REQUEST"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, _, body := httpCall(t, client, tt.method, base+tt.path, tt.token, tt.body)
				gotCode, reason, info := rpcStatus(t, body)
				if code != tt.httpStatus || gotCode != tt.code || reason != tt.reason || info.GetDomain() != "robinscreen.v1" {
					t.Errorf("HTTP %d code %v reason %q, want %d %v %q: %s", code, gotCode, reason, tt.httpStatus, tt.code, tt.reason, body)
				}
				if bytes.Contains(body, []byte("Testesen")) {
					t.Errorf("the error quotes the request: %s", body)
				}
			})
		}
	})

	t.Run("datasets with the admin token", func(t *testing.T) {
		code, _, body := httpCall(t, client, "GET", base+"/v1/datasets", "admin-tok", "")
		var resp pb.GetDatasetStatusResponse
		if code != http.StatusOK || protojson.Unmarshal(body, &resp) != nil || len(resp.GetDatasets()) == 0 {
			t.Errorf("HTTP %d: %s", code, body)
		}
	})

	t.Run("suppression list", func(t *testing.T) {
		if code, _, body := httpCall(t, client, "POST", base+"/v1/suppressions", "admin-tok", `{"entries":[{"phone":"+45 20 30 40 50"}]}`); code != http.StatusOK {
			t.Fatalf("add: HTTP %d: %s", code, body)
		}
		code, _, body := httpCall(t, client, "POST", base+"/v1/suppressions:check", "screen-tok", `{"values":[{"phone":"20304050"}]}`)
		var resp pb.CheckSuppressionsResponse
		if code != http.StatusOK || protojson.Unmarshal(body, &resp) != nil || len(resp.GetResults()) != 1 || !resp.GetResults()[0].GetSuppressed() {
			t.Errorf("check: HTTP %d: %s", code, body)
		}
	})

	t.Run("openapi", func(t *testing.T) {
		code, _, body := httpCall(t, client, "GET", base+"/v1/openapi.json", "", "")
		var doc openapi2.T
		if code != http.StatusOK || json.Unmarshal(body, &doc) != nil || doc.Paths["/v1/contacts:screen"] == nil {
			t.Fatalf("HTTP %d: %.300s", code, body)
		}
		if !bytes.Equal(body, gateway.OpenAPI()) {
			t.Error("the binary serves another OpenAPI document than the gateway package embeds")
		}
	})

	// Audited like gRPC calls: under the token's name, counts only.
	log := waitAuditFile(t, audit, `"method":"/robinscreen.v1.ScreeningService/ScreenContactBatch"`)
	for _, want := range []string{`"event":"screen","client":"crm","client_source":"token"`, `"event":"denied"`,
		`"method":"/robinscreen.v1.ScreeningService/ScreenContactBatch","contacts":3`} {
		if !strings.Contains(log, want) {
			t.Errorf("audit log lacks %s:\n%s", want, log)
		}
	}
	if strings.Contains(log, "Testesen") || strings.Contains(log, demo.DemoDeceased) {
		t.Errorf("the audit log holds personal data:\n%s", log)
	}
}

// waitAuditFile waits until the file at path contains want and returns it.
func waitAuditFile(t *testing.T, path, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), want) || time.Now().After(deadline) {
			return string(b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMainInProcessHTTPS: with TLS flags the HTTP listener speaks TLS 1.3
// with the same certificate (HTTP/1.1 and HTTP/2), refuses plaintext, and
// after Close no goroutine of the gateway is left and both ports are free.
func TestMainInProcessHTTPS(t *testing.T) {
	verifyNoLeaks(t)
	dir := t.TempDir()
	caFile, certFile, keyFile := writeTestPKI(t, dir)
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("screen:"+sha256Hex("screen-tok")+":crm\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, stop := startMain(t, "--demo", "--tls-cert", certFile, "--tls-key", keyFile, "--token-file", tokens, "--http-listen", "127.0.0.1:0")
	addr, haddr := m.Addr().String(), m.HTTPAddr().String()
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	body := `{"channel":"CHANNEL_POST","contact":{"name":"Søren Testesen","address":"Fiktivvej 12, 2. tv, 2100 København Ø"}}`
	tests := []struct {
		name      string
		transport *http.Transport
		url       string
		token     string
		status    int // 0: the request fails
		proto     string
	}{
		{"HTTP/1.1 over TLS", &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, NextProtos: []string{"http/1.1"}}}, "https://" + haddr, "screen-tok", 200, "HTTP/1.1"},
		{"HTTP/2 over TLS", &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}, "https://" + haddr, "screen-tok", 200, "HTTP/2.0"},
		{"TLS without token", &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, "https://" + haddr, "", 401, ""},
		{"plaintext", &http.Transport{}, "http://" + haddr, "screen-tok", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := &http.Client{Transport: tt.transport, Timeout: 10 * time.Second}
			defer tt.transport.CloseIdleConnections()
			req, _ := http.NewRequest("POST", tt.url+"/v1/contacts:screen", strings.NewReader(body))
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("request failed: %v", err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("HTTP %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			if tt.proto != "" && resp.Proto != tt.proto {
				t.Errorf("protocol %s, want %s", resp.Proto, tt.proto)
			}
			if tt.status == 200 && !bytes.Contains(b, []byte("DECISION_BLOCK")) {
				t.Errorf("not blocked: %s", b)
			}
		})
	}
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	for _, a := range []string{addr, haddr} {
		l, err := net.Listen("tcp", a)
		if err != nil {
			t.Errorf("port %s not released after Close: %v", a, err)
		} else {
			l.Close()
		}
	}
}

// TestHTTPListenExposure: --http-listen follows the exposure rules of
// --listen, naming its flag.
func TestHTTPListenExposure(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in the error; empty: accepted
	}{
		{"loopback", []string{"--http-listen", "127.0.0.1:8080"}, ""},
		{"plaintext on every interface", []string{"--http-listen", ":8080", "--token-file", "t"}, "--http-listen: refusing to serve plaintext on :8080"},
		{"open on every interface", []string{"--http-listen", "0.0.0.0:8080", "--tls-cert", "c", "--tls-key", "k"}, "--http-listen: refusing to serve 0.0.0.0:8080"},
		{"insecure", []string{"--http-listen", ":8080", "--insecure"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMain(io.Discard)
			err := m.ParseFlags(tt.args)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// TestMainHTTPListenBusy: a taken --http-listen port fails Open naming the
// flag, and Close releases everything (the gRPC port, the data directory,
// the gateway's goroutines).
func TestMainHTTPListenBusy(t *testing.T) {
	verifyNoLeaks(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	m := NewMain(io.Discard)
	if err := m.ParseFlags([]string{"--data", filepath.Join(t.TempDir(), "data"), "--key-file", filepath.Join(t.TempDir(), "k"),
		"--listen", "127.0.0.1:0", "--http-listen", busy.Addr().String()}); err != nil {
		t.Fatal(err)
	}
	err = m.Open()
	if want := "--http-listen " + busy.Addr().String() + ": cannot listen"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v, want it to start with %q", err, want)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}
