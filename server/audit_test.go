package server

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/robinscreen/robinscreen/internal/demo"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// waitAudit waits until the audit log at path contains want.
func waitAudit(t *testing.T, path, want string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), want) {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("audit log lacks %s:\n%s", want, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAuditAndLogsHoldNoPersonalData screens contacts full of personal
// data through an authenticated server with an audit log — accepted,
// invalid, refused and batch calls, plus a dataset event — and checks that
// every audit line is a JSON object with the documented fields and that
// neither the audit log nor the application log holds any of the personal
// data (or a token).
func TestAuditAndLogsHoldNoPersonalData(t *testing.T) {
	e, _ := newSecureEnv(t, secureOpts{tls: true, tokens: true, auditLog: true, metrics: true})
	conn := e.dial(t, true, nil)
	client := pb.NewScreeningServiceClient(conn)
	contacts := []*pb.Contact{
		listed,
		{Ref: "bodil@example.test", Name: "Bodil Kjærsgaard", Address: "Hemmeligvej 77, 3. th, 9000 Aalborg", PostalCode: "9000",
			Cpr: "1503821234", Phone: "+4512345678", Email: "bodil@example.test"},
		{Ref: "0101801230", Cpr: demo.DemoProtected, Email: "anon@example.test", Phone: "87654321"},
		{Ref: "p3", Name: "Jens Deceased-Olsen", Cpr: demo.DemoDeceased, Consent: true},
		{Ref: "p4", Name: "Karen Uopført", Address: "Ikkelistet Vej 3, 8000 Aarhus C", Cpr: "31-02-90-1234"},
	}
	ctx := withToken(screenToken)
	for _, c := range contacts {
		if _, err := client.ScreenContact(ctx, &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_PHONE, Purpose: pb.Purpose_PURPOSE_INSURANCE, Contact: c}); err != nil {
			t.Fatal(err)
		}
		client.ScreenContact(ctx, &pb.ScreenContactRequest{Contact: c})                                                            // invalid: no channel
		client.ScreenContact(withToken("wr0ng-t0ken-xyz"), &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_POST, Contact: c}) // refused
	}
	if err := callScreenStream(withToken(""), conn); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("batch without token: %v", err)
	}
	s, err := client.ScreenContacts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Send(&pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_EMAIL, Contacts: contacts})
	s.Send(&pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_SMS, Contacts: contacts[:2]})
	s.CloseSend()
	for range 2 {
		if _, err := s.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	callDataset(withToken(screenToken), conn) // permission denied
	// A dataset event as DatasetService reports it, with the admin's identity.
	al, err := OpenAuditLog(e.audit, nil) // a second writer appends safely
	if err != nil {
		t.Fatal(err)
	}
	adminCtx := WithIdentity(context.Background(), Identity{Name: "ops", Source: "token", Role: RoleAdmin})
	al.Dataset(adminCtx, DatasetEvent{Action: ActionLoad, Kind: "robinson", Version: "v2", PreviousVersion: "v1",
		SourceName: "/srv/in/Robinsonlisten-2026-10.txt", SourceSHA256: strings.Repeat("ab", 32), Records: 12, Rejected: 1, Seconds: 0.5})
	al.Dataset(adminCtx, DatasetEvent{Action: ActionRollback, Kind: "cpr", Version: "v1", PreviousVersion: "v2"})
	al.Close()

	audit := waitAudit(t, e.audit, `"method":"/robinscreen.v1.ScreeningService/ScreenContacts","contacts":2`)
	events := map[string]int{}
	var sawDecisions, sawDatasets, sawHash bool
	for i, line := range strings.Split(strings.TrimSpace(audit), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("audit line %d is not JSON: %v\n%s", i+1, err, line)
		}
		for _, f := range []string{"time", "event", "client", "client_source"} {
			if rec[f] == nil || rec[f] == "" {
				t.Errorf("audit line %d lacks %q: %s", i+1, f, line)
			}
		}
		if _, err := time.Parse(time.RFC3339Nano, rec["time"].(string)); err != nil {
			t.Errorf("audit line %d: time %v", i+1, rec["time"])
		}
		ev := rec["event"].(string)
		events[ev]++
		switch ev {
		case "screen":
			if rec["client"] != "crm-batch" || rec["role"] != "screen" || rec["method"] == nil || rec["contacts"] == nil {
				t.Errorf("screen record: %s", line)
			}
			if d, ok := rec["decisions"].(map[string]any); ok && d["BLOCK"] != nil {
				sawDecisions = true
			}
			if ds, ok := rec["datasets"].([]any); ok && len(ds) > 0 && strings.Contains(line, `"kind":"robinson","version":"`) {
				sawDatasets = true
			}
		case "denied":
			if rec["code"] == nil || rec["reason"] == nil || rec["method"] == nil {
				t.Errorf("denied record: %s", line)
			}
		case "dataset":
			if rec["action"] == nil || rec["kind"] == nil || rec["client"] != "ops" {
				t.Errorf("dataset record: %s", line)
			}
			if rec["source_sha256"] == strings.Repeat("ab", 32) && rec["source_name"] == "Robinsonlisten-2026-10.txt" {
				sawHash = true
			}
		default:
			t.Errorf("unknown event %q", ev)
		}
	}
	// 5 unary + 2 stream messages; 5 wrong tokens + 1 batch without token + 1 permission denied.
	if events["screen"] != 7 || events["denied"] != 7 || events["dataset"] != 2 {
		t.Errorf("events = %v", events)
	}
	if !sawDecisions || !sawDatasets || !sawHash {
		t.Errorf("decisions %v, dataset versions %v, file hash %v", sawDecisions, sawDatasets, sawHash)
	}
	if !strings.Contains(audit, `"decisions":{"ALLOW":`) || !strings.Contains(audit, `"DECEASED":`) {
		t.Errorf("decision/reason counts missing:\n%s", audit)
	}

	logs := e.logs.String()
	if !strings.Contains(logs, "ScreenContact") {
		t.Fatalf("expected rpc log lines, got %q", logs)
	}
	secrets := []string{screenToken, adminToken, "wr0ng-t0ken-xyz", "Testesen", "Kjærsgaard", "Hemmeligvej", "Fiktivvej", "Ikkelistet", "Uopført", "Deceased-Olsen", "example.test"}
	for _, c := range contacts {
		secrets = append(secrets, c.Name, c.Address, c.Cpr, c.Phone, c.Email, c.Ref)
		if len(c.Cpr) == 10 {
			secrets = append(secrets, c.Cpr[:6]+"-"+c.Cpr[6:])
		}
	}
	for _, v := range secrets {
		if v == "" || v == "listed" || v == "p3" || v == "p4" {
			continue // non-personal refs that might occur as substrings
		}
		if strings.Contains(audit, v) {
			t.Errorf("audit log contains %q", v)
		}
		if strings.Contains(logs, v) {
			t.Errorf("application log contains %q", v)
		}
	}
}

func TestAuditLogConcurrentAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	os.WriteFile(path, []byte(`{"event":"earlier"}`+"\n"), 0o600)
	a, err := OpenAuditLog(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := []*pb.ScreeningResult{{Decision: pb.Decision_DECISION_REVIEW, Reasons: []pb.Reason{pb.Reason_REASON_UNVERIFIABLE}}}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			ctx := WithIdentity(context.Background(), Identity{Name: "c" + string(rune('0'+i)), Source: "token", Role: RoleScreen})
			for range 50 {
				a.Screened(ctx, "/m", res)
				a.Denied(ctx, "/m", codes.Unauthenticated, ReasonUnauthenticated.WireName())
			}
		})
	}
	wg.Wait()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a.Screened(context.Background(), "/m", res) // after Close: dropped, no panic
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v", fi.Mode())
	}
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 1+8*50*2 || lines[0] != `{"event":"earlier"}` {
		t.Fatalf("%d lines, first %q", len(lines), lines[0])
	}
	for _, l := range lines[1:] {
		var r AuditRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.Client == "" {
			t.Fatalf("bad line %q: %v", l, err)
		}
	}
}
