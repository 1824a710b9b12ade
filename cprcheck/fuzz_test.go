package cprcheck

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"0707614285", "070761-4285", " 0707614286\t", "\u00a02902004000\u00a0", "2902001000",
		"3104801234", "0101585000", "0101374000", "", "-", "07076-14285", "٠٧٠٧٦١٤٢٨٥", "\xa0\xc2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrDate) {
				t.Fatalf("unexpected error kind %v", err)
			}
			if n != (Number{}) {
				t.Fatal("non-zero Number with error")
			}
			if err != errParseFormat && err != errParseDate {
				t.Fatalf("error %q is not one of the constant errors", err)
			}
			return
		}
		d := n.Digits()
		if len(d) != 10 {
			t.Fatalf("Digits length %d", len(d))
		}
		for i := 0; i < 10; i++ {
			if d[i] < '0' || d[i] > '9' {
				t.Fatalf("Digits has non-digit")
			}
		}
		n2, err := Parse(d)
		if err != nil || n2 != n {
			t.Fatalf("Parse(Digits()) round trip failed: %v", err)
		}
		n3, err := Parse(d[:6] + "-" + d[6:])
		if err != nil || n3 != n {
			t.Fatalf("hyphen form round trip failed: %v", err)
		}
		bd := n.BirthDate()
		if bd.IsZero() || bd.Day() != d2(d[0], d[1]) || int(bd.Month()) != d2(d[2], d[3]) || bd.Year()%100 != d2(d[4], d[5]) {
			t.Fatalf("BirthDate %v does not match digits", bd)
		}
		if y := bd.Year(); y < 1858 || y > 2057 {
			t.Fatalf("BirthDate year %d out of range", y)
		}
		if strings.Contains(n.String(), d) {
			t.Fatal("String leaks digits")
		}
	})
}

func FuzzParseExtract(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join("testdata", "extract.txt")); err == nil {
		f.Add(data)
	}
	f.Add([]byte(file(startRec("20240301"), personRec(n1, "01"), protRec(n1, "0003", "2020-01-01", "2021-01-01"), endRec)))
	f.Add([]byte(strings.ReplaceAll(file(startRec("20240301"), protRec(n1, "0003", "2020-01-01", ""), endRec), "\n", "\r\n")))
	f.Add([]byte(""))
	f.Add([]byte("999"))
	f.Add([]byte("000\n001\n015\n999\n999\n"))
	f.Add([]byte("\xef\xbb\xbf000      20240229\n002\xff\n999"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var entries int
		st, err := ParseExtract(bytes.NewReader(data), ExtractOptions{MaxRejectRatio: 0.5}, func(e Entry) error {
			entries++
			if e.Kind != EntryPerson && e.Kind != EntryProtection {
				t.Fatalf("bad kind %d", e.Kind)
			}
			if e.Line < 1 || e.Line > bytes.Count(data, []byte("\n"))+1 {
				t.Fatalf("bad line %d", e.Line)
			}
			if _, perr := Parse(e.Number.Digits()); perr != nil {
				t.Fatalf("emitted invalid number: %v", perr)
			}
			if e.Kind == EntryProtection && e.Protection.Start.IsZero() {
				t.Fatal("protection without start")
			}
			return nil
		})
		if entries != st.Persons+st.Protections {
			t.Fatalf("entries %d != persons+protections %d", entries, st.Persons+st.Protections)
		}
		if st.Blank+st.Skipped+st.Persons+st.Protections+st.Rejected > st.Lines {
			t.Fatalf("counts exceed lines: %+v", st)
		}
		if len(st.Rejects) > MaxRecordedRejects || len(st.Rejects) > st.Rejected {
			t.Fatalf("rejects list %d, rejected %d", len(st.Rejects), st.Rejected)
		}
		if err == nil && st.ProductionDate.IsZero() {
			t.Fatal("accepted without production date")
		}
		// Every line on its own must not panic either.
		for i, line := range bytes.Split(data, []byte("\n")) {
			_, _ = ParseExtractLine(line, i+1)
		}
	})
}
