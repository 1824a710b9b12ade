package robinson

import (
	"testing"
)

// TestRoadExtras: a register name is extra for a postcode and road when
// the letters of the list's printed streets there do not carry it: for
// agreement (EQUAL, ABBREVIATED) when its first letter differs, for NEAR
// when its first letter or an edit signature differs.
func TestRoadExtras(t *testing.T) {
	roads := testRoads()
	tests := []struct {
		Name               string
		Printed            []string // the list's streets for the road at 2900
		Road               RoadID
		Extra              []string // register names extra at 2900
		Exact, Near        bool     // of the first extra name
		OtherPostcodeEmpty bool
	}{
		{Name: "EarlierNameOtherLetter", Printed: []string{"Gammelvej"}, Road: roadGammelvej, Extra: []string{"nyvej"}, Exact: true, Near: true},
		{Name: "SameNames", Printed: []string{"Strandvejen"}, Road: roadStrandvejen},
		{Name: "FullNameSameLetters", Printed: []string{"Borgm Christiansensg"}, Road: roadBorgm, Extra: []string{"borgmester christiansens gade"}, Near: true},
		{Name: "PrintedStreetEmpty", Printed: []string{""}, Road: roadStrandvejen, Extra: []string{"strandvejen"}, Exact: true, Near: true},
		{Name: "TwoPrintedStreets", Printed: []string{"Strandvejen", "Nyvej"}, Road: roadStrandvejen, Extra: []string{"strandvejen"}, Exact: true, Near: true},
		{Name: "RoadNotInRegister", Printed: []string{"Gammelvej"}, Road: RoadID{Kommune: 999, Vej: 9}},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			var l ListRoads
			for _, p := range tt.Printed {
				rec := &Record{Address: Address{Postcode: "2900", Street: NormalizeStreet(p)}, Road: tt.Road}
				l.Add(rec)
			}
			l.Add(&Record{Address: Address{Postcode: "2900", Street: "x"}}) // no road: not kept
			if l.Len() != 1 {
				t.Fatalf("ListRoads holds %d entries, want 1", l.Len())
			}
			x := NewRoadExtras(&l, roads)
			var got []string
			for _, e := range x.byPostcode["2900"] {
				got = append(got, e.name)
			}
			if len(got) != len(tt.Extra) || x.Len() != len(tt.Extra) {
				t.Fatalf("extra names %q, want %q", got, tt.Extra)
			}
			for i := range got {
				if got[i] != tt.Extra[i] {
					t.Errorf("extra name %q, want %q", got[i], tt.Extra[i])
				}
			}
			if len(got) > 0 {
				if e := x.byPostcode["2900"][0]; e.exact != tt.Exact || e.near != tt.Near {
					t.Errorf("%q: exact %v near %v, want %v %v", e.name, e.exact, e.near, tt.Exact, tt.Near)
				}
			}
			if len(x.byPostcode["2100"]) != 0 {
				t.Error("extra names at a postcode the list has no record of")
			}
		})
	}
	if x := NewRoadExtras(nil, roads); x.Len() != 0 {
		t.Error("extra names without a list")
	}
}

// TestListRoadsLetters: the letters survive Each and AddLetters (how a
// store keeps them), and equal streets are kept once.
func TestListRoadsLetters(t *testing.T) {
	var a ListRoads
	for _, s := range []string{"Strandvejen", "Strandvejen", "Gl. Kongevej", ""} {
		a.Add(&Record{Address: Address{Postcode: "2900", Street: NormalizeStreet(s)}, Road: roadStrandvejen})
	}
	var b ListRoads
	n := 0
	a.Each(func(postcode string, road RoadID, letters []byte) {
		n++
		if len(letters) != 3*StreetLettersWidth {
			t.Errorf("%d bytes of letters, want three streets of %d", len(letters), StreetLettersWidth)
		}
		b.AddLetters(postcode, road, letters)
	})
	if n != 1 || b.Len() != 1 {
		t.Fatalf("%d entries handed out, %d read back; want 1", n, b.Len())
	}
	if xa, xb := NewRoadExtras(&a, testRoads()), NewRoadExtras(&b, testRoads()); xa.Len() != xb.Len() || xa.Len() == 0 {
		t.Errorf("extra names %d before, %d after the round trip", xa.Len(), xb.Len())
	}
}

// FuzzSignatureLetters checks the letters the signatures rest on: streets
// that agree (EQUAL, ABBREVIATED) share their first letter; NEAR streets
// share it or a street edit signature; given names one edit apart share
// their first letter or an edit signature; an initial that fits a given
// name shares its first letter.
func FuzzSignatureLetters(f *testing.F) {
	f.Add("Strandvejen", "Ktrandvejen")
	f.Add("Trandvejen", "Strandvejen")
	f.Add("Tsrandvejen 2", "Strandvejen 2.")
	f.Add("H.C. Andersens Boulevard", "H C Andersens Boul.")
	f.Add("Gl. Kongevej", "Gammel Kongevej")
	f.Add("Ringvej", "Ringvejen")
	f.Add("Jesper", "Esper")
	f.Add("Øjvind", "Oejvind")
	for _, s := range fuzzSeeds {
		f.Add(s, s+"x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		sa, sb := NormalizeStreet(a), NormalizeStreet(b)
		if StreetsCompatible(sa, sb) != StreetNone && streetFirst(sa) != streetFirst(sb) {
			t.Fatalf("streets %q and %q agree but start with other letters", sa, sb)
		}
		if streetNear(sa, sb) && streetFirst(sa) != streetFirst(sb) {
			a1, a2, oka := streetEditSigs(sa)
			b1, b2, okb := streetEditSigs(sb)
			if !oka || !okb || !sharesEditSig([2][editSigLen]byte{a1, a2}, [2][editSigLen]byte{b1, b2}) {
				t.Fatalf("NEAR streets %q and %q share no letter or edit signature", sa, sb)
			}
		}
		for _, ga := range nameWordsOf(a) {
			for _, gb := range nameWordsOf(b) {
				switch {
				case ga.Initial || gb.Initial:
					fits := !ga.Initial && hasPrefix(ga.Word, gb.Word) || !gb.Initial && hasPrefix(gb.Word, ga.Word) ||
						ga.Initial && gb.Initial && (hasPrefix(ga.Word, gb.Word) || hasPrefix(gb.Word, ga.Word))
					fa, _ := firstSig(ga.Word)
					fb, _ := firstSig(gb.Word)
					if fits && fa != fb {
						t.Fatalf("initial fits but first letters differ: %+v %+v", ga, gb)
					}
				case OneEdit(ga.Word, gb.Word):
					fa, _ := firstSig(ga.Word)
					fb, _ := firstSig(gb.Word)
					a1, a2, oka := editSigs(ga.Word, 0)
					b1, b2, okb := editSigs(gb.Word, 0)
					if fa != fb && (!oka || !okb || !sharesEditSig([2][editSigLen]byte{a1, a2}, [2][editSigLen]byte{b1, b2})) {
						t.Fatalf("given names %q and %q one edit apart share no letter or edit signature", ga.Word, gb.Word)
					}
				}
			}
		}
	})
}

// nameWordsOf returns the given names of s read as a contact's name with a
// surname added.
func nameWordsOf(s string) []Given {
	n, err := ParseContactName(s + " Hansen")
	if err != nil {
		return nil
	}
	return n.Given
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }
