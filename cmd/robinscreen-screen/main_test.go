package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/robinscreen/robinscreen/internal/calllist"
	"github.com/robinscreen/robinscreen/internal/demo"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/server"
	"github.com/robinscreen/robinscreen/store"
)

// startDemo serves the demo dataset in-process and returns the address.
func startDemo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "data"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := demo.Load(context.Background(), st, time.Now().UTC().Truncate(24*time.Hour), false); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{Data: st, Engine: &screening.Engine{}})
	go srv.GRPC.Serve(lis)
	t.Cleanup(srv.GRPC.Stop)
	return lis.Addr().String()
}

func copyTestdata(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeXLSX makes a workbook with extra columns and a blank row.
func writeXLSX(t *testing.T, path string) {
	t.Helper()
	f := excelize.NewFile()
	rows := [][]any{
		{"Kampagne", "Navn", "Adresse", "Postnr", "By", "CPR", "Noter", "Ekstra"},
		{"Forår", "Søren Testesen", "Fiktivvej 12, 2. tv", 2100, "København Ø", "", "note 1", "x"},
		{},
		{"Forår", "Ole Nysen", "Nyvej 5", 2100, "København Ø", "", "", ""},
		{"Forår", "Ukendt Person", "", "", "", 101801230, "beskyttet", "y"}, // CPR as a number lost its zero
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

// readOutput reads a screened CSV or XLSX back as rows of strings.
func readOutput(t *testing.T, path string) [][]string {
	t.Helper()
	if strings.HasSuffix(path, ".xlsx") {
		f, err := excelize.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := f.GetRows(f.GetSheetList()[0])
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r, err := calllist.OpenCSV(fh, calllist.EncodingAuto, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := [][]string{r.Header()}
	for {
		rec, rerr, err := r.Read()
		if err != nil {
			break
		}
		if rerr != nil {
			t.Fatalf("output unreadable: %v", rerr)
		}
		out = append(out, rec.Fields)
	}
	return out
}

func TestScreenFiles(t *testing.T) {
	addr := startDemo(t)
	tests := []struct {
		name      string
		file      string // testdata file, or "" for the generated XLSX
		args      []string
		wantExit  int
		wantCols  []string // expected header of the output
		wantRows  []string // "first original column:decision:reasons" per output row, in order
		wantErrs  []string // lines in the errors file
		wantDialt calllist.Dialect
	}{
		{
			name: "danish semicolon windows-1252", file: "kaldeliste_dansk_windows1252.csv", args: []string{"--channel", "post"},
			wantCols:  []string{"Kundenr", "Navn", "Adresse", "Postnr", "By", "Telefon", "Samtykke", "Kunde", "Bemærkning", "decision", "reasons", "explanation"},
			wantRows:  []string{"1001:BLOCK:ROBINSON_LIST", "1002:ALLOW:CONSENT", "1003:BLOCK:ROBINSON_LIST", "1004:BLOCK:ROBINSON_LIST", "1005:ALLOW:CONSENT"},
			wantDialt: calllist.Dialect{Encoding: calllist.EncodingWindows1252, Comma: ';', CRLF: true},
		},
		{
			name: "english comma utf-8 bom", file: "calllist_english_utf8bom.csv", args: []string{"--channel", "post"},
			wantCols:  []string{"Customer ID", "Name", "Address", "Postal code", "City", "E-mail", "Consent", "Existing customer", "Notes", "decision", "reasons", "explanation"},
			wantRows:  []string{"C-1:BLOCK:ROBINSON_LIST", "C-2:ALLOW:CONSENT", "C-3:BLOCK:ROBINSON_LIST", "C-4:ALLOW:"},
			wantDialt: calllist.Dialect{Encoding: calllist.EncodingUTF8, BOM: true, Comma: ','},
		},
		{
			name: "broken quote", file: "broken_quote.csv", args: []string{"--channel", "post"}, wantExit: 1,
			wantRows: []string{"Søren Testesen:BLOCK:ROBINSON_LIST", "Karen Ukendtsen:ERROR:", "Ole Nysen:ALLOW:", "Bo Ukendt:ALLOW:", "Anna Bolette Demosen:BLOCK:ROBINSON_LIST"},
			wantErrs: []string{"3"},
		},
		{
			name: "xlsx with extra columns and a blank row", args: []string{"--channel", "post"},
			wantCols: []string{"Kampagne", "Navn", "Adresse", "Postnr", "By", "CPR", "Noter", "Ekstra", "decision", "reasons", "explanation"},
			wantRows: []string{"Forår:BLOCK:ROBINSON_LIST", "::", "Forår:ALLOW:", "Forår:BLOCK:CPR_MARKETING_PROTECTION"},
		},
		{
			name: "xlsx to csv", args: []string{"--channel", "post", "--format", "csv"},
			wantRows: []string{"Forår:BLOCK:ROBINSON_LIST", "::", "Forår:ALLOW:", "Forår:BLOCK:CPR_MARKETING_PROTECTION"},
		},
		{
			name: "per-row channel with a bad value", file: "per_row_channel.csv", wantExit: 1,
			wantRows: []string{"1:BLOCK:ROBINSON_LIST", "2:ERROR:", "3:BLOCK:NO_CONSENT", "4:ALLOW:CONSENT"},
			wantErrs: []string{"3"},
		},
		{
			name: "column override", file: "kaldeliste_dansk_windows1252.csv", args: []string{"--channel", "post", "--col", "name=Bemærkning"},
			wantRows: []string{"1001:ALLOW:", "1002:ALLOW:CONSENT", "1003:REVIEW:UNVERIFIABLE", "1004:ALLOW:", "1005:ALLOW:CONSENT"}, // 1003 has no remark, so no name
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var in string
			if tc.file == "" {
				in = filepath.Join(dir, "liste.xlsx")
				writeXLSX(t, in)
			} else {
				in = copyTestdata(t, dir, tc.file)
			}
			var stderr bytes.Buffer
			args := append([]string{"--addr", addr, "--progress", "never", "--split"}, tc.args...)
			code := run(context.Background(), append(args, in), &stderr)
			t.Logf("stderr:\n%s", stderr.String())
			if code != tc.wantExit {
				t.Fatalf("exit %d, want %d", code, tc.wantExit)
			}
			ext := filepath.Ext(in)
			for i, a := range tc.args {
				if a == "--format" {
					ext = "." + tc.args[i+1]
				}
			}
			base := strings.TrimSuffix(in, filepath.Ext(in))
			rows := readOutput(t, base+".screened"+ext)
			if tc.wantCols != nil && fmt.Sprint(rows[0]) != fmt.Sprint(tc.wantCols) {
				t.Errorf("header %q\nwant   %q", rows[0], tc.wantCols)
			}
			var got []string
			n := len(rows[0])
			for _, r := range rows[1:] {
				if len(r) != n {
					t.Errorf("row %q has %d columns, header %d", r, len(r), n)
					continue
				}
				got = append(got, r[0]+":"+r[n-3]+":"+r[n-2])
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.wantRows) {
				t.Errorf("rows %q\nwant %q", got, tc.wantRows)
			}
			// The split files hold the same rows by decision.
			split := 0
			for _, name := range []string{"allowed", "blocked", "review"} {
				split += len(readOutput(t, base+"."+name+ext)) - 1
			}
			screened := 0 // rows with a decision of the server's
			for _, g := range got {
				if d := strings.Split(g, ":")[1]; d == "ALLOW" || d == "BLOCK" || d == "REVIEW" {
					screened++
				}
			}
			if split != screened {
				t.Errorf("split files hold %d rows, want %d", split, screened)
			}
			var errLines []string
			if b, err := os.ReadFile(base + ".errors.csv"); err == nil {
				lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(string(b), "\uFEFF")), "\n")
				for _, l := range lines[1:] {
					errLines = append(errLines, strings.SplitN(l, ";", 2)[0])
				}
			}
			if fmt.Sprint(errLines) != fmt.Sprint(tc.wantErrs) {
				t.Errorf("error lines %q, want %q", errLines, tc.wantErrs)
			}
			if tc.wantDialt.Comma != 0 {
				f, _ := os.Open(base + ".screened" + ext)
				defer f.Close()
				r, err := calllist.OpenCSV(f, calllist.EncodingAuto, 0)
				if err != nil {
					t.Fatal(err)
				}
				if r.Dialect() != tc.wantDialt {
					t.Errorf("output dialect %+v, want %+v", r.Dialect(), tc.wantDialt)
				}
			}
		})
	}
}

// privateCSV is a call list whose failing rows hold personal data: line 3
// has an unclosed quote, and line 4 is shifted so that its consent column
// holds a phone number.
const privateCSV = "navn;adresse;cpr;samtykke\n" +
	"Søren Testesen;Fiktivvej 12, 2. tv, 2100 København Ø;;nej\n" +
	"Karen Ukendtsen;\"Nyvej 3, 2100 København Ø;0101801234;ja\n" +
	"Bo Ukendt;Nyvej 9, 2100 København Ø;1212121212;22334455\n"

// privateValues are the personal data in privateCSV's failing rows.
var privateValues = []string{"Karen", "Ukendtsen", "Nyvej 3", "0101801234", "Bo Ukendt", "Nyvej 9", "1212121212", "22334455"}

func TestErrorsFile(t *testing.T) {
	addr := startDemo(t)
	tests := []struct {
		name       string
		args       []string
		wantHeader string
		wantLines  []string // line column of each errors row
		wantIn     []string // must appear in the errors file
		wantOut    []string // must not appear in the errors file
	}{
		{
			name:       "default: line and reason only",
			wantHeader: "line;error",
			wantLines:  []string{"3", "4"},
			wantIn:     []string{"quoted field not closed", "consent (column 4): not yes/no"},
			wantOut:    privateValues,
		},
		{
			name:       "--errors-content copies the rows",
			args:       []string{"--errors-content"},
			wantHeader: "line;error;content",
			wantLines:  []string{"3", "4"},
			wantIn:     []string{"Karen Ukendtsen", "0101801234", "Bo Ukendt", "1212121212", "22334455"},
		},
		{
			name:       "--errors-content=false",
			args:       []string{"--errors-content=false"},
			wantHeader: "line;error",
			wantLines:  []string{"3", "4"},
			wantOut:    privateValues,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := filepath.Join(t.TempDir(), "liste.csv")
			if err := os.WriteFile(in, []byte(privateCSV), 0o600); err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			args := append([]string{"--addr", addr, "--progress", "never", "--channel", "post"}, tc.args...)
			if code := run(context.Background(), append(args, in), &stderr); code != 1 {
				t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr.String())
			}
			b, err := os.ReadFile(strings.TrimSuffix(in, ".csv") + ".errors.csv")
			if err != nil {
				t.Fatal(err)
			}
			text := string(b)
			lines := strings.Split(strings.TrimSpace(text), "\n")
			if lines[0] != tc.wantHeader {
				t.Errorf("header %q, want %q", lines[0], tc.wantHeader)
			}
			var got []string
			for _, l := range lines[1:] {
				got = append(got, strings.SplitN(l, ";", 2)[0])
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.wantLines) {
				t.Errorf("error lines %q, want %q", got, tc.wantLines)
			}
			for _, s := range tc.wantIn {
				if !strings.Contains(text, s) {
					t.Errorf("errors file lacks %q:\n%s", s, text)
				}
			}
			for _, s := range tc.wantOut {
				if strings.Contains(text, s) {
					t.Errorf("errors file contains %q:\n%s", s, text)
				}
			}
			// Nothing personal on stderr either, whatever the flag.
			for _, s := range privateValues {
				if strings.Contains(stderr.String(), s) {
					t.Errorf("stderr contains %q:\n%s", s, stderr.String())
				}
			}
		})
	}
}

func TestOutputFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix file modes")
	}
	addr := startDemo(t)
	setUmask(t, 0) // the old os.Create/SaveAs modes (0666/0777) show unmasked
	tests := []struct {
		name   string
		format string
		stale  bool // the outputs exist beforehand with mode 0644
	}{
		{name: "csv", format: "csv"},
		{name: "xlsx", format: "xlsx"},
		{name: "csv over stale 0644 files", format: "csv", stale: true},
		{name: "xlsx over stale 0644 files", format: "xlsx", stale: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "liste.csv")
			if err := os.WriteFile(in, []byte(privateCSV), 0o600); err != nil {
				t.Fatal(err)
			}
			var outs []string
			for _, n := range []string{"screened", "allowed", "blocked", "review"} {
				outs = append(outs, filepath.Join(dir, "liste."+n+"."+tc.format))
			}
			outs = append(outs, filepath.Join(dir, "liste.errors.csv"))
			if tc.stale {
				for _, p := range outs {
					if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
						t.Fatal(err)
					}
					if err := os.Chmod(p, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			var stderr bytes.Buffer
			args := []string{"--addr", addr, "--progress", "never", "--channel", "post", "--split", "--format", tc.format, in}
			if code := run(context.Background(), args, &stderr); code != 1 {
				t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr.String())
			}
			for _, p := range outs {
				st, err := os.Stat(p)
				if err != nil {
					t.Errorf("%s: %v", filepath.Base(p), err)
					continue
				}
				if st.Mode().Perm() != 0o600 {
					t.Errorf("%s: mode %v, want -rw-------", filepath.Base(p), st.Mode().Perm())
				}
			}
		})
	}
}

// TestDialPolicy: the tool dials through the clients' one policy: plaintext
// to an address that is not loopback is refused unless --insecure, and TLS
// is at least 1.3. 0.0.0.0 is not a loopback address but reaches this
// machine's listeners, so the --insecure case screens for real.
func TestDialPolicy(t *testing.T) {
	addr := startDemo(t)
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	anyAddr := net.JoinHostPort("0.0.0.0", port)
	tests := []struct {
		name     string
		args     []string
		wantExit int
		wantErr  string
	}{
		{"loopback plaintext", []string{"--addr", addr}, 0, ""},
		{"non-loopback plaintext refused", []string{"--addr", anyAddr}, 2, "refusing a plaintext connection"},
		{"non-loopback plaintext with --insecure", []string{"--addr", anyAddr, "--insecure"}, 0, ""},
		{"tls to a plaintext server fails", []string{"--addr", addr, "--tls", "--retries", "1"}, 2, "stopped after 0 rows"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := copyTestdata(t, t.TempDir(), "kaldeliste_eksempel.csv")
			var stderr bytes.Buffer
			args := append(append([]string{"--progress", "never", "--channel", "phone"}, tc.args...), in)
			code := run(context.Background(), args, &stderr)
			if code != tc.wantExit || !strings.Contains(stderr.String(), tc.wantErr) {
				t.Fatalf("exit %d, want %d with %q; stderr:\n%s", code, tc.wantExit, tc.wantErr, stderr.String())
			}
		})
	}
}

// TestProgress: the bar is drawn only on a terminal (auto: never into the
// test's buffer) or when asked, and an unknown mode is refused.
func TestProgress(t *testing.T) {
	addr := startDemo(t)
	tests := []struct {
		name     string
		mode     string
		wantExit int
		wantBar  bool
	}{
		{"auto off a terminal", "auto", 0, false},
		{"never", "never", 0, false},
		{"always", "always", 0, true},
		{"unknown mode", "sometimes", 2, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := copyTestdata(t, t.TempDir(), "kaldeliste_eksempel.csv")
			var stderr bytes.Buffer
			code := run(context.Background(), []string{"--addr", addr, "--channel", "phone", "--progress", tc.mode, in}, &stderr)
			if code != tc.wantExit {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.wantExit, stderr.String())
			}
			if got := strings.Contains(stderr.String(), "\r"); got != tc.wantBar {
				t.Fatalf("bar drawn = %v, want %v; stderr:\n%q", got, tc.wantBar, stderr.String())
			}
			if tc.wantBar && !strings.Contains(stderr.String(), "screening") {
				t.Fatalf("no bar labelled screening: %q", stderr.String())
			}
		})
	}
}
