package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/internal/demo"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/server"
	"github.com/robinscreen/robinscreen/store"
)

// startServer serves the demo dataset on a loopback port and returns its
// address.
func startServer(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "data"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.Load(context.Background(), st, time.Now().UTC().Truncate(24*time.Hour), false); err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{Data: st, Engine: &screening.Engine{}})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.GRPC.Serve(lis)
	t.Cleanup(func() {
		srv.GRPC.Stop()
		st.Close()
	})
	return lis.Addr().String()
}

const testContacts = `ref;name;address;postal_code;cpr;expected_listed
c-1;Søren Testesen;Fiktivvej 12, 2. tv, 2100 København Ø;;;true
c-2;Mette Eksempel-Hansen;Dronning Louises Vej 15, 1. th;2200;;true
c-3;Anders Andersen;Fiktivvej 14;2100;;false
c-4;Hanne Hansen;Prøvegade 1, st.;8000;0303901232;false
`

func writeContacts(t *testing.T, copies int) string {
	t.Helper()
	var b strings.Builder
	lines := strings.SplitAfter(strings.TrimSpace(testContacts)+"\n", "\n")
	b.WriteString(lines[0])
	for i := 0; i < copies; i++ {
		for _, l := range lines[1:] {
			b.WriteString(l)
		}
	}
	p := filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func readReport(t *testing.T, path string) *Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report is not valid JSON: %v\n%s", err, b)
	}
	if r.Tool != "loadtest" || r.Host.CPUs <= 0 || r.Host.GoVersion == "" {
		t.Fatalf("report header incomplete: %+v", r)
	}
	return &r
}

func TestParseContacts(t *testing.T) {
	set, err := parseContacts(strings.NewReader(testContacts), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Contacts) != 4 || set.Listed != 2 || set.Contacts[3].Cpr != "0303901232" {
		t.Fatalf("got %d contacts, %d listed, %+v", len(set.Contacts), set.Listed, set.Contacts[3])
	}
	set, _ = parseContacts(strings.NewReader(testContacts), true)
	if set.Contacts[3].Cpr != "" {
		t.Fatal("--no-cpr kept the personal number")
	}
	if _, err := parseContacts(strings.NewReader("a;b\n"), false); err == nil {
		t.Fatal("header without ref/name/address accepted")
	}
}

func TestUnary(t *testing.T) {
	addr := startServer(t)
	contacts := writeContacts(t, 1)
	dur := "1s"
	if testing.Short() {
		dur = "300ms"
	}
	out := filepath.Join(t.TempDir(), "unary.json")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"unary", "--addr", addr, "--contacts", contacts, "--rate", "200",
		"--duration", dur, "--warmup", "100ms", "--connections", "2", "--json", out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	r := readReport(t, out)
	if len(r.Unary) != 1 {
		t.Fatalf("%d unary results", len(r.Unary))
	}
	u := r.Unary[0]
	want := int64(u.Seconds * 200)
	if u.Scheduled != want || u.OK != want || u.Errors != 0 || u.Latency.Count != want {
		t.Fatalf("scheduled %d, ok %d, errors %d, recorded %d; want %d ok and no errors", u.Scheduled, u.OK, u.Errors, u.Latency.Count, want)
	}
	if u.Latency.P50 <= 0 || u.Latency.P50 > u.Latency.P99 || u.Latency.P99 > u.Latency.Max {
		t.Fatalf("latencies out of order: %+v", u.Latency)
	}
	if u.Decisions["DECISION_BLOCK"] == 0 || u.Decisions["DECISION_ALLOW"] == 0 {
		t.Fatalf("decisions %v: want both BLOCK and ALLOW", u.Decisions)
	}
	if !strings.Contains(stdout.String(), "p99.9 ms") {
		t.Fatalf("no table on stdout:\n%s", stdout.String())
	}
}

// TestUnaryHealth: --health calls the health service on the same
// schedule; every call succeeds and no screening decision is counted.
func TestUnaryHealth(t *testing.T) {
	addr := startServer(t)
	contacts := writeContacts(t, 1)
	out := filepath.Join(t.TempDir(), "health.json")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"unary", "--health", "--addr", addr, "--contacts", contacts, "--rate", "200",
		"--duration", "300ms", "--warmup", "0s", "--connections", "2", "--json", out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	u := readReport(t, out).Unary[0]
	if want := int64(u.Seconds * 200); u.OK != want || u.Errors != 0 {
		t.Fatalf("ok %d, errors %d; want %d ok", u.OK, u.Errors, want)
	}
	if len(u.Decisions) != 0 {
		t.Fatalf("health calls counted decisions %v", u.Decisions)
	}
}

func TestBatch(t *testing.T) {
	addr := startServer(t)
	copies := 2500 // 10,000 contacts
	if testing.Short() {
		copies = 250
	}
	contacts := writeContacts(t, copies)
	for _, decode := range []string{"light", "full"} {
		out := filepath.Join(t.TempDir(), "batch.json")
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), []string{"batch", "--addr", addr, "--contacts", contacts, "--chunk", "300",
			"--streams", "3", "--window", "2", "--decode", decode, "--json", out}, &stdout, &stderr)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		b := readReport(t, out).Batch
		n := int64(4 * copies)
		if b == nil || b.Results != n || b.Errors != 0 || b.ContactsPerSec <= 0 {
			t.Fatalf("decode %s: batch result %+v, want %d results and no errors", decode, b, n)
		}
		// Two listed demo people per copy are BLOCKed; the others are
		// ALLOWed or sent to REVIEW, but every result has a decision.
		if got := b.Decisions["DECISION_BLOCK"]; got != 2*int64(copies) {
			t.Fatalf("decode %s: %d BLOCK, want %d (decisions %v)", decode, got, 2*copies, b.Decisions)
		}
		if b.Decisions["DECISION_UNSPECIFIED"] != 0 {
			t.Fatalf("decode %s: results without a decision: %v", decode, b.Decisions)
		}
		if !strings.Contains(stdout.String(), "contacts/s") {
			t.Fatalf("no table on stdout:\n%s", stdout.String())
		}
	}
}

func TestSweepPlot(t *testing.T) {
	if testing.Short() {
		t.Skip("sweep skipped under -short")
	}
	addr := startServer(t)
	contacts := writeContacts(t, 1)
	dir := t.TempDir()
	png, js := filepath.Join(dir, "sweep.png"), filepath.Join(dir, "sweep.json")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"sweep", "--addr", addr, "--contacts", contacts, "--rates", "100,300",
		"--duration", "300ms", "--warmup", "0s", "--pause", "0s", "--png", png, "--json", js}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if r := readReport(t, js); len(r.Unary) != 2 || r.Unary[0].Rate != 100 || r.Unary[1].Rate != 300 {
		t.Fatalf("sweep results %+v", r.Unary)
	}
	b, err := os.ReadFile(png)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("no PNG written: %v", err)
	}
}

func TestLightDecode(t *testing.T) {
	// A hand-built ScreenContactsResponse: results with decision BLOCK
	// (after a ref), REVIEW, and none.
	var d decisionCounts
	if err := d.scan([]byte{0x0a, 0x05, 0x0a, 0x01, 'a', 0x10, 0x02, 0x0a, 0x02, 0x10, 0x03, 0x0a, 0x00}); err != nil {
		t.Fatal(err)
	}
	if d.results != 3 || d.byDec[2] != 1 || d.byDec[3] != 1 || d.byDec[0] != 1 {
		t.Fatalf("scan: %+v", d)
	}
	if err := d.scan([]byte{0x0a, 0x09, 0x0a}); err == nil {
		t.Fatal("truncated message accepted")
	}
}
