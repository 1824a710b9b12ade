package robinson

import (
	"testing"
)

// sigSet collects the signature keys of records, as a store's filter would
// (store.robinsonFilterKeys), and the blocking keys that hold records.
type sigSet struct {
	keys    map[string]bool
	records map[string][]*Record // blocking key -> records
}

func (s *sigSet) addRecord(rec *Record) {
	if s.keys == nil {
		s.keys = map[string]bool{}
		s.records = map[string][]*Record{}
	}
	var sigs RecordSigs
	sigs.Signatures(rec)
	ak := AppendAddressKey(nil, rec.Address.Postcode, rec.Address.HouseNumber)
	for _, sn := range rec.Name.Surnames {
		key := AppendKey(nil, rec.Address.Postcode, rec.Address.HouseNumber, sn)
		s.records[string(key)] = append(s.records[string(key)], rec)
		for i := 0; i+GivenSigWidth <= len(sigs.Given); i += GivenSigWidth {
			s.keys[string(key)+"|"+string(sigs.Given[i:i+GivenSigWidth])] = true
		}
		for _, g := range sigs.First {
			group := AppendNearGroup(nil, ak, g)
			for i := 0; i+SurnameSigWidth <= len(sigs.Surname); i += SurnameSigWidth {
				s.keys[string(group)+"|"+string(sigs.Surname[i:i+SurnameSigWidth])] = true
			}
		}
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
// contact: the exact-surname keys the probe lets through and, through the
// NEAR-surname keys, the records of surname words one edit away.
func (s *sigSet) candidates(name Name, addr Address, roads Roads) []*Record {
	p := NewProbe(name, addr)
	var out []*Record
	for _, sn := range name.Surnames {
		key := AppendKey(nil, addr.Postcode, addr.HouseNumber, sn)
		if p.MayMatchExact(key, s) {
			out = append(out, s.records[string(key)]...)
		}
	}
	if p.MayMatchNear(s) {
		ak := string(p.AddressKey())
		for k, recs := range s.records {
			if len(k) > len(ak) && k[:len(ak)] == ak && p.NearSurname(k[len(ak):]) && p.MayMatchExact([]byte(k), s) {
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
		Want              bool
	}{
		{"Equal", "Hans Jensen", "Strandvejen 12A, 2. tv, 2900 Hellerup", "Jensen,Hans Peter", "Strandvejen 12A, 2. tv", true},
		{"MiddleName", "Peter Jensen", "Strandvejen 12A, 2900 Hellerup", "Jensen,Hans Peter", "Strandvejen 12A", true},
		{"ContactInitial", "H. Jensen", "Strandvejen 12A, 2900 Hellerup", "Jensen,Hans", "Strandvejen 12A", true},
		{"ListInitial", "Hans Jensen", "Strandvejen 12A, 2900 Hellerup", "Jensen,H.", "Strandvejen 12A", true},
		{"DanishInitial", "Ø. Jensen", "Strandvejen 12A, 2900 Hellerup", "Jensen,Øjvind", "Strandvejen 12A", true},
		{"StreetCompact", "Hans Jensen", "H C Andersens Boulevard 12A, 2900 Hellerup", "Jensen,Hans", "H.C. Andersens Boulevard 12A", true},
		{"StreetAbbreviated", "Hans Jensen", "Dronning Louises Vej 12A, 2900 Hellerup", "Jensen,Hans", "Dronn. Louises V. 12A", true},
		{"StreetNearFirstLetter", "Hans Jensen", "Ktrandvejen 12A, 2900 Hellerup", "Jensen,Hans", "Strandvejen 12A", true},
		{"GivenNearFirstLetter", "Jesper Jensen", "Strandvejen 12A, 2900 Hellerup", "Jensen,Esper", "Strandvejen 12A", true},
		{"GivenNearSwapFirst", "Ejsper Jensen", "Strandvejen 12A, 2900 Hellerup", "Jensen,Jesper", "Strandvejen 12A", true},
		{"SurnameNearFirstLetter", "Hans Kensen", "Strandvejen 12A, 2900 Hellerup", "Jensen,Hans", "Strandvejen 12A", true},
		{"SurnameNearDeleted", "Hans Hansen", "Strandvejen 12A, 2900 Hellerup", "Hanssen,Hans", "Strandvejen 12A", true},
		{"SurnameNearRegisterStreet", "Hans Hanssen", "Nyvej 12A, 2900 Hellerup", "Hansen,Hans", "Gammelvej 12A", true},
		// The street takes no part in the signatures: the record is read, and
		// Match rules it out.
		{"SurnameNearOtherStreet", "Hans Hanssen", "Vestergade 12A, 2900 Hellerup", "Hansen,Hans", "Strandvejen 12A", true},
		{"SurnameShort", "Hans Jense", "Strandvejen 12A, 2900 Hellerup", "Jens,Hans", "Strandvejen 12A", false},
		{"OtherGivenName", "Mogens Jensen", "Strandvejen 12A, 2900 Hellerup", "Jensen,Hans Peter", "Strandvejen 12A", false},
		{"SurnameOnly", "Jensen", "Strandvejen 12A, 2900 Hellerup", "Jensen,Hans", "Strandvejen 12A", false},
		{"NoStreet", "Hans Jensen", "12A, 2900 Hellerup", "Jensen,Hans", "Strandvejen 12A", false},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			rec := mustRecord(t, tt.ListName, tt.ListAdr, post, false, 1)
			rec.Road = roadGammelvej
			name, err := ParseContactName(tt.Contact)
			if err != nil {
				t.Fatal(err)
			}
			addr, _ := ParseAddress(tt.Address)
			addr.Postcode = post
			var s sigSet
			s.addRecord(rec)
			got := s.found(name, addr, roads, rec)
			m := Matcher{Roads: roads}
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
	if !p.MayMatchExact([]byte("k"), test) || !p.MayMatchNear(test) {
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
		*p = NewProbe(name, addr)
		p.MayMatchExact(key, test)
		p.MayMatchNear(test)
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
