package main

// Acceptance test written from the normative documents (screening-rules.md,
// data-formats.md, api.md), not from the implementation. It builds the
// binary, loads testdata/acceptance/{robinson.txt,cpr.txt} with
// "robinscreen load", starts "robinscreen serve" and screens every contact of
// testdata/acceptance/contacts.csv through ScreenContacts.
//
// contacts.csv columns: ref;channel;purpose;name;address;postal_code;cpr;cvr;
// phone;email;consent;existing_customer;opted_out;expected_decision;
// expected_reasons;note. expected_reasons is a '|'-separated list of REASON_*
// names; a name prefixed with '?' is optional (the rules leave open whether it
// is listed, see AMBIGUOUS.md); every other reason must be present and no
// reason outside the list may appear. ROBINSCREEN_ACCEPTANCE_CONTACTS names
// another contacts file in the same format (for probing cases).

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

const acceptanceDir = "../../testdata/acceptance"

type acceptanceCase struct {
	line     int
	channel  pb.Channel
	purpose  pb.Purpose
	contact  *pb.Contact
	decision pb.Decision
	required map[pb.Reason]bool
	optional map[pb.Reason]bool
	note     string
}

func TestAcceptance(t *testing.T) {
	if testing.Short() {
		t.Skip("acceptance test builds and runs the binary")
	}
	contactsFile := filepath.Join(acceptanceDir, "contacts.csv")
	if f := os.Getenv("ROBINSCREEN_ACCEPTANCE_CONTACTS"); f != "" {
		contactsFile = f // probe other contact files against the same datasets
	}
	cases := readAcceptanceContacts(t, contactsFile)

	tmp := t.TempDir()
	bin := filepath.Join(tmp, "robinscreen")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// The fixtures carry fixed dates; the rules depend on today. A first
	// load checks the dates are read from the files; the screened load
	// keeps the same distances to today whenever the test runs: the list
	// published 30 days ago, the extract produced 2 days ago, and the
	// "future" marketing protection (2027-02-01 in the file) starting in 60
	// days.
	probe := exec.Command(bin, "load", "--data", filepath.Join(tmp, "probe"),
		"--robinson", filepath.Join(acceptanceDir, "robinson.txt"),
		"--cpr", filepath.Join(acceptanceDir, "cpr.txt"))
	if out, err := probe.CombinedOutput(); err != nil || !bytes.Contains(out, []byte("published 2026-10-01")) || !bytes.Contains(out, []byte("produced 2026-11-20")) {
		t.Fatalf("the fixtures' publication and production dates were not read (%v):\n%s", err, out)
	}
	today := time.Now().UTC()
	extract, err := os.ReadFile(filepath.Join(acceptanceDir, "cpr.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(extract, []byte("2027-02-01")) != 1 {
		t.Fatal("the extract's future protection start 2027-02-01 is not where the test expects it")
	}
	extract = bytes.Replace(extract, []byte("2027-02-01"), []byte(today.AddDate(0, 0, 60).Format(time.DateOnly)), 1)
	cprFile := filepath.Join(tmp, "cpr.txt")
	if err := os.WriteFile(cprFile, extract, 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(tmp, "data")
	load := exec.Command(bin, "load", "--data", dataDir,
		"--robinson", filepath.Join(acceptanceDir, "robinson.txt"), "--cpr", cprFile,
		"--published", today.AddDate(0, 0, -30).Format(time.DateOnly),
		"--cpr-produced", today.AddDate(0, 0, -2).Format(time.DateOnly))
	out, err := load.CombinedOutput()
	t.Logf("robinscreen load:\n%s", out)
	if err != nil {
		t.Fatalf("robinscreen load: %v", err)
	}
	if bytes.Contains(out, []byte("  rejected line ")) || !bytes.Contains(out, []byte(" 0 rejected lines")) {
		t.Errorf("load reported rejected lines; every data line of the acceptance files is valid")
	}

	addr := freeAddr(t)
	var serverLog bytes.Buffer
	serve := exec.Command(bin, "serve", "--data", dataDir, "--listen", addr)
	serve.Stdout = &serverLog
	serve.Stderr = &serverLog
	if err := serve.Start(); err != nil {
		t.Fatalf("start serve: %v", err)
	}
	t.Cleanup(func() {
		_ = serve.Process.Kill()
		_ = serve.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", serverLog.String())
		}
	})

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc client: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	waitServing(t, conn)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// Group by (channel, purpose), keeping file order inside each group.
	type key struct {
		ch pb.Channel
		pu pb.Purpose
	}
	var order []key
	groups := map[key][]*acceptanceCase{}
	for _, c := range cases {
		k := key{c.channel, c.purpose}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], c)
	}

	stream, err := pb.NewScreeningServiceClient(conn).ScreenContacts(ctx)
	if err != nil {
		t.Fatalf("ScreenContacts: %v", err)
	}
	for _, k := range order {
		req := &pb.ScreenContactsRequest{Channel: k.ch, Purpose: k.pu}
		for _, c := range groups[k] {
			req.Contacts = append(req.Contacts, c.contact)
		}
		if err := stream.Send(req); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatalf("close send: %v", err)
	}

	var mismatches []string
	checked := 0
	for _, k := range order {
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("recv for %s/%s: %v", k.ch, k.pu, err)
		}
		g := groups[k]
		if len(resp.GetResults()) != len(g) {
			t.Fatalf("%s/%s: %d results for %d contacts", k.ch, k.pu, len(resp.GetResults()), len(g))
		}
		for i, res := range resp.GetResults() {
			c := g[i]
			checked++
			var problems []string
			if res.GetRef() != c.contact.GetRef() {
				problems = append(problems, fmt.Sprintf("ref echoed %q", res.GetRef()))
			}
			if res.GetDecision() != c.decision {
				problems = append(problems, fmt.Sprintf("decision %s, want %s", res.GetDecision(), c.decision))
			}
			got := map[pb.Reason]bool{}
			for _, r := range res.GetReasons() {
				got[r] = true
			}
			var missing, extra []string
			for r := range c.required {
				if !got[r] {
					missing = append(missing, r.String())
				}
			}
			for r := range got {
				if !c.required[r] && !c.optional[r] {
					extra = append(extra, r.String())
				}
			}
			for r := range c.optional {
				if got[r] {
					t.Logf("%s: optional %s reported (%s)", c.contact.GetRef(), r, c.note)
				}
			}
			sort.Strings(missing)
			sort.Strings(extra)
			if len(missing) > 0 || len(extra) > 0 {
				problems = append(problems, fmt.Sprintf("reasons %v: missing %v, unexpected %v", reasonNames(res.GetReasons()), missing, extra))
			}
			if leak := cprLeak(c.contact.GetCpr(), res); leak != "" {
				problems = append(problems, "result echoes the personal number: "+leak)
			}
			if len(problems) > 0 {
				mismatches = append(mismatches, fmt.Sprintf("%s (line %d, %s/%s, %s): %s\n    findings: %s",
					c.contact.GetRef(), c.line, k.ch, k.pu, c.note, strings.Join(problems, "; "), findingSummary(res)))
			}
		}
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Errorf("stream did not end after the last response: %v", err)
	}
	t.Logf("checked %d contacts, %d mismatches", checked, len(mismatches))
	if len(mismatches) > 0 {
		t.Errorf("%d of %d contacts differ from the rules:\n%s", len(mismatches), checked, strings.Join(mismatches, "\n"))
	}
}

func reasonNames(rs []pb.Reason) []string {
	var s []string
	for _, r := range rs {
		s = append(s, r.String())
	}
	return s
}

func findingSummary(res *pb.ScreeningResult) string {
	var parts []string
	for _, f := range res.GetFindings() {
		s := fmt.Sprintf("[%s %s %s %q", f.GetSource(), f.GetReason(), f.GetDecision(), f.GetDetail())
		if m := f.GetRobinson(); m != nil {
			s += fmt.Sprintf(" %s/%s/%s/%s line %d", m.GetAddressKind(), m.GetName(), m.GetStreet(), m.GetUnit(), m.GetListLine())
		}
		parts = append(parts, s+"]")
	}
	return strings.Join(parts, " ")
}

// cprLeak reports whether the serialised result contains the contact's
// personal number (its digits, with or without the hyphen).
func cprLeak(cpr string, res *pb.ScreeningResult) string {
	digits := strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return r
		}
		return -1
	}, cpr)
	if len(digits) < 6 {
		return ""
	}
	text, err := protojson.Marshal(res)
	if err != nil {
		return "marshal: " + err.Error()
	}
	forms := []string{digits}
	if len(digits) == 10 {
		forms = append(forms, digits[:6]+"-"+digits[6:])
	}
	if trimmed := strings.TrimSpace(cpr); trimmed != "" {
		forms = append(forms, trimmed)
	}
	for _, f := range forms {
		if bytes.Contains(text, []byte(f)) {
			return f
		}
	}
	return ""
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func waitServing(t *testing.T, conn *grpc.ClientConn) {
	t.Helper()
	hc := healthpb.NewHealthClient(conn)
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return
		}
		if err == nil {
			last = fmt.Errorf("status %s", resp.GetStatus())
		} else {
			last = err
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("server not SERVING after 30s: %v", last)
}

func readAcceptanceContacts(t *testing.T, path string) []*acceptanceCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = ';'
	r.LazyQuotes = true
	r.FieldsPerRecord = 16
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	want := "ref;channel;purpose;name;address;postal_code;cpr;cvr;phone;email;consent;existing_customer;opted_out;expected_decision;expected_reasons;note"
	if got := strings.Join(recs[0], ";"); got != want {
		t.Fatalf("%s: header %q, want %q", path, got, want)
	}
	var cases []*acceptanceCase
	seen := map[string]bool{}
	for i, rec := range recs[1:] {
		line := i + 2
		c, err := parseAcceptanceCase(rec)
		if err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		if seen[c.contact.GetRef()] {
			t.Fatalf("%s:%d: duplicate ref %s", path, line, c.contact.GetRef())
		}
		seen[c.contact.GetRef()] = true
		c.line = line
		cases = append(cases, c)
	}
	if len(cases) == 0 {
		t.Fatalf("%s: no contacts", path)
	}
	return cases
}

func parseAcceptanceCase(rec []string) (*acceptanceCase, error) {
	field := func(i int) string { return rec[i] }
	boolean := func(i int) (bool, error) {
		switch strings.ToLower(strings.TrimSpace(rec[i])) {
		case "true":
			return true, nil
		case "false", "":
			return false, nil
		}
		return false, fmt.Errorf("column %d: not a boolean: %q", i+1, rec[i])
	}
	c := &acceptanceCase{required: map[pb.Reason]bool{}, optional: map[pb.Reason]bool{}, note: field(15)}
	ch, ok := pb.Channel_value["CHANNEL_"+field(1)]
	if !ok || field(1) == "" {
		return nil, fmt.Errorf("unknown channel %q", field(1))
	}
	c.channel = pb.Channel(ch)
	if p := field(2); p != "" {
		v, ok := pb.Purpose_value["PURPOSE_"+p]
		if !ok {
			return nil, fmt.Errorf("unknown purpose %q", p)
		}
		c.purpose = pb.Purpose(v)
	}
	var bools [3]bool
	for j := range bools {
		b, err := boolean(10 + j)
		if err != nil {
			return nil, err
		}
		bools[j] = b
	}
	c.contact = &pb.Contact{
		Ref: field(0), Name: field(3), Address: field(4), PostalCode: field(5),
		Cpr: field(6), Cvr: field(7), Phone: field(8), Email: field(9),
		Consent: bools[0], ExistingCustomer: bools[1], OptedOut: bools[2],
	}
	d, ok := pb.Decision_value["DECISION_"+field(13)]
	if !ok || field(13) == "" {
		return nil, fmt.Errorf("unknown decision %q", field(13))
	}
	c.decision = pb.Decision(d)
	if rs := field(14); rs != "" {
		for _, name := range strings.Split(rs, "|") {
			opt := strings.HasPrefix(name, "?")
			name = strings.TrimPrefix(name, "?")
			v, ok := pb.Reason_value[name]
			if !ok {
				return nil, fmt.Errorf("unknown reason %q", name)
			}
			if opt {
				c.optional[pb.Reason(v)] = true
			} else {
				c.required[pb.Reason(v)] = true
			}
		}
	}
	if c.decision == pb.Decision_DECISION_ALLOW && len(c.required) > 0 && !c.required[pb.Reason_REASON_CONSENT] {
		return nil, errors.New("an ALLOW other than by consent carries no reasons")
	}
	return c, nil
}
