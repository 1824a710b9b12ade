package demo

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/roads"
	"github.com/robinscreen/robinscreen/robinson"
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
