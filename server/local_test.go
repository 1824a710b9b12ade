package server

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// dialLocal connects to e's LocalListener as the HTTP gateway does:
// without TLS, whatever the server's credentials.
func (e *secureEnv) dialLocal(t *testing.T) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///local", grpc.WithContextDialer(e.local.DialContext),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// forwarded returns a context naming the HTTP client as the gateway does,
// with token as bearer token when not empty.
func forwarded(client, token string) context.Context {
	ctx := withToken(token)
	if client == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, ForwardedClientKey, client)
}

// auditClients returns the client of every screen and denied event of the
// audit log at path.
func auditClients(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var rec AuditRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, rec.Event+" "+rec.ClientSource+":"+rec.Client)
	}
	return out
}

// TestLocalListenerUnderTLS: the gateway's in-memory connection needs no
// TLS on a TLS-only server, while a network connection still does.
func TestLocalListenerUnderTLS(t *testing.T) {
	e, _ := newSecureEnv(t, secureOpts{tls: true})
	if err := callScreen(forwarded("peer:192.0.2.1", ""), e.dialLocal(t)); err != nil {
		t.Fatalf("local connection: %v", err)
	}
	if err := callScreen(withToken(""), e.dial(t, true, nil)); err != nil {
		t.Fatalf("TLS connection: %v", err)
	}
	errorInfo(t, callScreen(withToken(""), e.dial(t, false, nil)), codes.Unavailable, ReasonTLSRequired)
}

// TestForwardedIdentity: a call of the gateway is audited and rate-limited
// under the HTTP client it names; the same metadata from a network client is
// ignored, so no gRPC client can pick its identity.
func TestForwardedIdentity(t *testing.T) {
	e, _ := newSecureEnv(t, secureOpts{auditLog: true, rate: RateLimit{PerSecond: 0.001, Burst: 1}})
	local, network := e.dialLocal(t), e.dial(t, false, nil)
	steps := []struct {
		name   string
		conn   *grpc.ClientConn
		client string // forwarded
		code   codes.Code
		audit  string
	}{
		{"first HTTP client", local, "peer:192.0.2.1", codes.OK, "screen peer:192.0.2.1"},
		{"first HTTP client over its limit", local, "peer:192.0.2.1", codes.ResourceExhausted, "denied peer:192.0.2.1"},
		{"second HTTP client has its own bucket", local, "peer:192.0.2.2", codes.OK, "screen peer:192.0.2.2"},
		{"certificate name", local, "cert:crm.example", codes.OK, "screen cert:crm.example"},
		{"nothing forwarded", local, "", codes.OK, "screen peer:gateway"},
		{"malformed", local, "someone", codes.ResourceExhausted, "denied peer:gateway"},
		{"network client cannot forward", network, "peer:192.0.2.3", codes.OK, "screen peer:127.0.0.1"},
		{"network client is limited as itself", network, "peer:192.0.2.4", codes.ResourceExhausted, "denied peer:127.0.0.1"},
	}
	var want []string
	for _, s := range steps {
		err := callScreen(forwarded(s.client, ""), s.conn)
		if s.code == codes.OK {
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		} else {
			errorInfo(t, err, s.code, ReasonRateLimited)
		}
		want = append(want, s.audit)
		waitAudit(t, e.audit, `"client":"`+s.audit[strings.Index(s.audit, ":")+1:]+`"`)
	}
	if got := auditClients(t, e.audit); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit clients:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
