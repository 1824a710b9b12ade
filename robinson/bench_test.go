package robinson

import "testing"

var (
	benchName   Name
	benchAddr   Address
	benchOut    Outcome
	benchString string
)

func BenchmarkNormalize(b *testing.B) {
	for _, bb := range []struct{ name, in string }{
		{"ASCII", "Strandvejen 123A, st. tv, 2900 Hellerup"},
		{"Danish", "Nørregade 12, 1. th, 8000 Århus C"},
		{"Decomposed", "Nørregade 12, 1. th, 8000 A\u030arhus C"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				benchString = Normalize(bb.in)
			}
		})
	}
}

func BenchmarkParseAddress(b *testing.B) {
	for _, bb := range []struct{ name, in string }{
		{"Official", "Strandvejen 123, st. tv, 2900 Hellerup"},
		{"Letter", "Strandvejen 123A, st. tv, 2900 Hellerup"},
		{"Danish", "Nørregade 12, 1. th, 8000 Aarhus C"},
		{"Long", "H C Andersens Boulevard 12, 3. til venstre, 1553 København V"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				benchAddr, _ = ParseAddress(bb.in)
			}
		})
	}
}

func BenchmarkParseContactName(b *testing.B) {
	for _, bb := range []struct{ name, in string }{
		{"ASCII", "Hans Peter Jensen"},
		{"Danish", "Søren Ørum Jørgensen"},
		{"Comma", "Jensen, Hans Peter"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				benchName, _ = ParseContactName(bb.in)
			}
		})
	}
}

func BenchmarkMatch(b *testing.B) {
	ln, _ := ParseListName("Jensen,Hans Peter")
	la, _ := ParseAddress("Dronn. Louises V. 12A, 2. tv")
	la.Postcode = "2100"
	rec := &Record{Line: 1, Name: ln, Address: la}
	name, _ := ParseContactName("Peter Jensen")
	addr, _ := ParseAddress("Dronning Louises Vej 12A, 2. tv, 2100 København Ø")
	b.ReportAllocs()
	for b.Loop() {
		benchOut = Match(name, addr, rec)
	}
	if benchOut.Level != Matched {
		b.Fatalf("Match = %v, want MATCH", benchOut)
	}
}

// BenchmarkScreenContact is the hot path of one contact without a Bloom
// candidate: parse name and address (the budget is 2 µs in total).
func BenchmarkScreenContact(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		benchName, _ = ParseContactName("Søren Peter Jørgensen")
		benchAddr, _ = ParseAddress("Nørregade 12A, 2. tv, 8000 Aarhus C")
	}
}

// BenchmarkMatchNeighbour is the common candidate that does not match: the
// same surname at the same house number of another street, another given
// name.
func BenchmarkMatchNeighbour(b *testing.B) {
	ln, _ := ParseListName("Jensen,Karen Marie")
	la, _ := ParseAddress("Skovbrynet 12A, 2. tv")
	la.Postcode = "2100"
	rec := &Record{Line: 1, Name: ln, Address: la}
	name, _ := ParseContactName("Peter Jensen")
	addr, _ := ParseAddress("Dronning Louises Vej 12A, 2. tv, 2100 København Ø")
	m := Matcher{Family: FamilySet{"jensen": {}}}
	b.ReportAllocs()
	for b.Loop() {
		benchOut = m.Match(name, addr, rec)
	}
	if benchOut.Level != NoMatch {
		b.Fatalf("Match = %v, want NO_MATCH", benchOut)
	}
}
