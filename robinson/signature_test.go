package robinson

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// sigSet collects the signature keys of records, as a store's filter would
// (store.robinsonFilterKeys), the blocking keys that hold records and the
// list's printed streets per road (ListRoads, as a store keeps them).
type sigSet struct {
	keys    map[string]bool
	records map[string][]*Record // blocking key -> records
	roads   ListRoads
}

func (s *sigSet) addRecord(rec *Record) {
	if s.keys == nil {
		s.keys = map[string]bool{}
		s.records = map[string][]*Record{}
	}
	var sigs RecordSigs
	sigs.Signatures(rec)
	s.roads.Add(rec)
	ak := AppendAddressKey(nil, rec.Address.Postcode, rec.Address.HouseNumber)
	for _, sn := range rec.Name.Surnames {
		key := AppendKey(nil, rec.Address.Postcode, rec.Address.HouseNumber, sn)
		s.records[string(key)] = append(s.records[string(key)], rec)
		sigs.EachKey(nil, key, ak, func(group, keys []byte, width int) {
			for i := 0; i+width <= len(keys); i += width {
				s.keys[string(group)+"|"+string(keys[i:i+width])] = true
			}
		})
	}
}

func (s *sigSet) TestAnyIn(group, keys []byte, width int) bool {
	for i := 0; i+width <= len(keys); i += width {
		if s.keys[string(group)+"|"+string(keys[i:i+width])] {
			return true
		}
	}
	return false
}

// filterFunc adapts a function, called for every key, to Filter.
type filterFunc func(group, key []byte) bool

func (f filterFunc) TestAnyIn(group, keys []byte, width int) bool {
	for i := 0; i+width <= len(keys); i += width {
		if f(group, keys[i:i+width]) {
			return true
		}
	}
	return false
}

// candidates returns the records a store would hand the matcher for the
// contact matched with the road register roads (nil: none): the
// exact-surname keys the probe lets through and, through the NEAR-surname
// keys, the records of surname words one edit away.
func (s *sigSet) candidates(name Name, addr Address, roads Roads) []*Record {
	p := NewProbe(name, addr, roads)
	var x *RoadExtras
	if roads != nil {
		x = NewRoadExtras(&s.roads, roads)
	}
	var out []*Record
	for _, sn := range name.Surnames {
		key := AppendKey(nil, addr.Postcode, addr.HouseNumber, sn)
		if p.MayMatchExact(key, s, x) {
			out = append(out, s.records[string(key)]...)
		}
	}
	if p.MayMatchNear(s, x) {
		ak := string(p.AddressKey())
		for k, recs := range s.records {
			if len(k) > len(ak) && k[:len(ak)] == ak && p.NearSurname(k[len(ak):]) && p.MayMatchExact([]byte(k), s, x) {
				out = append(out, recs...)
			}
		}
	}
	return out
}

// found reports whether rec is among the candidates.
func (s *sigSet) found(name Name, addr Address, roads Roads, rec *Record) bool {
	for _, r := range s.candidates(name, addr, roads) {
		if r == rec {
			return true
		}
	}
	return false
}

func TestSignatures(t *testing.T) {
	const post = "2900"
	roads := testRoads()
	tests := []struct {
		Name              string
		Contact, Address  string
		ListName, ListAdr string
		Road              RoadID // the record's road; zero: roadGammelvej
		NoRegister        bool   // match without the road register
		Want              bool
	}{
		{Name: "Equal", Contact: "Hans Jensen", Address: "Strandvejen 12A, 2. tv, 2900 Hellerup", ListName: "Jensen,Hans Peter", ListAdr: "Strandvejen 12A, 2. tv", Want: true},
		{Name: "MiddleName", Contact: "Peter Jensen", Address: "Strandvejen 12A, 2900 Hellerup", ListName: "Jensen,Hans Peter", ListAdr: "Strandvejen 12A", Want: true},
		{Name: "ContactInitial", Contact: "H. Jensen", Address: "Strandvejen 12A, 2900 Hellerup", ListName: "Jensen,Hans", ListAdr: "Strandvejen 12A", Want: true},
		{Name: "ListInitial", Contact: "Hans Jensen", Address: "Strandvejen 12A, 2900 Hellerup", ListName: "Jensen,H.", ListAdr: "Strandvejen 12A", Want: true},
		{Name: "DanishInitial", Contact: "Ø. Jensen", Address: "Strandvejen 12A, 2900 Hellerup", ListName: "Jensen,Øjvind", ListAdr: "Strandvejen 12A", Want: true},
		{Name: "StreetCompact", Contact: "Hans Jensen", Address: "H C Andersens Boulevard 12A, 2900 Hellerup", ListName: "Jensen,Hans", ListAdr: "H.C. Andersens Boulevard 12A", Want: true},
		{Name: "StreetAbbreviated", Contact: "Hans Jensen", Address: "Dronning Louises Vej 12A, 2900 Hellerup", ListName: "Jensen,Hans", ListAdr: "Dronn. Louises V. 12A", Want: true},
		{Name: "StreetTableAbbreviation", Contact: "Hans Jensen", Address: "Gammel Kongevej 12A, 2900 Hellerup", ListName: "Jensen,Hans", ListAdr: "Gl. Kongevej 12A", Want: true},
		{Name: "StreetNearFirstLetter", Contact: "Hans Jensen", Address: "Ktrandvejen 12A, 2900 Hellerup", ListName: "Jensen,Hans", ListAdr: "Strandvejen 12A", Want: true},
		{Name: "StreetNearFirstDeleted", Contact: "Hans Jensen", Address: "Trandvejen 12A, 2900 Hellerup", ListName: "Jensen,Hans", ListAdr: "Strandvejen 12A", Want: true},
		{Name: "StreetNearFirstInserted", Contact: "Hans Jensen", Address: "Strandvejen 12A, 2900 Hellerup", ListName: "Jensen,Hans", ListAdr: "Trandvejen 12A", Want: true},
		{Name: "StreetNearFirstSwapped", Contact: "Hans Jensen", Address: "Tsrandvejen 12A, 2900 Hellerup", ListName: "Jensen,Hans", ListAdr: "Strandvejen 12A", Want: true},
		{Name: "StreetDefiniteEnding", Contact: "Hans Jensen", Address: "Torv 12A, 2900 Hellerup", ListName: "Jensen,Hans", ListAdr: "Torvet 12A", Want: true},
		{Name: "GivenNearFirstLetter", Contact: "Jesper Jensen", Address: "Strandvejen 12A, 2900 Hellerup", ListName: "Jensen,Esper", ListAdr: "Strandvejen 12A", Want: true},
		{Name: "GivenNearFirstReplaced", Contact: "Lesper Jensen", Address: "Strandvejen 12A, 2900 Hellerup", ListName: "Jensen,Jesper", ListAdr: "Strandvejen 12A", Want: true},
		{Name: "GivenNearSwapFirst", Contact: "Ejsper Jensen", Address: "Strandvejen 12A, 2900 Hellerup", ListName: "Jensen,Jesper", ListAdr: "Strandvejen 12A", Want: true},
		{Name: "SurnameNearFirstLetter", Contact: "Hans Kensen", Address: "Strandvejen 12A, 2900 Hellerup", ListName: "Jensen,Hans", ListAdr: "Strandvejen 12A", Want: true},
		{Name: "SurnameNearDeleted", Contact: "Hans Hansen", Address: "Strandvejen 12A, 2900 Hellerup", ListName: "Hanssen,Hans", ListAdr: "Strandvejen 12A", Want: true},
		// The road register's earlier name Nyvej of Gammelvej starts with
		// another letter: the road key lets the record through.
		{Name: "RegisterEarlierName", Contact: "Hans Jensen", Address: "Nyvej 12A, 2900 Hellerup", ListName: "Jensen,Hans", ListAdr: "Gammelvej 12A", Want: true},
		{Name: "RegisterEarlierNameNear", Contact: "Hans Jensen", Address: "Nyvejen 12A, 2900 Hellerup", ListName: "Jensen,Hans", ListAdr: "Gammelvej 12A", Want: true},
		{Name: "RegisterNearFirstLetter", Contact: "Hans Jensen", Address: "Hammelvej 12A, 2900 Hellerup", ListName: "Jensen,Hans", ListAdr: "Strandvejen 12A", Want: true},
		{Name: "RegisterFullName", Contact: "Hans Jensen", Address: "Borgmester Christiansens Gade 12A, 2900 Hellerup", ListName: "Jensen,Hans", ListAdr: "Borgm Christiansensg 12A", Road: roadBorgm, Want: true},
		{Name: "RegisterEarlierNameWithoutRegister", Contact: "Hans Jensen", Address: "Nyvej 12A, 2900 Hellerup", ListName: "Jensen,Hans", ListAdr: "Gammelvej 12A", NoRegister: true, Want: false},
		{Name: "SurnameNearRegisterStreet", Contact: "Hans Hanssen", Address: "Nyvej 12A, 2900 Hellerup", ListName: "Hansen,Hans", ListAdr: "Gammelvej 12A", Want: true},
		{Name: "SurnameNearRegisterStreetWithoutRegister", Contact: "Hans Hanssen", Address: "Nyvej 12A, 2900 Hellerup", ListName: "Hansen,Hans", ListAdr: "Gammelvej 12A", NoRegister: true, Want: false},
		// A street with another first letter rules the record out; one with
		// the same letter lets it through, and Match rules it out.
		{Name: "OtherStreet", Contact: "Hans Jensen", Address: "Vestergade 12A, 2900 Hellerup", ListName: "Jensen,Hans", ListAdr: "Strandvejen 12A", Want: false},
		{Name: "OtherStreetSameLetter", Contact: "Hans Jensen", Address: "Skolevej 12A, 2900 Hellerup", ListName: "Jensen,Hans", ListAdr: "Strandvejen 12A", Want: true},
		{Name: "SurnameNearOtherStreet", Contact: "Hans Hanssen", Address: "Vestergade 12A, 2900 Hellerup", ListName: "Hansen,Hans", ListAdr: "Strandvejen 12A", Want: false},
		{Name: "SurnameNearOtherGivenLetter", Contact: "Mads Hanssen", Address: "Strandvejen 12A, 2900 Hellerup", ListName: "Hansen,Hans", ListAdr: "Strandvejen 12A", Want: false},
		{Name: "SurnameShort", Contact: "Hans Jense", Address: "Strandvejen 12A, 2900 Hellerup", ListName: "Jens,Hans", ListAdr: "Strandvejen 12A", Want: false},
		{Name: "OtherGivenName", Contact: "Mogens Jensen", Address: "Strandvejen 12A, 2900 Hellerup", ListName: "Jensen,Hans Peter", ListAdr: "Strandvejen 12A", Want: false},
		{Name: "SurnameOnly", Contact: "Jensen", Address: "Strandvejen 12A, 2900 Hellerup", ListName: "Jensen,Hans", ListAdr: "Strandvejen 12A", Want: false},
		{Name: "NoStreet", Contact: "Hans Jensen", Address: "12A, 2900 Hellerup", ListName: "Jensen,Hans", ListAdr: "Strandvejen 12A", Want: false},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			rec := mustRecord(t, tt.ListName, tt.ListAdr, post, false, 1)
			rec.Road = roadGammelvej
			if tt.Road.Known() {
				rec.Road = tt.Road
			}
			name, err := ParseContactName(tt.Contact)
			if err != nil {
				t.Fatal(err)
			}
			addr, _ := ParseAddress(tt.Address)
			addr.Postcode = post
			var s sigSet
			s.addRecord(rec)
			var m Matcher
			if !tt.NoRegister {
				m.Roads = roads
			}
			got := s.found(name, addr, m.Roads, rec)
			o := m.Match(name, addr, rec)
			if got != tt.Want {
				t.Errorf("found = %v, want %v (Match: %v)", got, tt.Want, o)
			}
			if o.Level != NoMatch && !got {
				t.Errorf("signatures rule out a record that Match gives %v", o)
			}
		})
	}
}

// TestZeroProbeRulesNothingOut: a Probe that was never built must not hide
// records (fail closed): it reports true whatever the filter says.
func TestZeroProbeRulesNothingOut(t *testing.T) {
	var p Probe
	calls := 0
	test := filterFunc(func(_, _ []byte) bool { calls++; return false })
	if !p.MayMatchExact([]byte("k"), test, nil) || !p.MayMatchNear(test, nil) {
		t.Error("the zero Probe rules a record out")
	}
	if calls != 0 {
		t.Errorf("the zero Probe tested %d signature keys", calls)
	}
	if p.None() {
		t.Error("the zero Probe says the contact can match nothing")
	}
}

func TestProbeAllocs(t *testing.T) {
	name, _ := ParseContactName("Hans Peter Jensen")
	addr, _ := ParseAddress("Strandvejen 12A, 2. tv, 2900 Hellerup")
	key := AppendKey(nil, addr.Postcode, addr.HouseNumber, "jensen")

	test := filterFunc(func(g, k []byte) bool { return len(k) == 0 })
	// The probe lives in the caller's reused state (as in the screening
	// engine): building and testing it must not allocate.
	p := new(Probe)
	if n := testing.AllocsPerRun(100, func() {
		*p = NewProbe(name, addr, nil)
		p.MayMatchExact(key, test, nil)
		p.MayMatchNear(test, nil)
	}); n != 0 {
		t.Errorf("NewProbe + MayMatch: %v allocs, want 0", n)
	}
}

// FuzzSignatures checks the property a store relies on: whenever Match
// gives more than NoMatch, the record is among the candidates the
// contact's probe lets through the record's signature keys.
func FuzzSignatures(f *testing.F) {
	f.Add("Hans Jensen", "Strandvejen 12A, 2. tv, 2900 Hellerup", "Jensen,H.", "Strandvejen 12 A")
	f.Add("H.C. Jensen", "H C Andersens Boulevard 12", "Jensen,Hans Christian", "H.C. Andersens Boulevard 12")
	f.Add("Ø. Hansen-Jensen", "Dronning Louises Vej 1", "Hansen Jensen,Øjvind", "Dronn. Louises V. 1")
	f.Add("Hans Hanssen", "Nyvej 12A", "Hansen,Hans", "Gammelvej 12A")
	f.Add("Jesper Kensen", "Gl. Køge Landevej 3", "Jensen,Jesper", "Gammel Køge Landevej 3")
	f.Add("Lone Lykke Andersen Rasmussen", "Ringvej 4", "Rasmussen,René Andersen", "Ringvejen 4")
	for _, s := range fuzzSeeds {
		f.Add(s, s, s, s)
	}
	roads := testRoads()
	f.Fuzz(func(t *testing.T, contact, address, listName, listAddr string) {
		name, err := ParseContactName(contact)
		if err != nil {
			return
		}
		addr, _ := ParseAddress(address)
		ln, err := ParseListName(listName)
		if err != nil {
			return
		}
		la, _ := ParseAddress(listAddr)
		// Same address: the record is under the contact's address key.
		addr.Postcode, addr.HouseNumber = "2900", "12A"
		la.Postcode, la.HouseNumber = addr.Postcode, addr.HouseNumber
		rec := &Record{Name: ln, Address: la, Road: roadGammelvej}
		var s sigSet
		s.addRecord(rec)
		for _, m := range []Matcher{{}, {Roads: roads}, {Family: FamilySet{"andersen": {}}}} {
			var r Roads
			if m.Roads != nil {
				r = roads
			}
			if o := m.Match(name, addr, rec); o.Level != NoMatch && !s.found(name, addr, r, rec) {
				t.Fatalf("Match gives %v but the signatures rule the record out (street %q/%q)", o, addr.Street, la.Street)
			}
		}
	})
}

// recordingFilter logs every group and keys a probe tests or touches and
// answers false.
type recordingFilter struct{ log []string }

func (r *recordingFilter) TestAnyIn(group, keys []byte, width int) bool {
	r.log = append(r.log, fmt.Sprintf("test %q %q %d", group, keys, width))
	return false
}

func (r *recordingFilter) GroupHash(group []byte) uint64 {
	r.log = append(r.log, fmt.Sprintf("touch %q", group))
	return 0
}

func (r *recordingFilter) TouchHashes([]uint64) uint64 { return 0 }

// TestProbeReset: a probe Reset in place, after it served another contact,
// tests exactly the keys a new probe of the same contact tests.
func TestProbeReset(t *testing.T) {
	contacts := []struct{ Name, Contact, Address string }{
		{"Plain", "Hans Peter Jensen", "Strandvejen 12A, 2. tv, 2900 Hellerup"},
		{"TwoSurnames", "Ø. Hansen-Jensen", "Dronn. Louises V. 1, 2900 Hellerup"},
		{"ShortWords", "Bo Li", "Ny 3, 2900 Hellerup"},
		{"NoStreetLetter", "Hans Jensen", "-- 3, 2900 Hellerup"},
		{"NoGivenName", "Jensen", "Strandvejen 12A, 2900 Hellerup"},
		{"ManyGivenNames", "A B C D E F G H I Jensen", "Strandvejen 12A, 2900 Hellerup"},
		{"RegisterName", "Hans Hanssen", "Nyvej 12A, 2900 Hellerup"},
	}
	roads := testRoads()
	var list ListRoads
	rec := mustRecord(t, "Jensen,Hans", "Gammelvej 12A", "2900", false, 1)
	rec.Road = roadGammelvej
	list.Add(rec)
	x := NewRoadExtras(&list, roads)
	run := func(p *Probe, key []byte, r Roads) []string {
		var f recordingFilter
		var xr *RoadExtras
		if r != nil {
			xr = x
		}
		p.Prefetch([]byte("r"), &f)
		f.log = append(f.log, fmt.Sprint(p.None(), p.MayMatchExact(key, &f, xr), p.MayMatchNear(&f, xr)))
		return f.log
	}
	var reused Probe
	for _, withRoads := range []bool{false, true} {
		var r Roads
		if withRoads {
			r = roads
		}
		for i, c := range contacts {
			t.Run(fmt.Sprintf("%s/roads=%v", c.Name, withRoads), func(t *testing.T) {
				name, _ := ParseContactName(c.Contact)
				addr, _ := ParseAddress(c.Address)
				key := AppendKey([]byte("r"), addr.Postcode, addr.HouseNumber, name.Surnames[0])
				fresh := NewProbe(name, addr, r)
				want := run(&fresh, key, r)
				// Dirty the reused probe with the previous contact first.
				prev := contacts[(i+len(contacts)-1)%len(contacts)]
				pn, _ := ParseContactName(prev.Contact)
				pa, _ := ParseAddress(prev.Address)
				reused.Reset(pn, pa, roads)
				run(&reused, key, roads)
				reused.Reset(name, addr, r)
				if got := run(&reused, key, r); !slices.Equal(got, want) {
					t.Errorf("after Reset:\n%s\nnew probe:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			})
		}
	}
}
