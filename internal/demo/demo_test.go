package demo

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/roads"
	"github.com/robinscreen/robinscreen/robinson"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/store"
)

// TestStreetsCoverTheList checks that the demo register knows every demo
// list record's road and has a postal district holding its address.
func TestStreetsCoverTheList(t *testing.T) {
	today := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	b, err := StreetsFile(today)
	if err != nil {
		t.Fatal(err)
	}
	reg, st, err := roads.Parse(bytes.NewReader(b), roads.Options{MaxRejectRatio: -1})
	if err != nil {
		t.Fatal(err)
	}
	if st.Date != (roads.Date{Year: 2026, Month: 11, Day: 29}) || st.Encoding != roads.EncodingLatin1 {
		t.Errorf("stats %+v", st)
	}
	rob, _, err := Files(today)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	_, err = robinson.Parse(bytes.NewReader(rob), robinson.Options{}, func(r *robinson.Record) error {
		n++
		names := reg.RoadNames(r.Road)
		if !slices.Contains(names, r.Address.Street) {
			t.Errorf("line %d: road %v has names %q, not the list's %q", r.Line, r.Road, names, r.Address.Street)
		}
		num := 0
		for _, c := range r.Address.HouseNumber {
			if c < '0' || c > '9' {
				break
			}
			num = num*10 + int(c-'0')
		}
		if num > 0 && !slices.Contains(reg.RoadsAt(r.Address.Postcode, num), r.Road) {
			t.Errorf("line %d: no district of road %v holds %s %d", r.Line, r.Road, r.Address.Postcode, num)
		}
		return nil
	})
	if err != nil || n != len(Robinson) {
		t.Fatalf("%d records, %v", n, err)
	}
	borgm := reg.RoadNames(robinson.RoadID{Kommune: 751, Vej: 2345})
	if !slices.Contains(borgm, robinson.NormalizeStreet("Borgmester Fiktivsens Gade")) {
		t.Errorf("Borgm Fiktivsensg: names %q lack the full name", borgm)
	}
	if got := reg.RoadsAt("2100", 12); len(got) != 2 {
		t.Errorf("RoadsAt(2100, 12) = %v, want Fiktivvej and Fiktivvejen", got)
	}
}

// TestDemoRegisterScreens loads the demo dataset into a store and screens
// the register's demo cases: the listed person written with the road's
// full name matches through the register (and the result lists the
// streets version), and a contact on Fiktivvejen, a road of its own beside
// Fiktivvej, is not a NEAR match for Fiktivvej.
func TestDemoRegisterScreens(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	if err := Load(context.Background(), st, today, false); err != nil {
		t.Fatal(err)
	}
	snap, release := st.Acquire()
	defer release()
	if snap.Streets == nil {
		t.Fatal("the demo loads no road register")
	}
	var e screening.Engine
	res, err := e.Screen(snap, screening.ChannelPost, 0, &screening.Contact{Name: "Bodil Registersen", Address: "Borgmester Fiktivsens Gade 7, st. th, 8000 Aarhus C"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Decision != screening.Block || !slices.ContainsFunc(res.Findings, func(f screening.Finding) bool {
		return f.Robinson != nil && f.Robinson.Street == robinson.StreetRegister
	}) {
		t.Errorf("Bodil Registersen on the full street name: %v %+v", res.Decision, res.Findings)
	}
	if !slices.ContainsFunc(res.Datasets, func(d screening.DatasetRef) bool { return d.Kind == screening.KindStreets && d.Version != "" }) {
		t.Errorf("result does not list the streets version: %+v", res.Datasets)
	}
	res, err = e.Screen(snap, screening.ChannelPost, 0, &screening.Contact{Name: "Søren Testesen", Address: "Fiktivvejen 12, 2. tv, 2100 København Ø"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Decision != screening.Allow {
		t.Errorf("Søren Testesen on Fiktivvejen: %v %+v, want ALLOW (another road, not NEAR)", res.Decision, res.Findings)
	}
	// Without the register the two names are NEAR: a possible match.
	snap.Streets = nil
	res, err = e.Screen(snap, screening.ChannelPost, 0, &screening.Contact{Name: "Søren Testesen", Address: "Fiktivvejen 12, 2. tv, 2100 København Ø"})
	if err != nil || res.Decision != screening.Review {
		t.Errorf("without the register: %v %v, want REVIEW (NEAR)", res.Decision, err)
	}
}

// TestDemoCVRScreens loads the demo dataset and screens the README's
// business examples: each decision of section 2 step 5, with the CVR
// version listed.
func TestDemoCVRScreens(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	if err := Load(context.Background(), st, today, false); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		c       screening.Contact
		want    screening.Decision
		reasons []screening.Reason
	}{
		{name: "protected company", c: screening.Contact{CVR: "10000009"}, want: screening.Block, reasons: []screening.Reason{screening.ReasonCVRAdvertisingProtection}},
		{name: "protected P-unit of an unprotected company", c: screening.Contact{CVR: "20000007", PNumber: "1000000001"}, want: screening.Block, reasons: []screening.Reason{screening.ReasonCVRAdvertisingProtection}},
		{name: "unprotected company", c: screening.Contact{CVR: "20000007"}, want: screening.Allow},
		{name: "unprotected company and P-unit", c: screening.Contact{CVR: "30000005", PNumber: "1000000003"}, want: screening.Allow},
		{name: "unknown company", c: screening.Contact{CVR: "40000003"}, want: screening.Review, reasons: []screening.Reason{screening.ReasonUnverifiable}},
		{name: "invalid number", c: screening.Contact{CVR: "20000008"}, want: screening.Review, reasons: []screening.Reason{screening.ReasonInvalidCVR}},
	}
	var e screening.Engine
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, release := st.Acquire()
			defer release()
			res, err := e.Screen(snap, screening.ChannelPhone, screening.PurposeOther, &tt.c)
			if err != nil {
				t.Fatal(err)
			}
			if res.Decision != tt.want || !slices.Equal(res.Reasons, tt.reasons) {
				t.Fatalf("got %v %v, want %v %v: %+v", res.Decision, res.Reasons, tt.want, tt.reasons, res.Findings)
			}
			if tt.reasons == nil || tt.reasons[0] != screening.ReasonInvalidCVR {
				if !slices.ContainsFunc(res.Datasets, func(d screening.DatasetRef) bool { return d.Kind == screening.KindCVR && d.Version != "" && !d.Stale }) {
					t.Errorf("result does not list a fresh CVR version: %+v", res.Datasets)
				}
			}
		})
	}
}
