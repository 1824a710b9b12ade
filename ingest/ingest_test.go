package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// latin1 encodes a string of runes <= U+00FF as ISO 8859-1.
func latin1(t testing.TB, s string) string {
	t.Helper()
	var b []byte
	for _, r := range s {
		if r > 0xFF {
			t.Fatalf("rune %U not in ISO 8859-1", r)
		}
		b = append(b, byte(r))
	}
	return string(b)
}

func TestDetectEncoding(t *testing.T) {
	l1 := func(s string) string { return latin1(t, s) }
	tests := []struct {
		name        string
		in          string
		want        Encoding
		utf8Lines   []int // damaged: lines with UTF-8 sequences
		invalidLine []int // damaged: lines with invalid bytes
	}{
		{name: "empty", in: "", want: UTF8},
		{name: "pure ASCII", in: "Hansen,Mette#Vestergade 1\nJensen,Ole#Byvej 2\n", want: UTF8},
		{name: "pure ASCII CRLF", in: "a\r\nb\r\n", want: UTF8},
		{name: "UTF-8 with Danish letters", in: "Søren#Æblevej\nÅse#Østergade\n", want: UTF8},
		{name: "UTF-8 with BOM", in: "\uFEFFSøren\nÅse\n", want: UTF8},
		{name: "UTF-8 CRLF no final newline", in: "Søren\r\nÅse", want: UTF8},
		{name: "Latin-1 with æøå", in: l1("Søren#Æblevej\nÅse#Østergade\nplain\n"), want: Latin1},
		{name: "Latin-1 CRLF", in: l1("Søren\r\nÅse\r\n"), want: Latin1},
		{name: "Latin-1 byte at the very end", in: "abc\nde" + l1("ø"), want: Latin1},
		{
			name: "UTF-8 list with one Latin-1 line",
			in:   "header 01.03.2024\nSøren\nÅse\n" + l1("Bøgh") + "\nØstergaard\n",
			want: 0, utf8Lines: []int{2, 3, 5}, invalidLine: []int{4},
		},
		{
			name: "Latin-1 list with some UTF-8 lines",
			in:   l1("Søren\nÅse\n") + "Bøgh\n" + l1("Æble\n") + "Østergaard\n" + l1("Ærø"),
			want: 0, utf8Lines: []int{3, 5}, invalidLine: []int{1, 2, 4, 6},
		},
		{
			name: "one line of both kinds",
			in:   "plain\n" + l1("ø") + "ø\nplain\n",
			want: 0, utf8Lines: []int{2}, invalidLine: []int{2},
		},
		{
			name: "BOM then Latin-1",
			in:   "\uFEFFheader\n" + l1("Søren\n"),
			want: 0, utf8Lines: []int{1}, invalidLine: []int{2},
		},
		{
			name: "sequence cut by a newline is invalid",
			in:   "Søren\n\xC3\n\xB8x\n",
			want: 0, utf8Lines: []int{1}, invalidLine: []int{2, 3},
		},
		{
			name: "three- and four-byte sequences count as UTF-8",
			in:   "a€\n" + l1("ø") + "\nb😀\n",
			want: 0, utf8Lines: []int{1, 3}, invalidLine: []int{2},
		},
		{
			name: "overlong and surrogate encodings are not UTF-8",
			in:   "\xC0\xAF\n\xED\xA0\x80\n" + l1("ø"),
			want: Latin1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Also read one byte at a time, so every sequence and every
			// line is split between reads.
			for _, r := range []io.Reader{strings.NewReader(tt.in), iotest.OneByteReader(strings.NewReader(tt.in))} {
				got, err := DetectEncoding(r)
				if tt.want != 0 {
					if err != nil || got != tt.want {
						t.Fatalf("DetectEncoding = %v, %v; want %v", got, err, tt.want)
					}
					continue
				}
				var ee *EncodingError
				if !errors.As(err, &ee) || !errors.Is(err, ErrDamagedEncoding) {
					t.Fatalf("DetectEncoding = %v, %v; want an *EncodingError", got, err)
				}
				if !reflect.DeepEqual(ee.UTF8Lines, tt.utf8Lines) || ee.UTF8Count != len(tt.utf8Lines) ||
					!reflect.DeepEqual(ee.InvalidLines, tt.invalidLine) || ee.InvalidCount != len(tt.invalidLine) {
					t.Errorf("EncodingError = %+v; want UTF-8 lines %v, invalid lines %v", ee, tt.utf8Lines, tt.invalidLine)
				}
				msg := err.Error()
				for _, n := range append(append([]int(nil), tt.utf8Lines...), tt.invalidLine...) {
					if !strings.Contains(msg, fmt.Sprint(n)) {
						t.Errorf("message %q does not name line %d", msg, n)
					}
				}
				if strings.Contains(msg, "Søren") || strings.Contains(msg, "Bøgh") || strings.Contains(msg, "ster") {
					t.Errorf("message %q carries file content", msg)
				}
			}
		})
	}
}

func TestEncodingErrorMessage(t *testing.T) {
	e := &EncodingError{UTF8Lines: []int{3}, UTF8Count: 1, InvalidLines: []int{1, 2}, InvalidCount: 2}
	want := "damaged encoding: 1 line holds UTF-8 sequences (line 3) and 2 lines hold bytes that are not valid UTF-8 (lines 1, 2): part of the file was re-saved as UTF-8; neither reading is safe"
	if got := e.Error(); got != want {
		t.Errorf("Error()\n got %q\nwant %q", got, want)
	}
	var many []int
	for i := 1; i <= MaxEncodingLines; i++ {
		many = append(many, i)
	}
	e = &EncodingError{UTF8Lines: many, UTF8Count: 5000, InvalidLines: []int{7}, InvalidCount: 1}
	if got := e.Error(); !strings.HasPrefix(got, "damaged encoding: 5000 lines hold UTF-8 sequences (lines 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, ...) and 1 line") {
		t.Errorf("Error() = %q", got)
	}
}

func TestDetectEncodingManyLinesAndReadError(t *testing.T) {
	// A Latin-1 file of 5000 lines with every other line re-saved: the
	// counts cover every line, the lists the first MaxEncodingLines.
	var b strings.Builder
	for i := range 5000 {
		if i%2 == 0 {
			b.WriteString(latin1(t, "Søren\n"))
		} else {
			b.WriteString("Søren\n")
		}
	}
	_, err := DetectEncoding(strings.NewReader(b.String()))
	var ee *EncodingError
	if !errors.As(err, &ee) || ee.UTF8Count != 2500 || ee.InvalidCount != 2500 ||
		len(ee.UTF8Lines) != MaxEncodingLines || ee.UTF8Lines[0] != 2 || ee.InvalidLines[1] != 3 {
		t.Fatalf("err = %v", err)
	}
	boom := errors.New("boom")
	if _, err := DetectEncoding(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("read error: %v", err)
	}
}

// collect reads every line of in.
func collect(t *testing.T, in string, opt Options) (*Lines, []string) {
	t.Helper()
	l, err := Open(strings.NewReader(in), opt)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	var got []string
	for l.Next() {
		if l.Number() != len(got)+1 {
			t.Fatalf("Number = %d after %d lines", l.Number(), len(got))
		}
		if l.TooLong() {
			got = append(got, "<too long>")
			continue
		}
		got = append(got, l.Text())
	}
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	return l, got
}

func TestLines(t *testing.T) {
	tests := []struct {
		name string
		in   string
		enc  Encoding
		want []string
	}{
		{"empty", "", UTF8, nil},
		{"one line no newline", "abc", UTF8, []string{"abc"}},
		{"LF", "a\nb\n", UTF8, []string{"a", "b"}},
		{"CRLF", "a\r\nb\r\n", UTF8, []string{"a", "b"}},
		{"blank lines", "\n\r\n\n", UTF8, []string{"", "", ""}},
		{"inner CR kept", "a\rb\n", UTF8, []string{"a\rb"}},
		{"BOM stripped", "\uFEFFSøren\r\nÅse", UTF8, []string{"Søren", "Åse"}},
		{"BOM only on line 1", "\uFEFFa\n\uFEFFb\n", UTF8, []string{"a", "\uFEFFb"}},
		{"Latin-1 decoded", latin1(t, "Søren#Æblevej\r\nÅse ÿ\n"), Latin1, []string{"Søren#Æblevej", "Åse ÿ"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, got := collect(t, tt.in, Options{})
			if l.Encoding() != tt.enc {
				t.Errorf("Encoding = %v, want %v", l.Encoding(), tt.enc)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("lines %q, want %q", got, tt.want)
			}
			if l.Count() != len(tt.want) || l.BytesRead() != int64(len(tt.in)) {
				t.Errorf("Count %d, BytesRead %d; want %d, %d", l.Count(), l.BytesRead(), len(tt.want), len(tt.in))
			}
		})
	}
}

func TestLinesTooLong(t *testing.T) {
	long := strings.Repeat("x", 100)
	in := "short\n" + long + "\n" + long[:50] + "\r\n" + strings.Repeat("y", 5000) + "\nlast"
	_, got := collect(t, in, Options{MaxLineBytes: 60})
	want := []string{"short", "<too long>", long[:50], "<too long>", "last"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
	// A line far longer than the read buffer, with the default limit.
	huge := "a\n" + strings.Repeat("z", 3*maxBufferSize) + "\nb"
	l, got := collect(t, huge, Options{})
	if want := []string{"a", "<too long>", "b"}; !reflect.DeepEqual(got, want) || l.BytesRead() != int64(len(huge)) {
		t.Errorf("lines %q (BytesRead %d), want %q", got, l.BytesRead(), want)
	}
}

func TestLinesProgress(t *testing.T) {
	type call struct {
		lines int
		bytes int64
	}
	for _, tc := range []struct {
		lines int
		want  []call
	}{
		{0, []call{{0, 0}}},
		{5, []call{{2, 4}, {4, 8}, {5, 10}}},
		{6, []call{{2, 4}, {4, 8}, {6, 12}}},
	} {
		var got []call
		opt := Options{ProgressEvery: 2, Progress: func(n int, b int64) { got = append(got, call{n, b}) }}
		collect(t, strings.Repeat("x\n", tc.lines), opt)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%d lines: Progress calls %v, want %v", tc.lines, got, tc.want)
		}
	}
}

func TestLinesReadError(t *testing.T) {
	boom := errors.New("boom")
	l := NewLines(io.MultiReader(strings.NewReader("a\nb\n"), iotest.ErrReader(boom)), UTF8, Options{})
	n := 0
	for l.Next() {
		n++
	}
	if n != 2 || !errors.Is(l.Err(), boom) || !strings.Contains(l.Err().Error(), "line 3") {
		t.Errorf("%d lines, Err %v", n, l.Err())
	}
	if l.Next() {
		t.Error("Next after an error")
	}
}

// seekFails fails its second Seek.
type seekFails struct {
	io.ReadSeeker
	n int
}

func (s *seekFails) Seek(off int64, whence int) (int64, error) {
	s.n++
	if s.n > 3 {
		return 0, errors.New("seek broke")
	}
	return s.ReadSeeker.Seek(off, whence)
}

func TestOpen(t *testing.T) {
	// From the reader's current offset, and back to it.
	r := strings.NewReader("skip" + latin1(t, "ø\nÆ"))
	r.Seek(4, io.SeekStart)
	l, err := Open(r, Options{})
	if err != nil || l.Encoding() != Latin1 || !l.Next() || l.Text() != "ø" || l.ASCII() {
		t.Fatalf("Open from offset: %v %v", l, err)
	}
	// A damaged file is refused before the first line.
	_, err = Open(strings.NewReader("ø\n"+latin1(t, "ø")), Options{})
	var ee *EncodingError
	if !errors.As(err, &ee) || !reflect.DeepEqual(ee.UTF8Lines, []int{1}) || !reflect.DeepEqual(ee.InvalidLines, []int{2}) {
		t.Errorf("damaged: %v", err)
	}
	if _, err := Open(&seekFails{ReadSeeker: strings.NewReader("abc")}, Options{}); err == nil || !strings.Contains(err.Error(), "seek broke") {
		t.Errorf("seek error: %v", err)
	}
}

func TestOpenLayout(t *testing.T) {
	_, err := OpenLayout("roads", strings.NewReader("ø\n"+latin1(t, "ø")), 0, nil)
	var ee *EncodingError
	if !errors.As(err, &ee) || strings.HasPrefix(err.Error(), "roads:") {
		t.Errorf("damaged: %v, want the *EncodingError as it is", err)
	}
	_, err = OpenLayout("roads", &seekFails{ReadSeeker: strings.NewReader("abc")}, 0, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "roads: ") || !strings.Contains(err.Error(), "seek broke") {
		t.Errorf("seek error: %v, want it named by the layout", err)
	}
	var got []int
	l, err := OpenLayout("roads", strings.NewReader("a\nb\nc\n"), 0, func(n int) { got = append(got, n) })
	if err != nil {
		t.Fatal(err)
	}
	for l.Next() {
	}
	if len(got) == 0 || got[len(got)-1] != 3 {
		t.Errorf("line progress %v, want it to end at 3", got)
	}
}

func TestField(t *testing.T) {
	tests := []struct {
		line   string
		pos, n int
		want   string
	}{
		{"0011234567890", 4, 10, "1234567890"},
		{"abc", 1, 3, "abc"},
		{"abc", 2, 5, "bc"},
		{"abc", 4, 1, ""},
		{"abc", 9, 1, ""},
		{"abc", 0, 1, ""},
		{"abc", 1, 0, ""},
		{"Søren  Bøgh", 7, 5, " Bøgh"},
		{"ÆØÅ#12", 5, 2, "12"},
		{"æ", 1, 1, "æ"},
	}
	for _, tt := range tests {
		if got := string(Field([]byte(tt.line), tt.pos, tt.n)); got != tt.want {
			t.Errorf("Field(%q, %d, %d) = %q, want %q", tt.line, tt.pos, tt.n, got, tt.want)
		}
	}
}

func TestRejects(t *testing.T) {
	reason := errors.New("postcode not 4 digits")
	var r Rejects
	if err := r.Check(0, 0); err != nil {
		t.Fatalf("no rejects: %v", err)
	}
	r.Add(12, reason)
	r.Add(15, &LineError{Line: 15, Err: reason})
	if r.Count() != 2 || len(r.First()) != 2 || r.First()[1].Line != 15 || r.First()[1].Err != reason {
		t.Fatalf("Rejects %+v", r.First())
	}
	tests := []struct {
		name       string
		considered int
		maxRatio   float64
		refuse     bool
	}{
		{"default threshold, 2 of 2000 is exactly 0.1 %", 2000, 0, false},
		{"default threshold, 2 of 1999", 1999, 0, true},
		{"negative: none tolerated", 1_000_000, -1, true},
		{"custom 1 %", 200, 0.01, false},
		{"custom 1 %, over", 199, 0.01, true},
		{"considered smaller than rejects", 1, 0.5, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Check(tt.considered, tt.maxRatio)
			if !tt.refuse {
				if err != nil {
					t.Fatalf("Check = %v", err)
				}
				return
			}
			var re *RejectError
			if !errors.As(err, &re) || !errors.Is(err, ErrTooManyRejects) {
				t.Fatalf("Check = %v, want *RejectError", err)
			}
			if re.Rejected != 2 || re.Considered != max(tt.considered, 2) || re.Threshold != Threshold(tt.maxRatio) || len(re.First) != 2 {
				t.Errorf("RejectError %+v", re)
			}
		})
	}
	var many Rejects
	many.Keep = 3
	for i := range 10 {
		many.Add(i+1, reason)
	}
	if many.Count() != 10 || len(many.First()) != 3 {
		t.Errorf("Keep 3: count %d, kept %d", many.Count(), len(many.First()))
	}
}

func TestRejectErrorMessage(t *testing.T) {
	reason := errors.New("postcode not 4 digits")
	var first []*LineError
	for _, n := range []int{12, 15, 20, 21, 22, 23} {
		first = append(first, &LineError{Line: n, Err: reason})
	}
	tests := []struct {
		e    *RejectError
		want string
	}{
		{&RejectError{Rejected: 7, Considered: 1000, Ratio: 0.007, Threshold: 0.001, First: first[:2]},
			"7 of 1000 lines rejected (0.70 %), over the 0.10 % limit; first: line 12: postcode not 4 digits; line 15: postcode not 4 digits"},
		{&RejectError{Rejected: 6, Considered: 6, Ratio: 1, Threshold: 0.001, First: first},
			"6 of 6 lines rejected (100.00 %), over the 0.10 % limit; first: line 12: postcode not 4 digits; line 15: postcode not 4 digits; line 20: postcode not 4 digits; line 21: postcode not 4 digits; line 22: postcode not 4 digits; ..."},
		{&RejectError{Rejected: 1, Considered: 6_000_000, Ratio: 1.0 / 6e6, Threshold: 0},
			"1 of 6000000 lines rejected (1.7e-05 %), over the 0.00 % limit"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error()\n got %q\nwant %q", got, tt.want)
		}
	}
}

func TestLinesDecodeBuffersIndependent(t *testing.T) {
	// Bytes is valid until Next; a copy taken before survives.
	l, err := Open(bytes.NewReader([]byte(latin1(t, "æ\nø\n"))), Options{})
	if err != nil {
		t.Fatal(err)
	}
	l.Next()
	first := l.Text()
	l.Next()
	if first != "æ" || l.Text() != "ø" {
		t.Errorf("%q %q", first, l.Text())
	}
}
