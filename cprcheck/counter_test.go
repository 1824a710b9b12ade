package cprcheck

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// endRecCounter is a 999 record with a blank sort field and counter at
// position 27 (length 8) holding c as it is.
func endRecCounter(c string) string { return mkLine("999", fld{27, c}) }

// bigExtract is an extract of a 000 record, n records (persons, a
// protection for each tenth, an address record of another type, a blank
// line every 100 lines), without its 999 record; it returns the lines and
// the number of records between 000 and 999.
func bigExtract(n int) (lines []string, records int) {
	lines = append(lines, startRec("20240301"))
	for i := 0; len(lines)-1 < n; i++ {
		num := n1
		if i%2 == 1 {
			num = n2
		}
		switch {
		case i%100 == 99:
			lines = append(lines, "") // blank: not a record
			continue
		case i%10 == 3:
			lines = append(lines, protRec(num, "0003", "2020-01-01", ""))
		case i%10 == 7:
			lines = append(lines, "002"+num+"  address record, skipped")
		default:
			lines = append(lines, personRec(num, "01"))
		}
		records++
	}
	return lines, records
}

func TestParseExtractCounter(t *testing.T) {
	body := []string{startRec("20240301"), personRec(n1, "01"), protRec(n1, "0003", "2020-01-01", ""),
		"002" + n2 + "  address record, skipped", "", personRec(n2, "90")}
	const between = 4 // records between 000 and 999; the blank line is none
	with := func(end string) string { return file(append(append([]string(nil), body...), end)...) }

	big, bigN := bigExtract(2000)
	// The cut extract: lines 2-1450 removed, the 999 record (counting the
	// whole file) kept.
	cut := append([]string{big[0]}, big[1450:]...)
	cutEnd := endRecCounter(fmt.Sprintf("%08d", bigN))
	cutN := 0
	for _, l := range cut[1:] {
		if l != "" {
			cutN++
		}
	}

	tests := []struct {
		name    string
		input   string
		err     bool // refused with a *CounterError
		counter int  // the counter named in the error
		records int  // the records between 000 and 999 named in the error
	}{
		{name: "exact, records between 000 and 999", input: with(endRecCounter("00000004"))},
		{name: "exact, counting 000 and 999 too", input: with(endRecCounter("00000006"))},
		{name: "exact, blank-padded digits", input: with(endRecCounter("       4"))},
		{name: "exact, large extract", input: file(append(big, endRecCounter(fmt.Sprintf("%08d", bigN)))...)},
		{name: "exact, large extract counting the two", input: file(append(big, endRecCounter(fmt.Sprintf("%08d", bigN+2)))...)},
		{name: "one short", input: with(endRecCounter("00000003")), err: true, counter: 3, records: between},
		{name: "one over", input: with(endRecCounter("00000005")), err: true, counter: 5, records: between},
		{name: "one over counting the two", input: with(endRecCounter("00000007")), err: true, counter: 7, records: between},
		{name: "zero", input: with(endRecCounter("00000000")), err: true, counter: 0, records: between},
		{name: "cut extract keeping its 999 (lines 2-1450 removed)", input: file(append(cut, cutEnd)...), err: true, counter: bigN, records: cutN},
		{name: "blank counter", input: with(endRecCounter("        "))},
		{name: "no counter field (line ends early)", input: with("999")},
		{name: "sort field only, counter blank", input: with(mkLine("999", fld{4, "00000004"}))},
		{name: "non-digit counter", input: with(endRecCounter("0000000X")), err: true},
		{name: "letters in the counter", input: with(endRecCounter("ANTAL 12")), err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseExtract(strings.NewReader(tt.input), ExtractOptions{}, nil)
			if !tt.err {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ce *CounterError
			if !errors.As(err, &ce) || !errors.Is(err, ErrCounter) {
				t.Fatalf("err = %v, want a *CounterError", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "999 record counter") {
				t.Errorf("%q does not name the counter", msg)
			}
			if !ce.NotNumber {
				if ce.Counter != tt.counter {
					t.Errorf("Counter = %d, want %d", ce.Counter, tt.counter)
				}
				if !strings.Contains(msg, fmt.Sprintf("says %d records", tt.counter)) {
					t.Errorf("%q does not name the counter's value %d", msg, tt.counter)
				}
			}
			if tt.records != 0 {
				if ce.Between != tt.records || ce.WithEnds != tt.records+2 {
					t.Errorf("Between, WithEnds = %d, %d, want %d, %d", ce.Between, ce.WithEnds, tt.records, tt.records+2)
				}
			}
			if !strings.Contains(msg, fmt.Sprintf("holds %d records", ce.Between)) {
				t.Errorf("%q does not name the records counted (%d)", msg, ce.Between)
			}
			for _, n := range []string{n1, n2} {
				if strings.Contains(msg, n[:6]) {
					t.Errorf("%q holds a personal number", msg)
				}
			}
		})
	}
}
