// Package cprfmt writes files in CPR's layouts: Robinson list lines in the
// published fixed-width layout (ISO 8859-1) and CPR extract records. It is
// used for the synthetic demo dataset, tests and data generators; it never
// sees real data.
package cprfmt

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/encoding/charmap"
)

// RobinsonEntry is one line of the Robinson list, unpadded.
type RobinsonEntry struct {
	Name        string // "Efternavn,Fornavn"
	Address     string // Standardadresse, e.g. "Fiktivvej 12, 2. tv"
	Town        string // Bynavn, often blank
	PostDist    string // "2100 København Ø"
	Previous    bool
	Kommunekode string
	Vejkode     string
	HouseNumber string // e.g. "012" or "086B"; blank leaves it to Address
	Floor       string
	Door        string
}

func pad(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		r = r[:n]
	}
	return string(r) + strings.Repeat(" ", n-len(r))
}

// RobinsonLine formats e in the published layout (UTF-8 text; encode the
// whole file with Latin1).
func RobinsonLine(e RobinsonEntry) string {
	hist := ""
	if e.Previous {
		hist = "*"
	}
	fields := []string{
		pad(e.Name, 34), pad(e.Address, 34), pad(e.Town, 34), pad(e.PostDist, 25),
		pad(hist, 3), pad(e.Kommunekode, 4), pad(e.Vejkode, 4), pad(e.HouseNumber, 4),
		pad(e.Floor, 2), pad(e.Door, 4), pad("", 4),
	}
	return strings.Join(fields, "#")
}

// RobinsonFile returns a complete list: header lines naming the publication
// date, then the entries, CRLF line ends, encoded as ISO 8859-1.
func RobinsonFile(published time.Time, entries []RobinsonEntry) ([]byte, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "ROBINSONLISTEN  Dato: %s\r\n", published.Format("02.01.2006"))
	b.WriteString("Personnavn#Standardadresse#Bynavn#Postnr. og postdistrikt#Historik#Kommunekode#Vejkode#Husnummer#Etage#Sidedør#Bygningsnummer\r\n")
	for _, e := range entries {
		b.WriteString(RobinsonLine(e))
		b.WriteString("\r\n")
	}
	return Latin1(b.String())
}

// Latin1 encodes s as ISO 8859-1; it returns an error for characters
// outside Latin-1.
func Latin1(s string) ([]byte, error) {
	return charmap.ISO8859_1.NewEncoder().Bytes([]byte(s))
}

// CPRStart is the 000 start record with the production date.
func CPRStart(produced time.Time) string {
	return "000" + "000000" + produced.Format("20060102") + strings.Repeat(" ", 20)
}

// CPRPerson is a 001 person record with a status.
func CPRPerson(number, status string) string {
	// position 4: number (10), 14..35 other fields, 36: status (2)
	return "001" + number + strings.Repeat("0", 22) + status + strings.Repeat(" ", 10)
}

// CPRProtection is a 015 protection record; end may be the zero time.
func CPRProtection(number, typ string, start, end time.Time) string {
	endS := strings.Repeat(" ", 10)
	if !end.IsZero() {
		endS = end.Format("2006-01-02")
	}
	return "015" + number + typ + "0000" + start.Format("200601021504") + start.Format("2006-01-02") + "001" + endS
}

// CPREnd is the 999 end record with its counter (Tæller) at position 27:
// records is the number of records between the 000 and the 999 record.
// The sort field (positions 4-26) is blank.
func CPREnd(records int) string { return fmt.Sprintf("999%23s%08d", "", records) }
