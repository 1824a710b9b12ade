package ingest

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

func fuzzSeeds(add func([]byte)) {
	for _, s := range []string{
		"",
		"\n",
		"Hansen,Mette#Vestergade 1\r\n",
		"Søren#Æblevej\nÅse#Østergade\n",
		"\uFEFFSøren\r\nÅse",
		"S\xF8ren#\xC6blevej\n\xC5se\n",
		"header\nSøren\nB\xF8gh\n",
		"S\xF8ren\nBøgh\n\xC6ble\n",
		"\xC3\n\xB8",
		"\xC3",
		"a\xE2\x82",
		"\xC0\xAF\xED\xA0\x80\xF4\x90\x80\x80",
		"\uFEFF\xF8",
		"a\r\r\n\r",
	} {
		add([]byte(s))
	}
}

// FuzzDetectEncoding checks the encoding decision against a line-by-line
// reference and its promises: valid UTF-8 is never damaged, input with no
// well-formed multi-byte sequence is never damaged, and reading in small
// pieces decides the same.
func FuzzDetectEncoding(f *testing.F) {
	fuzzSeeds(func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, data []byte) {
		enc, err := DetectEncoding(bytes.NewReader(data))
		enc1, err1 := DetectEncoding(iotest.HalfReader(iotest.OneByteReader(bytes.NewReader(data))))
		if enc != enc1 || (err == nil) != (err1 == nil) || err != nil && err.Error() != err1.Error() {
			t.Fatalf("decision depends on reads: %v %v / %v %v", enc, err, enc1, err1)
		}

		// Reference: classify each line on its own.
		var wantU, wantX []int
		lines := bytes.Split(data, []byte("\n"))
		if len(lines[len(lines)-1]) == 0 {
			lines = lines[:len(lines)-1]
		}
		for i, ln := range lines {
			u, x := false, false
			for j := 0; j < len(ln); {
				r, size := utf8.DecodeRune(ln[j:])
				switch {
				case r == utf8.RuneError && size == 1:
					x = true
				case size > 1:
					u = true
				}
				j += size
			}
			if u {
				wantU = append(wantU, i+1)
			}
			if x {
				wantX = append(wantX, i+1)
			}
		}

		switch {
		case utf8.Valid(data):
			if err != nil || enc != UTF8 {
				t.Fatalf("valid UTF-8 decided %v, %v", enc, err)
			}
		case len(wantU) == 0:
			if err != nil || enc != Latin1 {
				t.Fatalf("input without UTF-8 sequences decided %v, %v", enc, err)
			}
		default:
			var ee *EncodingError
			if !errors.As(err, &ee) {
				t.Fatalf("mixed input decided %v, %v", enc, err)
			}
			if ee.UTF8Count != len(wantU) || ee.InvalidCount != len(wantX) ||
				!equalPrefix(ee.UTF8Lines, wantU) || !equalPrefix(ee.InvalidLines, wantX) {
				t.Fatalf("EncodingError %+v; want UTF-8 lines %v, invalid lines %v", ee, wantU, wantX)
			}
		}
	})
}

func equalPrefix(got, want []int) bool {
	if len(got) != min(len(want), MaxEncodingLines) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// FuzzLines checks the line reader: every line decodes to valid UTF-8
// without line ends, numbers run 1..n, the line count and the bytes
// consumed match the input, too-long lines are flagged and nothing longer
// than the limit is yielded, and Latin-1 lines decode rune for byte.
func FuzzLines(f *testing.F) {
	for _, s := range []string{"", "a\nbb\nccc", strings.Repeat("x", 40) + "\nshort\n"} {
		f.Add([]byte(s), uint8(8))
	}
	fuzzSeeds(func(b []byte) { f.Add(b, uint8(200)) })
	f.Fuzz(func(t *testing.T, data []byte, maxLine uint8) {
		max := int(maxLine%64) + 1
		enc := UTF8
		l, err := Open(bytes.NewReader(data), Options{MaxLineBytes: max, ProgressEvery: 3, Progress: func(n int, b int64) {
			if n < 0 || b < 0 || b > int64(len(data)) {
				t.Fatalf("Progress(%d, %d) for %d bytes", n, b, len(data))
			}
		}})
		if err != nil {
			var ee *EncodingError
			if !errors.As(err, &ee) {
				t.Fatalf("Open: %v", err)
			}
			// Read it as Latin-1 anyway: the reader must cope with any bytes.
			enc = Latin1
			l = NewLines(bytes.NewReader(data), Latin1, Options{MaxLineBytes: max})
		} else {
			enc = l.Encoding()
		}
		raw := bytes.Split(data, []byte("\n"))
		if len(raw[len(raw)-1]) == 0 {
			raw = raw[:len(raw)-1]
		}
		n := 0
		for l.Next() {
			n++
			if l.Number() != n {
				t.Fatalf("Number %d, want %d", l.Number(), n)
			}
			if n > len(raw) {
				t.Fatalf("more lines than the input has (%d)", len(raw))
			}
			want := raw[n-1]
			if len(want) > max {
				if !l.TooLong() || l.Bytes() != nil {
					t.Fatalf("line %d of %d bytes not flagged too long (max %d)", n, len(want), max)
				}
				continue
			}
			if l.TooLong() {
				t.Fatalf("line %d of %d bytes flagged too long (max %d)", n, len(want), max)
			}
			b := l.Bytes()
			if enc != UTF8 || utf8.Valid(data) {
				if !utf8.Valid(b) {
					t.Fatalf("line %d not valid UTF-8: %q", n, b)
				}
			}
			if bytes.HasSuffix(b, []byte("\r")) && !bytes.HasSuffix(want, []byte("\r\r")) || bytes.IndexByte(b, '\n') >= 0 {
				t.Fatalf("line %d keeps a line end: %q", n, b)
			}
			want = bytes.TrimSuffix(want, []byte("\r"))
			if n == 1 && enc == UTF8 {
				want = bytes.TrimPrefix(want, utf8BOM)
			}
			if enc == Latin1 && utf8.RuneCount(b) != len(want) {
				t.Fatalf("Latin-1 line %d: %d runes from %d bytes", n, utf8.RuneCount(b), len(want))
			}
			if enc == UTF8 && !bytes.Equal(b, want) {
				t.Fatalf("UTF-8 line %d changed: %q, want %q", n, b, want)
			}
			if l.ASCII() != (utf8.RuneCount(b) == len(b)) {
				t.Fatalf("ASCII() = %v for %q", l.ASCII(), b)
			}
		}
		if l.Err() != nil {
			t.Fatal(l.Err())
		}
		if n != len(raw) || l.Count() != n || l.BytesRead() != int64(len(data)) {
			t.Fatalf("%d lines, Count %d, BytesRead %d; input has %d lines, %d bytes", n, l.Count(), l.BytesRead(), len(raw), len(data))
		}
	})
}

// FuzzField checks that Field cuts by characters: the field is a run of
// whole characters of the line, at most n of them, starting after pos-1.
func FuzzField(f *testing.F) {
	f.Add("Søren  Bøgh", 7, 5)
	f.Add("0011234567890", 4, 10)
	f.Fuzz(func(t *testing.T, s string, pos, n int) {
		if !utf8.ValidString(s) {
			return
		}
		got := string(Field([]byte(s), pos, n))
		runes := []rune(s)
		want := ""
		if pos >= 1 && n > 0 && pos-1 < len(runes) {
			want = string(runes[pos-1 : pos-1+min(n, len(runes)-(pos-1))])
		}
		if got != want {
			t.Fatalf("Field(%q, %d, %d) = %q, want %q", s, pos, n, got, want)
		}
	})
}
