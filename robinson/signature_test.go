package robinson

import (
	"testing"
)

// sigSet collects the signature keys of records, as a store's filter would.
type sigSet struct {
	keys      map[string]bool
	wildcards bool
}

func (s *sigSet) addRecord(rec *Record) {
	if s.keys == nil {
		s.keys = map[string]bool{}
	}
	for _, sn := range rec.Name.Surnames {
		key := AppendKey(nil, rec.Address.Postcode, rec.Address.HouseNumber, sn)
		sigs, wild := RecordSignatures(nil, rec)
		for _, g := range sigs[1:] {
			s.keys[string(AppendSignatureKey(nil, key, sigs[0], g))] = true
		}
		s.wildcards = s.wildcards || wild
	}
}

func (s *sigSet) test(key []byte) func(street, given byte) bool {
	return func(street, given byte) bool {
		return s.keys[string(AppendSignatureKey(nil, key, street, given))]
	}
}

// mayMatch reports whether the probe of name/addr lets any of the
// contact's blocking keys through.
func (s *sigSet) mayMatch(name Name, addr Address) bool {
	p := NewProbe(name, addr)
	for _, sn := range name.Surnames {
		if p.MayMatch(s.wildcards, s.test(AppendKey(nil, addr.Postcode, addr.HouseNumber, sn))) {
			return true
		}
	}
	return false
}

func TestSignatures(t *testing.T) {
	const post = "2900"
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
		{"StreetPunctuationFirst", "Hans Jensen", "-. Vej 12A, 2900 Hellerup", "Jensen,Hans", "-x Vej 12A", true},
		{"OtherGivenName", "Karl Jensen", "Strandvejen 12A, 2900 Hellerup", "Jensen,Hans Peter", "Strandvejen 12A", false},
		{"OtherStreet", "Hans Jensen", "Vestergade 12A, 2900 Hellerup", "Jensen,Hans", "Strandvejen 12A", false},
		{"SurnameOnly", "Jensen", "Strandvejen 12A, 2900 Hellerup", "Jensen,Hans", "Strandvejen 12A", false},
		{"NoStreet", "Hans Jensen", "12A, 2900 Hellerup", "Jensen,Hans", "Strandvejen 12A", false},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			rec := mustRecord(t, tt.ListName, tt.ListAdr, post, false, 1)
			name, err := ParseContactName(tt.Contact)
			if err != nil {
				t.Fatal(err)
			}
			addr, _ := ParseAddress(tt.Address)
			addr.Postcode = post
			var s sigSet
			s.addRecord(rec)
			got := s.mayMatch(name, addr)
			if got != tt.Want {
				t.Errorf("may match = %v, want %v (Match: %v)", got, tt.Want, Match(name, addr, rec))
			}
			if m := Match(name, addr, rec); m.Level != NoMatch && !got {
				t.Errorf("signatures rule out a record that Match gives %v", m.Level)
			}
		})
	}
}

// TestZeroProbeRulesNothingOut: a Probe that was never built must not hide
// records (fail closed): MayMatch reports true whatever the filter says.
func TestZeroProbeRulesNothingOut(t *testing.T) {
	var p Probe
	calls := 0
	if !p.MayMatch(true, func(byte, byte) bool { calls++; return false }) {
		t.Error("the zero Probe rules a record out")
	}
	if calls != 0 {
		t.Errorf("the zero Probe tested %d signature keys", calls)
	}
}

func TestProbeAllocs(t *testing.T) {
	name, _ := ParseContactName("Hans Peter Jensen")
	addr, _ := ParseAddress("Strandvejen 12A, 2. tv, 2900 Hellerup")
	key := AppendKey(nil, addr.Postcode, addr.HouseNumber, "jensen")
	if n := testing.AllocsPerRun(100, func() {
		p := NewProbe(name, addr)
		p.MayMatch(true, func(street, given byte) bool {
			var b [64]byte
			return len(AppendSignatureKey(b[:0], key, street, given)) == 0
		})
	}); n != 0 {
		t.Errorf("NewProbe + MayMatch: %v allocs, want 0", n)
	}
}

// FuzzSignatures checks the property a store relies on: whenever Match
// gives more than NoMatch, the contact's probe lets the record's blocking
// key through the record's signature keys.
func FuzzSignatures(f *testing.F) {
	f.Add("Hans Jensen", "Strandvejen 12A, 2. tv, 2900 Hellerup", "Jensen,H.", "Strandvejen 12 A")
	f.Add("H.C. Jensen", "H C Andersens Boulevard 12", "Jensen,Hans Christian", "H.C. Andersens Boulevard 12")
	f.Add("Ø. Hansen-Jensen", "Dronning Louises Vej 1", "Hansen Jensen,Øjvind", "Dronn. Louises V. 1")
	f.Add("Hans Jensen", "-. Vej 12A", "Jensen,Hans", "-x Vej 12A")
	for _, s := range fuzzSeeds {
		f.Add(s, s, s, s)
	}
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
		// Same postcode and house number: the record shares the contact's
		// blocking key whenever a surname word agrees.
		la.Postcode, la.HouseNumber = addr.Postcode, addr.HouseNumber
		rec := &Record{Name: ln, Address: la}
		var s sigSet
		s.addRecord(rec)
		if m := Match(name, addr, rec); m.Level != NoMatch && !s.mayMatch(name, addr) {
			t.Fatalf("Match gives %v but the signatures rule the record out (street %q/%q)", m.Level, addr.Street, la.Street)
		}
	})
}
