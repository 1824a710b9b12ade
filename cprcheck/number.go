package cprcheck

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Number is a CPR personal number: 10 ASCII digits (DDMMYYSSSS). It is
// personal data: its String, Format, LogValue and MarshalText methods all
// return the redacted form "cpr:**********"; use [Number.Digits] to get the
// digits explicitly. The zero Number is not a valid personal number; obtain
// Numbers from [Parse] or from the extract parser.
type Number [10]byte

// redacted is the text every formatting path of Number produces.
const redacted = "cpr:**********"

// ErrFormat reports a personal number that is not 10 digits in the form
// DDMMYYSSSS or DDMMYY-SSSS. It is the Reason of a *ParseError.
var ErrFormat = errors.New("not ten digits in the form DDMMYYSSSS or DDMMYY-SSSS")

// ErrDate reports a personal number whose first six digits are not a real
// calendar date under the CPR century rule. It is the Reason of a *ParseError.
var ErrDate = errors.New("not a real date under the CPR century rule")

// ParseError is the error returned by [Parse]. Reason is [ErrFormat] or
// [ErrDate]; errors.Is(err, ErrFormat) and errors.Is(err, ErrDate) work. The
// error text never contains the input. Parse returns shared *ParseError
// values; callers must not modify them.
type ParseError struct {
	Reason error
}

// Error returns a message naming the reason but never the input.
func (e *ParseError) Error() string {
	return "cprcheck: invalid personal number: " + e.Reason.Error()
}

// Unwrap returns Reason.
func (e *ParseError) Unwrap() error { return e.Reason }

// Preallocated so that Parse does not allocate, even for invalid input.
var (
	errParseFormat = &ParseError{Reason: ErrFormat}
	errParseDate   = &ParseError{Reason: ErrDate}
)

// Parse parses a personal number written "DDMMYYSSSS" or "DDMMYY-SSSS".
// Blanks (spaces, tabs, no-break spaces U+00A0) around the number are
// trimmed; nothing inside is. It returns a *ParseError wrapping [ErrFormat]
// when the input is not exactly 10 ASCII digits (after removing one optional
// hyphen at index 6), or wrapping [ErrDate] when the digits do not form a real
// date under the century rule. A number failing modulus 11 is valid.
// Parse does not allocate.
func Parse(s string) (Number, error) {
	s = trimBlanks(s)
	var n Number
	switch len(s) {
	case 10:
		copy(n[:], s)
	case 11:
		if s[6] != '-' {
			return Number{}, errParseFormat
		}
		copy(n[:6], s[:6])
		copy(n[6:], s[7:])
	default:
		return Number{}, errParseFormat
	}
	if err := n.check(); err != nil {
		return Number{}, err
	}
	return n, nil
}

// parseField parses a personal number stored as exactly 10 digits with
// nothing around it, as in the CPR extract.
func parseField(b []byte) (Number, error) {
	var n Number
	if len(b) != 10 {
		return Number{}, errParseFormat
	}
	copy(n[:], b)
	if err := n.check(); err != nil {
		return Number{}, err
	}
	return n, nil
}

// check validates digits and date.
func (n *Number) check() error {
	for _, c := range n {
		if c < '0' || c > '9' {
			return errParseFormat
		}
	}
	if _, _, _, ok := n.date(); !ok {
		return errParseDate
	}
	return nil
}

// trimBlanks removes spaces, tabs and no-break spaces (UTF-8 "\u00a0", or a
// lone Latin-1 0xA0 byte) around s.
func trimBlanks(s string) string {
	for len(s) > 0 {
		switch {
		case s[0] == ' ' || s[0] == '\t' || s[0] == 0xA0:
			s = s[1:]
		case len(s) >= 2 && s[0] == 0xC2 && s[1] == 0xA0:
			s = s[2:]
		default:
			goto right
		}
	}
right:
	for len(s) > 0 {
		last := s[len(s)-1]
		switch {
		case last == ' ' || last == '\t':
			s = s[:len(s)-1]
		case last == 0xA0 && len(s) >= 2 && s[len(s)-2] == 0xC2:
			s = s[:len(s)-2]
		case last == 0xA0:
			s = s[:len(s)-1]
		default:
			return s
		}
	}
	return s
}

func d2(a, b byte) int { return int(a-'0')*10 + int(b-'0') }

// century returns the century of a birth year from the 7th digit (first
// serial digit, 0-9) and the two-digit year yy, per data-formats.md section 3.
func century(serial1, yy int) int {
	switch {
	case serial1 <= 3:
		return 1900
	case serial1 == 4 || serial1 == 9:
		if yy <= 36 {
			return 2000
		}
		return 1900
	default: // 5-8
		if yy <= 57 {
			return 2000
		}
		return 1800
	}
}

// date returns the birth date of n; ok is false when n is not 10 digits or
// not a real date.
func (n *Number) date() (year, month, day int, ok bool) {
	for _, c := range n {
		if c < '0' || c > '9' {
			return 0, 0, 0, false
		}
	}
	day = d2(n[0], n[1])
	month = d2(n[2], n[3])
	yy := d2(n[4], n[5])
	year = century(int(n[6]-'0'), yy) + yy
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return 0, 0, 0, false
	}
	return year, month, day, true
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(year, month int) int {
	switch month {
	case 2:
		if isLeap(year) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	default:
		return 31
	}
}

// BirthDate returns the birth date encoded in n at midnight UTC, with the
// century chosen by the CPR century rule. It returns the zero time.Time when
// n is not a valid personal number (for example the zero Number).
func (n Number) BirthDate() time.Time {
	y, m, d, ok := n.date()
	if !ok {
		return time.Time{}
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
}

// mod11Weights are the CPR modulus-11 weights.
var mod11Weights = [10]int{4, 3, 2, 7, 6, 5, 4, 3, 2, 1}

// Mod11 reports whether n passes the modulus-11 check (weights
// 4,3,2,7,6,5,4,3,2,1). It is informational only: numbers failing it are
// valid. It returns false when n is not 10 digits.
func (n Number) Mod11() bool {
	sum := 0
	for i, c := range n {
		if c < '0' || c > '9' {
			return false
		}
		sum += int(c-'0') * mod11Weights[i]
	}
	return sum%11 == 0
}

// Digits returns the 10 digits of n without separator. It is the only method
// that reveals the number; use it deliberately (pseudonymisation, hashing),
// never for logging.
func (n Number) Digits() string { return string(n[:]) }

// String returns the redacted form "cpr:**********", so that a Number can
// never leak through %v, %s or a log line.
func (n Number) String() string { return redacted }

// GoString returns the redacted form too (used by %#v when Format is
// bypassed, e.g. by other printers).
func (n Number) GoString() string { return redacted }

// Format implements fmt.Formatter: every verb and flag prints the redacted
// form ("%q" prints it quoted).
func (n Number) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = f.Write([]byte(`"` + redacted + `"`))
		return
	}
	_, _ = f.Write([]byte(redacted))
}

// LogValue implements slog.LogValuer with the redacted form.
func (n Number) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText implements encoding.TextMarshaler with the redacted form, so
// that encoding/json (and slog's JSON handler) cannot leak the digits. It
// never returns an error. There is deliberately no UnmarshalText.
func (n Number) MarshalText() ([]byte, error) { return []byte(redacted), nil }
