package roads

import (
	"errors"
	"strings"

	"github.com/robinscreen/robinscreen/ingest"
	"github.com/robinscreen/robinscreen/robinson"
)

// Record types of the road register (data-formats.md section 5).
const (
	TypeHeader   = "000"
	TypeRoad     = "001" // active road
	TypeDistrict = "004" // postal district
	TypeEarlier  = "016" // earlier name
	TypeTrailer  = "999"
)

// Kind says what a line is.
type Kind uint8

// Line kinds. ParseLine returns KindSkipped for every well-formed record
// type it does not use (other districts, housing, notes).
const (
	KindSkipped Kind = iota
	KindHeader
	KindTrailer
	KindRoad
	KindDistrict
	KindEarlier
)

// Parity restricts a postal district to even or odd house numbers.
type Parity uint8

// Parities: CPR writes `L` (lige) for even, `U` (ulige) for odd and a
// blank for both.
const (
	Both Parity = iota
	Even
	Odd
)

// String returns "L", "U" or "" as CPR writes it.
func (p Parity) String() string {
	switch p {
	case Even:
		return "L"
	case Odd:
		return "U"
	}
	return ""
}

// Holds reports whether number n has the parity.
func (p Parity) Holds(n int) bool {
	switch p {
	case Even:
		return n%2 == 0
	case Odd:
		return n%2 != 0
	}
	return true
}

// HouseNumber is a house number of a postal district's range: its number
// part and an optional upper-case letter ("012B" is {12, 'B'}). Ranges
// compare number parts only.
type HouseNumber struct {
	Number int
	Letter byte // 0 when there is none
}

// String writes the number as CPR does, zero-padded: "0012", "012B".
func (h HouseNumber) String() string {
	var b [4]byte
	n, w := h.Number, 4
	if h.Letter != 0 {
		w = 3
		b[3] = h.Letter
	}
	for i := w - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[:])
}

// Entry is one parsed line. Kind says which of the fields are set; Road is
// set for KindRoad, KindDistrict and KindEarlier.
type Entry struct {
	Kind Kind
	// Type is the record type as written ("001").
	Type string
	Road robinson.RoadID
	// Names (KindRoad, KindEarlier): the addressing name (at most 20
	// characters, abbreviated) and the full street name, blanks trimmed;
	// one of them may be empty, not both.
	AddressingName, Name string
	// District (KindDistrict).
	District District
	// Header (KindHeader): the first yyyymmdd date in the record, zero if
	// none; it dates the file.
	Date Date
}

// Date is a calendar date from a header; the zero Date is no date.
type Date struct{ Year, Month, Day int }

// IsZero reports whether d is no date.
func (d Date) IsZero() bool { return d == Date{} }

// District is a postal-district record: the house numbers from From to To
// (number parts, inclusive) with Parity lie in Postcode.
type District struct {
	From, To HouseNumber
	Parity   Parity
	Postcode string
	// Name is the post district's name ("København Ø"), blanks trimmed.
	Name string
}

// Holds reports whether house number n (a number part) lies in the range
// and has its parity.
func (d *District) Holds(n int) bool {
	return d.From.Number <= n && n <= d.To.Number && d.Parity.Holds(n)
}

// Field positions, 1-based as in data-formats.md section 5, and lengths.
type field struct{ pos, len int }

var (
	fType    = field{1, 3}
	fKommune = field{4, 4}
	fVej     = field{8, 4}

	fRoadAddressing = field{52, 20}
	fRoadName       = field{72, 40}

	fDistFrom     = field{12, 4}
	fDistTo       = field{16, 4}
	fDistParity   = field{20, 1}
	fDistPostcode = field{33, 4}
	fDistName     = field{37, 20}

	fEarlierAddressing = field{48, 20}
	fEarlierName       = field{68, 40}
)

// Reasons for rejecting a line. They never contain text from the line.
var (
	errType = errors.New("record type not 3 digits")
	//lint:ignore ST1005 the message starts with the CPR field name, written as CPR writes it
	errKommune = errors.New("Kommunekode not 4 digits (or 0000)")
	//lint:ignore ST1005 the message starts with the CPR field name, written as CPR writes it
	errVej      = errors.New("Vejkode not 4 digits (or 0000)")
	errNoName   = errors.New("no addressing name and no street name")
	errFrom     = errors.New("house number from not a house number (4 characters: digits and an optional letter)")
	errTo       = errors.New("house number to not a house number (4 characters: digits and an optional letter)")
	errRange    = errors.New("house number from above house number to")
	errParity   = errors.New("even/odd not L, U or blank")
	errPostcode = errors.New("postcode not 4 digits")
)

// ParseLine parses one line of the road register, decoded to UTF-8 and
// without its line end (ingest.Lines yields such lines). Positions count
// characters, so a file re-saved as UTF-8 reads as its ISO 8859-1
// original. A line may be shorter than its record's full width (trailing
// blanks trimmed): missing fields are blank, and characters after the
// fields read are ignored. It returns an error (never quoting the line)
// for a malformed line: a record type that is not 3 digits; a 001, 004 or
// 016 record whose Kommunekode or Vejkode is not 4 digits or is 0000; a
// 001 or 016 record without a name; a 004 record with a bad house number,
// range, parity or postcode. Records of other types are KindSkipped
// without looking further.
func ParseLine(line []byte) (Entry, error) {
	var e Entry
	get := func(f field) string { return string(ingest.Field(line, f.pos, f.len)) }
	e.Type = get(fType)
	if !allDigits(e.Type, 3) {
		return e, errType
	}
	switch e.Type {
	case TypeHeader:
		e.Kind = KindHeader
		e.Date = findDate(line)
		return e, nil
	case TypeTrailer:
		e.Kind = KindTrailer
		return e, nil
	case TypeRoad, TypeDistrict, TypeEarlier:
	default:
		e.Kind = KindSkipped
		return e, nil
	}
	k, ok := code(get(fKommune))
	if !ok {
		return e, errKommune
	}
	v, ok := code(get(fVej))
	if !ok {
		return e, errVej
	}
	e.Road = robinson.RoadID{Kommune: k, Vej: v}
	switch e.Type {
	case TypeRoad:
		e.Kind = KindRoad
		e.AddressingName = trim(get(fRoadAddressing))
		e.Name = trim(get(fRoadName))
	case TypeEarlier:
		e.Kind = KindEarlier
		e.AddressingName = trim(get(fEarlierAddressing))
		e.Name = trim(get(fEarlierName))
	case TypeDistrict:
		e.Kind = KindDistrict
		d := &e.District
		if d.From, ok = houseNumber(get(fDistFrom)); !ok {
			return e, errFrom
		}
		if d.To, ok = houseNumber(get(fDistTo)); !ok {
			return e, errTo
		}
		if d.From.Number > d.To.Number {
			return e, errRange
		}
		switch get(fDistParity) {
		case "L", "l":
			d.Parity = Even
		case "U", "u":
			d.Parity = Odd
		case "", " ":
			d.Parity = Both
		default:
			return e, errParity
		}
		d.Postcode = get(fDistPostcode)
		if !allDigits(d.Postcode, 4) {
			return e, errPostcode
		}
		d.Name = trim(get(fDistName))
		return e, nil
	}
	if e.AddressingName == "" && e.Name == "" {
		return e, errNoName
	}
	return e, nil
}

func trim(s string) string { return strings.Trim(s, " \t") }

func allDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < n; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// code parses a 4-digit Kommunekode or Vejkode; 0000 is no code.
func code(s string) (uint16, bool) {
	if !allDigits(s, 4) {
		return 0, false
	}
	n := 0
	for i := 0; i < 4; i++ {
		n = n*10 + int(s[i]-'0')
	}
	return uint16(n), n != 0
}

// houseNumber parses a 4-character house number: 4 digits, or 3 digits
// and a letter ("0012", "012B"). It tolerates fewer leading zeros and
// surrounding blanks ("12", " 12B"), and a lower-case letter.
func houseNumber(s string) (HouseNumber, bool) {
	s = trim(s)
	var h HouseNumber
	if s == "" {
		return h, false
	}
	if c := s[len(s)-1]; c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' {
		if c >= 'a' {
			c -= 'a' - 'A'
		}
		h.Letter = c
		s = s[:len(s)-1]
	}
	if s == "" || len(s) > 4 || h.Letter != 0 && len(s) > 3 {
		return HouseNumber{}, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return HouseNumber{}, false
		}
		h.Number = h.Number*10 + int(s[i]-'0')
	}
	return h, true
}

// findDate returns the first yyyymmdd date (a year 1900-2999 and a real
// day) in a header line after its record type, or the zero Date.
func findDate(s []byte) Date {
	for i := 3; i+8 <= len(s); i++ {
		if !allDigits(string(s[i:i+8]), 8) {
			continue
		}
		y := atoi(s[i : i+4])
		m := atoi(s[i+4 : i+6])
		d := atoi(s[i+6 : i+8])
		if y >= 1900 && y <= 2999 && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m) {
			return Date{y, m, d}
		}
	}
	return Date{}
}

func atoi(s []byte) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
