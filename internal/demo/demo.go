// Package demo builds the bundled, clearly synthetic demo dataset that
// `robinscreen serve --demo` loads into an empty data directory: a small
// Robinson list, CPR extract and CPR road register of invented people at
// invented addresses on invented roads, and CVR advertising-protection
// data of invented companies. No real person's data is in it.
package demo

import (
	"bytes"
	"context"
	"strings"
	"time"

	"github.com/robinscreen/robinscreen/internal/cprfmt"
	"github.com/robinscreen/robinscreen/internal/cvrfmt"
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
	// Listed under the road's abbreviated addressing name, which the list
	// prints; contacts write the full name "Borgmester Fiktivsens Gade",
	// which only the road register ties to it.
	{Name: "Registersen,Bodil", Address: "Borgm Fiktivsensg 7, st. th", PostDist: "8000 Aarhus C", Kommunekode: "0751", Vejkode: "2345", HouseNumber: "007", Floor: "st", Door: "th"},
}

// Streets is the demo road register: every road of the demo list, with
// its postal districts, plus "Fiktivvejen", a second road in 2100 one
// letter-ending away from "Fiktivvej" (a contact on Fiktivvejen lives on
// that road, not near Fiktivvej). "Opdigtet Allé" was "Opdigtet Vej"
// before (an earlier name, 016).
var Streets = []cprfmt.RoadEntry{
	{Kommunekode: "0101", Vejkode: "2001", AddressingName: "Dronn. Louises V.", Name: "Dronning Louises Vej",
		Districts: []cprfmt.DistrictEntry{{From: "0001", To: "0035", Parity: "U", Postcode: "2200", Town: "København N"}, {From: "0002", To: "0036", Parity: "L", Postcode: "2200", Town: "København N"}}},
	{Kommunekode: "0101", Vejkode: "4242", AddressingName: "Fiktivvej", Name: "Fiktivvej",
		Districts: []cprfmt.DistrictEntry{{From: "0001", To: "0040", Postcode: "2100", Town: "København Ø"}}},
	{Kommunekode: "0101", Vejkode: "4243", AddressingName: "Fiktivvejen", Name: "Fiktivvejen",
		Districts: []cprfmt.DistrictEntry{{From: "0001", To: "0099", Postcode: "2100", Town: "København Ø"}}},
	{Kommunekode: "0461", Vejkode: "0777", AddressingName: "Opdigtet Allé", Name: "Opdigtet Allé", Earlier: []string{"Opdigtet Vej"},
		Districts: []cprfmt.DistrictEntry{{From: "0001", To: "0029", Parity: "U", Postcode: "5000", Town: "Odense C"}, {From: "0002", To: "0030", Parity: "L", Postcode: "5000", Town: "Odense C"}}},
	{Kommunekode: "0461", Vejkode: "0778", AddressingName: "Gl. Testvej", Name: "Gammel Testvej",
		Districts: []cprfmt.DistrictEntry{{From: "0001", To: "0020", Postcode: "5000", Town: "Odense C"}}},
	{Kommunekode: "0580", Vejkode: "0086", AddressingName: "Åbenrå Testgade", Name: "Åbenrå Testgade",
		Districts: []cprfmt.DistrictEntry{{From: "0002", To: "120Z", Parity: "L", Postcode: "6200", Town: "Aabenraa"}}},
	{Kommunekode: "0751", Vejkode: "1234", AddressingName: "Prøvestien", Name: "Prøvestien",
		Districts: []cprfmt.DistrictEntry{{From: "0001", To: "0010", Postcode: "8000", Town: "Aarhus C"}}},
	{Kommunekode: "0751", Vejkode: "2345", AddressingName: "Borgm Fiktivsensg", Name: "Borgmester Fiktivsens Gade",
		Districts: []cprfmt.DistrictEntry{{From: "0001", To: "0049", Parity: "U", Postcode: "8000", Town: "Aarhus C"}, {From: "0002", To: "0048", Parity: "L", Postcode: "8000", Town: "Aarhus C"}}},
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

// StreetsFile returns the demo road register (ISO 8859-1), dated today.
func StreetsFile(today time.Time) ([]byte, error) {
	return cprfmt.RoadsFile(today, Streets)
}

// Companies and Units are the demo CVR data. The README's business
// examples use them: 10000009 has advertising protection; 20000007 has
// none, but its production unit 1000000001 has; 30000005 and its unit
// 1000000003 have none.
var (
	Companies = []cvrfmt.Company{
		{CVR: "10000009", Name: "Demo Reklamebeskyttet A/S", Protected: true, Kommune: 101, Vejkode: 4242},
		{CVR: "20000007", Name: "Demo Åben ApS", Kommune: 751, Vejkode: 1234},
		{CVR: "30000005", Name: "Demo Anden ApS", Kommune: 461, Vejkode: 777},
	}
	Units = []cvrfmt.Unit{
		{P: "1000000001", Owner: "20000007", Name: "Demo Åben ApS, lager", Protected: true},
		{P: "1000000002", Owner: "20000007", Name: "Demo Åben ApS, butik"},
		{P: "1000000003", Owner: "30000005", Name: "Demo Anden ApS"},
	}
)

// CVRFile returns the demo CVR data as JSON documents, one per line,
// extracted today (the newest document's sidstOpdateret).
func CVRFile(today time.Time) []byte {
	return cvrfmt.JSONFile(today, Companies, Units)
}

// Loader is the part of the store that Load needs.
type Loader interface {
	LoadSource(ctx context.Context, kind string, src store.Source, opt store.LoadOptions) (*store.Manifest, error)
}

// Load loads the demo Robinson list, CPR extract, road register and CVR
// data, dated today, from memory. With synthetic set they are marked as the synthetic demo dataset
// (what serve --demo does); tests that use the demo people as ordinary
// data leave it unset. It returns the store's load errors.
func Load(ctx context.Context, st Loader, today time.Time, synthetic bool) error {
	rob, cpr, err := Files(today)
	if err != nil {
		return err
	}
	streets, err := StreetsFile(today)
	if err != nil {
		return err
	}
	opt := store.LoadOptions{Synthetic: synthetic}
	for _, f := range []struct {
		kind, name string
		data       []byte
	}{{screening.KindRobinson, "robinson-demo.txt", rob}, {screening.KindCPR, "cpr-demo.txt", cpr}, {screening.KindStreets, "streets-demo.txt", streets},
		{screening.KindCVR, "cvr-demo.jsonl", CVRFile(today)}} {
		src := store.Source{R: bytes.NewReader(f.data), Size: int64(len(f.data)), Name: f.name}
		if _, err := st.LoadSource(ctx, f.kind, src, opt); err != nil {
			return err
		}
	}
	return nil
}
