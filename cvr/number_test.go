package cvr

import (
	"errors"
	"testing"
)

func TestParseNumber(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Number
		err  error
	}{
		{name: "plain", in: "10000009", want: 10000009},
		{name: "blanks around", in: "  12345674 ", want: 12345674},
		{name: "groups of two", in: "12 34 56 74", want: 12345674},
		{name: "VAT form", in: "DK10000009", want: 10000009},
		{name: "VAT form lower case with hyphen", in: "dk-10000009", want: 10000009},
		{name: "VAT form with blank", in: "DK 30 49 87 63", want: 30498763},
		{name: "check digit wrong", in: "12345678", err: ErrCVRCheck},
		{name: "check digit wrong by one", in: "24256791", err: ErrCVRCheck},
		{name: "all zeros", in: "00000000", err: ErrCVRCheck},
		{name: "seven digits", in: "1234567", err: ErrCVRFormat},
		{name: "nine digits", in: "123456740", err: ErrCVRFormat},
		{name: "letter inside", in: "1234567A", err: ErrCVRFormat},
		{name: "hyphen inside", in: "1234-5674", err: ErrCVRFormat},
		{name: "empty", in: "", err: ErrCVRFormat},
		{name: "P-number", in: "1003456789", err: ErrCVRFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNumber(tt.in)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Fatalf("ParseNumber(%q) = %v, %v; want %v, %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestNumberOf(t *testing.T) {
	tests := []struct {
		name string
		in   uint64
		want Number
		err  error
	}{
		{name: "valid", in: 10000009, want: 10000009},
		{name: "leading zeros count as digits", in: 9, err: ErrCVRCheck},
		{name: "zero", in: 0, err: ErrCVRCheck},
		{name: "too long", in: 110000009, err: ErrCVRFormat},
		{name: "check fails", in: 24256791, err: ErrCVRCheck},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NumberOf(tt.in)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Fatalf("NumberOf(%d) = %v, %v; want %v, %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
	if s := Number(30498763).String(); s != "30498763" {
		t.Errorf("String = %q", s)
	}
}

func TestParsePNumber(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want PNumber
		err  error
	}{
		{name: "plain", in: "1003456789", want: 1003456789},
		{name: "blanks", in: " 10 0345 6789 ", want: 1003456789},
		{name: "leading zero", in: "0123456789", err: ErrPNumberFormat},
		{name: "nine digits", in: "100345678", err: ErrPNumberFormat},
		{name: "eleven digits", in: "10034567890", err: ErrPNumberFormat},
		{name: "zeros", in: "0000000000", err: ErrPNumberFormat},
		{name: "letter", in: "100345678X", err: ErrPNumberFormat},
		{name: "empty", in: "", err: ErrPNumberFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePNumber(tt.in)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Fatalf("ParsePNumber(%q) = %v, %v; want %v, %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
	if s := PNumber(1003456789).String(); s != "1003456789" {
		t.Errorf("String = %q", s)
	}
}

// TestDigits: the digits of a CVR number as written, without the check
// digit test (the suppression list honours an entry as written).
func TestDigits(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"plain", "12345678", "12345678", nil},
		{"check digit not required", "12345679", "12345679", nil},
		{"grouped", "12 34 56 78", "12345678", nil},
		{"no-break spaces", "12\u00a034\u00a056\u00a078", "12345678", nil},
		{"VAT form", "DK12345678", "12345678", nil},
		{"VAT form with dash", "dk-12345678", "12345678", nil},
		{"VAT form with blank and dash", "DK - 12345678", "12345678", nil},
		{"seven digits", "1234567", "", ErrCVRFormat},
		{"nine digits", "123456789", "", ErrCVRFormat},
		{"letter inside", "1234x678", "", ErrCVRFormat},
		{"dash inside", "1234-5678", "", ErrCVRFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Digits(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Digits(%q) error %v, want %v", tt.in, err, tt.err)
			}
			if err == nil && string(d[:]) != tt.want {
				t.Errorf("Digits(%q) = %s, want %s", tt.in, d[:], tt.want)
			}
		})
	}
}
