package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/robinscreen/robinscreen/internal/demo"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// mixLines returns base (whose lines end in "\n") with the lines numbered
// in replace (1-based) taken from other instead.
func mixLines(base, other []byte, replace ...int) []byte {
	b, o := bytes.SplitAfter(base, []byte("\n")), bytes.SplitAfter(other, []byte("\n"))
	for _, n := range replace {
		b[n-1] = o[n-1]
	}
	return bytes.Join(b, nil)
}

// nonASCIILines returns the numbers of the lines of b holding a byte
// outside ASCII.
func nonASCIILines(b []byte) []int {
	var ns []int
	for i, l := range bytes.SplitAfter(b, []byte("\n")) {
		if bytes.ContainsFunc(l, func(r rune) bool { return r >= 0x80 }) {
			ns = append(ns, i+1)
		}
	}
	return ns
}

// TestDamagedEncodingRefused loads lists and an extract that were partly
// re-saved as UTF-8, online into a serving server and offline: each is
// refused naming the lines of each kind and nothing from them, and the
// previous version keeps serving (data-formats.md section 1).
func TestDamagedEncodingRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	src, data := t.TempDir(), filepath.Join(t.TempDir(), "data")
	today := time.Now().UTC().Truncate(24 * time.Hour)
	robLatin1, cpr, err := demo.Files(today)
	if err != nil {
		t.Fatal(err)
	}
	robUTF8, err := charmap.ISO8859_1.NewDecoder().Bytes(robLatin1)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string { return writeSource(t, src, name, b) }
	if code, out, errOut := runCLI(t, "load", "--data", data, "--robinson", write("good.txt", robLatin1), "--cpr", write("cpr.txt", cpr)); code != 0 {
		t.Fatalf("good load: exit %d\n%s\n%s", code, out, errOut)
	}

	// The demo list's lines with letters outside ASCII (the column header
	// among them): re-save one or two of them the other way.
	special := nonASCIILines(robLatin1)
	if len(special) < 4 {
		t.Fatalf("test setup: only lines %v hold Danish letters", special)
	}
	soeren := 0 // the line of the listed person screened below
	for i, l := range bytes.SplitAfter(robLatin1, []byte("\n")) {
		if bytes.HasPrefix(l, []byte("Testesen,")) {
			soeren = i + 1
		}
	}
	without := func(ns []int, drop ...int) []int {
		var out []int
		for _, n := range ns {
			if !containsInt(drop, n) {
				out = append(out, n)
			}
		}
		return out
	}
	last := special[len(special)-1]
	robFiles := []struct {
		name          string
		file          string
		utf8, invalid []int // the lines the refusal must name
	}{
		{"UTF-8 list with one Latin-1 line", write("utf8-one-latin1.txt", mixLines(robUTF8, robLatin1, soeren)),
			without(special, soeren), []int{soeren}},
		{"Latin-1 list with some UTF-8 lines", write("latin1-some-utf8.txt", mixLines(robLatin1, robUTF8, soeren, last)),
			[]int{soeren, last}, without(special, soeren, last)},
	}
	// A CPR extract with a name record (a skipped type) in each encoding.
	cprLines := bytes.SplitAfter(cpr, []byte("\n"))
	nameRec := "002" + demo.DemoActive + "Testesen,Søren\r\n"
	nameLatin1, _ := charmap.ISO8859_1.NewEncoder().String(nameRec)
	mixedCPR := bytes.Join(append([][]byte{cprLines[0], []byte(nameRec), []byte(nameLatin1)}, cprLines[1:]...), nil)
	cprFile := write("cpr-mixed.txt", mixedCPR)

	checkRefusal := func(t *testing.T, out string, file string, utf8, invalid []int) {
		t.Helper()
		if !strings.Contains(out, "damaged encoding") || !strings.Contains(out, filepath.Base(file)) {
			t.Errorf("refusal does not say damaged encoding or name %s:\n%s", filepath.Base(file), out)
		}
		// "N lines hold UTF-8 sequences (lines a, b) and M lines hold
		// bytes that are not valid UTF-8 (lines c)": check each list.
		m := regexp.MustCompile(`UTF-8 sequences \(lines? ([0-9, .]+)\).*not valid UTF-8 \(lines? ([0-9, .]+)\)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("refusal names no lines:\n%s", out)
		}
		if got, want := m[1], joinInts(utf8); got != want {
			t.Errorf("UTF-8 lines named %q, want %q", got, want)
		}
		if got, want := m[2], joinInts(invalid); got != want {
			t.Errorf("invalid lines named %q, want %q", got, want)
		}
		if strings.Contains(out, "Testesen") || strings.Contains(out, "Fiktivvej") || strings.Contains(out, demo.DemoActive) {
			t.Errorf("refusal leaks personal data:\n%s", out)
		}
	}

	p := startServer(t, data)
	addr := p.conn.Target()
	soerenContact := &pb.Contact{Ref: "s", Name: "Søren Testesen", Address: "Fiktivvej 12, 2. tv, 2100 København Ø"}
	screen := func(t *testing.T) (pb.Decision, string) {
		t.Helper()
		resp, err := p.screen.ScreenContact(context.Background(), &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_POST, Contact: soerenContact})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range resp.GetResult().GetDatasets() {
			if d.GetKind() == "robinson" {
				return resp.GetResult().GetDecision(), d.GetVersion()
			}
		}
		t.Fatalf("no robinson dataset in %v", resp.GetResult())
		return 0, ""
	}
	status := func(t *testing.T, kind pb.DatasetKind) *pb.DatasetStatus {
		t.Helper()
		resp, err := p.admin.GetDatasetStatus(context.Background(), &pb.GetDatasetStatusRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range resp.GetDatasets() {
			if d.GetKind() == kind {
				return d
			}
		}
		t.Fatalf("no %v in status", kind)
		return nil
	}
	decision, oldVersion := screen(t)
	if decision != pb.Decision_DECISION_BLOCK {
		t.Fatalf("listed person before the reloads: %v", decision)
	}
	oldCPR := status(t, pb.DatasetKind_DATASET_KIND_CPR).GetServing().GetVersion()

	for _, f := range robFiles {
		t.Run("online/"+f.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "admin", "load", "--addr", addr, "--robinson", f.file)
			if code == 0 {
				t.Fatalf("admin load of a damaged list exited 0:\n%s", out)
			}
			if !strings.Contains(errOut, "FailedPrecondition") {
				t.Errorf("not a refusal:\n%s", errOut)
			}
			checkRefusal(t, errOut, f.file, f.utf8, f.invalid)
			if d, v := screen(t); d != pb.Decision_DECISION_BLOCK || v != oldVersion {
				t.Errorf("after the refusal: %v from version %s, want BLOCK from %s", d, v, oldVersion)
			}
			st := status(t, pb.DatasetKind_DATASET_KIND_ROBINSON)
			if st.GetServing().GetVersion() != oldVersion {
				t.Errorf("serving %s, want %s", st.GetServing().GetVersion(), oldVersion)
			}
			r := st.GetLastRefused()
			if r.GetSourceName() != filepath.Base(f.file) {
				t.Errorf("last refused %q, want %s", r.GetSourceName(), filepath.Base(f.file))
			}
			checkRefusal(t, r.GetError(), f.file, f.utf8, f.invalid)
			code, out, _ = runCLI(t, "admin", "status", "--addr", addr)
			if code != 0 || !strings.Contains(out, "last refused load "+filepath.Base(f.file)) || !strings.Contains(out, "damaged encoding") {
				t.Errorf("admin status does not show the refusal:\n%s", out)
			}
		})
	}
	t.Run("online/CPR extract with mixed encoding", func(t *testing.T) {
		code, _, errOut := runCLI(t, "admin", "load", "--addr", addr, "--cpr", cprFile)
		if code == 0 {
			t.Fatal("admin load of a damaged extract exited 0")
		}
		checkRefusal(t, errOut, cprFile, []int{2}, []int{3})
		st := status(t, pb.DatasetKind_DATASET_KIND_CPR)
		if st.GetServing().GetVersion() != oldCPR || st.GetLastRefused().GetSourceName() != filepath.Base(cprFile) {
			t.Errorf("cpr status after the refusal: %v", st)
		}
	})
	p.kill()

	before := servingVersions(t, data)
	for _, f := range append(robFiles, struct {
		name          string
		file          string
		utf8, invalid []int
	}{"CPR extract with mixed encoding", cprFile, []int{2}, []int{3}}) {
		t.Run("offline/"+f.name, func(t *testing.T) {
			flag := "--robinson"
			if f.file == cprFile {
				flag = "--cpr"
			}
			code, _, errOut := runCLI(t, "load", "--data", data, flag, f.file)
			if code == 0 {
				t.Fatal("offline load of a damaged file exited 0")
			}
			checkRefusal(t, errOut, f.file, f.utf8, f.invalid)
			if !strings.Contains(errOut, "previous dataset is unchanged") {
				t.Errorf("stderr does not say the previous dataset is unchanged:\n%s", errOut)
			}
			if after := servingVersions(t, data); after != before {
				t.Errorf("serving datasets changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	// And the previous version still answers after a restart.
	p = startServer(t, data) // screen and status use p
	if d, v := screen(t); d != pb.Decision_DECISION_BLOCK || v != oldVersion {
		t.Errorf("after restart: %v from %s, want BLOCK from %s", d, v, oldVersion)
	}
}

func containsInt(ns []int, n int) bool {
	for _, m := range ns {
		if m == n {
			return true
		}
	}
	return false
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}
