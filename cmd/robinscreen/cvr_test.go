package main

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/internal/cvrfmt"
	"github.com/robinscreen/robinscreen/internal/demo"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// TestCVRLoad loads CVR data offline and online, refuses a CSV without a
// date and a damaged file, screens business contacts through the served
// binary (Contact.p_number, REASON_INVALID_CVR, the CVR version in the
// result, STALE_DATA after 31 days), and rolls back.
func TestCVRLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	src, data := t.TempDir(), t.TempDir()+"/data"
	today := time.Now().UTC().Truncate(24 * time.Hour)
	write := func(name string, b []byte) string { return writeSource(t, src, name, b) }
	rob, _, err := demo.Files(today)
	if err != nil {
		t.Fatal(err)
	}
	cvrJSON := demo.CVRFile(today)

	// Offline, with the list.
	code, out, errOut := runCLI(t, "load", "--data", data, "--robinson", write("robinson.txt", rob), "--cvr", write("cvr.jsonl", cvrJSON))
	if code != 0 || !regexp.MustCompile(`cvr: loaded version \S+: 3 companies, 3 production units, 2 with advertising protection, 0 rejected, extracted `+today.Format(time.DateOnly)).MatchString(out) {
		t.Fatalf("load: exit %d\n%s\n%s", code, out, errOut)
	}
	before := servingVersions(t, data)
	if !strings.Contains(before, "cvr=") {
		t.Fatalf("serving versions %s lack cvr", before)
	}

	// A CSV carries no date: without --extracted it is refused.
	csvFile := write("cvr.csv", cvrfmt.CSVFile(demo.Companies, demo.Units))
	code, _, errOut = runCLI(t, "load", "--data", data, "--cvr", csvFile)
	if code == 0 || !strings.Contains(errOut, "--extracted") || !strings.Contains(errOut, "previous dataset is unchanged") {
		t.Errorf("CSV without --extracted: exit %d\n%s", code, errOut)
	}
	// A damaged file is refused and names its lines, not its content.
	bad := append(append([]byte(nil), cvrJSON...), []byte(`{"Vrvirksomhed":{"cvrNummer":"Hemmelig","reklamebeskyttet":true}}`+"\n{\n")...)
	code, _, errOut = runCLI(t, "load", "--data", data, "--cvr", write("bad.jsonl", bad))
	for _, want := range []string{"bad.jsonl", "line 7:", "line 8:", "previous dataset is unchanged"} {
		if code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("damaged file: exit %d, stderr lacks %q:\n%s", code, want, errOut)
		}
	}
	if strings.Contains(errOut, "Hemmelig") {
		t.Errorf("stderr quotes the file:\n%s", errOut)
	}
	if after := servingVersions(t, data); after != before {
		t.Errorf("a refused file changed the serving versions: %s -> %s", before, after)
	}

	// Online: screening business contacts.
	p := startServer(t, data)
	addr := p.conn.Target()
	screen := func(c *pb.Contact) *pb.ScreeningResult {
		t.Helper()
		resp, err := p.screen.ScreenContact(context.Background(), &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_PHONE, Purpose: pb.Purpose_PURPOSE_OTHER, Contact: c})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetResult()
	}
	tests := []struct {
		name   string
		c      *pb.Contact
		want   pb.Decision
		reason pb.Reason // REASON_UNSPECIFIED: none
	}{
		{name: "protected company", c: &pb.Contact{Cvr: "10000009"}, want: pb.Decision_DECISION_BLOCK, reason: pb.Reason_REASON_CVR_ADVERTISING_PROTECTION},
		{name: "protected P-unit of an unprotected company", c: &pb.Contact{Cvr: "20000007", PNumber: "1000000001"}, want: pb.Decision_DECISION_BLOCK, reason: pb.Reason_REASON_CVR_ADVERTISING_PROTECTION},
		{name: "unprotected", c: &pb.Contact{Cvr: "20000007", PNumber: "1000000002"}, want: pb.Decision_DECISION_ALLOW},
		{name: "unknown", c: &pb.Contact{Cvr: "40000003"}, want: pb.Decision_DECISION_REVIEW, reason: pb.Reason_REASON_UNVERIFIABLE},
		{name: "invalid number", c: &pb.Contact{Cvr: "20000008"}, want: pb.Decision_DECISION_REVIEW, reason: pb.Reason_REASON_INVALID_CVR},
	}
	for _, tt := range tests {
		r := screen(tt.c)
		var reasons []pb.Reason
		if tt.reason != pb.Reason_REASON_UNSPECIFIED {
			reasons = []pb.Reason{tt.reason}
		}
		if r.GetDecision() != tt.want || !slices.Equal(r.GetReasons(), reasons) {
			t.Errorf("%s: %v %v, want %v %v", tt.name, r.GetDecision(), r.GetReasons(), tt.want, reasons)
		}
		listed := slices.ContainsFunc(r.GetDatasets(), func(d *pb.DatasetRef) bool { return d.GetKind() == "cvr" && d.GetVersion() != "" })
		if listed != (tt.reason != pb.Reason_REASON_INVALID_CVR) {
			t.Errorf("%s: datasets %v", tt.name, r.GetDatasets())
		}
	}

	// admin load of the CSV, extracted 40 days ago: stale.
	code, out, errOut = runCLI(t, "admin", "load", "--addr", addr, "--cvr", csvFile, "--extracted", today.AddDate(0, 0, -40).Format(time.DateOnly))
	if code != 0 || !strings.Contains(out, "cvr: now serving version") || !strings.Contains(out, "6 records") {
		t.Fatalf("admin load --cvr: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "admin", "status", "--addr", addr)
	if code != 0 || !regexp.MustCompile(`(?m)^cvr\s+\S+\s+\S+\s+40d\s+true\s+6\b`).MatchString(out) {
		t.Errorf("admin status does not show stale CVR data of 6 records:\n%s", out)
	}
	resp, err := p.admin.GetDatasetStatus(context.Background(), &pb.GetDatasetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var st *pb.DatasetStatus
	for _, d := range resp.GetDatasets() {
		if d.GetKind() == pb.DatasetKind_DATASET_KIND_CVR {
			st = d
		}
	}
	if v := st.GetServing(); v.GetCompanies() != 3 || v.GetProductionUnits() != 3 || v.GetAdvertisingProtected() != 2 || !v.GetStale() ||
		v.GetMaxAge().AsDuration() != 31*24*time.Hour {
		t.Errorf("cvr status %v", st)
	}
	if r := screen(&pb.Contact{Cvr: "20000007"}); r.GetDecision() != pb.Decision_DECISION_REVIEW || !slices.Equal(r.GetReasons(), []pb.Reason{pb.Reason_REASON_STALE_DATA}) {
		t.Errorf("with stale CVR data: %v %v, want REVIEW STALE_DATA", r.GetDecision(), r.GetReasons())
	}
	if r := screen(&pb.Contact{Cvr: "10000009"}); r.GetDecision() != pb.Decision_DECISION_BLOCK {
		t.Errorf("with stale CVR data a protected company is %v", r.GetDecision())
	}

	// Versions and rollback to the fresh JSON version.
	code, out, _ = runCLI(t, "admin", "versions", "--addr", addr, "--kind", "cvr")
	if code != 0 || strings.Count(out, "\n") != 3 {
		t.Errorf("admin versions --kind cvr: want two versions:\n%s", out)
	}
	if code, out, errOut = runCLI(t, "admin", "rollback", "--addr", addr, "--kind", "cvr"); code != 0 || !strings.Contains(out, "cvr: rolled back") {
		t.Fatalf("rollback: %s %s", out, errOut)
	}
	if r := screen(&pb.Contact{Cvr: "20000007"}); r.GetDecision() != pb.Decision_DECISION_ALLOW {
		t.Errorf("after rollback: %v %v, want ALLOW", r.GetDecision(), r.GetReasons())
	}
}
