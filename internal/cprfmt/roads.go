package cprfmt

import (
	"strings"
	"time"
)

// Road-register records (data-formats.md section 5), UTF-8 text with the
// trailing blanks trimmed as CPR's files often are; encode the whole file
// with Latin1.

// cprStamp formats a timestamp yyyymmddHHMM.
func cprStamp(t time.Time) string { return t.Format("200601021504") }

// RoadsStart is a 000 header record dating the register (timestamp at
// position 12, where the road records have theirs).
func RoadsStart(produced time.Time) string {
	return "000" + "0000" + "0000" + cprStamp(produced)
}

// RoadsEnd is a 999 trailer with the number of records.
func RoadsEnd(records int) string {
	return "999" + "0000" + "0000" + pad0(records, 8)
}

// RoadRecord is a 001 active-road record: the addressing name (at most 20
// characters) and the full street name.
func RoadRecord(kommune, vej string, stamp time.Time, addressing, name string) string {
	line := "001" + kommune + vej + cprStamp(stamp) + "0000" + "0000" + "0000" + "0000" + cprStamp(stamp) +
		pad(addressing, 20) + pad(name, 40)
	return strings.TrimRight(line, " ")
}

// DistrictRecord is a 004 postal-district record: house numbers from and
// to as CPR writes them ("0001", "012B"), parity "L", "U" or "", the
// postcode and the district name.
func DistrictRecord(kommune, vej, from, to, parity string, stamp time.Time, postcode, district string) string {
	line := "004" + kommune + vej + pad(from, 4) + pad(to, 4) + pad(parity, 1) + cprStamp(stamp) + pad(postcode, 4) + pad(district, 20)
	return strings.TrimRight(line, " ")
}

// EarlierRecord is a 016 earlier-name record: the names the road had from
// start to end.
func EarlierRecord(kommune, vej string, stamp, start, end time.Time, addressing, name string) string {
	line := "016" + kommune + vej + cprStamp(stamp) + cprStamp(start) + cprStamp(end) + pad(addressing, 20) + pad(name, 40)
	return strings.TrimRight(line, " ")
}

// HouseNumber4 writes a house number as the register does: four
// characters, zero-padded, the letter last ("0012", "012B").
func HouseNumber4(n int, letter string) string {
	w := 4 - len(letter)
	return pad0(n, w) + letter
}

func pad0(n, w int) string {
	s := strings.Repeat("0", w) + itoa(n)
	return s[len(s)-max(w, len(itoa(n))):]
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// RoadEntry is one road of a register file, unpadded.
type RoadEntry struct {
	Kommunekode, Vejkode string
	// AddressingName (at most 20 characters) and the full Name.
	AddressingName, Name string
	// Earlier holds earlier names as "addressing=full" or one name for
	// both.
	Earlier   []string
	Districts []DistrictEntry
}

// DistrictEntry is one postal district of a road.
type DistrictEntry struct {
	From, To string // "0001", "012B"
	Parity   string // "L", "U" or ""
	Postcode string
	Town     string
}

// RoadsFile returns a whole road register: a 000 header dated produced,
// each road's 001, 016 and 004 records, a 999 trailer; CRLF line ends,
// ISO 8859-1.
func RoadsFile(produced time.Time, es []RoadEntry) ([]byte, error) {
	var b strings.Builder
	n := 0
	line := func(s string) {
		b.WriteString(s)
		b.WriteString("\r\n")
		n++
	}
	line(RoadsStart(produced))
	stamp := produced.AddDate(-1, 0, 0)
	for _, e := range es {
		line(RoadRecord(e.Kommunekode, e.Vejkode, stamp, e.AddressingName, e.Name))
		for i, en := range e.Earlier {
			addressing, full, ok := strings.Cut(en, "=")
			if !ok {
				full = addressing
			}
			end := produced.AddDate(-2-i, 0, 0)
			line(EarlierRecord(e.Kommunekode, e.Vejkode, stamp, end.AddDate(-20, 0, 0), end, addressing, full))
		}
		for _, d := range e.Districts {
			line(DistrictRecord(e.Kommunekode, e.Vejkode, d.From, d.To, d.Parity, stamp, d.Postcode, d.Town))
		}
	}
	line(RoadsEnd(n + 1))
	return Latin1(b.String())
}
