package synth

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/robinscreen/robinscreen/roads"
	"github.com/robinscreen/robinscreen/robinson"
)

func streetsBytes(t *testing.T, cfg Config) ([]byte, StreetsStats) {
	t.Helper()
	var b bytes.Buffer
	st, err := NewGenerator(cfg).WriteStreets(&b)
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), st
}

// TestStreetsRegister checks the synthetic road register against the
// synthetic list: it parses without a reject, knows every record's road
// under the name the list prints, and has a postal district holding every
// record's house.
func TestStreetsRegister(t *testing.T) {
	cfg := Config{Seed: 3, Records: 20000, Published: testPublished}
	data, ws := streetsBytes(t, cfg)
	again, _ := streetsBytes(t, Config{Seed: 99, Records: 10, Published: testPublished})
	if !bytes.Equal(data, again) {
		t.Error("the register depends on the seed or record count")
	}
	reg, st, err := roads.Parse(bytes.NewReader(data), roads.Options{MaxRejectRatio: -1})
	if err != nil {
		t.Fatal(err)
	}
	if st.Encoding != roads.EncodingLatin1 || st.Roads != ws.Roads || st.Districts != ws.Districts || st.Earlier != ws.EarlierNames ||
		reg.Len() != ws.Roads || st.Date != (roads.Date{Year: testPublished.Year(), Month: int(testPublished.Month()), Day: testPublished.Day()}) {
		t.Errorf("stats %+v, wrote %+v, %d roads", st, ws, reg.Len())
	}
	if ws.EarlierNames < ws.Roads/20 || ws.EarlierNames > ws.Roads/6 {
		t.Errorf("%d earlier names for %d roads", ws.EarlierNames, ws.Roads)
	}
	undotted := 0
	for r := range reg.Roads() {
		if len([]rune(r.AddressingName)) > 20 {
			t.Errorf("road %v: addressing name %q longer than 20", r.ID, r.AddressingName)
		}
		if r.AddressingName != r.Name && !strings.Contains(r.AddressingName, ".") {
			undotted++
		}
		// An earlier name is never a current name of a road in the same
		// postcode.
		for _, e := range r.Earlier {
			for _, d := range r.Districts {
				for _, id := range reg.RoadsAt(d.Postcode, d.From.Number) {
					other, _ := reg.Road(id)
					if robinson.NormalizeStreet(other.Name) == robinson.NormalizeStreet(e.Name) {
						t.Errorf("earlier name %q of %v is a current name in %s", e.Name, r.ID, d.Postcode)
					}
				}
			}
		}
	}
	if undotted == 0 {
		t.Error("no addressing name abbreviated without dots (Borgm Christiansensg)")
	}
	g := NewGenerator(cfg)
	records := 0
	for i := 0; i < g.Persons(); i++ {
		p := g.Person(i)
		as := []Address{p.Current()}
		if p.Previous != nil {
			as = append(as, *p.Previous)
		}
		for _, a := range as {
			records++
			k, _ := strconv.Atoi(a.Kommunekode)
			v, _ := strconv.Atoi(a.Vejkode)
			id := robinson.RoadID{Kommune: uint16(k), Vej: uint16(v)}
			names := reg.RoadNames(id)
			if !slices.Contains(names, robinson.NormalizeStreet(a.StreetAbbrev)) || !slices.Contains(names, robinson.NormalizeStreet(a.Street)) {
				t.Fatalf("person %d: road %v has names %q, not %q / %q", i, id, names, a.StreetAbbrev, a.Street)
			}
			for _, n := range []int{a.HouseNumber, a.HouseNumber + 9} { // the neighbour's house too
				if !slices.Contains(reg.RoadsAt(a.Postcode, n), id) {
					t.Fatalf("person %d: no district of %v in %s holds %d", i, id, a.Postcode, n)
				}
			}
		}
	}
	if records != cfg.Records {
		t.Errorf("%d records checked, want %d", records, cfg.Records)
	}
}

// TestVejkodesUnique checks that no two streets of a kommune share a
// Vejkode, and a street keeps its code across the kommune's postcodes.
func TestVejkodesUnique(t *testing.T) {
	type key struct{ kommune, code string }
	byCode := map[key]uint16{}
	byStreet := map[[2]string]string{}
	for _, p := range postcodes {
		for i, st := range p.streets {
			c := p.vejkodes[i]
			if s, ok := byCode[key{p.kommune, c}]; ok && s != st {
				t.Errorf("kommune %s: Vejkode %s for %q and %q", p.kommune, c, streets[s].full, streets[st].full)
			}
			byCode[key{p.kommune, c}] = st
			sk := [2]string{p.kommune, streets[st].full}
			if old, ok := byStreet[sk]; ok && old != c {
				t.Errorf("kommune %s: %q has codes %s and %s", p.kommune, streets[st].full, old, c)
			}
			byStreet[sk] = c
			if len(c) != 4 || c == "0000" {
				t.Errorf("Vejkode %q", c)
			}
		}
	}
	for _, e := range earlierNames {
		for _, s := range streets {
			if robinson.NormalizeStreet(e.full) == robinson.NormalizeStreet(s.full) {
				t.Errorf("earlier name %q is a current street", e.full)
			}
		}
	}
}
