package robinson

import (
	"testing"
)

func TestStreetsCompatible(t *testing.T) {
	tests := []struct {
		Name string
		A, B string
		Want StreetAgreement
	}{
		{Name: "Equal", A: "strandvejen", B: "strandvejen", Want: StreetEqual},
		{Name: "EqualMultiWord", A: "sankt hans gade", B: "sankt hans gade", Want: StreetEqual},
		{Name: "CompactDots", A: "h.c. andersens boulevard", B: "h c andersens boulevard", Want: StreetEqual},
		{Name: "CompactReverse", A: "h c andersens boulevard", B: "h.c. andersens boulevard", Want: StreetEqual},
		{Name: "CompactBlank", A: "alle gade", B: "allegade", Want: StreetEqual},
		{Name: "CompactNoBlank", A: "hc andersens boulevard", B: "h.c. andersens boulevard", Want: StreetEqual},
		{Name: "CompactAbbreviationDotOnly", A: "gl kongevej", B: "gl. kongevej", Want: StreetEqual},
		{Name: "Abbreviated", A: "dronn. louises v.", B: "dronning louises vej", Want: StreetAbbreviated},
		{Name: "AbbreviatedReverse", A: "dronning louises vej", B: "dronn. louises v.", Want: StreetAbbreviated},
		{Name: "AbbreviatedMixedSides", A: "dronn. louises vej", B: "dronning louises v.", Want: StreetAbbreviated},
		{Name: "AbbreviationTableGamle", A: "gl. kongevej", B: "gamle kongevej", Want: StreetAbbreviated},
		{Name: "AbbreviatedPrefix", A: "gl. kongevej", B: "glostrup kongevej", Want: StreetAbbreviated},
		{Name: "BothAbbreviated", A: "dr. louises v.", B: "dronn. louises vej", Want: StreetAbbreviated},
		{Name: "AbbreviationTableWithoutDot", A: "dronn louises vej", B: "dronning louises vej", Want: StreetAbbreviated},
		{Name: "PrefixWithoutDot", A: "strandv louises vej", B: "strandvejen louises vej", Want: StreetNone},
		{Name: "AbbreviationNotPrefix", A: "drn. louises vej", B: "dronning louises vej", Want: StreetNone},
		{Name: "DifferentWordCount", A: "dronn. louises", B: "dronning louises vej", Want: StreetNone},
		{Name: "DifferentWordCountAbbrev", A: "h.c. andersens blvd.", B: "h c andersens boulevard", Want: StreetNone},
		{Name: "Different", A: "strandvejen", B: "strandgade", Want: StreetNone},
		{Name: "DotAlone", A: ". louises vej", B: "dronning louises vej", Want: StreetNone},
		{Name: "EmptyA", A: "", B: "strandvejen", Want: StreetNone},
		{Name: "EmptyBoth", A: "", B: "", Want: StreetNone},
		{Name: "OnlyPunctuation", A: ".", B: ",", Want: StreetNone},
		{Name: "DanishNormalised", A: Normalize("Nørregade"), B: Normalize("Noerregade"), Want: StreetEqual},
		{Name: "AccentNormalised", A: Normalize("Allégade"), B: Normalize("Allegade"), Want: StreetEqual},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			if got := StreetsCompatible(tt.A, tt.B); got != tt.Want {
				t.Errorf("StreetsCompatible(%q, %q) = %v, want %v", tt.A, tt.B, got, tt.Want)
			}
		})
	}
}

func TestUnitsAgree(t *testing.T) {
	tests := []struct {
		Name string
		A, B Address
		Want UnitAgreement
	}{
		{Name: "BothAbsent", Want: UnitEqual},
		{Name: "BothEqual", A: Address{Floor: "2", Door: "tv"}, B: Address{Floor: "2", Door: "tv"}, Want: UnitEqual},
		{Name: "FloorOnlyEqual", A: Address{Floor: "st"}, B: Address{Floor: "st"}, Want: UnitEqual},
		{Name: "DoorMissingOneSide", A: Address{Floor: "2", Door: "tv"}, B: Address{Floor: "2"}, Want: UnitMissing},
		{Name: "AllMissingOneSide", A: Address{}, B: Address{Floor: "2", Door: "tv"}, Want: UnitMissing},
		{Name: "FloorConflict", A: Address{Floor: "2", Door: "tv"}, B: Address{Floor: "3", Door: "tv"}, Want: UnitConflict},
		{Name: "DoorConflict", A: Address{Floor: "2", Door: "tv"}, B: Address{Floor: "2", Door: "th"}, Want: UnitConflict},
		{Name: "DoorConflictFloorMissing", A: Address{Door: "tv"}, B: Address{Floor: "2", Door: "th"}, Want: UnitConflict},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			if got := UnitsAgree(tt.A, tt.B); got != tt.Want {
				t.Errorf("UnitsAgree(%+v, %+v) = %v, want %v", tt.A, tt.B, got, tt.Want)
			}
			if got := UnitsAgree(tt.B, tt.A); got != tt.Want {
				t.Errorf("UnitsAgree(%+v, %+v) (swapped) = %v, want %v", tt.B, tt.A, got, tt.Want)
			}
		})
	}
}

func TestNameAgreementOf(t *testing.T) {
	tests := []struct {
		Name    string
		Contact string
		List    string
		Want    NameAgreement
	}{
		{Name: "Same", Contact: "Hans Jensen", List: "Jensen,Hans", Want: NameFull},
		{Name: "DanishLetters", Contact: "Soeren Joergensen", List: "Jørgensen,Søren", Want: NameFull},
		{Name: "DanishLettersReverse", Contact: "Søren Jørgensen", List: "Joergensen,Soeren", Want: NameFull},
		{Name: "AccentInName", Contact: "Rene Jensen", List: "Jensen,René", Want: NameFull},
		{Name: "DoubleSurnameFirst", Contact: "Mette Hansen", List: "Hansen Jensen,Mette", Want: NameFull},
		{Name: "DoubleSurnameSecond", Contact: "Mette Jensen", List: "Hansen Jensen,Mette", Want: NameFull},
		{Name: "HyphenSurnameList", Contact: "Mette Jensen", List: "Hansen-Jensen,Mette", Want: NameFull},
		{Name: "HyphenSurnameContact", Contact: "Mette Hansen-Jensen", List: "Jensen,Mette", Want: NameFull},
		{Name: "MiddleName", Contact: "Peter Jensen", List: "Jensen,Hans Peter", Want: NameFull},
		{Name: "ContactMiddleName", Contact: "Hans Peter Jensen", List: "Jensen,Peter", Want: NameFull},
		{Name: "CommaForm", Contact: "Jensen, Hans", List: "Jensen,Hans", Want: NameFull},
		{Name: "HyphenGiven", Contact: "Hans-Peter Jensen", List: "Jensen,Hans Peter", Want: NameFull},
		{Name: "Initial", Contact: "H. Jensen", List: "Jensen,Hans", Want: NameInitial},
		{Name: "InitialNoDot", Contact: "H Jensen", List: "Jensen,Hans", Want: NameInitial},
		{Name: "InitialOnList", Contact: "Hans Jensen", List: "Jensen,H.", Want: NameInitial},
		{Name: "InitialBothSides", Contact: "H. Jensen", List: "Jensen,H.", Want: NameInitial},
		{Name: "InitialDanishLetter", Contact: "Ø. Hansen", List: "Hansen,Øjvind", Want: NameInitial},
		{Name: "InitialDanishLetterASCII", Contact: "Oe. Hansen", List: "Hansen,Øjvind", Want: NameInitial},
		{Name: "InitialAA", Contact: "Å. Hansen", List: "Hansen,Aage", Want: NameInitial},
		{Name: "InitialOfMiddleName", Contact: "P. Jensen", List: "Jensen,Hans Peter", Want: NameInitial},
		{Name: "InitialsDotted", Contact: "H.P. Jensen", List: "Jensen,Hans Peter", Want: NameInitial},
		{Name: "FullBeatsInitial", Contact: "H. Peter Jensen", List: "Jensen,Hans Peter", Want: NameFull},
		{Name: "InitialMismatch", Contact: "K. Jensen", List: "Jensen,Hans", Want: NameNone},
		{Name: "InitialsDiffer", Contact: "K. Jensen", List: "Jensen,H.", Want: NameNone},
		{Name: "GivenMismatch", Contact: "Karl Jensen", List: "Jensen,Hans", Want: NameNone},
		{Name: "GivenPrefixIsNotFull", Contact: "Han Jensen", List: "Jensen,Hans", Want: NameNone},
		{Name: "SurnameMismatch", Contact: "Hans Jensen", List: "Hansen,Hans", Want: NameNone},
		{Name: "SurnameMismatchInitial", Contact: "H. Jensen", List: "Hansen,Hans", Want: NameNone},
		{Name: "SurnameOnly", Contact: "Jensen", List: "Jensen,Hans", Want: NameNone},
		{Name: "GivenIsNotSurname", Contact: "Jensen Hansen", List: "Jensen,Hans", Want: NameNone},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			c, err := ParseContactName(tt.Contact)
			if err != nil {
				t.Fatalf("ParseContactName(%q): %v", tt.Contact, err)
			}
			l, err := ParseListName(tt.List)
			if err != nil {
				t.Fatalf("ParseListName(%q): %v", tt.List, err)
			}
			if got := NameAgreementOf(c, l); got != tt.Want {
				t.Errorf("NameAgreementOf(%q, %q) = %v, want %v", tt.Contact, tt.List, got, tt.Want)
			}
		})
	}
}

// mustRecord builds a list record the way the file parser does: list name,
// postcode and the one-line Standardadresse.
func mustRecord(t *testing.T, name, address, postcode string, previous bool, line int) *Record {
	t.Helper()
	n, err := ParseListName(name)
	if err != nil {
		t.Fatalf("ParseListName(%q): %v", name, err)
	}
	a, err := ParseAddress(address)
	if err != nil {
		t.Fatalf("ParseAddress(%q): %v", address, err)
	}
	a.Postcode = postcode
	return &Record{Line: line, Name: n, Address: a, Previous: previous}
}

func TestMatch(t *testing.T) {
	const (
		listName = "Jensen,Hans Peter"
		listAddr = "Strandvejen 12A, 2. tv"
		listPost = "2900"
	)
	tests := []struct {
		Name     string
		Contact  string
		Address  string
		ListName string // default listName
		ListAddr string // default listAddr
		Previous bool
		Want     Outcome
	}{
		{Name: "FullUnitEqual", Contact: "Hans Jensen", Address: "Strandvejen 12A, 2. tv, 2900 Hellerup",
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "FullVariantWriting", Contact: "HANS JENSEN", Address: "STRANDVEJEN 012 a 2 t.v. 2900 HELLERUP",
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "MiddleNameFull", Contact: "Peter Jensen", Address: "Strandvejen 12A, 2. tv, 2900 Hellerup",
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "CommaContact", Contact: "Jensen, Hans", Address: "Strandvejen 12A, 2. tv, 2900 Hellerup",
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "FullUnitMissingContact", Contact: "Hans Jensen", Address: "Strandvejen 12A, 2900 Hellerup",
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetEqual, Unit: UnitMissing}},
		{Name: "FullDoorMissingContact", Contact: "Hans Jensen", Address: "Strandvejen 12A, 2. sal, 2900 Hellerup",
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetEqual, Unit: UnitMissing}},
		{Name: "FullUnitMissingList", Contact: "Hans Jensen", Address: "Strandvejen 12A, 2. tv, 2900 Hellerup", ListAddr: "Strandvejen 12A",
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetEqual, Unit: UnitMissing}},
		{Name: "FullFloorConflict", Contact: "Hans Jensen", Address: "Strandvejen 12A, 3. tv, 2900 Hellerup",
			Want: Outcome{Level: Possible, Name: NameFull, Street: StreetEqual, Unit: UnitConflict}},
		{Name: "FullDoorConflict", Contact: "Hans Jensen", Address: "Strandvejen 12A, 2. th, 2900 Hellerup",
			Want: Outcome{Level: Possible, Name: NameFull, Street: StreetEqual, Unit: UnitConflict}},
		{Name: "InitialNoConflict", Contact: "H. Jensen", Address: "Strandvejen 12A, 2. tv, 2900 Hellerup",
			Want: Outcome{Level: Possible, Name: NameInitial, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "InitialUnitMissing", Contact: "H. Jensen", Address: "Strandvejen 12 A, 2900 Hellerup",
			Want: Outcome{Level: Possible, Name: NameInitial, Street: StreetEqual, Unit: UnitMissing}},
		{Name: "InitialConflict", Contact: "H. Jensen", Address: "Strandvejen 12A, 2. th, 2900 Hellerup",
			Want: Outcome{Level: NoMatch, Name: NameInitial, Street: StreetEqual, Unit: UnitConflict}},
		{Name: "SurnameMismatch", Contact: "Hans Hansen", Address: "Strandvejen 12A, 2. tv, 2900 Hellerup",
			Want: Outcome{Level: NoMatch, Name: NameNone, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "GivenMismatch", Contact: "Karl Jensen", Address: "Strandvejen 12A, 2. tv, 2900 Hellerup",
			Want: Outcome{Level: NoMatch, Name: NameNone, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "PostcodeMismatch", Contact: "Hans Jensen", Address: "Strandvejen 12A, 2. tv, 2920 Charlottenlund",
			Want: Outcome{Level: NoMatch}},
		{Name: "PostcodeMissing", Contact: "Hans Jensen", Address: "Strandvejen 12A, 2. tv",
			Want: Outcome{Level: NoMatch}},
		{Name: "HouseNumberMismatch", Contact: "Hans Jensen", Address: "Strandvejen 12, 2. tv, 2900 Hellerup",
			Want: Outcome{Level: NoMatch}},
		{Name: "HouseLetterMismatch", Contact: "Hans Jensen", Address: "Strandvejen 12B, 2. tv, 2900 Hellerup",
			Want: Outcome{Level: NoMatch}},
		{Name: "StreetMismatch", Contact: "Hans Jensen", Address: "Strandgade 12A, 2. tv, 2900 Hellerup",
			Want: Outcome{Level: NoMatch}},
		{Name: "StreetCompact", Contact: "Hans Jensen", Address: "H C Andersens Boulevard 12A, 2. tv, 2900 Hellerup", ListAddr: "H.C. Andersens Boulevard 12A, 2. tv",
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "StreetAbbreviated", Contact: "Hans Jensen", Address: "Dronning Louises Vej 12A, 2. tv, 2900 Hellerup", ListAddr: "Dronn. Louises V. 12A, 2. tv",
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetAbbreviated, Unit: UnitEqual}},
		{Name: "StreetAbbreviatedNoDot", Contact: "Hans Jensen", Address: "Dronn Louises V 12A, 2. tv, 2900 Hellerup", ListAddr: "Dronning Louises Vej 12A, 2. tv",
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetAbbreviated, Unit: UnitEqual}},
		{Name: "StreetPrefixNoDot", Contact: "Hans Jensen", Address: "Strandv Alle 12A, 2. tv, 2900 Hellerup", ListAddr: "Strandvejen Alle 12A, 2. tv",
			Want: Outcome{Level: NoMatch}},
		{Name: "StreetDanishLetters", Contact: "Soeren Joergensen", Address: "Noerregade 12A, 2 tv, 2900 Hellerup", ListName: "Jørgensen,Søren", ListAddr: "Nørregade 12A, 2. tv",
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "DoubleSurname", Contact: "Mette Hansen", Address: "Strandvejen 12A, 2. tv, 2900 Hellerup", ListName: "Hansen Jensen,Mette",
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "PreviousAddress", Contact: "Hans Jensen", Address: "Strandvejen 12A, 2. tv, 2900 Hellerup", Previous: true,
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetEqual, Unit: UnitEqual, Previous: true}},
	}
	for i, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			ln, la := tt.ListName, tt.ListAddr
			if ln == "" {
				ln = listName
			}
			if la == "" {
				la = listAddr
			}
			rec := mustRecord(t, ln, la, listPost, tt.Previous, 100+i)
			name, err := ParseContactName(tt.Contact)
			if err != nil {
				t.Fatalf("ParseContactName(%q): %v", tt.Contact, err)
			}
			addr, _ := ParseAddress(tt.Address)
			want := tt.Want
			want.Line = 100 + i
			if got := Match(name, addr, rec); got != want {
				t.Errorf("Match(%q, %q) = %v, want %v", tt.Contact, tt.Address, got, want)
			}
		})
	}
}

func TestMatchNilRecord(t *testing.T) {
	if got := Match(Name{}, Address{}, nil); got != (Outcome{}) {
		t.Errorf("Match with nil record = %v, want zero Outcome", got)
	}
}

func TestMatchEmptyPartsNeverMatch(t *testing.T) {
	name := Name{Surnames: []string{"jensen"}, Given: []Given{{Word: "hans"}}}
	rec := &Record{Name: name}
	if got := Match(name, Address{}, rec); got.Level != NoMatch {
		t.Errorf("empty addresses: Level = %v, want NO_MATCH", got.Level)
	}
}

func TestMatchAllocs(t *testing.T) {
	rec := mustRecord(t, "Jensen,Hans Peter", "Dronn. Louises V. 12A, 2. tv", "2900", false, 1)
	name, _ := ParseContactName("Peter Jensen")
	addr, _ := ParseAddress("Dronning Louises Vej 12A, 2. tv, 2900 Hellerup")
	if got := testing.AllocsPerRun(100, func() { _ = Match(name, addr, rec) }); got != 0 {
		t.Errorf("Match: %v allocs, want 0", got)
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		Name string
		Got  string
		Want string
	}{
		{Name: "NoMatch", Got: NoMatch.String(), Want: "NO_MATCH"},
		{Name: "Possible", Got: Possible.String(), Want: "POSSIBLE"},
		{Name: "Matched", Got: Matched.String(), Want: "MATCH"},
		{Name: "LevelUnknown", Got: Level(9).String(), Want: "Level(9)"},
		{Name: "NameNone", Got: NameNone.String(), Want: "NONE"},
		{Name: "NameInitial", Got: NameInitial.String(), Want: "INITIAL"},
		{Name: "NameFull", Got: NameFull.String(), Want: "FULL"},
		{Name: "NameUnknown", Got: NameAgreement(7).String(), Want: "NameAgreement(7)"},
		{Name: "StreetNone", Got: StreetNone.String(), Want: "NONE"},
		{Name: "StreetEqual", Got: StreetEqual.String(), Want: "EQUAL"},
		{Name: "StreetCompact", Got: StreetCompact.String(), Want: "COMPACT"},
		{Name: "StreetAbbreviated", Got: StreetAbbreviated.String(), Want: "ABBREVIATED"},
		{Name: "StreetUnknown", Got: StreetAgreement(8).String(), Want: "StreetAgreement(8)"},
		{Name: "UnitEqual", Got: UnitEqual.String(), Want: "EQUAL"},
		{Name: "UnitMissing", Got: UnitMissing.String(), Want: "MISSING"},
		{Name: "UnitConflict", Got: UnitConflict.String(), Want: "CONFLICT"},
		{Name: "UnitUnknown", Got: UnitAgreement(5).String(), Want: "UnitAgreement(5)"},
		{Name: "Outcome", Got: Outcome{Level: Possible, Name: NameFull, Street: StreetAbbreviated, Unit: UnitConflict, Line: 42}.String(),
			Want: "POSSIBLE name=FULL street=ABBREVIATED unit=CONFLICT line=42"},
		{Name: "OutcomePrevious", Got: Outcome{Level: Matched, Name: NameFull, Street: StreetEqual, Unit: UnitEqual, Line: 7, Previous: true}.String(),
			Want: "MATCH name=FULL street=EQUAL unit=EQUAL line=7 previous"},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			if tt.Got != tt.Want {
				t.Errorf("got %q, want %q", tt.Got, tt.Want)
			}
		})
	}
}

func TestLevelOrder(t *testing.T) {
	if !(NoMatch < Possible && Possible < Matched) {
		t.Errorf("levels out of order: %d %d %d", NoMatch, Possible, Matched)
	}
}
