package cprcheck

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/ingest"
)

// fld is a field value placed at a 1-based byte position.
type fld struct {
	pos int
	v   string
}

// mkLine builds a fixed-width line: the record type at position 1 and every
// field at its exact 1-based position, blanks in between.
func mkLine(typ string, fs ...fld) string {
	b := []byte(typ)
	for _, f := range fs {
		i := f.pos - 1
		for len(b) < i+len(f.v) {
			b = append(b, ' ')
		}
		copy(b[i:], f.v)
	}
	return string(b)
}

func startRec(d string) string { return mkLine("000", fld{4, "CPR"}, fld{10, d}) }

func personRec(num, status string) string {
	return mkLine("001", fld{4, num}, fld{14, "some other fields"}, fld{36, status})
}

// protRec builds a 015 line; end "" makes the line stop after "reported".
func protRec(num, typ, start, end string) string {
	return mkLine("015", fld{4, num}, fld{14, typ}, fld{18, "0101"}, fld{22, "202301021030"},
		fld{34, start}, fld{44, "001"}, fld{47, end})
}

const endRec = "999"

const (
	n1 = "0101010001"
	n2 = "0202020002"
	n3 = "0303030003"
)

func file(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// entryString renders an entry compactly (synthetic test numbers shown).
func entryString(e Entry) string {
	switch e.Kind {
	case EntryPerson:
		return fmt.Sprintf("%d person %s status=%s", e.Line, e.Number.Digits(), e.Status)
	case EntryProtection:
		p := e.Protection
		end := "open"
		if !p.End.IsZero() {
			end = p.End.Format(time.DateOnly)
		}
		reg := "none"
		if !p.Registered.IsZero() {
			reg = p.Registered.Format("2006-01-02T15:04")
		}
		return fmt.Sprintf("%d protection %s type=%s auth=%s reg=%s start=%s end=%s",
			e.Line, e.Number.Digits(), p.Type, p.Authority, reg, p.Start.Format(time.DateOnly), end)
	}
	return fmt.Sprintf("%d kind=%d", e.Line, e.Kind)
}

type rejectWant struct {
	Line int
	Err  error
}

func TestParseExtract(t *testing.T) {
	many := func(n int, line string) []string {
		s := make([]string, n)
		for i := range s {
			s[i] = line
		}
		return s
	}
	join := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		Name    string
		Input   string
		Opt     ExtractOptions
		Want    []string // entryString of emitted entries
		AnyWant bool     // do not check entries (bulk inputs)
		Stats   *ExtractStats
		Err     error // errors.Is target
		Rejects []rejectWant
	}{{
		Name:  "Minimal",
		Input: file(startRec("20240301"), endRec),
		Stats: &ExtractStats{ProductionDate: date(2024, 3, 1), Lines: 2},
	}, {
		Name: "PersonsAllStatuses",
		Input: file(startRec("20240301"),
			personRec(n1, "01"), personRec(n1, "03"), personRec(n1, "05"), personRec(n1, "07"),
			personRec(n2, "20"), personRec(n2, "30"), personRec(n2, "50"), personRec(n2, "60"),
			personRec(n3, "70"), personRec(n3, "80"), personRec(n3, "90"), personRec(n3, "99"),
			endRec),
		Want: []string{
			"2 person 0101010001 status=01", "3 person 0101010001 status=03",
			"4 person 0101010001 status=05", "5 person 0101010001 status=07",
			"6 person 0202020002 status=20", "7 person 0202020002 status=30",
			"8 person 0202020002 status=50", "9 person 0202020002 status=60",
			"10 person 0303030003 status=70", "11 person 0303030003 status=80",
			"12 person 0303030003 status=90", "13 person 0303030003 status=99",
		},
		Stats: &ExtractStats{ProductionDate: date(2024, 3, 1), Lines: 14, Persons: 12},
	}, {
		Name: "ProtectionEachType",
		Input: file(startRec("20240301"),
			protRec(n1, "0001", "2020-01-01", ""),
			protRec(n1, "0002", "2020-01-02", "2030-12-31"),
			protRec(n1, "0003", "2020-01-03", "          "),
			protRec(n1, "0004", "2020-01-04", "2021-01-04"),
			protRec(n1, "0007", "2020-01-05", ""),
			endRec),
		Want: []string{
			"2 protection 0101010001 type=0001 auth=0101 reg=2023-01-02T10:30 start=2020-01-01 end=open",
			"3 protection 0101010001 type=0002 auth=0101 reg=2023-01-02T10:30 start=2020-01-02 end=2030-12-31",
			"4 protection 0101010001 type=0003 auth=0101 reg=2023-01-02T10:30 start=2020-01-03 end=open",
			"5 protection 0101010001 type=0004 auth=0101 reg=2023-01-02T10:30 start=2020-01-04 end=2021-01-04",
			"6 protection 0101010001 type=0007 auth=0101 reg=2023-01-02T10:30 start=2020-01-05 end=open",
		},
		Stats: &ExtractStats{ProductionDate: date(2024, 3, 1), Lines: 7, Protections: 5},
	}, {
		Name: "ProtectionShortForms",
		Input: file(startRec("20240301"),
			mkLine("015", fld{4, n1}, fld{14, "0003"}, fld{18, "0101"}, fld{22, "202301021030"}, fld{34, "2020-01-01"}),
			mkLine("015", fld{4, n1}, fld{14, "0003"}, fld{34, "2020-01-01"}, fld{44, "001"}, fld{50, "   "}),
			mkLine("015", fld{4, n1}, fld{14, "0003"}, fld{34, "2020-01-01"}, fld{47, "2021-01-01"}, fld{57, "trailing"}),
			endRec),
		Want: []string{
			"2 protection 0101010001 type=0003 auth=0101 reg=2023-01-02T10:30 start=2020-01-01 end=open",
			"3 protection 0101010001 type=0003 auth= reg=none start=2020-01-01 end=open",
			"4 protection 0101010001 type=0003 auth= reg=none start=2020-01-01 end=2021-01-01",
		},
		Stats: &ExtractStats{ProductionDate: date(2024, 3, 1), Lines: 5, Protections: 3},
	}, {
		Name: "UnknownRecordTypesSkipped",
		Input: file(startRec("20240301"),
			mkLine("002", fld{4, n1}, fld{14, "S\xf8ren Hansen \xe6\xf8\xe5"}),
			mkLine("003", fld{4, "not even a number"}),
			"004",
			mkLine("014", fld{4, n1}),
			personRec(n1, "01"),
			mkLine("016", fld{4, n1}, fld{14, "xx"}),
			mkLine("123"),
			endRec),
		Want:  []string{"6 person 0101010001 status=01"},
		Stats: &ExtractStats{ProductionDate: date(2024, 3, 1), Lines: 9, Persons: 1, Skipped: 6},
	}, {
		Name:  "CRLF",
		Input: strings.ReplaceAll(file(startRec("20240301"), personRec(n1, "90"), protRec(n1, "0003", "2020-01-01", ""), endRec), "\n", "\r\n"),
		Want: []string{
			"2 person 0101010001 status=90",
			"3 protection 0101010001 type=0003 auth=0101 reg=2023-01-02T10:30 start=2020-01-01 end=open",
		},
		Stats: &ExtractStats{ProductionDate: date(2024, 3, 1), Lines: 4, Persons: 1, Protections: 1},
	}, {
		Name:  "NoFinalNewline",
		Input: strings.Join([]string{startRec("20240301"), personRec(n1, "01"), endRec}, "\n"),
		Want:  []string{"2 person 0101010001 status=01"},
		Stats: &ExtractStats{ProductionDate: date(2024, 3, 1), Lines: 3, Persons: 1},
	}, {
		Name:  "BOMAndBlankLines",
		Input: "\xef\xbb\xbf" + file(startRec("20240301"), "", "   ", personRec(n1, "01"), endRec, "", "\t"),
		Want:  []string{"4 person 0101010001 status=01"},
		Stats: &ExtractStats{ProductionDate: date(2024, 3, 1), Lines: 7, Persons: 1, Blank: 4},
	}, {
		Name:  "Empty",
		Input: "",
		Err:   ErrEmpty,
		Stats: &ExtractStats{},
	}, {
		Name:  "OnlyBlankLines",
		Input: "\n  \r\n\n",
		Err:   ErrEmpty,
		Stats: &ExtractStats{Lines: 3, Blank: 3},
	}, {
		Name:  "MissingEnd",
		Input: file(startRec("20240301"), personRec(n1, "01")),
		Want:  []string{"2 person 0101010001 status=01"},
		Err:   ErrTruncated,
		Stats: &ExtractStats{ProductionDate: date(2024, 3, 1), Lines: 2, Persons: 1},
	}, {
		Name:  "MissingEndEvenWithStartOnly",
		Input: file(startRec("20240301")),
		Err:   ErrTruncated,
	}, {
		Name:  "EndCutShort",
		Input: file(startRec("20240301"), personRec(n1, "01"), "99"),
		Want:  []string{"2 person 0101010001 status=01"},
		Err:   ErrTruncated,
	}, {
		Name:  "NoStart",
		Input: file(personRec(n1, "01"), endRec),
		Want:  []string{"1 person 0101010001 status=01"},
		Err:   ErrNoStart,
	}, {
		Name:  "NoStartWithOverride",
		Input: file(personRec(n1, "01"), endRec),
		Opt:   ExtractOptions{ProductionDate: date(2024, 5, 6)},
		Want:  []string{"1 person 0101010001 status=01"},
		Stats: &ExtractStats{ProductionDate: date(2024, 5, 6), Lines: 2, Persons: 1},
	}, {
		Name:  "OverrideWinsOverStart",
		Input: file(startRec("20240301"), endRec),
		Opt:   ExtractOptions{ProductionDate: date(2024, 5, 6)},
		Stats: &ExtractStats{ProductionDate: date(2024, 5, 6), Lines: 2},
	}, {
		Name:  "OverrideIgnoresBadStart",
		Input: file(startRec("20241301"), endRec),
		Opt:   ExtractOptions{ProductionDate: date(2024, 5, 6)},
		Stats: &ExtractStats{ProductionDate: date(2024, 5, 6), Lines: 2},
	}, {
		Name:    "BadStartDate",
		Input:   file(startRec("20240230"), endRec),
		Opt:     ExtractOptions{MaxRejectRatio: 1},
		Err:     ErrNoStart,
		Rejects: []rejectWant{{1, ErrBadDate}},
	}, {
		Name:    "ShortStart",
		Input:   file("000 CPR 2024", endRec),
		Opt:     ExtractOptions{MaxRejectRatio: 1},
		Err:     ErrNoStart,
		Rejects: []rejectWant{{1, ErrShortLine}},
	}, {
		Name:    "DuplicateStart",
		Input:   file(startRec("20240301"), startRec("20240401"), endRec),
		Opt:     ExtractOptions{MaxRejectRatio: 1},
		Stats:   &ExtractStats{ProductionDate: date(2024, 3, 1), Lines: 3, Rejected: 1},
		Rejects: []rejectWant{{2, ErrDuplicateStart}},
	}, {
		Name: "MalformedLines",
		Input: file(startRec("20240301"),
			personRec(n1, "01"),
			personRec("010101000", "01"),                                     // 3: 9 digits + blank
			personRec("01010100O1", "01"),                                    // 4: letter O
			personRec("3102020002", "01"),                                    // 5: 31 Feb
			personRec(n2, "9"),                                               // 6: short
			personRec(n2, "9x"),                                              // 7: status not digits
			personRec(n2, " 1"),                                              // 8: status blank digit
			protRec(n2, "003", "2020-01-01", ""),                             // 9: type not 4 digits
			protRec(n2, "0003", "2020-13-01", ""),                            // 10: bad start
			protRec(n2, "0003", "2020-1-01 ", ""),                            // 11: bad start form
			protRec(n2, "0003", "2020-01-01", "2021-02-29"),                  // 12: bad end
			protRec(n2, "0003", "2020-01-01", "2021-02"),                     // 13: partial end
			mkLine("015", fld{4, n2}, fld{14, "0003"}, fld{34, "2020-01-0"}), // 14: short
			mkLine("015", fld{4, n2}, fld{14, "0003"}, fld{22, "202313011030"}, fld{34, "2020-01-01"}), // 15: bad reg
			"01",     // 16: no record type
			"x01"+n1, // 17: not a record type
			protRec(n3, "0003", "2020-01-01", ""),
			endRec),
		Opt: ExtractOptions{MaxRejectRatio: 1},
		Want: []string{
			"2 person 0101010001 status=01",
			"18 protection 0303030003 type=0003 auth=0101 reg=2023-01-02T10:30 start=2020-01-01 end=open",
		},
		Stats: &ExtractStats{ProductionDate: date(2024, 3, 1), Lines: 19, Persons: 1, Protections: 1, Rejected: 15},
		Rejects: []rejectWant{
			{3, ErrNumber}, {4, ErrFormat}, {5, ErrDate}, {6, ErrShortLine}, {7, ErrStatus}, {8, ErrStatus},
			{9, ErrProtectionType}, {10, ErrBadDate}, {11, ErrBadDate}, {12, ErrBadDate}, {13, ErrBadDate},
			{14, ErrShortLine}, {15, ErrBadDate}, {16, ErrRecordType}, {17, ErrRecordType},
		},
	}, {
		Name:    "DefaultThresholdOneRejectInFew",
		Input:   file(startRec("20240301"), personRec(n1, "01"), personRec(n1, "x1"), endRec),
		Want:    []string{"2 person 0101010001 status=01"},
		Err:     ErrTooManyRejects,
		Rejects: []rejectWant{{3, ErrStatus}},
	}, {
		// 1 reject among 999 accepted + 1 rejected = exactly 0.1 %: accepted.
		Name:    "DefaultThresholdAtLimit",
		AnyWant: true,
		Input:   file(join([]string{startRec("20240301")}, many(999, personRec(n1, "01")), []string{personRec(n1, "x1"), endRec})...),
		Stats:   &ExtractStats{ProductionDate: date(2024, 3, 1), Lines: 1002, Persons: 999, Rejected: 1},
	}, {
		// 1 reject among 998 accepted + 1 rejected: just above 0.1 %.
		Name:    "DefaultThresholdJustAbove",
		AnyWant: true,
		Input:   file(join([]string{startRec("20240301")}, many(998, personRec(n1, "01")), []string{personRec(n1, "x1"), endRec})...),
		Err:     ErrTooManyRejects,
		Stats:   &ExtractStats{ProductionDate: date(2024, 3, 1), Lines: 1001, Persons: 998, Rejected: 1},
	}, {
		Name:    "CustomThresholdJustBelow",
		AnyWant: true,
		Input:   file(startRec("20240301"), personRec(n1, "01"), personRec(n1, "01"), personRec(n1, "01"), personRec(n1, "x1"), endRec),
		Opt:     ExtractOptions{MaxRejectRatio: 0.26},
		Stats:   &ExtractStats{ProductionDate: date(2024, 3, 1), Lines: 6, Persons: 3, Rejected: 1},
	}, {
		Name:    "CustomThresholdJustAbove",
		AnyWant: true,
		Input:   file(startRec("20240301"), personRec(n1, "01"), personRec(n1, "01"), personRec(n1, "01"), personRec(n1, "x1"), endRec),
		Opt:     ExtractOptions{MaxRejectRatio: 0.24},
		Err:     ErrTooManyRejects,
	}, {
		Name:    "NegativeThresholdZeroTolerance",
		AnyWant: true,
		Input:   file(join([]string{startRec("20240301")}, many(5000, personRec(n1, "01")), []string{personRec(n1, "x1"), endRec})...),
		Opt:     ExtractOptions{MaxRejectRatio: -1},
		Err:     ErrTooManyRejects,
	}, {
		Name:    "DataAfterEndIsRejected",
		Input:   file(startRec("20240301"), personRec(n1, "01"), endRec, "", personRec(n2, "01"), endRec),
		Opt:     ExtractOptions{MaxRejectRatio: 1},
		Want:    []string{"2 person 0101010001 status=01"},
		Stats:   &ExtractStats{ProductionDate: date(2024, 3, 1), Lines: 6, Persons: 1, Blank: 1, Rejected: 2},
		Rejects: []rejectWant{{5, ErrAfterEnd}, {6, ErrAfterEnd}},
	}, {
		Name:    "DataAfterEndDefaultThresholdRefused",
		Input:   file(startRec("20240301"), personRec(n1, "01"), endRec, personRec(n2, "01")),
		Want:    []string{"2 person 0101010001 status=01"},
		Err:     ErrTooManyRejects,
		Rejects: []rejectWant{{4, ErrAfterEnd}},
	}, {
		Name:    "OverlongLine",
		Input:   file(startRec("20240301"), protRec(n1, "0003", "2020-01-01", "2030-01-01")+strings.Repeat("x", 3<<20), mkLine("002", fld{4, strings.Repeat("y", 2<<20)}), personRec(n2, "01"), endRec),
		Opt:     ExtractOptions{MaxRejectRatio: 0.9},
		Want:    []string{"4 person " + n2 + " status=01"},
		Rejects: []rejectWant{{2, ErrLineTooLong}, {3, ErrLineTooLong}},
		Stats:   &ExtractStats{ProductionDate: date(2024, 3, 1), Lines: 5, Persons: 1, Rejected: 2},
	}}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			var got []string
			st, err := ParseExtract(strings.NewReader(tt.Input), tt.Opt, func(e Entry) error {
				got = append(got, entryString(e))
				return nil
			})
			if tt.Err == nil && err != nil {
				t.Fatalf("ParseExtract error: %v", err)
			}
			if tt.Err != nil && !errors.Is(err, tt.Err) {
				t.Fatalf("ParseExtract error = %v, want %v", err, tt.Err)
			}
			if err != nil {
				checkNoDigits(t, err.Error())
			}
			if !tt.AnyWant && !reflect.DeepEqual(got, tt.Want) {
				t.Errorf("entries:\n got  %q\n want %q", got, tt.Want)
			}
			if tt.Stats != nil {
				gs := st
				gs.Rejects = nil
				if !reflect.DeepEqual(gs, *tt.Stats) {
					t.Errorf("stats:\n got  %+v\n want %+v", gs, *tt.Stats)
				}
			}
			if tt.Rejects != nil {
				if len(st.Rejects) != len(tt.Rejects) {
					t.Fatalf("rejects = %v, want %d", st.Rejects, len(tt.Rejects))
				}
				for i, w := range tt.Rejects {
					r := st.Rejects[i]
					if r.Line != w.Line || !errors.Is(r, w.Err) {
						t.Errorf("reject %d = %v, want line %d: %v", i, r, w.Line, w.Err)
					}
					if !strings.HasPrefix(r.Error(), fmt.Sprintf("line %d: ", w.Line)) {
						t.Errorf("reject text %q lacks line prefix", r.Error())
					}
				}
			}
			for _, r := range st.Rejects {
				msg := strings.TrimPrefix(r.Error(), fmt.Sprintf("line %d: ", r.Line))
				checkNoDigits(t, msg)
			}
		})
	}
}

// checkNoDigits fails when s contains a run of 6 or more digits (any
// personal number or part of one).
func checkNoDigits(t *testing.T, s string) {
	t.Helper()
	run := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			run++
			if run >= 6 {
				t.Errorf("text %q contains a digit run", s)
				return
			}
		} else {
			run = 0
		}
	}
	for _, n := range []string{n1, n2, n3} {
		if strings.Contains(s, n[:6]) {
			t.Errorf("text %q contains a personal number", s)
		}
	}
}

func TestParseExtractErrorTexts(t *testing.T) {
	_, err := ParseExtract(strings.NewReader(file(startRec("20240301"), personRec(n1, "01"))), ExtractOptions{}, nil)
	if want := "input ends after line 2"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("truncated error %v lacks %q", err, want)
	}
	_, err = ParseExtract(strings.NewReader(file(startRec("20240301"), personRec(n1, "01"), personRec(n1, "x1"), endRec)), ExtractOptions{}, nil)
	var re *RejectError
	if !errors.As(err, &re) {
		t.Fatalf("error %v is not *RejectError", err)
	}
	if re.Rejected != 1 || re.Considered != 2 || re.Ratio != 0.5 || re.Threshold != DefaultMaxRejectRatio || len(re.First) != 1 {
		t.Errorf("RejectError = %+v", re)
	}
	if want := "line 3: status not 2 digits"; !strings.Contains(err.Error(), want) {
		t.Errorf("reject error %q lacks %q", err, want)
	}
}

func TestParseExtractEmitError(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	_, err := ParseExtract(strings.NewReader(file(startRec("20240301"), personRec(n1, "01"), personRec(n2, "01"), endRec)),
		ExtractOptions{}, func(Entry) error { calls++; return stop })
	if !errors.Is(err, stop) || !strings.Contains(err.Error(), "line 2") || calls != 1 {
		t.Errorf("err = %v, calls = %d", err, calls)
	}
}

// failSecondPass reads its text, but fails at the end of the second pass
// (the parse after the encoding pass).
type failSecondPass struct {
	*strings.Reader
	err    error
	passes int
}

func (f *failSecondPass) Seek(off int64, whence int) (int64, error) {
	if off == 0 && whence == io.SeekStart {
		f.passes++
	}
	return f.Reader.Seek(off, whence)
}

func (f *failSecondPass) Read(p []byte) (int, error) {
	n, err := f.Reader.Read(p)
	if err == io.EOF && f.passes >= 2 {
		return n, f.err
	}
	return n, err
}

func TestParseExtractReadError(t *testing.T) {
	boom := errors.New("boom")
	text := file(startRec("20240301"), personRec(n1, "01"))
	_, err := ParseExtract(&failSecondPass{Reader: strings.NewReader(text), err: boom}, ExtractOptions{}, nil)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("err = %v", err)
	}
	// In the encoding pass.
	_, err = ParseExtract(&failSecondPass{Reader: strings.NewReader(text), err: boom, passes: 1}, ExtractOptions{}, nil)
	if !errors.Is(err, boom) {
		t.Errorf("err = %v", err)
	}
}

// TestParseExtractEncoding: the extract follows the encoding rule of every
// CPR file. A Latin-1 or a UTF-8 extract parses the same, positions count
// characters in both, and one that mixes the two is refused naming the
// lines of each kind.
func TestParseExtractEncoding(t *testing.T) {
	// A 002 name record (skipped) with Danish letters, and a person record
	// whose filler before the status holds a letter: the status stays at
	// position 36 counted in characters.
	name := mkLine("002", fld{4, n1}, fld{14, "Testesen,Søren Ærø"})
	person := strings.Replace(mkLine("001", fld{4, n2}, fld{14, "A"}, fld{36, "90"}), "A", "Å", 1)
	utf := file(startRec("20240301"), name, person, endRec)
	lat := latin1(t, utf)
	want := []string{"3 person " + n2 + " status=90"}
	for _, tc := range []struct{ name, in string }{{"UTF8", utf}, {"Latin1", lat}, {"UTF8BOM", "\uFEFF" + utf}} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			st, err := ParseExtract(strings.NewReader(tc.in), ExtractOptions{}, func(e Entry) error {
				got = append(got, entryString(e))
				return nil
			})
			if err != nil || !reflect.DeepEqual(got, want) || st.Skipped != 1 || st.Rejected != 0 {
				t.Errorf("entries %q, stats %+v, err %v; want %q", got, st, err, want)
			}
		})
	}
	mixed := latin1(t, file(startRec("20240301"), name)) + file(person, name) + latin1(t, file(name, endRec))
	called := false
	_, err := ParseExtract(strings.NewReader(mixed), ExtractOptions{}, func(Entry) error { called = true; return nil })
	var ee *ingest.EncodingError
	if !errors.As(err, &ee) || called {
		t.Fatalf("mixed extract: err %v, emit called %v", err, called)
	}
	if !reflect.DeepEqual(ee.UTF8Lines, []int{3, 4}) || !reflect.DeepEqual(ee.InvalidLines, []int{2, 5}) {
		t.Errorf("EncodingError %+v", ee)
	}
	checkNoDigits(t, err.Error())
	if strings.Contains(err.Error(), "Testesen") {
		t.Errorf("error %q carries file content", err)
	}
}

// latin1 encodes s (runes up to U+00FF) as ISO 8859-1.
func latin1(t *testing.T, s string) string {
	t.Helper()
	var b []byte
	for _, r := range s {
		if r > 0xFF {
			t.Fatalf("%U not in ISO 8859-1", r)
		}
		b = append(b, byte(r))
	}
	return string(b)
}

func TestParseExtractRejectsCapped(t *testing.T) {
	lines := []string{startRec("20240301")}
	for i := 0; i < 150; i++ {
		lines = append(lines, personRec(n1, "xx"))
	}
	lines = append(lines, endRec)
	st, err := ParseExtract(strings.NewReader(file(lines...)), ExtractOptions{}, nil)
	var re *RejectError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v", err)
	}
	if st.Rejected != 150 || len(st.Rejects) != MaxRecordedRejects || len(re.First) != MaxRecordedRejects || st.Rejects[99].Line != 101 {
		t.Errorf("Rejected=%d len(Rejects)=%d", st.Rejected, len(st.Rejects))
	}
}

func TestParseExtractProgress(t *testing.T) {
	lines := []string{startRec("20240301")}
	for i := 0; i < ProgressInterval+10; i++ {
		lines = append(lines, personRec(n1, "01"))
	}
	lines = append(lines, endRec)
	var calls []int
	_, err := ParseExtract(strings.NewReader(file(lines...)), ExtractOptions{Progress: func(n int) { calls = append(calls, n) }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{ProgressInterval, ProgressInterval + 12}; !reflect.DeepEqual(calls, want) {
		t.Errorf("progress calls = %v, want %v", calls, want)
	}
}

func TestParseExtractLine(t *testing.T) {
	tests := []struct {
		Name  string
		Line  string
		Kind  RecordKind
		Entry string
		Prod  time.Time
		Err   error
	}{
		{Name: "Blank", Line: "  \t\r\n", Kind: RecordBlank},
		{Name: "Empty", Line: "", Kind: RecordBlank},
		{Name: "Start", Line: startRec("20000229") + "\r\n", Kind: RecordStart, Prod: date(2000, 2, 29)},
		{Name: "StartBadLeap", Line: startRec("19000229"), Kind: RecordStart, Err: ErrBadDate},
		{Name: "End", Line: "999\n", Kind: RecordEnd},
		{Name: "EndWithTrailer", Line: "999 000123", Kind: RecordEnd},
		{Name: "Other", Line: "002\xff\xfe", Kind: RecordOther},
		{Name: "Person", Line: personRec(n1, "90") + "\n", Kind: RecordPerson, Entry: "7 person 0101010001 status=90"},
		{Name: "PersonHyphenNumber", Line: mkLine("001", fld{4, "010101-0001"}, fld{36, "01"}), Kind: RecordPerson, Err: ErrFormat},
		{Name: "PersonBlankNumber", Line: mkLine("001", fld{36, "01"}), Kind: RecordPerson, Err: ErrNumber},
		{Name: "Protection", Line: protRec(n2, "0003", "2020-02-29", "2024-02-29"), Kind: RecordProtection,
			Entry: "7 protection 0202020002 type=0003 auth=0101 reg=2023-01-02T10:30 start=2020-02-29 end=2024-02-29"},
		{Name: "ProtectionLatin1Tail", Line: protRec(n2, "0003", "2020-02-29", "") + "   \xe6\xf8", Kind: RecordProtection, Err: ErrBadDate},
		{Name: "ProtectionEndYear1Rejected", Line: protRec(n2, "0003", "2020-01-01", "0001-01-01"), Kind: RecordProtection, Err: ErrBadDate},
		{Name: "ProtectionStartYear1899Rejected", Line: protRec(n2, "0003", "1899-12-31", ""), Kind: RecordProtection, Err: ErrBadDate},
		{Name: "ProtectionEnd9999", Line: protRec(n2, "0003", "1900-01-01", "9999-12-31"), Kind: RecordProtection,
			Entry: "7 protection 0202020002 type=0003 auth=0101 reg=2023-01-02T10:30 start=1900-01-01 end=9999-12-31"},
		{Name: "Invalid", Line: "A01", Kind: RecordInvalid, Err: ErrRecordType},
		{Name: "InvalidShort", Line: "0", Kind: RecordInvalid, Err: ErrRecordType},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			rec, err := ParseExtractLine([]byte(tt.Line), 7)
			if rec.Kind != tt.Kind {
				t.Errorf("Kind = %v, want %v", rec.Kind, tt.Kind)
			}
			if tt.Err != nil {
				var le *LineError
				if !errors.Is(err, tt.Err) || !errors.As(err, &le) || le.Line != 7 {
					t.Fatalf("err = %v, want line 7 %v", err, tt.Err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tt.Entry != "" {
				if got := entryString(rec.Entry); got != tt.Entry {
					t.Errorf("entry = %q, want %q", got, tt.Entry)
				}
			}
			if !rec.ProductionDate.Equal(tt.Prod) {
				t.Errorf("ProductionDate = %v, want %v", rec.ProductionDate, tt.Prod)
			}
		})
	}
}

func TestProtectionActiveOn(t *testing.T) {
	cph, err := time.LoadLocation("Europe/Copenhagen")
	if err != nil {
		cph = time.FixedZone("CET", 3600)
	}
	closed := Protection{Type: ProtectionMarketing, Start: date(2024, 3, 10), End: date(2024, 6, 1)}
	open := Protection{Type: ProtectionMarketing, Start: date(2024, 3, 10)}
	tests := []struct {
		Name string
		P    Protection
		D    time.Time
		Want bool
	}{
		{"DayBeforeStart", closed, date(2024, 3, 9), false},
		{"LastSecondBeforeStart", closed, time.Date(2024, 3, 9, 23, 59, 59, 0, time.UTC), false},
		{"StartDay", closed, date(2024, 3, 10), true},
		{"StartDayEvening", closed, time.Date(2024, 3, 10, 23, 0, 0, 0, time.UTC), true},
		{"Middle", closed, date(2024, 4, 15), true},
		{"DayBeforeEnd", closed, time.Date(2024, 5, 31, 23, 59, 0, 0, time.UTC), true},
		{"EndDayNotActive", closed, date(2024, 6, 1), false},
		{"EndDayNoonNotActive", closed, time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC), false},
		{"AfterEnd", closed, date(2025, 1, 1), false},
		// 00:30 in Copenhagen on 1 June is still 31 May in UTC; the calendar
		// date of d in its own location counts.
		{"EndDayInLocalTime", closed, time.Date(2024, 6, 1, 0, 30, 0, 0, cph), false},
		{"StartDayInLocalTime", closed, time.Date(2024, 3, 10, 0, 30, 0, 0, cph), true},
		{"OpenBeforeStart", open, date(2024, 3, 9), false},
		{"OpenStartDay", open, date(2024, 3, 10), true},
		{"OpenFarFuture", open, date(2999, 12, 31), true},
		{"EndBeforeStartNeverActive", Protection{Start: date(2024, 3, 10), End: date(2024, 3, 1)}, date(2024, 3, 10), false},
		{"EndEqualsStartNeverActive", Protection{Start: date(2024, 3, 10), End: date(2024, 3, 10)}, date(2024, 3, 10), false},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			if got := tt.P.ActiveOn(tt.D); got != tt.Want {
				t.Errorf("ActiveOn(%v) = %v, want %v", tt.D, got, tt.Want)
			}
		})
	}
}

func TestPerson(t *testing.T) {
	num, _ := Parse(n1)
	on := date(2024, 3, 10)
	tests := []struct {
		Name      string
		Entries   []Entry
		Deceased  bool
		Marketing bool
	}{
		{Name: "Nothing"},
		{Name: "Active", Entries: []Entry{{Kind: EntryPerson, Number: num, Status: "01"}}},
		{Name: "Deceased", Entries: []Entry{{Kind: EntryPerson, Number: num, Status: StatusDeceased}}, Deceased: true},
		{Name: "LastStatusWins", Entries: []Entry{
			{Kind: EntryPerson, Status: StatusDeceased}, {Kind: EntryPerson, Status: "01"}}},
		{Name: "MarketingActive", Entries: []Entry{
			{Kind: EntryProtection, Protection: Protection{Type: ProtectionMarketing, Start: on}}}, Marketing: true},
		{Name: "MarketingEnded", Entries: []Entry{
			{Kind: EntryProtection, Protection: Protection{Type: ProtectionMarketing, Start: date(2020, 1, 1), End: on}}}},
		{Name: "MarketingFuture", Entries: []Entry{
			{Kind: EntryProtection, Protection: Protection{Type: ProtectionMarketing, Start: on.AddDate(0, 0, 1)}}}},
		{Name: "NameAddressOnlyIsNotMarketing", Entries: []Entry{
			{Kind: EntryProtection, Protection: Protection{Type: ProtectionNameAddress, Start: date(2020, 1, 1)}}}},
		{Name: "OneOfSeveral", Entries: []Entry{
			{Kind: EntryPerson, Status: "01"},
			{Kind: EntryProtection, Protection: Protection{Type: ProtectionMarketing, Start: date(2020, 1, 1), End: date(2021, 1, 1)}},
			{Kind: EntryProtection, Protection: Protection{Type: ProtectionResearch, Start: date(2020, 1, 1)}},
			{Kind: EntryProtection, Protection: Protection{Type: ProtectionMarketing, Start: date(2023, 1, 1)}},
		}, Marketing: true},
		{Name: "UnknownKindIgnored", Entries: []Entry{{Kind: 0, Status: StatusDeceased}}},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			var p Person
			for _, e := range tt.Entries {
				p.Add(e)
			}
			if got := p.Deceased(); got != tt.Deceased {
				t.Errorf("Deceased = %v, want %v", got, tt.Deceased)
			}
			if got := p.MarketingProtectedOn(on); got != tt.Marketing {
				t.Errorf("MarketingProtectedOn = %v, want %v", got, tt.Marketing)
			}
		})
	}
}
