package robinson

import (
	"testing"
)

// Roads of the test register (testRoads), all with postal districts in
// postcode 2900.
var (
	roadGammelvej   = RoadID{Kommune: 101, Vej: 1} // earlier name Nyvej
	roadBorgm       = RoadID{Kommune: 101, Vej: 2} // Borgm Christiansensg / Borgmester Christiansens Gade
	roadStrandvejen = RoadID{Kommune: 101, Vej: 3}
	roadStrandvej   = RoadID{Kommune: 101, Vej: 4} // even numbers 2-40 only
)

// fakeRoads is a road register for tests.
type fakeRoads struct {
	names     map[RoadID][]string
	districts []fakeDistrict
}

type fakeDistrict struct {
	road     RoadID
	postcode string
	from, to int
	parity   byte // 'L' even, 'U' odd, 0 both
}

func (r *fakeRoads) RoadNames(road RoadID) []string { return r.names[road] }

func (r *fakeRoads) RoadsAt(postcode string, number int) []RoadID {
	var out []RoadID
	for _, d := range r.districts {
		if d.postcode != postcode || number < d.from || number > d.to ||
			d.parity == 'L' && number%2 != 0 || d.parity == 'U' && number%2 != 1 {
			continue
		}
		out = append(out, d.road)
	}
	return out
}

func testRoads() *fakeRoads {
	n := func(ss ...string) []string {
		for i := range ss {
			ss[i] = NormalizeStreet(ss[i])
		}
		return ss
	}
	return &fakeRoads{
		names: map[RoadID][]string{
			roadGammelvej:   n("Gammelvej", "Nyvej"),
			roadBorgm:       n("Borgm Christiansensg", "Borgmester Christiansens Gade"),
			roadStrandvejen: n("Strandvejen"),
			roadStrandvej:   n("Strandvej"),
		},
		districts: []fakeDistrict{
			{roadGammelvej, "2900", 1, 99, 0},
			{roadBorgm, "2900", 1, 99, 0},
			{roadStrandvejen, "2900", 1, 199, 0},
			{roadStrandvej, "2900", 2, 40, 'L'},
		},
	}
}

func TestCanonWords(t *testing.T) {
	tests := []struct{ Name, In, Want string }{
		{"Unchanged", "strandvejen", "strandvejen"},
		{"DotLetterSplits", "thomas b.thriges gd.", "thomas b. thriges gd."},
		{"Initials", "h.c. andersens boulevard", "h. c. andersens boulevard"},
		{"Apostrophe", "christian ix's gade", "christian ixs gade"},
		{"TrailingDotKept", "dronn. louises v.", "dronn. louises v."},
		{"LoneDotDropped", "a . b", "a b"},
		{"DoubleDot", "st.. hans", "st. hans"},
		{"PunctuationWord", "a & b", "a b"},
		{"Ordinal", "christian 4. gade", "christian 4. gade"},
		{"UnicodeQuote", "ix’s gade", "ixs gade"},
		{"Empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			if got := canonWords(tt.In); got != tt.Want {
				t.Errorf("canonWords(%q) = %q, want %q", tt.In, got, tt.Want)
			}
			if got := canonWords(tt.Want); got != tt.Want {
				t.Errorf("canonWords not idempotent on %q: %q", tt.Want, got)
			}
		})
	}
}

func TestOneEdit(t *testing.T) {
	tests := []struct {
		Name string
		A, B string
		Want bool
	}{
		{"Replaced", "stagionsvejen", "stationsvejen", true},
		{"Inserted", "haansen", "hansen", true},
		{"Deleted", "jespr", "jesper", true},
		{"Swapped", "hnasen", "hansen", true},
		{"SwappedLast", "hanesn", "hansen", true},
		{"FirstLetter", "kensen", "jensen", true},
		{"InsertedFirst", "ajensen", "jensen", true},
		{"Equal", "hansen", "hansen", false},
		{"TwoEdits", "hansen", "hannsn", false},
		{"ShorterFour", "bech", "beck", false},
		{"ShorterFourInsert", "jens", "jenss", false},
		{"FiveLetters", "bakke", "bakje", true},
		{"LengthTwo", "hansen", "hansenen", false},
		{"NonASCII", "guðrun", "guðrn", true},
		{"NonASCIIReplaced", "þorsen", "torsen", true},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			if got := OneEdit(tt.A, tt.B); got != tt.Want {
				t.Errorf("OneEdit(%q, %q) = %v, want %v", tt.A, tt.B, got, tt.Want)
			}
			if got := OneEdit(tt.B, tt.A); got != tt.Want {
				t.Errorf("OneEdit(%q, %q) = %v, want %v (swapped)", tt.B, tt.A, got, tt.Want)
			}
		})
	}
}

// TestAbbreviationTable has a case for every row and every written form of
// the abbreviation table (screening-rules.md section 3.3), with and without
// the dot, from both sides.
func TestAbbreviationTable(t *testing.T) {
	tests := []struct {
		Name          string
		Contact, List string
	}{
		{"GlGammel", "Gammel Køge Landevej", "Gl. Køge Landevej"},
		{"GlGammelUndotted", "Gammel Havdrupvej", "Gl Havdrupvej"},
		{"GlGamle", "Gamle Kongevej", "Gl. Kongevej"},
		{"GlReverse", "Gl Kongevej", "Gamle Kongevej"},
		{"LlLille", "Lille Strandstræde", "Ll. Strandstræde"},
		{"NdrNordre", "Nordre Fasanvej", "Ndr. Fasanvej"},
		{"NrNoerre", "Nørre Allé", "Nr. Allé"},
		{"NrNoerreUndotted", "Nr Allé", "Nørre Allé"},
		{"SdrSoender", "Sønder Boulevard", "Sdr. Boulevard"},
		{"SdrSoendre", "Søndre Fasanvej", "Sdr Fasanvej"},
		{"SktSankt", "Sankt Hans Gade", "Skt. Hans Gade"},
		{"SctSankt", "Sankt Hans Gade", "Sct. Hans Gade"},
		{"StSankt", "St. Hans Gade", "Sankt Hans Gade"},
		{"StStore", "Store Kongensgade", "St. Kongensgade"},
		{"StStoreUndotted", "St Kongensgade", "Store Kongensgade"},
		{"VVester", "Vester Voldgade", "V. Voldgade"},
		{"VVestre", "Vestre Ringgade", "V Ringgade"},
		{"VVej", "Dronning Louises Vej", "Dronn. Louises V."},
		{"OeOester", "Øster Allé", "Ø. Allé"},
		{"OeOestre", "Østre Stationsvej", "Ø Stationsvej"},
		{"KgsKongens", "Kongens Nytorv", "Kgs. Nytorv"},
		{"BlvdBoulevard", "H.C. Andersens Boulevard", "H.C. Andersens Blvd."},
		{"BoulBoulevard", "H C Andersens Boul", "H.C. Andersens Boulevard"},
		{"ChrChristian", "Christian IX's Gade", "Chr. IX's Gade"},
		{"ChrChristians", "Christians Brygge", "Chr Brygge"},
		{"FrFrederik", "Frederik VII's Gade", "Fr. VII's Gade"},
		{"FrsFrederiks", "Frederiks Allé", "Frs. Allé"},
		{"FrFrederiks", "Frederiks Plads", "Fr Pl"},
		{"DrDronning", "Dronning Olgas Vej", "Dr. Olgas Vej"},
		{"DronnDronning", "Dronning Olgas Vej", "Dronn Olgas Vej"},
		{"DrDronningens", "Dronningens Tværgade", "Dr. Tværgade"},
		{"DronnDronningens", "Dronningens Tværgade", "Dronn. Tværgade"},
		{"DrDoktor", "Doktor Abildgaards Allé", "Dr. Abildgaards Allé"},
		{"DronnDoktor", "Doktor Abildgaards Allé", "Dronn Abildgaards Allé"},
		{"VilhVilhelm", "Vilhelm Becks Vej", "Vilh. Becks Vej"},
		{"PlPlads", "Israels Plads", "Israels Pl."},
		{"GdGade", "Thomas B. Thriges Gade", "Thomas B.Thriges Gd."},
		{"DottedPrefix", "Dronning Louises Vej", "Dronn. Louises V."},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			c, l := NormalizeStreet(tt.Contact), NormalizeStreet(tt.List)
			if got := StreetsCompatible(c, l); got != StreetAbbreviated {
				t.Errorf("StreetsCompatible(%q, %q) = %v, want ABBREVIATED", c, l, got)
			}
			if got := StreetsCompatible(l, c); got != StreetAbbreviated {
				t.Errorf("StreetsCompatible(%q, %q) = %v, want ABBREVIATED (swapped)", l, c, got)
			}
		})
	}
}

func TestStreetsNear(t *testing.T) {
	tests := []struct {
		Name          string
		Contact, List string
		Want          bool
	}{
		{"DefiniteEn", "Ringvej", "Ringvejen", true},
		{"DefiniteEt", "Torv", "Torvet", true},
		{"DefiniteN", "Banegårdspladse", "Banegårdspladsen", true},
		{"DefiniteT", "Torve", "Torvet", true},
		{"DefiniteLastWordOnly", "Gl Torv Vej", "Gl Torvet Vej", false},
		{"DefiniteMultiWord", "Nørre Ringvej", "Nørre Ringvejen", true},
		{"OneEdit", "Stagionsvejen", "Stationsvejen", true},
		{"OneEditSecondWord", "Sankt Annae Plads", "Sankt Anane Plads", true},
		{"OneEditShortWord", "Bovej", "Bavej", true},
		{"OneEditTooShort", "Vej", "Veg", false},
		{"TwoWordsDiffer", "Stagionsvejen Nord", "Stationsvejen Syd", false},
		{"WordCountDiffers", "Ringvej Nord", "Ringvejen", false},
		{"NotWithAbbreviation", "Gl. Køge Landvej", "Gammel Køge Landevej", false},
		{"DotOnlyIsTheSameWord", "Gl Torvet", "Gl. Torv", true},
		{"AbbreviatedWordNeverEdited", "Stationsv.", "Stationsvej", false},
		{"Equal", "Ringvej", "Ringvej", false},
		{"TwoEdits", "Stagionsvejne", "Stationsvejen", false},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			c, l := NormalizeStreet(tt.Contact), NormalizeStreet(tt.List)
			if got := streetNear(c, l); got != tt.Want {
				t.Errorf("streetNear(%q, %q) = %v, want %v", c, l, got, tt.Want)
			}
			if got := streetNear(l, c); got != tt.Want {
				t.Errorf("streetNear(%q, %q) = %v, want %v (swapped)", l, c, got, tt.Want)
			}
		})
	}
}

// TestMatchV2 has a named case for every clause of screening-rules.md
// sections 3.3 to 3.5, including the hard negatives.
func TestMatchV2(t *testing.T) {
	const post = "2900"
	family := FamilySet{"andersen": {}, "hansen": {}}
	tests := []struct {
		Name     string
		Contact  string
		Address  string // postcode 2900 is added
		ListName string
		ListAddr string
		Road     RoadID
		Register bool // with the test road register
		Want     Outcome
	}{
		// 3.3 streets.
		{Name: "EqualCompact", Contact: "Hans Jensen", Address: "H C Andersens Boulevard 12", ListName: "Jensen,Hans", ListAddr: "H.C. Andersens Boulevard 12",
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "EqualDotLetter", Contact: "Hans Jensen", Address: "Thomas B Thriges Gade 12", ListName: "Jensen,Hans", ListAddr: "Thomas B.Thriges Gade 12",
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "AbbreviatedTable", Contact: "Hans Jensen", Address: "Gammel Køge Landevej 12", ListName: "Jensen,Hans", ListAddr: "Gl. Køge Landevej 12",
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetAbbreviated, Unit: UnitEqual}},
		{Name: "AbbreviatedUndotted", Contact: "Hans Jensen", Address: "Gl Havdrupvej 12", ListName: "Jensen,Hans", ListAddr: "Gammel Havdrupvej 12",
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetAbbreviated, Unit: UnitEqual}},
		{Name: "UndottedPrefixIsNoAbbreviation", Contact: "Hans Jensen", Address: "Strandv 12", ListName: "Jensen,Hans", ListAddr: "Strandvejen 12",
			Want: Outcome{Level: NoMatch}},
		{Name: "RegisterFullName", Contact: "Hans Jensen", Address: "Borgmester Christiansens Gade 12", ListName: "Jensen,Hans", ListAddr: "Borgm Christiansensg 12", Road: roadBorgm, Register: true,
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetRegister, Unit: UnitEqual}},
		{Name: "RegisterNotLoaded", Contact: "Hans Jensen", Address: "Borgmester Christiansens Gade 12", ListName: "Jensen,Hans", ListAddr: "Borgm Christiansensg 12", Road: roadBorgm,
			Want: Outcome{Level: NoMatch}},
		{Name: "RegisterEarlierName", Contact: "Hans Jensen", Address: "Nyvej 12", ListName: "Jensen,Hans", ListAddr: "Gammelvej 12", Road: roadGammelvej, Register: true,
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetRegister, Unit: UnitEqual}},
		{Name: "RegisterUnknownRoad", Contact: "Hans Jensen", Address: "Nyvej 12", ListName: "Jensen,Hans", ListAddr: "Gammelvej 12", Road: RoadID{Kommune: 999, Vej: 9}, Register: true,
			Want: Outcome{Level: NoMatch}},
		{Name: "NearDefiniteEnding", Contact: "Hans Jensen", Address: "Ringvej 12", ListName: "Jensen,Hans", ListAddr: "Ringvejen 12",
			Want: Outcome{Level: Possible, Name: NameFull, Street: StreetNear, Unit: UnitEqual}},
		{Name: "NearTorvet", Contact: "Hans Jensen", Address: "Torvet 12", ListName: "Jensen,Hans", ListAddr: "Torv 12",
			Want: Outcome{Level: Possible, Name: NameFull, Street: StreetNear, Unit: UnitEqual}},
		{Name: "NearOneEdit", Contact: "Hans Jensen", Address: "Stagionsvejen 12", ListName: "Jensen,Hans", ListAddr: "Stationsvejen 12",
			Want: Outcome{Level: Possible, Name: NameFull, Street: StreetNear, Unit: UnitEqual}},
		{Name: "NearNotWithAbbreviation", Contact: "Hans Jensen", Address: "Gammel Køge Landvej 12", ListName: "Jensen,Hans", ListAddr: "Gl. Køge Landevej 12",
			Want: Outcome{Level: NoMatch}},
		{Name: "NearThroughRegisterName", Contact: "Hans Jensen", Address: "Nyvejen 12", ListName: "Jensen,Hans", ListAddr: "Gammelvej 12", Road: roadGammelvej, Register: true,
			Want: Outcome{Level: Possible, Name: NameFull, Street: StreetNear, Unit: UnitEqual}},
		{Name: "HardNegativeOtherRoadStrandvej", Contact: "Hans Jensen", Address: "Strandvej 12", ListName: "Jensen,Hans", ListAddr: "Strandvejen 12", Road: roadStrandvejen, Register: true,
			Want: Outcome{Level: NoMatch}},
		{Name: "OtherRoadWrongParity", Contact: "Hans Jensen", Address: "Strandvej 13", ListName: "Jensen,Hans", ListAddr: "Strandvejen 13", Road: roadStrandvejen, Register: true,
			Want: Outcome{Level: Possible, Name: NameFull, Street: StreetNear, Unit: UnitEqual}},
		{Name: "OtherRoadOutOfRange", Contact: "Hans Jensen", Address: "Strandvej 42", ListName: "Jensen,Hans", ListAddr: "Strandvejen 42", Road: roadStrandvejen, Register: true,
			Want: Outcome{Level: Possible, Name: NameFull, Street: StreetNear, Unit: UnitEqual}},
		{Name: "OtherRoadWithoutRegister", Contact: "Hans Jensen", Address: "Strandvej 12", ListName: "Jensen,Hans", ListAddr: "Strandvejen 12", Road: roadStrandvejen,
			Want: Outcome{Level: Possible, Name: NameFull, Street: StreetNear, Unit: UnitEqual}},
		{Name: "OtherRoadLetterIgnored", Contact: "Hans Jensen", Address: "Strandvej 12B", ListName: "Jensen,Hans", ListAddr: "Strandvejen 12B", Road: roadStrandvejen, Register: true,
			Want: Outcome{Level: NoMatch}},

		// 3.4 names.
		{Name: "SurnameAnyListWord", Contact: "Mette Jensen", Address: "Strandvejen 12", ListName: "Hansen Jensen,Mette", ListAddr: "Strandvejen 12",
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "HyphenatedContactSurname", Contact: "Peter Kristensen-Nielsen", Address: "Strandvejen 12", ListName: "Nielsen,Peter", ListAddr: "Strandvejen 12",
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "CommaFormAllSurnames", Contact: "Hansen Jensen, Mette", Address: "Strandvejen 12", ListName: "Jensen,Mette", ListAddr: "Strandvejen 12",
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "SurnameNear", Contact: "Hans Haansen", Address: "Strandvejen 12", ListName: "Jensen Hansen,Hans", ListAddr: "Strandvejen 12",
			Want: Outcome{Level: Possible, Name: NameNear, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "SurnameNearTooShort", Contact: "Jens Bech", Address: "Strandvejen 12", ListName: "Beck,Jens", ListAddr: "Strandvejen 12",
			Want: Outcome{Level: NoMatch, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "HardNegativeHanssenNeighbour", Contact: "Peter Hanssen", Address: "Strandvejen 12", ListName: "Hansen,Peter", ListAddr: "Strandvejen 12",
			Want: Outcome{Level: Possible, Name: NameNear, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "FullMiddleName", Contact: "Peter Jensen", Address: "Strandvejen 12", ListName: "Jensen,Hans Peter", ListAddr: "Strandvejen 12",
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "HardNegativeFamilyMiddleName", Contact: "Lone Lykke Andersen Rasmussen", Address: "Strandvejen 12", ListName: "Rasmussen,René Andersen", ListAddr: "Strandvejen 12",
			Want: Outcome{Level: Possible, Name: NameInitial, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "FamilyMiddleNameFullOnOtherName", Contact: "René Andersen Rasmussen", Address: "Strandvejen 12", ListName: "Rasmussen,René Andersen", ListAddr: "Strandvejen 12",
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "FamilyOnlySharedConflict", Contact: "Lone Andersen Rasmussen", Address: "Strandvejen 12, 2. th", ListName: "Rasmussen,René Andersen", ListAddr: "Strandvejen 12, 2. tv",
			Want: Outcome{Level: NoMatch, Name: NameInitial, Street: StreetEqual, Unit: UnitConflict}},
		{Name: "InitialContact", Contact: "H. Jensen", Address: "Strandvejen 12", ListName: "Jensen,Hans", ListAddr: "Strandvejen 12",
			Want: Outcome{Level: Possible, Name: NameInitial, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "InitialDanishLetter", Contact: "Ø. Jensen", Address: "Strandvejen 12", ListName: "Jensen,Oejvind", ListAddr: "Strandvejen 12",
			Want: Outcome{Level: Possible, Name: NameInitial, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "InitialList", Contact: "Hans Jensen", Address: "Strandvejen 12", ListName: "Jensen,H.", ListAddr: "Strandvejen 12",
			Want: Outcome{Level: Possible, Name: NameInitial, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "GivenNear", Contact: "Jespr Jensen", Address: "Strandvejen 12", ListName: "Jensen,Jesper", ListAddr: "Strandvejen 12",
			Want: Outcome{Level: Possible, Name: NameNear, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "GivenNearConflict", Contact: "Jespr Jensen", Address: "Strandvejen 12, 2. th", ListName: "Jensen,Jesper", ListAddr: "Strandvejen 12, 2. tv",
			Want: Outcome{Level: Possible, Name: NameNear, Street: StreetEqual, Unit: UnitConflict}},
		{Name: "GivenNearTooShort", Contact: "Ane Jensen", Address: "Strandvejen 12", ListName: "Jensen,Anne", ListAddr: "Strandvejen 12",
			Want: Outcome{Level: NoMatch, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "GivenNearFamilyType", Contact: "Andersn Jensen", Address: "Strandvejen 12", ListName: "Jensen,Andersen", ListAddr: "Strandvejen 12",
			Want: Outcome{Level: NoMatch, Street: StreetEqual, Unit: UnitEqual}},

		// 3.5 outcomes.
		{Name: "FullUnitMissing", Contact: "Hans Jensen", Address: "Strandvejen 12", ListName: "Jensen,Hans", ListAddr: "Strandvejen 12, 2. tv",
			Want: Outcome{Level: Matched, Name: NameFull, Street: StreetEqual, Unit: UnitMissing}},
		{Name: "FullUnitConflict", Contact: "Hans Jensen", Address: "Strandvejen 12, 3. tv", ListName: "Jensen,Hans", ListAddr: "Strandvejen 12, 2. tv",
			Want: Outcome{Level: Possible, Name: NameFull, Street: StreetEqual, Unit: UnitConflict}},
		{Name: "InitialUnitConflict", Contact: "H. Jensen", Address: "Strandvejen 12, 3. tv", ListName: "Jensen,Hans", ListAddr: "Strandvejen 12, 2. tv",
			Want: Outcome{Level: NoMatch, Name: NameInitial, Street: StreetEqual, Unit: UnitConflict}},
		{Name: "NearStreetFullConflict", Contact: "Hans Jensen", Address: "Ringvej 12, 3. tv", ListName: "Jensen,Hans", ListAddr: "Ringvejen 12, 2. tv",
			Want: Outcome{Level: Possible, Name: NameFull, Street: StreetNear, Unit: UnitConflict}},
		{Name: "NearStreetInitial", Contact: "H. Jensen", Address: "Ringvej 12", ListName: "Jensen,Hans", ListAddr: "Ringvejen 12",
			Want: Outcome{Level: Possible, Name: NameInitial, Street: StreetNear, Unit: UnitEqual}},
		{Name: "NearStreetInitialConflict", Contact: "H. Jensen", Address: "Ringvej 12, 3. tv", ListName: "Jensen,Hans", ListAddr: "Ringvejen 12, 2. tv",
			Want: Outcome{Level: NoMatch, Name: NameInitial, Street: StreetNear, Unit: UnitConflict}},
		{Name: "NearSurnameInitial", Contact: "H. Haansen", Address: "Strandvejen 12", ListName: "Hansen,Hans", ListAddr: "Strandvejen 12",
			Want: Outcome{Level: Possible, Name: NameNear, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "TwoNearsStreetSurname", Contact: "Hans Haansen", Address: "Ringvej 12", ListName: "Hansen,Hans", ListAddr: "Ringvejen 12",
			Want: Outcome{Level: NoMatch, Name: NameNear, Street: StreetNear, Unit: UnitEqual}},
		{Name: "TwoNearsSurnameGiven", Contact: "Jespr Haansen", Address: "Strandvejen 12", ListName: "Hansen,Jesper", ListAddr: "Strandvejen 12",
			Want: Outcome{Level: NoMatch, Street: StreetEqual, Unit: UnitEqual}},
		{Name: "TwoNearsStreetGiven", Contact: "Jespr Jensen", Address: "Ringvej 12", ListName: "Jensen,Jesper", ListAddr: "Ringvejen 12",
			Want: Outcome{Level: NoMatch, Name: NameNear, Street: StreetNear, Unit: UnitEqual}},
	}
	for i, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			rec := mustRecord(t, tt.ListName, tt.ListAddr, post, false, 10+i)
			rec.Road = tt.Road
			name, err := ParseContactName(tt.Contact)
			if err != nil {
				t.Fatalf("ParseContactName(%q): %v", tt.Contact, err)
			}
			addr, _ := ParseAddress(tt.Address + ", " + post + " Hellerup")
			m := Matcher{Family: family}
			if tt.Register {
				m.Roads = testRoads()
			}
			want := tt.Want
			want.Line = 10 + i
			got := m.Match(name, addr, rec)
			if got != want {
				t.Errorf("Match(%q, %q) = %v, want %v", tt.Contact, tt.Address, got, want)
			}
			// The store's signatures never hide a record that matches.
			var s sigSet
			s.addRecord(rec)
			if got.Level != NoMatch && !s.found(name, addr, m.Roads, rec) {
				t.Errorf("the signatures rule out a record that matches: %v", got)
			}
		})
	}
}

func TestFamilyCounter(t *testing.T) {
	var c FamilyCounter
	for _, n := range []string{
		"Rasmussen,René Andersen", "Andersen,Lone", "Andersen,Per", // andersen 2x surname, 1x given
		"Jensen,Mads Ole", "Ole,Mads", "Mads,Ole", // mads, ole: given 2x, surname 1x
		"Lund,Anne", "Anne,Lund", // equal both ways: not family-type
		"Hansen Hansen,Karl Hansen", // once per record each way
	} {
		nm, err := ParseListName(n)
		if err != nil {
			t.Fatal(err)
		}
		c.Add(&Record{Name: nm})
	}
	set := c.Set()
	for w, want := range map[string]bool{"andersen": true, "rasmussen": true, "mads": false, "ole": false, "lund": false, "anne": false, "hansen": false, "rene": false} {
		if got := set.FamilyType(w); got != want {
			t.Errorf("FamilyType(%q) = %v, want %v", w, got, want)
		}
	}
}
