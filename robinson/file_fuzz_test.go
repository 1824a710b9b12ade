package robinson

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/robinscreen/robinscreen/ingest"
)

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		listSoren.line(),
		listMette.line(),
		listOld.line(),
		listRow{name: "Hansen,Mette", addr: "Vestergade 86", post: "8000 Aarhus C", hist: "*",
			sep: " ", kom: "0751", vej: "1234", house: "086B", floor: "st", door: "th"}.line(),
		listRow{name: "Hansen,Mette", addr: "Vestergade 86, 2. tv", post: "8000", house: "86", noDoor: true, trimmed: true}.line(),
		listPerson("Holm,Anne", "Dronn. Louises V. 15, 1. th", "2100 København Ø", "15", "1", "th").line(),
		listHdrCols,
		listHdrDate,
		"",
		"#",
		"##########",
		"###########",
		"a,b#c 1#d#1234#*  #",
		",#1#1#1234#****#0#0#0#0#0#0",
		"Hansen,Mette#Vej 1#By#1234 X#\xff\xff\xff\xff0101#1#1",
		"\xf8\xf8,\xf8#\xe6 1#\xe5#9999#*#1#1#1",
		"Antal poster: 123456",
		"SLUT",
	} {
		f.Add(s, 7)
	}
	f.Fuzz(func(t *testing.T, line string, lineNo int) {
		rec, err := ParseLine(line, lineNo)
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) || le.Line != lineNo || le.Err == nil {
				t.Fatalf("error %v (%T) is not a *LineError for line %d", err, err, lineNo)
			}
			if rec != nil {
				t.Fatal("record returned with an error")
			}
			if msg := le.Err.Error(); msg == "" {
				t.Fatal("empty reason")
			} else if len(line) > 16 && strings.Contains(msg, line) {
				t.Fatalf("reason %q echoes the line", msg)
			}
			return
		}
		if rec.Line != lineNo {
			t.Fatalf("Line = %d, want %d", rec.Line, lineNo)
		}
		a := rec.Address
		if len(a.Postcode) != 4 || !fileAllDigits(a.Postcode) {
			t.Fatalf("postcode %q", a.Postcode)
		}
		if a.Street == "" || a.HouseNumber == "" || len(rec.Name.Surnames) == 0 {
			t.Fatalf("incomplete record %s", listDumpRecord(rec))
		}
		if !strings.Contains(line, "#") {
			t.Fatal("record from a line without '#'")
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(listFile("\n", listHdrDate, listHdrCols, listSoren.line(), listMette.line(), listOld.line())), false)
	f.Add(listLatin1(f, listFile("\r\n", listHdrDate, listSoren.line(), "", "SLUT")), false)
	f.Add([]byte("\uFEFF"+listFile("\n", "2024-03-01", listMette.line())), false)
	f.Add([]byte(listFile("\n", listHdrCols, listSoren.line())), true)
	f.Add([]byte(""), false)
	f.Add([]byte("\n\n\r\n"), true)
	f.Add([]byte("01032024\n\xff#\n"), false)
	f.Add([]byte("\xc3"), false)
	f.Fuzz(func(t *testing.T, data []byte, override bool) {
		var opt Options
		if override {
			opt.Published = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
		}
		progress := 0
		opt.Progress = func(n int) {
			if n < progress {
				t.Fatalf("progress went back from %d to %d", progress, n)
			}
			progress = n
		}
		lastLine := 0
		st, err := Parse(bytes.NewReader(data), opt, func(r *Record) error {
			if r.Line <= lastLine {
				t.Fatalf("record line %d after %d", r.Line, lastLine)
			}
			lastLine = r.Line
			return nil
		})
		if errors.Is(err, ingest.ErrDamagedEncoding) {
			// Partly UTF-8, partly not: refused before the first line.
			if utf8.Valid(data) || st.Encoding != "" || st.Lines != 0 || lastLine != 0 {
				t.Fatalf("damaged-encoding refusal of valid UTF-8 or after reading: %+v", st)
			}
			return
		}
		if st.Encoding != EncodingUTF8 && st.Encoding != EncodingLatin1 {
			t.Fatalf("Encoding %q", st.Encoding)
		}
		if utf8.Valid(data) != (st.Encoding == EncodingUTF8) {
			t.Fatalf("Encoding %q for utf8.Valid = %v", st.Encoding, utf8.Valid(data))
		}
		var re *RejectError
		switch {
		case err == nil, errors.As(err, &re), errors.Is(err, ErrEmpty), errors.Is(err, ErrNoRecords):
			listCheckCounts(t, st)
			if progress != st.Lines {
				t.Fatalf("last progress %d, lines %d", progress, st.Lines)
			}
		case errors.Is(err, ErrNoPublicationDate):
			if override || st.Records != 0 {
				t.Fatalf("ErrNoPublicationDate with override %v, %d records", override, st.Records)
			}
		default:
			t.Fatalf("unexpected error %v", err)
		}
		if err == nil && st.Published.IsZero() {
			t.Fatal("accepted without publication date")
		}
		if re != nil && (re.Rejected != st.Rejected || re.Rejected == 0) {
			t.Fatalf("RejectError %+v vs stats %+v", re, st)
		}
		for _, le := range st.Rejects {
			if le.Line < 1 || le.Line > st.Lines {
				t.Fatalf("reject line %d of %d", le.Line, st.Lines)
			}
		}
	})
}
