package suppress

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func readAll(t *testing.T, in string) ([]ImportRow, []*RowError, error) {
	t.Helper()
	ir, err := NewImportReader(strings.NewReader(in))
	if err != nil {
		return nil, nil, err
	}
	var rows []ImportRow
	var rejects []*RowError
	for {
		r, err := ir.Next()
		if err == io.EOF {
			return rows, rejects, nil
		}
		var re *RowError
		if errors.As(err, &re) {
			rejects = append(rejects, re)
			continue
		}
		if err != nil {
			return rows, rejects, err
		}
		rows = append(rows, r)
	}
}

func TestImportReader(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		wantRows    int
		wantRejects []int // line numbers
		check       func(t *testing.T, rows []ImportRow)
	}{
		{"semicolon danish header", "telefon;e-mail;årsag;kilde;dato\n12345678;;klage;kundeservice;2026-01-31\n;jens@example.dk;;;\n", 2, nil, func(t *testing.T, rows []ImportRow) {
			if rows[0].Values[KindPhone] != "12345678" || rows[0].Reason != ReasonComplaint || rows[0].Source != "kundeservice" || !rows[0].Added.Equal(time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)) {
				t.Fatalf("row 1: %+v", rows[0])
			}
			if rows[1].Values[KindEmail] != "jens@example.dk" || rows[1].Reason != ReasonRequested || rows[1].Line != 3 {
				t.Fatalf("row 2: %+v", rows[1])
			}
		}},
		{"comma with BOM and quotes", "\ufeffPhone,Email,Scope\n\"+45 12 34 56 78\",a@b.dk,brand-a\n", 1, nil, func(t *testing.T, rows []ImportRow) {
			if rows[0].Values[KindPhone] != "+45 12 34 56 78" || rows[0].Values[KindEmail] != "a@b.dk" || rows[0].Scope != "brand-a" {
				t.Fatalf("%+v", rows[0])
			}
		}},
		{"tab separated cpr and cvr", "cpr\tcvr\n010190-1234\t\n\t12345678\n", 2, nil, nil},
		{"windows-1252", "telefon;aarsag;kilde\n12345678;andet;S\xf8ren\n", 1, nil, func(t *testing.T, rows []ImportRow) {
			if rows[0].Source != "Søren" || rows[0].Reason != ReasonOther {
				t.Fatalf("%+v", rows[0])
			}
		}},
		{"rejects numbered", "phone;reason;added\n;requested;\n12345678;maybe;\n12345678;;31/31/2026\n87654321;;\n", 1, []int{2, 3, 4}, nil},
		{"blank lines skipped", "email\n\na@b.dk\n\n", 1, nil, nil},
		{"unknown columns ignored", "navn;telefon\nJens;12345678\n", 1, nil, func(t *testing.T, rows []ImportRow) {
			if len(rows[0].Values) != 1 {
				t.Fatalf("%+v", rows[0])
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, rejects, err := readAll(t, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != tc.wantRows {
				t.Fatalf("%d rows, want %d: %+v", len(rows), tc.wantRows, rows)
			}
			var lines []int
			for _, r := range rejects {
				lines = append(lines, r.Line)
			}
			if len(lines) != len(tc.wantRejects) {
				t.Fatalf("rejects at %v, want %v", lines, tc.wantRejects)
			}
			for i := range lines {
				if lines[i] != tc.wantRejects[i] {
					t.Fatalf("rejects at %v, want %v", lines, tc.wantRejects)
				}
			}
			if tc.check != nil {
				tc.check(t, rows)
			}
		})
	}
}

func TestImportReaderHeader(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"no value column", "navn;adresse\nJens;Vej 1\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewImportReader(strings.NewReader(tc.in)); !errors.Is(err, ErrImportHeader) {
				t.Fatalf("err %v, want ErrImportHeader", err)
			}
		})
	}
}
