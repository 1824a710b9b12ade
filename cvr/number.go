package cvr

import (
	"errors"
	"fmt"
	"strconv"
)

// Number is a CVR number (company number): 8 digits whose modulus-11
// check with the weights 2, 7, 6, 5, 4, 3, 2, 1 holds. The zero Number is
// no valid number.
type Number uint32

// PNumber is a P-number (produktionsenhedsnummer), the number of one
// workplace of a company: 10 digits, the first not 0 (as a JSON number
// it has no leading zeros to keep). The zero PNumber is no valid number.
type PNumber uint64

// Reasons a number is not valid, found with errors.Is. Their text never
// contains the number.
var (
	// ErrCVRFormat: not 8 digits (after an optional "DK" prefix and
	// blanks between digits).
	ErrCVRFormat = errors.New("cvr: the CVR number is not 8 digits")
	// ErrCVRCheck: 8 digits whose modulus-11 check fails.
	ErrCVRCheck = errors.New("cvr: the CVR number fails the modulus-11 check")
	// ErrPNumberFormat: not 10 digits.
	ErrPNumberFormat = errors.New("cvr: the P-number is not 10 digits")
)

// cvrWeights are the modulus-11 weights of the 8 digits of a CVR number.
var cvrWeights = [8]int{2, 7, 6, 5, 4, 3, 2, 1}

// ParseNumber reads a CVR number as a contact list writes it: 8 digits,
// optionally preceded by "DK" (the VAT form "DK12345678", also "DK-" or
// "DK "), with blanks (also no-break spaces) around and between digit
// groups ("12 34 56 78").
// It returns ErrCVRFormat when there are not exactly 8 digits (or other
// characters), ErrCVRCheck when the modulus-11 check fails.
func ParseNumber(s string) (Number, error) {
	var d [8]byte
	n, ok := digits(trimDK(s), d[:])
	if !ok || n != 8 {
		return 0, ErrCVRFormat
	}
	return numberOf(d)
}

// Digits returns the 8 digits (ASCII '0'-'9') of a CVR number written as
// ParseNumber reads it, without the modulus-11 check: for a list that
// honours a number as written (the suppression list). It returns
// ErrCVRFormat when there are not exactly 8 digits (or other characters).
func Digits(s string) ([8]byte, error) {
	var d [8]byte
	n, ok := digits(trimDK(s), d[:])
	if !ok || n != 8 {
		return d, ErrCVRFormat
	}
	for i := range d {
		d[i] += '0'
	}
	return d, nil
}

// numberOf checks 8 digits and returns their Number.
func numberOf(d [8]byte) (Number, error) {
	sum, v := 0, uint32(0)
	for i, c := range d {
		sum += int(c) * cvrWeights[i]
		v = v*10 + uint32(c)
	}
	if sum%11 != 0 || v == 0 {
		return 0, ErrCVRCheck
	}
	return Number(v), nil
}

// NumberOf returns v as a Number: ErrCVRFormat when v has more than 8
// digits, ErrCVRCheck when its 8 digits (with leading zeros) fail the
// modulus-11 check or v is 0.
func NumberOf(v uint64) (Number, error) {
	if v > 99999999 {
		return 0, ErrCVRFormat
	}
	var d [8]byte
	for i := 7; i >= 0; i-- {
		d[i] = byte(v % 10)
		v /= 10
	}
	return numberOf(d)
}

// String returns the number's 8 digits.
func (n Number) String() string { return fmt.Sprintf("%08d", uint32(n)) }

// ParsePNumber reads a P-number: 10 digits, the first not 0, blanks
// around and between digit groups allowed. It returns ErrPNumberFormat
// otherwise.
func ParsePNumber(s string) (PNumber, error) {
	var d [10]byte
	n, ok := digits(s, d[:])
	if !ok || n != 10 {
		return 0, ErrPNumberFormat
	}
	var v uint64
	for _, c := range d {
		v = v*10 + uint64(c)
	}
	return PNumberOf(v)
}

// PNumberOf returns v as a PNumber; ErrPNumberFormat unless v has
// exactly 10 digits.
func PNumberOf(v uint64) (PNumber, error) {
	if v < 1000000000 || v > 9999999999 {
		return 0, ErrPNumberFormat
	}
	return PNumber(v), nil
}

// String returns the P-number's 10 digits.
func (p PNumber) String() string { return fmt.Sprintf("%010d", uint64(p)) }

// trimDK drops leading blanks and a leading "DK" (any case) with the
// blanks or dash after it ("DK12345678", "DK-12345678", "DK 12345678").
func trimDK(s string) string {
	i := 0
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	if len(s)-i >= 2 && (s[i]|0x20) == 'd' && (s[i+1]|0x20) == 'k' {
		i += 2
		for i < len(s) && (isBlank(s[i]) || s[i] == '-') {
			i++
		}
	}
	return s[i:]
}

// digits copies the decimal digits of s into d (as values 0-9) and
// returns how many there are, skipping blanks wherever they stand; ok is
// false for any character other than a digit or a blank, and for more
// digits than d holds.
func digits(s string, d []byte) (n int, ok bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if n == len(d) {
				return n, false
			}
			d[n] = c - '0'
			n++
		case isBlank(c):
		case c == 0xc2 && i+1 < len(s) && s[i+1] == 0xa0: // U+00A0, the no-break space spreadsheets group digits with
			i++
		default:
			return n, false
		}
	}
	return n, true
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// parseUint reads a run of ASCII digits (at most 19) as a number.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(string(b), 10, 64)
	return v, err == nil
}
