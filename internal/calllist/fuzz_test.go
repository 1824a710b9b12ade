package calllist

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
)

// FuzzCSVReader feeds arbitrary bytes to the CSV reader. Whatever the
// input, OpenCSV refuses it or every physical line after the header comes
// back exactly once, in order (as a record, a blank row or a broken line):
// output row N stays input row N. Every field is valid UTF-8 (never a gRPC
// marshal error), a record has the header's width, and a record written
// back in the file's dialect reads back the same.
func FuzzCSVReader(f *testing.F) {
	seeds := []string{
		"navn;by\r\nSøren;København Ø\r\n",
		"sep=;\r\nnavn;by\r\n;\r\n\r\nÅse;Århus\r\n",
		"\"sep=,\"\nname,city\n\"a\nb\",\"c\"\"d\"\n",
		"a;b\n1;\"open\n2;x\n3;\"y\"\n4;z\n",
		"a;b\n1;x\"y\n2;q;r\n3;s;;\n4\n5;t\n",
		"\uFEFFname,city\nSøren,\"Kbh, Ø\"\n",
		"navn\tby\r\n\xF8\xE6\tx\r\n",
		"navn;by\nS\xC3\xB8ren;K\xF8\n",
		"\xFF\xFEn\x00;\x00b\x00\r\x00\n\x00x\x00;\x00\xF8\x00\n\x00",
		"\x00n\x00;\x00b\x00\n\x00x\x00;\x00y",
		"navn;cpr\r\nA;=\"0101801234\"\r\nB;=x\r\n",
		"PK\x03\x04",
		"",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := OpenCSV(bytes.NewReader(data), EncodingAuto, 0)
		if err != nil {
			return
		}
		d := r.Dialect()
		for _, h := range r.Header() {
			if !utf8.ValidString(h) {
				t.Fatalf("header field %q is not UTF-8", h)
			}
		}
		var recs [][]string
		next := 0 // the line the next row must start on (0: not known yet)
		last := r.headerEnd
		for {
			rec, rerr, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			start, end := rec.Line, rec.End
			if rerr != nil {
				start, end = rerr.Line, rerr.Line
				for _, f := range rerr.Fields {
					if !utf8.ValidString(f) {
						t.Fatalf("line %d: broken line's field %q is not UTF-8", rerr.Line, f)
					}
				}
			} else {
				for _, f := range rec.Fields {
					if !utf8.ValidString(f) {
						t.Fatalf("line %d: field %q is not UTF-8", rec.Line, f)
					}
				}
				if !rec.Blank {
					if len(rec.Fields) != len(r.Header()) {
						t.Fatalf("line %d: %d fields, header %d", rec.Line, len(rec.Fields), len(r.Header()))
					}
					recs = append(recs, rec.Fields)
				}
			}
			if start <= last || end < start || (next != 0 && start != next) {
				t.Fatalf("row at lines %d-%d after line %d (want it to start at %d)", start, end, last, next)
			}
			last, next = end, end+1
		}
		// Every physical line of the decoded text was accounted for.
		text := decodeAll(t, data, d)
		lines := strings.Count(text, "\n")
		if text != "" && !strings.HasSuffix(text, "\n") {
			lines++
		}
		if last != lines {
			t.Fatalf("rows end at line %d, the file has %d lines", last, lines)
		}
		// Written back in the same dialect, the records read the same.
		var buf bytes.Buffer
		w, err := NewCSVWriter(&buf, d)
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range append([][]string{r.Header()}, recs...) {
			if err := w.Write(rec); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r2, err := OpenCSV(bytes.NewReader(buf.Bytes()), d.Encoding, d.Comma)
		if err != nil {
			t.Fatalf("written back: %v\n%q", err, buf.Bytes())
		}
		got := [][]string{r2.Header()}
		for {
			rec, rerr, err := r2.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil || rerr != nil {
				t.Fatalf("written back: %v %v\n%q", err, rerr, buf.Bytes())
			}
			if !rec.Blank {
				got = append(got, rec.Fields)
			}
		}
		want := append([][]string{r.Header()}, recs...)
		if e := textEncoding(d.Encoding); e != nil {
			// Characters the encoding cannot hold (U+FFFD for a byte
			// Windows-1252 leaves undefined) are written as its
			// replacement character.
			enc, dec := encoding.ReplaceUnsupported(e.NewEncoder()), e.NewDecoder()
			for i, rec := range want {
				cp := make([]string, len(rec))
				for j, f := range rec {
					b, err := enc.Bytes([]byte(f))
					if err != nil {
						t.Fatal(err)
					}
					if b, err = dec.Bytes(b); err != nil {
						t.Fatal(err)
					}
					cp[j] = string(b)
				}
				want[i] = cp
			}
		}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
			t.Fatalf("written back and read:\n%q\nwant\n%q", got, want)
		}
	})
}

// decodeAll decodes a whole file in a dialect, without its byte order
// mark.
func decodeAll(t *testing.T, data []byte, d Dialect) string {
	t.Helper()
	if d.BOM {
		switch d.Encoding {
		case EncodingUTF8:
			data = data[3:]
		default:
			data = data[2:]
		}
	}
	if e := textEncoding(d.Encoding); e != nil {
		b, err := e.NewDecoder().Bytes(data)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return string(data)
}

// BenchmarkScanFile measures the pass over the whole file that decides the
// encoding before any row is read (bytes per second, on a Windows-1252
// call list whose non-ASCII letters come late, and on a UTF-8 one).
func BenchmarkScanFile(b *testing.B) {
	rows := strings.Repeat("Kunde000001;Nyvej 12, 2. tv;2100;København Ø;11223344;ja\r\n", 1<<18) // 16 MiB
	cp, err := charmap.Windows1252.NewEncoder().String(rows)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		data []byte
	}{{"utf-8", []byte(rows)}, {"windows-1252", []byte(cp)}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.data)))
			for b.Loop() {
				if _, err := scanFile(bytes.NewReader(bc.data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
