package cprcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestParse(t *testing.T) {
	tests := []struct {
		Name   string
		Input  string
		Digits string    // expected digits when valid
		Birth  time.Time // expected birth date when valid
		Err    error     // ErrFormat or ErrDate when invalid
	}{
		// Forms.
		{Name: "Plain", Input: "0707614285", Digits: "0707614285", Birth: date(1961, 7, 7)},
		{Name: "Hyphen", Input: "070761-4285", Digits: "0707614285", Birth: date(1961, 7, 7)},
		{Name: "SpacesAround", Input: "  0707614285 ", Digits: "0707614285", Birth: date(1961, 7, 7)},
		{Name: "TabsAround", Input: "\t070761-4285\t", Digits: "0707614285", Birth: date(1961, 7, 7)},
		{Name: "NBSPAround", Input: "\u00a00707614285\u00a0", Digits: "0707614285", Birth: date(1961, 7, 7)},
		{Name: "Latin1NBSPAround", Input: "\xa00707614285\xa0", Digits: "0707614285", Birth: date(1961, 7, 7)},
		{Name: "MixedBlanksAround", Input: " \t\u00a0 070761-4285 \u00a0\t", Digits: "0707614285", Birth: date(1961, 7, 7)},

		// Format errors.
		{Name: "Empty", Input: "", Err: ErrFormat},
		{Name: "OnlyBlanks", Input: " \t\u00a0", Err: ErrFormat},
		{Name: "NineDigits", Input: "070761428", Err: ErrFormat},
		{Name: "ElevenDigits", Input: "07076142851", Err: ErrFormat},
		{Name: "HyphenAt5", Input: "07076-14285", Err: ErrFormat},
		{Name: "HyphenAt7", Input: "0707614-285", Err: ErrFormat},
		{Name: "TwoHyphens", Input: "070761--4285", Err: ErrFormat},
		{Name: "HyphenNineDigits", Input: "070761-428", Err: ErrFormat},
		{Name: "SpaceInside", Input: "070761 4285", Err: ErrFormat},
		{Name: "SpaceInsideDigits", Input: "07076 14285", Err: ErrFormat},
		{Name: "Letters", Input: "07076142AB", Err: ErrFormat},
		{Name: "Slash", Input: "070761/4285", Err: ErrFormat},
		{Name: "EnDash", Input: "070761\u20134285", Err: ErrFormat},
		{Name: "ArabicIndicDigits", Input: "٠٧٠٧٦١٤٢٨٥", Err: ErrFormat},
		{Name: "NewlineAround", Input: "0707614285\n", Err: ErrFormat},

		// Century rule, 7th digit 0-3: always 1900s.
		{Name: "Serial0YY00", Input: "0101000000", Digits: "0101000000", Birth: date(1900, 1, 1)},
		{Name: "Serial3YY99", Input: "3112993999", Digits: "3112993999", Birth: date(1999, 12, 31)},
		{Name: "Serial1YY36", Input: "0101361000", Digits: "0101361000", Birth: date(1936, 1, 1)},
		// 7th digit 4 or 9: 2000s when YY <= 36, else 1900s.
		{Name: "Serial4YY36", Input: "0101364000", Digits: "0101364000", Birth: date(2036, 1, 1)},
		{Name: "Serial4YY37", Input: "0101374000", Digits: "0101374000", Birth: date(1937, 1, 1)},
		{Name: "Serial9YY36", Input: "0101369000", Digits: "0101369000", Birth: date(2036, 1, 1)},
		{Name: "Serial9YY37", Input: "0101379000", Digits: "0101379000", Birth: date(1937, 1, 1)},
		{Name: "Serial4YY00", Input: "0101004000", Digits: "0101004000", Birth: date(2000, 1, 1)},
		{Name: "Serial9YY99", Input: "0101999000", Digits: "0101999000", Birth: date(1999, 1, 1)},
		// 7th digit 5-8: 2000s when YY <= 57, else 1800s.
		{Name: "Serial5YY57", Input: "0101575000", Digits: "0101575000", Birth: date(2057, 1, 1)},
		{Name: "Serial5YY58", Input: "0101585000", Digits: "0101585000", Birth: date(1858, 1, 1)},
		{Name: "Serial8YY57", Input: "0101578000", Digits: "0101578000", Birth: date(2057, 1, 1)},
		{Name: "Serial8YY58", Input: "0101588000", Digits: "0101588000", Birth: date(1858, 1, 1)},
		{Name: "Serial6YY00", Input: "0101006000", Digits: "0101006000", Birth: date(2000, 1, 1)},
		{Name: "Serial7YY99", Input: "0101997000", Digits: "0101997000", Birth: date(1899, 1, 1)},

		// Leap years per century.
		{Name: "Feb29In1900Invalid", Input: "2902001000", Err: ErrDate},
		{Name: "Feb29In2000Serial4", Input: "2902004000", Digits: "2902004000", Birth: date(2000, 2, 29)},
		{Name: "Feb29In2000Serial5", Input: "2902005000", Digits: "2902005000", Birth: date(2000, 2, 29)},
		{Name: "Feb29In1896", Input: "2902965000", Digits: "2902965000", Birth: date(1896, 2, 29)},
		{Name: "Feb29In1996", Input: "2902961000", Digits: "2902961000", Birth: date(1996, 2, 29)},
		{Name: "Feb29In1997Invalid", Input: "2902971000", Err: ErrDate},
		{Name: "Feb29In2004", Input: "2902044000", Digits: "2902044000", Birth: date(2004, 2, 29)},
		{Name: "Feb30Invalid", Input: "3002004000", Err: ErrDate},
		{Name: "Feb28In1900", Input: "2802001000", Digits: "2802001000", Birth: date(1900, 2, 28)},

		// Calendar.
		{Name: "April30", Input: "3004801234", Digits: "3004801234", Birth: date(1980, 4, 30)},
		{Name: "April31Invalid", Input: "3104801234", Err: ErrDate},
		{Name: "June31Invalid", Input: "3106801234", Err: ErrDate},
		{Name: "Dec31", Input: "3112801234", Digits: "3112801234", Birth: date(1980, 12, 31)},
		{Name: "Day00Invalid", Input: "0001801234", Err: ErrDate},
		{Name: "Month00Invalid", Input: "0100801234", Err: ErrDate},
		{Name: "Month13Invalid", Input: "0113801234", Err: ErrDate},
		{Name: "Day32Invalid", Input: "3201801234", Err: ErrDate},
		{Name: "HyphenDateInvalid", Input: "310480-1234", Err: ErrDate},

		// Modulus 11 is informational only.
		{Name: "Mod11Fails", Input: "0707614286", Digits: "0707614286", Birth: date(1961, 7, 7)},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			n, err := Parse(tt.Input)
			if tt.Err != nil {
				if !errors.Is(err, tt.Err) {
					t.Fatalf("Parse error = %v, want %v", err, tt.Err)
				}
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("error %T is not *ParseError", err)
				}
				if n != (Number{}) {
					t.Errorf("Parse returned non-zero Number on error")
				}
				if msg := err.Error(); strings.ContainsAny(msg, "0123456789") {
					t.Errorf("error text %q contains digits", msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: unexpected error %v", err)
			}
			if got := n.Digits(); got != tt.Digits {
				t.Errorf("Digits = %q, want %q", got, tt.Digits)
			}
			if got := n.BirthDate(); !got.Equal(tt.Birth) || got.Location() != time.UTC {
				t.Errorf("BirthDate = %v, want %v", got, tt.Birth)
			}
		})
	}
}

func TestMod11(t *testing.T) {
	tests := []struct {
		Name  string
		Input string
		Want  bool
	}{
		{Name: "Passes", Input: "0707614285", Want: true},
		{Name: "Fails", Input: "0707614286", Want: false},
		{Name: "FailsSum10", Input: "0101000000", Want: false}, // 3+7 = 10
		{Name: "PassesSum44", Input: "1111111118", Want: true}, // 36+8 = 44
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			n, err := Parse(tt.Input)
			if err != nil {
				t.Fatal(err)
			}
			if got := n.Mod11(); got != tt.Want {
				t.Errorf("Mod11 = %v, want %v", got, tt.Want)
			}
		})
	}
	if (Number{}).Mod11() {
		t.Error("zero Number passes Mod11")
	}
	if !(Number{}).BirthDate().IsZero() {
		t.Error("zero Number has a birth date")
	}
}

func TestNumberRedacted(t *testing.T) {
	n, err := Parse("0707614285")
	if err != nil {
		t.Fatal(err)
	}
	e := Entry{Line: 1, Kind: EntryPerson, Number: n, Status: "01"}
	type wrapper struct{ N Number }
	var logBuf, jsonLogBuf bytes.Buffer
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("x", "cpr", n, "entry", e, "ptr", &n)
	slog.New(slog.NewJSONHandler(&jsonLogBuf, nil)).Info("x", "cpr", n, "entry", e, "w", wrapper{n})
	js, err := json.Marshal(wrapper{n})
	if err != nil {
		t.Fatal(err)
	}
	outputs := []struct {
		Name string
		Out  string
	}{
		{"String", n.String()},
		{"%v", fmt.Sprintf("%v", n)},
		{"%s", fmt.Sprintf("%s", n)},
		{"%q", fmt.Sprintf("%q", n)},
		{"%+v", fmt.Sprintf("%+v", n)},
		{"%#v", fmt.Sprintf("%#v", n)},
		{"%x", fmt.Sprintf("%x", n)},
		{"%d", fmt.Sprintf("%d", n)},
		{"%c", fmt.Sprintf("%c", n)},
		{"%10.3s", fmt.Sprintf("%10.3s", n)},
		{"Pointer%v", fmt.Sprintf("%v", &n)},
		{"Entry%v", fmt.Sprintf("%v", e)},
		{"Entry%+v", fmt.Sprintf("%+v", e)},
		{"Entry%#v", fmt.Sprintf("%#v", e)},
		{"Slice%v", fmt.Sprint([]Number{n})},
		{"Println", fmt.Sprintln(n)},
		{"slogText", logBuf.String()},
		{"slogJSON", jsonLogBuf.String()},
		{"json", string(js)},
		{"LogValue", n.LogValue().String()},
		{"GoString", n.GoString()},
	}
	for _, o := range outputs {
		t.Run(o.Name, func(t *testing.T) {
			for _, frag := range []string{"0707614285", "070761", "4285", "48 55 48 55"} {
				if strings.Contains(o.Out, frag) {
					t.Errorf("output %q leaks %q", o.Out, frag)
				}
			}
			if !strings.Contains(o.Out, "**********") {
				t.Errorf("output %q lacks the redaction marker", o.Out)
			}
		})
	}
}

func TestTrimBlanks(t *testing.T) {
	tests := []struct{ Name, In, Want string }{
		{"None", "abc", "abc"},
		{"Spaces", "  abc  ", "abc"},
		{"NBSP", "\u00a0abc\u00a0", "abc"},
		{"LoneC2Kept", "abc\xc2", "abc\xc2"},
		{"All", " \t\u00a0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			if got := trimBlanks(tt.In); got != tt.Want {
				t.Errorf("trimBlanks(%q) = %q, want %q", tt.In, got, tt.Want)
			}
		})
	}
}
