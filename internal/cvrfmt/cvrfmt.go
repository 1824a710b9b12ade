// Package cvrfmt writes files in the layouts of the CVR advertising-
// protection data (data-formats.md section 6): the Danish Business
// Authority's JSON documents, one per line, and the two-column CSV. It is
// used for the synthetic demo dataset, tests and data generators; it
// never sees real data.
package cvrfmt

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Company is one company (a Vrvirksomhed document).
type Company struct {
	CVR       string // 8 digits
	Name      string
	Protected bool
	// Kommune and Vejkode place the company's address, as CVR's
	// documents do; zero values are written as they are.
	Kommune, Vejkode int
}

// Unit is one production unit (a VrproduktionsEnhed document).
type Unit struct {
	P         string // 10 digits
	Owner     string // the owning company's CVR number
	Name      string
	Protected bool
}

// stamp formats a timestamp as CVR's documents do.
func stamp(t time.Time) string { return t.Format("2006-01-02T15:04:05.000-07:00") }

// digits returns a JSON number for a string of digits (CVR numbers and
// P-numbers are numbers in CVR's documents).
func digits(s string) json.RawMessage {
	s = strings.TrimLeft(s, "0")
	if s == "" {
		s = "0"
	}
	return json.RawMessage(s)
}

// CompanyDoc returns the company's document as one line, updated at
// updated; hit wraps it as a search hit ({"_source": ...}).
func CompanyDoc(c Company, updated time.Time, hit bool) string {
	doc := map[string]any{"Vrvirksomhed": map[string]any{
		"cvrNummer":        digits(c.CVR),
		"reklamebeskyttet": c.Protected,
		"enhedstype":       "VIRKSOMHED",
		"navne":            []any{map[string]any{"navn": c.Name, "periode": map[string]any{"gyldigFra": "2001-01-01", "gyldigTil": nil}}},
		"beliggenhedsadresse": []any{map[string]any{
			"vejkode": c.Vejkode, "kommune": map[string]any{"kommuneKode": c.Kommune},
			"periode": map[string]any{"gyldigFra": "2001-01-01", "gyldigTil": nil},
		}},
		"sidstOpdateret": stamp(updated),
		"sidstIndlaest":  stamp(updated.Add(-time.Hour)),
	}}
	return wrap(doc, hit)
}

// UnitDoc returns the production unit's document as one line.
func UnitDoc(u Unit, updated time.Time, hit bool) string {
	doc := map[string]any{"VrproduktionsEnhed": map[string]any{
		"pNummer":          digits(u.P),
		"reklamebeskyttet": u.Protected,
		"navne":            []any{map[string]any{"navn": u.Name}},
		"virksomhedsrelation": []any{map[string]any{
			"cvrNummer": digits(u.Owner),
			"periode":   map[string]any{"gyldigFra": "2001-01-01", "gyldigTil": nil},
		}},
		"sidstOpdateret": stamp(updated),
	}}
	return wrap(doc, hit)
}

func wrap(doc map[string]any, hit bool) string {
	var v any = doc
	if hit {
		v = map[string]any{"_index": "cvr-permanent", "_type": "_doc", "_source": doc}
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("cvrfmt: %v", err)) // only plain values are marshalled
	}
	return string(b)
}

// JSONFile returns the companies and units as JSON documents, one per
// line, every second one wrapped as a search hit; the newest document is
// updated at extracted, the others a little earlier.
func JSONFile(extracted time.Time, cs []Company, us []Unit) []byte {
	var b strings.Builder
	i := 0
	n := len(cs) + len(us)
	at := func() time.Time { return extracted.Add(-time.Duration(n-1-i) * time.Minute) }
	for _, c := range cs {
		b.WriteString(CompanyDoc(c, at(), i%2 == 1))
		b.WriteByte('\n')
		i++
	}
	for _, u := range us {
		b.WriteString(UnitDoc(u, at(), i%2 == 1))
		b.WriteByte('\n')
		i++
	}
	return []byte(b.String())
}

// CSVFile returns the companies as `cvr;reklamebeskyttet` and the units as
// rows of a `pnummer` column in the same file (ja/nej).
func CSVFile(cs []Company, us []Unit) []byte {
	var b strings.Builder
	b.WriteString("cvr;pnummer;reklamebeskyttet\r\n")
	yes := func(p bool) string {
		if p {
			return "ja"
		}
		return "nej"
	}
	for _, c := range cs {
		fmt.Fprintf(&b, "%s;;%s\r\n", c.CVR, yes(c.Protected))
	}
	for _, u := range us {
		fmt.Fprintf(&b, "%s;%s;%s\r\n", u.Owner, u.P, yes(u.Protected))
	}
	return []byte(b.String())
}
