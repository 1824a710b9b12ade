package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/robinscreen/robinscreen/internal/demo"
	"github.com/robinscreen/robinscreen/receipt"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/server"
	"github.com/robinscreen/robinscreen/store"
)

// startSigningDemo serves the demo dataset in-process, signing receipts,
// and returns the address and the public key file (PEM).
func startSigningDemo(t *testing.T) (addr, pubFile string) {
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
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := receipt.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	pubFile = filepath.Join(dir, "receipt.pub")
	if err := os.WriteFile(pubFile, receipt.MarshalPublicKey(signer.PublicKey()), 0o644); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{Data: st, Engine: &screening.Engine{}, ReceiptSigner: signer})
	go srv.GRPC.Serve(lis)
	t.Cleanup(srv.GRPC.Stop)
	return lis.Addr().String(), pubFile
}

// editFile replaces the first old in the file at path with new.
func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not hold %q", filepath.Base(path), old)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o600); err != nil {
		t.Fatal(err)
	}
}

// editReceipt changes the receipt inside a receipt file.
func editReceipt(t *testing.T, path string, change func(rc map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	change(f["receipt"].(map[string]any))
	if b, err = json.Marshal(f); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// editCell sets one cell of the first sheet of a workbook.
func editCell(t *testing.T, path, cell, value string) {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.SetCellStr(f.GetSheetName(f.GetActiveSheetIndex()), cell, value); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
}

// TestCallListReceipt: --receipt writes a receipt beside the output that
// `robinscreen-screen receipt verify` accepts with the call list and the
// output as written, and refuses after one changed cell of the call list,
// of the output (a decision, a reason, its copy of a name, a row taken
// out) or of the receipt (a count, a dataset version), or with another
// key.
func TestCallListReceipt(t *testing.T) {
	addr, pub := startSigningDemo(t)
	_, otherPub := startSigningDemo(t)
	type files struct{ list, out, rc string }
	screenList := func(t *testing.T, name string, mk func(path string)) files {
		dir := t.TempDir()
		list := filepath.Join(dir, name)
		mk(list)
		var stderr bytes.Buffer
		if code := run(context.Background(), []string{"--addr", addr, "--progress", "never", "--channel", "post", "--receipt", list}, &stderr); code != 0 {
			t.Fatalf("screening: exit %d\n%s", code, stderr.String())
		}
		base := strings.TrimSuffix(list, filepath.Ext(list))
		f := files{list: list, out: base + ".screened" + filepath.Ext(list), rc: base + ".screened.receipt.json"}
		if !strings.Contains(stderr.String(), "receipt: "+f.rc) {
			t.Fatalf("the summary names no receipt:\n%s", stderr.String())
		}
		return f
	}
	csvList := func(path string) {
		b, err := os.ReadFile(filepath.Join("testdata", "kaldeliste_eksempel.csv"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	xlsxList := func(path string) { writeXLSX(t, path) }

	tests := []struct {
		name   string
		list   string
		mk     func(string)
		change func(t *testing.T, f files)
		args   func(f files) []string // beyond --key --receipt
		want   int
		msg    string
	}{
		{name: "csv as written", list: "liste.csv", mk: csvList, want: 0},
		{name: "csv, the output alone", list: "liste.csv", mk: csvList, args: func(f files) []string { return []string{"--contacts", f.out, "--results", f.out} }, want: 0},
		{name: "csv, the output found from the receipt", list: "liste.csv", mk: csvList, args: func(f files) []string { return []string{"--contacts", f.list} }, want: 0},
		{name: "csv, a name in the call list", list: "liste.csv", mk: csvList, change: func(t *testing.T, f files) { editFile(t, f.list, "Søren Testesen", "Søren Testersen") }, want: 1, msg: "contacts are not the ones screened"},
		{name: "csv, a postcode in the call list", list: "liste.csv", mk: csvList, change: func(t *testing.T, f files) { editFile(t, f.list, "Nyvej 5;2100", "Nyvej 5;2200") }, want: 1, msg: "contacts are not the ones screened"},
		{name: "csv, a decision in the output", list: "liste.csv", mk: csvList, change: func(t *testing.T, f files) { editFile(t, f.out, "BLOCK", "ALLOW") }, want: 1, msg: "results are not the ones given"},
		{name: "csv, a reason in the output", list: "liste.csv", mk: csvList, change: func(t *testing.T, f files) { editFile(t, f.out, "ROBINSON_LIST", "ROBINSON_POSSIBLE_MATCH") }, want: 1, msg: "results are not the ones given"},
		{name: "csv, the output's copy of a name", list: "liste.csv", mk: csvList, change: func(t *testing.T, f files) { editFile(t, f.out, "Ole Nysen", "Ole Nielsen") }, want: 1, msg: "the output's copy"},
		{name: "csv, a row taken out of the output", list: "liste.csv", mk: csvList, change: func(t *testing.T, f files) {
			b, _ := os.ReadFile(f.out)
			lines := strings.SplitAfter(string(b), "\n")
			os.WriteFile(f.out, []byte(strings.Join(append(lines[:2], lines[3:]...), "")), 0o600)
		}, want: 1, msg: "fewer screened rows"},
		{name: "csv, the receipt's count", list: "liste.csv", mk: csvList, change: func(t *testing.T, f files) {
			editReceipt(t, f.rc, func(rc map[string]any) { rc["contacts"] = "4" })
		}, want: 1, msg: "signature does not match"},
		{name: "csv, the receipt's dataset version", list: "liste.csv", mk: csvList, change: func(t *testing.T, f files) {
			editReceipt(t, f.rc, func(rc map[string]any) {
				rc["datasets"].([]any)[0].(map[string]any)["version"] = "20200101-0000000000000000"
			})
		}, want: 1, msg: "signature does not match"},
		{name: "csv, another service's key", list: "liste.csv", mk: csvList, args: func(f files) []string {
			return []string{"--contacts", f.list, "--results", f.out, "--key", otherPub}
		}, want: 1, msg: "signed with another key"},
		{name: "xlsx as written", list: "liste.xlsx", mk: xlsxList, want: 0},
		{name: "xlsx, a name in the call list", list: "liste.xlsx", mk: xlsxList, change: func(t *testing.T, f files) { editCell(t, f.list, "B4", "Ole Nielsen") }, want: 1, msg: "contacts are not the ones screened"},
		{name: "xlsx, a decision in the output", list: "liste.xlsx", mk: xlsxList, change: func(t *testing.T, f files) {
			rows := readOutput(t, f.out)
			col := len(rows[0]) - 3
			for i, r := range rows {
				if len(r) > col && r[col] == "BLOCK" {
					cell, _ := excelize.CoordinatesToCellName(col+1, i+1)
					editCell(t, f.out, cell, "ALLOW")
					return
				}
			}
			t.Fatal("no BLOCK in the output")
		}, want: 1, msg: "results are not the ones given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := screenList(t, tt.list, tt.mk)
			if tt.change != nil {
				tt.change(t, f)
			}
			args := []string{"--contacts", f.list, "--results", f.out}
			if tt.args != nil {
				args = tt.args(f)
			}
			key := pub
			for i := 0; i+1 < len(args); i++ {
				if args[i] == "--key" {
					key, args = args[i+1], append(args[:i:i], args[i+2:]...)
				}
			}
			var stdout, stderr bytes.Buffer
			code := receiptMain(append([]string{"verify", "--key", key, "--receipt", f.rc}, args...), &stdout, &stderr)
			if code != tt.want {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.want, stdout.String(), stderr.String())
			}
			if tt.want == 0 && !strings.Contains(stdout.String(), "receipt verified") {
				t.Errorf("stdout %q", stdout.String())
			}
			if tt.want != 0 && !strings.Contains(stderr.String(), tt.msg) {
				t.Errorf("stderr %q, want %q", stderr.String(), tt.msg)
			}
			for _, v := range []string{"Testesen", "Nysen", "Fiktivvej", "11223344"} {
				if strings.Contains(stderr.String(), v) {
					t.Errorf("the refusal quotes %q", v)
				}
			}
		})
	}
}

// TestCallListReceiptRefused: a server that signs no receipts refuses a
// run with --receipt before any row, leaving no output; without
// --receipt the same run screens.
func TestCallListReceiptRefused(t *testing.T) {
	addr := startDemo(t) // no receipt key
	dir := t.TempDir()
	list := copyTestdata(t, dir, "kaldeliste_eksempel.csv")
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"--addr", addr, "--progress", "never", "--channel", "post", "--receipt", list}, &stderr); code != 2 || !strings.Contains(stderr.String(), "RECEIPTS_UNAVAILABLE") {
		t.Fatalf("exit %d, want 2 naming RECEIPTS_UNAVAILABLE\n%s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "kaldeliste_eksempel.screened.csv")); !os.IsNotExist(err) {
		t.Errorf("an output after a refused run: %v", err)
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"--addr", addr, "--progress", "never", "--channel", "post", list}, &stderr); code != 0 {
		t.Fatalf("without --receipt: exit %d\n%s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "kaldeliste_eksempel.screened.receipt.json")); !os.IsNotExist(err) {
		t.Errorf("a receipt without --receipt: %v", err)
	}
}
