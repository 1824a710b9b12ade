package server

import (
	"io"
	"os"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// TestSuppressionService drives SuppressionService over a real listener
// with tokens and the audit log: roles, adds and imports that only add,
// screening that applies the list, an audited removal and an export
// without values.
func TestSuppressionService(t *testing.T) {
	e, _ := newSecureEnv(t, secureOpts{tokens: true, auditLog: true, suppress: true})
	conn := e.dial(t, false, nil)
	sup := pb.NewSuppressionServiceClient(conn)
	screen := pb.NewScreeningServiceClient(conn)

	// Roles: the screen role may only check.
	denied := []struct {
		name string
		call func() error
	}{
		{"add", func() error {
			_, err := sup.AddSuppressions(withToken(screenToken), &pb.AddSuppressionsRequest{Entries: []*pb.SuppressionInput{{Phone: "12345678"}}})
			return err
		}},
		{"remove", func() error {
			_, err := sup.RemoveSuppression(withToken(screenToken), &pb.RemoveSuppressionRequest{Phone: "12345678", Why: "x"})
			return err
		}},
		{"export", func() error {
			st, err := sup.ExportSuppressions(withToken(screenToken), &pb.ExportSuppressionsRequest{})
			if err == nil {
				_, err = st.Recv()
			}
			return err
		}},
		{"import", func() error {
			st, err := sup.ImportSuppressions(withToken(screenToken))
			if err == nil {
				_, err = st.CloseAndRecv()
			}
			return err
		}},
	}
	for _, tc := range denied {
		t.Run("screen role may not "+tc.name, func(t *testing.T) {
			errorInfo(t, tc.call(), codes.PermissionDenied, ReasonPermissionDenied)
		})
	}

	add, err := sup.AddSuppressions(withToken(adminToken), &pb.AddSuppressionsRequest{Entries: []*pb.SuppressionInput{
		{Phone: "12345678", Reason: pb.SuppressionReason_SUPPRESSION_REASON_COMPLAINT, Source: "agent 7"},
		{Email: "Stop@Example.dk"},
		{Phone: "98 76 54 3"},                // unreadable
		{Phone: "11111111", Email: "a@b.dk"}, // two values
	}})
	if err != nil {
		t.Fatal(err)
	}
	if add.GetAdded() != 2 || len(add.GetRejected()) != 2 || add.GetRejected()[0].GetIndex() != 2 || add.GetRejected()[1].GetIndex() != 3 {
		t.Fatalf("add: %v", add)
	}
	if strings.Contains(add.String(), "9876543") {
		t.Fatal("a reject repeats the value")
	}

	// Import: the same phone again with a weaker reason is present, not
	// changed; new values are added across chunks.
	st, err := sup.ImportSuppressions(withToken(adminToken))
	if err != nil {
		t.Fatal(err)
	}
	st.Send(&pb.ImportSuppressionsRequest{SourceName: "/tmp/optouts.csv", Entries: []*pb.SuppressionInput{{Phone: "+45 12 34 56 78", Reason: pb.SuppressionReason_SUPPRESSION_REASON_OTHER}, {Cvr: "DK87654321"}}})
	st.Send(&pb.ImportSuppressionsRequest{Entries: []*pb.SuppressionInput{{Cpr: "010190-1234"}, {Cpr: "320190-1234"}}})
	imp, err := st.CloseAndRecv()
	if err != nil {
		t.Fatal(err)
	}
	if imp.GetAdded() != 2 || imp.GetAlreadyPresent() != 1 || imp.GetRejectedCount() != 1 || imp.GetRejected()[0].GetIndex() != 3 {
		t.Fatalf("import: %v", imp)
	}

	// Check, with the screen role.
	chk, err := sup.CheckSuppressions(withToken(screenToken), &pb.CheckSuppressionsRequest{Values: []*pb.SuppressionInput{{Phone: "0045 1234 5678"}, {Phone: "12345679"}, {Email: "x"}}})
	if err != nil {
		t.Fatal(err)
	}
	r := chk.GetResults()
	if !r[0].GetSuppressed() || len(r[0].GetEntries()) != 1 || r[0].GetEntries()[0].GetReason() != pb.SuppressionReason_SUPPRESSION_REASON_COMPLAINT || r[1].GetSuppressed() || r[2].GetError() == "" {
		t.Fatalf("check: %v", chk)
	}

	// Screening applies the list on every channel, over consent.
	for _, ch := range []pb.Channel{pb.Channel_CHANNEL_PHONE, pb.Channel_CHANNEL_EMAIL, pb.Channel_CHANNEL_SMS, pb.Channel_CHANNEL_POST} {
		res, err := screen.ScreenContact(withToken(screenToken), &pb.ScreenContactRequest{Channel: ch, Contact: &pb.Contact{Ref: "r", Phone: "+45 12 34 56 78", Consent: true}})
		if err != nil {
			t.Fatal(err)
		}
		if res.GetResult().GetDecision() != pb.Decision_DECISION_BLOCK || res.GetResult().GetReasons()[0] != pb.Reason_REASON_OPTED_OUT {
			t.Fatalf("%v: %v", ch, res)
		}
	}

	// Removal: needs a reason, is audited by pseudonym.
	_, err = sup.RemoveSuppression(withToken(adminToken), &pb.RemoveSuppressionRequest{Phone: "12345678"})
	errorInfo(t, err, codes.InvalidArgument, ReasonInvalidRequest)
	rm, err := sup.RemoveSuppression(withToken(adminToken), &pb.RemoveSuppressionRequest{Phone: "12 34 56 78", Why: "entered by mistake, ticket 42"})
	if err != nil || !rm.GetRemoved() || rm.GetEntry().GetPseudonym() == "" {
		t.Fatalf("remove: %v %v", rm, err)
	}
	res, err := screen.ScreenContact(withToken(screenToken), &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_PHONE, Contact: &pb.Contact{Ref: "r", Phone: "12345678", Consent: true}})
	if err != nil || res.GetResult().GetDecision() != pb.Decision_DECISION_ALLOW {
		t.Fatalf("after removal: %v %v", res, err)
	}
	audit, err := os.ReadFile(e.audit)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(audit), `"action":"suppression_remove"`) || !strings.Contains(string(audit), rm.GetEntry().GetPseudonym()) || !strings.Contains(string(audit), `"client":"ops"`) {
		t.Fatalf("removal not audited:\n%s", audit)
	}
	for _, v := range []string{"12345678", "stop@example.dk", "0101901234", "87654321"} {
		if strings.Contains(strings.ToLower(string(audit)), v) || strings.Contains(e.logs.String(), v) {
			t.Fatalf("value %s in the audit log or the log", v)
		}
	}

	// Export: pseudonyms only.
	ex, err := sup.ExportSuppressions(withToken(adminToken), &pb.ExportSuppressionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for {
		m, err := ex.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range m.GetEntries() {
			n++
			if len(en.GetPseudonym()) != 64 || strings.Contains(en.String(), "@") || strings.Contains(en.String(), "87654321") {
				t.Fatalf("export entry %v", en)
			}
		}
	}
	if n != 3 {
		t.Fatalf("export: %d entries, want 3", n)
	}
}
