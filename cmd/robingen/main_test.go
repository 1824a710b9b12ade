package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		prefix  string
		wantErr bool
	}{
		{"robinson", []string{"robinson", "-n", "50", "-seed", "2", "-published", "2026-02-03"}, "ROBINSONLISTEN  Dato: 03.02.2026\r\n", false},
		{"cpr", []string{"cpr", "-n", "50", "-published", "2026-02-03"}, "000000000" + "20260203", false},
		{"streets", []string{"streets", "-published", "2026-02-03"}, "000" + "00000000" + "202602030000\r\n001", false},
		{"cvr", []string{"cvr", "-n", "50", "-published", "2026-02-03"}, `{"Vrvirksomhed":{"beliggenhedsadresse"`, false},
		{"cvr csv", []string{"cvr", "-n", "50", "-format", "csv"}, "cvr;pnummer;reklamebeskyttet\r\n", false},
		{"cvr xml", []string{"cvr", "-n", "50", "-format", "xml", "-o", filepath.Join(dir, "xml")}, "", true},
		{"contacts", []string{"contacts", "-n", "50", "-listed", "0.5", "-list-n", "100"}, "ref;name;address;postal_code;cpr;expected_listed\n", false},
		{"unknown", []string{"frob"}, "", true},
		{"no output", []string{"robinson", "-n", "5"}, "", true},
		{"bad date", []string{"robinson", "-n", "5", "-published", "03.02.2026"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, tt.name)
			args := tt.args
			if tt.prefix != "" {
				args = append(args, "-o", out)
			}
			err := run(args, io.Discard, io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if tt.wantErr {
				return
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(data), tt.prefix) {
				t.Fatalf("output starts %q", data[:min(len(data), 60)])
			}
		})
	}
}

func TestRunStdout(t *testing.T) {
	var a, b bytes.Buffer
	args := []string{"robinson", "-n", "20", "-published", "2026-01-01", "-o", "-"}
	if err := run(args, &a, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := run(args, &b, io.Discard); err != nil {
		t.Fatal(err)
	}
	if a.Len() == 0 || !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("stdout output empty or not deterministic")
	}
}
