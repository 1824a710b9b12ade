// Package demo builds the bundled, clearly synthetic demo dataset that
// `robinscreen serve --demo` loads into an empty data directory: a small
// Robinson list and CPR extract of invented people at invented addresses.
// No real person's data is in it.
package demo

import (
	"bytes"
	"context"
	"strings"
	"time"

	"github.com/robinscreen/robinscreen/internal/cprfmt"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/store"
)

// Robinson is the demo Robinson list. The README's examples use these
// people: "Søren Testesen, Fiktivvej 12, 2. tv, 2100 København Ø" is listed.
var Robinson = []cprfmt.RobinsonEntry{
	{Name: "Demosen,Anna Bolette", Address: "Prøvestien 4", PostDist: "8000 Aarhus C", Kommunekode: "0751", Vejkode: "1234", HouseNumber: "004"},
	{Name: "Eksempel-Hansen,Mette", Address: "Dronn. Louises V. 15, 1. th", PostDist: "2200 København N", Kommunekode: "0101", Vejkode: "2001", HouseNumber: "015", Floor: "01", Door: "th"},
	{Name: "Fiktiv,Hans Peter", Address: "Opdigtet Allé 7", PostDist: "5000 Odense C", Kommunekode: "0461", Vejkode: "0777", HouseNumber: "007"},
	{Name: "Fiktiv,Hans Peter", Address: "Gl. Testvej 3 st tv", PostDist: "5000 Odense C", Previous: true, Kommunekode: "0461", Vejkode: "0778"},
	{Name: "Testesen,Søren", Address: "Fiktivvej 12, 2. tv", PostDist: "2100 København Ø", Kommunekode: "0101", Vejkode: "4242", HouseNumber: "012", Floor: "02", Door: "tv"},
	{Name: "Ålykke,Ærbødige Øjvind", Address: "Åbenrå Testgade 86B", PostDist: "6200 Aabenraa", Kommunekode: "0580", Vejkode: "0086", HouseNumber: "086B"},
}

// The demo CPR extract's people; the numbers are synthetic.
const (
	// DemoProtected has an active CPR marketing protection (and a
	// protected address, so it is not on the demo list).
	DemoProtected = "0101801230"
	// DemoDeceased has CPR status 90.
	DemoDeceased = "0202451236"
	// DemoActive is active with no protection.
	DemoActive = "0303901232"
)

// Files returns the demo Robinson list (ISO 8859-1) and CPR extract, both
// dated today.
func Files(today time.Time) (robinson, cpr []byte, err error) {
	robinson, err = cprfmt.RobinsonFile(today, Robinson)
	if err != nil {
		return nil, nil, err
	}
	lines := []string{
		cprfmt.CPRStart(today),
		cprfmt.CPRPerson(DemoProtected, "01"),
		cprfmt.CPRProtection(DemoProtected, "0001", today.AddDate(-2, 0, 0), time.Time{}),
		cprfmt.CPRProtection(DemoProtected, "0003", today.AddDate(-2, 0, 0), time.Time{}),
		cprfmt.CPRPerson(DemoDeceased, "90"),
		cprfmt.CPRPerson(DemoActive, "01"),
	}
	lines = append(lines, cprfmt.CPREnd(len(lines)-1))
	return robinson, []byte(strings.Join(lines, "\r\n") + "\r\n"), nil
}

// Loader is the part of the store that Load needs.
type Loader interface {
	LoadSource(ctx context.Context, kind string, src store.Source, opt store.LoadOptions) (*store.Manifest, error)
}

// Load loads the demo Robinson list and CPR extract, dated today, from
// memory. With synthetic set they are marked as the synthetic demo dataset
// (what serve --demo does); tests that use the demo people as ordinary
// data leave it unset. It returns the store's load errors.
func Load(ctx context.Context, st Loader, today time.Time, synthetic bool) error {
	rob, cpr, err := Files(today)
	if err != nil {
		return err
	}
	opt := store.LoadOptions{Synthetic: synthetic}
	for _, f := range []struct {
		kind, name string
		data       []byte
	}{{screening.KindRobinson, "robinson-demo.txt", rob}, {screening.KindCPR, "cpr-demo.txt", cpr}} {
		src := store.Source{R: bytes.NewReader(f.data), Size: int64(len(f.data)), Name: f.name}
		if _, err := st.LoadSource(ctx, f.kind, src, opt); err != nil {
			return err
		}
	}
	return nil
}
