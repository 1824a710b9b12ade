package robinson

import (
	"errors"
	"testing"
)

func TestParseAddress(t *testing.T) {
	tests := []struct {
		Name    string
		Input   string
		Want    Address
		WantErr error
	}{
		// Official form and its writing variants.
		{Name: "CareOfBeforeStreet", Input: "c/o Hansen, Vestergade 7, 8000 Aarhus C",
			Want: Address{Postcode: "8000", Street: "vestergade", HouseNumber: "7"}},
		{Name: "AttentionBeforeStreet", Input: "Att. Lone Berg, Nørregade 3, 2. th",
			Want: Address{Street: "noerregade", HouseNumber: "3", Floor: "2", Door: "th"}},
		{Name: "CommaBetweenStreetAndNumber", Input: "Dronn. Louises V., 15, 1. th",
			Want: Address{Street: "dronn. louises v.", HouseNumber: "15", Floor: "1", Door: "th"}},
		{Name: "Official", Input: "Strandvejen 123A, st. tv, 2900 Hellerup",
			Want: Address{Postcode: "2900", Street: "strandvejen", HouseNumber: "123A", Floor: "st", Door: "tv"}},
		{Name: "NoCommasSeparateLetter", Input: "Strandvejen 123 a st th 2900 Hellerup",
			Want: Address{Postcode: "2900", Street: "strandvejen", HouseNumber: "123A", Floor: "st", Door: "th"}},
		{Name: "UpperCaseDots", Input: "STRANDVEJEN 123A ST. TV. 2900 HELLERUP",
			Want: Address{Postcode: "2900", Street: "strandvejen", HouseNumber: "123A", Floor: "st", Door: "tv"}},
		{Name: "LeadingZeroHouse", Input: "Strandvejen 0123a, st, tv, 2900 Hellerup",
			Want: Address{Postcode: "2900", Street: "strandvejen", HouseNumber: "123A", Floor: "st", Door: "tv"}},
		{Name: "ZeroPaddedHouse3", Input: "Strandvejen 012 A",
			Want: Address{Street: "strandvejen", HouseNumber: "12A"}},
		{Name: "CPRAbbreviated", Input: "Dronn. Louises V. 15, 1. th",
			Want: Address{Street: "dronn. louises v.", HouseNumber: "15", Floor: "1", Door: "th"}},
		{Name: "OlderWriting", Input: "Vej 12 2 tv",
			Want: Address{Street: "vej", HouseNumber: "12", Floor: "2", Door: "tv"}},
		{Name: "NewerWriting", Input: "Vej 12, 2. tv",
			Want: Address{Street: "vej", HouseNumber: "12", Floor: "2", Door: "tv"}},
		{Name: "SalAndDottedDoor", Input: "Vestergade 7, 2. sal t.v.",
			Want: Address{Street: "vestergade", HouseNumber: "7", Floor: "2", Door: "tv"}},
		{Name: "SalNoBlank", Input: "Vestergade 7, 2.sal, t.h.",
			Want: Address{Street: "vestergade", HouseNumber: "7", Floor: "2", Door: "th"}},
		{Name: "SalNoDot", Input: "Vestergade 7 2 sal th",
			Want: Address{Street: "vestergade", HouseNumber: "7", Floor: "2", Door: "th"}},
		{Name: "FloorDoorJoined", Input: "Vestergade 7 2.tv",
			Want: Address{Street: "vestergade", HouseNumber: "7", Floor: "2", Door: "tv"}},
		{Name: "StDoorJoined", Input: "Vestergade 7 st.th",
			Want: Address{Street: "vestergade", HouseNumber: "7", Floor: "st", Door: "th"}},
		{Name: "LeadingZeroFloor", Input: "Vestergade 7, 02. tv",
			Want: Address{Street: "vestergade", HouseNumber: "7", Floor: "2", Door: "tv"}},
		{Name: "Kaelder", Input: "Nørregade  12 , kælder",
			Want: Address{Street: "noerregade", HouseNumber: "12", Floor: "kl"}},
		{Name: "Kld", Input: "Noerregade 12 kld",
			Want: Address{Street: "noerregade", HouseNumber: "12", Floor: "kl"}},
		{Name: "KlDot", Input: "Noerregade 12, kl.",
			Want: Address{Street: "noerregade", HouseNumber: "12", Floor: "kl"}},
		{Name: "Stuen", Input: "Vestergade 7, stuen",
			Want: Address{Street: "vestergade", HouseNumber: "7", Floor: "st"}},
		{Name: "TilVenstre", Input: "H C Andersens Boulevard 12, 3. til venstre, 1553 København V",
			Want: Address{Postcode: "1553", Street: "h c andersens boulevard", HouseNumber: "12", Floor: "3", Door: "tv"}},
		{Name: "TilHoejre", Input: "Vestergade 7, 3. til højre",
			Want: Address{Street: "vestergade", HouseNumber: "7", Floor: "3", Door: "th"}},
		{Name: "TilHoejreASCII", Input: "Vestergade 7, 3. til hoejre",
			Want: Address{Street: "vestergade", HouseNumber: "7", Floor: "3", Door: "th"}},
		{Name: "DottedStreet", Input: "H.C. Andersens Boulevard 012",
			Want: Address{Street: "h. c. andersens boulevard", HouseNumber: "12"}},
		{Name: "AccentStreet", Input: "Allégade 5, 1620 København V",
			Want: Address{Postcode: "1620", Street: "allegade", HouseNumber: "5"}},
		{Name: "DoorNumber", Input: "Bredgade 20, 4. 3",
			Want: Address{Street: "bredgade", HouseNumber: "20", Floor: "4", Door: "3"}},
		{Name: "DoorNumberLeadingZeros", Input: "Bredgade 20, 4. 003",
			Want: Address{Street: "bredgade", HouseNumber: "20", Floor: "4", Door: "3"}},
		{Name: "FloorDoorNumbersNoDots", Input: "Bredgade 20 4 3 1250 København K",
			Want: Address{Postcode: "1250", Street: "bredgade", HouseNumber: "20", Floor: "4", Door: "3"}},
		{Name: "AbbreviatedFirstWord", Input: "Gl. Kongevej 1 st",
			Want: Address{Street: "gl. kongevej", HouseNumber: "1", Floor: "st"}},
		{Name: "StreetStartsWithAA", Input: "Åboulevard 3",
			Want: Address{Street: "aaboulevard", HouseNumber: "3"}},
		{Name: "MidtFor", Input: "Sankt Hans Gade 4, 3. mf",
			Want: Address{Street: "sankt hans gade", HouseNumber: "4", Floor: "3", Door: "mf"}},
		{Name: "MidtForWords", Input: "Sankt Hans Gade 4, 3. midt for",
			Want: Address{Street: "sankt hans gade", HouseNumber: "4", Floor: "3", Door: "mf"}},
		{Name: "MFDotted", Input: "Sankt Hans Gade 4, 3. m.f.",
			Want: Address{Street: "sankt hans gade", HouseNumber: "4", Floor: "3", Door: "mf"}},
		{Name: "DoorWithoutFloor", Input: "Vestergade 7, tv",
			Want: Address{Street: "vestergade", HouseNumber: "7", Door: "tv"}},
		{Name: "SpacedDoorNotLetter", Input: "Vestergade 7 t v",
			Want: Address{Street: "vestergade", HouseNumber: "7", Door: "tv"}},
		{Name: "OrdinalStreet", Input: "Christian 4. Gade 12, 1. th",
			Want: Address{Street: "christian 4. gade", HouseNumber: "12", Floor: "1", Door: "th"}},
		{Name: "NrDropped", Input: "Vestergade nr. 7",
			Want: Address{Street: "vestergade", HouseNumber: "7"}},
		{Name: "CommaInStreet", Input: "Gl. Kongevej , 1",
			Want: Address{Street: "gl. kongevej", HouseNumber: "1"}},
		{Name: "CommaBetweenStreetWords", Input: "Gl.,Kongevej 1",
			Want: Address{Street: "gl. kongevej", HouseNumber: "1"}},
		{Name: "TownWithoutPostcode", Input: "Vestergade 7, Hellerup",
			Want: Address{Street: "vestergade", HouseNumber: "7"}},
		{Name: "TownBeforeUnitIgnored", Input: "Vestergade 7 Hellerup st",
			Want: Address{Street: "vestergade", HouseNumber: "7"}},
		{Name: "PostcodeOnlyTail", Input: "Vestergade 7 8000 Aarhus C",
			Want: Address{Postcode: "8000", Street: "vestergade", HouseNumber: "7"}},
		{Name: "FloorTooHigh", Input: "Vestergade 7, 100",
			Want: Address{Street: "vestergade", HouseNumber: "7", Door: "100"}},
		// Errors, with the parts found so far.
		{Name: "Empty", Input: "", WantErr: errAddrEmpty},
		{Name: "Blank", Input: " ,, ", WantErr: errAddrEmpty},
		{Name: "NoHouseNumber", Input: "Strandvejen, 2900 Hellerup",
			Want: Address{Postcode: "2900", Street: "strandvejen"}, WantErr: errAddrNoHouse},
		{Name: "StreetOnly", Input: "Strandvejen",
			Want: Address{Street: "strandvejen"}, WantErr: errAddrNoHouse},
		{Name: "HouseNumberZero", Input: "Strandvejen 0",
			Want: Address{Street: "strandvejen"}, WantErr: errAddrNoHouse},
		{Name: "HouseNumberFourDigits", Input: "Strandvejen 1234",
			Want: Address{Street: "strandvejen", Postcode: "1234"}, WantErr: errAddrNoHouse},
		{Name: "HouseNumberWithDot", Input: "Vestergade 7.",
			Want: Address{Street: "vestergade"}, WantErr: errAddrNoHouse},
		{Name: "NumberFirst", Input: "12 Main Street",
			Want: Address{}, WantErr: errAddrNoStreet},
		{Name: "PostcodeOnly", Input: "2900 Hellerup",
			Want: Address{Postcode: "2900"}, WantErr: errAddrNoStreet},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			got, err := ParseAddress(tt.Input)
			if tt.WantErr != nil {
				if !errors.Is(err, tt.WantErr) || !errors.Is(err, ErrAddress) {
					t.Errorf("ParseAddress(%q) error = %v, want %v wrapping ErrAddress", tt.Input, err, tt.WantErr)
				}
			} else if err != nil {
				t.Errorf("ParseAddress(%q) unexpected error: %v", tt.Input, err)
			}
			if got != tt.Want {
				t.Errorf("ParseAddress(%q) = %+v, want %+v", tt.Input, got, tt.Want)
			}
		})
	}
}

// TestParseAddressVariants checks that every writing of one address parses
// to the same parts.
func TestParseAddressVariants(t *testing.T) {
	groups := []struct {
		Name     string
		Want     Address
		Variants []string
	}{
		{
			Name: "StrandvejenStTv",
			Want: Address{Postcode: "2900", Street: "strandvejen", HouseNumber: "12A", Floor: "st", Door: "tv"},
			Variants: []string{
				"Strandvejen 12A, st. tv, 2900 Hellerup",
				"Strandvejen 12 a, st. tv., 2900 Hellerup",
				"strandvejen 012A stuen t.v. 2900 hellerup",
				"STRANDVEJEN 12A ST TV 2900 HELLERUP",
				"Strandvejen 12A, stue, til venstre, 2900 Hellerup",
				"Strandvejen  12A  st.tv  2900  Hellerup",
			},
		},
		{
			Name: "NoerregadeKl",
			Want: Address{Postcode: "8000", Street: "noerregade", HouseNumber: "3", Floor: "kl", Door: "th"},
			Variants: []string{
				"Nørregade 3, kl. th, 8000 Aarhus C",
				"Noerregade 3 kld t.h. 8000 Aarhus C",
				"NØRREGADE 3, KÆLDER, TIL HØJRE, 8000 AARHUS C",
				"Nørregade 03 kaelder til hoejre 8000",
			},
		},
		{
			Name: "Floor2Mf",
			Want: Address{Postcode: "9000", Street: "aalborgvej", HouseNumber: "7", Floor: "2", Door: "mf"},
			Variants: []string{
				"Ålborgvej 7, 2. mf, 9000 Aalborg",
				"Aalborgvej 7 2 m.f. 9000 Aalborg",
				"Ålborgvej 7, 2. sal, midt for, 9000 Aalborg",
				"Aalborgvej 7, 2.sal midtfor, 9000",
				"Aalborgvej 007, 02 mf, 9000",
			},
		},
	}
	for _, gr := range groups {
		t.Run(gr.Name, func(t *testing.T) {
			for _, v := range gr.Variants {
				got, err := ParseAddress(v)
				if err != nil {
					t.Errorf("ParseAddress(%q) unexpected error: %v", v, err)
				}
				if got != gr.Want {
					t.Errorf("ParseAddress(%q) = %+v, want %+v", v, got, gr.Want)
				}
			}
		})
	}
}

func TestParseAddressAllocs(t *testing.T) {
	tests := []struct {
		Name  string
		Input string
		Max   float64
	}{
		{Name: "Normalised", Input: "strandvejen 123, st. tv, 2900 hellerup", Max: 0},
		{Name: "Typical", Input: "Strandvejen 123, st. tv, 2900 Hellerup", Max: 1},
		{Name: "WithLetter", Input: "Strandvejen 123A, st. tv, 2900 Hellerup", Max: 2},
		{Name: "Danish", Input: "Nørregade 12, 1. th, 8000 Aarhus C", Max: 1},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			got := testing.AllocsPerRun(100, func() { _, _ = ParseAddress(tt.Input) })
			if got > tt.Max {
				t.Errorf("ParseAddress(%q): %v allocs, want <= %v", tt.Input, got, tt.Max)
			}
		})
	}
}

func TestNormalizeHouseNumber(t *testing.T) {
	tests := []struct {
		Name   string
		Input  string
		Want   string
		WantOK bool
	}{
		{Name: "Plain", Input: "12", Want: "12", WantOK: true},
		{Name: "LeadingZero", Input: "012", Want: "12", WantOK: true},
		{Name: "FourWide", Input: "0012", Want: "12", WantOK: true},
		{Name: "BlankLetter", Input: "12 a", Want: "12A", WantOK: true},
		{Name: "UpperLetter", Input: "12A", Want: "12A", WantOK: true},
		{Name: "LowerLetter", Input: "12a", Want: "12A", WantOK: true},
		{Name: "ZeroAndLetter", Input: "012a", Want: "12A", WantOK: true},
		{Name: "ListField", Input: "086B", Want: "86B", WantOK: true},
		{Name: "Padded", Input: "  7 ", Want: "7", WantOK: true},
		{Name: "Max", Input: "999", Want: "999", WantOK: true},
		{Name: "One", Input: "1", Want: "1", WantOK: true},
		{Name: "Empty", Input: "", WantOK: false},
		{Name: "Blank", Input: "    ", WantOK: false},
		{Name: "Zero", Input: "0", WantOK: false},
		{Name: "Zeros", Input: "0000", WantOK: false},
		{Name: "ZeroLetter", Input: "0A", WantOK: false},
		{Name: "LettersOnly", Input: "AB", WantOK: false},
		{Name: "TwoLetters", Input: "12AB", WantOK: false},
		{Name: "TooBig", Input: "1000", WantOK: false},
		{Name: "TooLong", Input: "00012", WantOK: false},
		{Name: "DanishLetter", Input: "12Ø", WantOK: false},
		{Name: "Dot", Input: "12.", WantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			got, ok := NormalizeHouseNumber(tt.Input)
			if got != tt.Want || ok != tt.WantOK {
				t.Errorf("NormalizeHouseNumber(%q) = %q, %v; want %q, %v", tt.Input, got, ok, tt.Want, tt.WantOK)
			}
		})
	}
}

func TestNormalizeFloor(t *testing.T) {
	tests := []struct {
		Name   string
		Input  string
		Want   string
		WantOK bool
	}{
		{Name: "St", Input: "st", Want: "st", WantOK: true},
		{Name: "StDot", Input: "st.", Want: "st", WantOK: true},
		{Name: "StUpper", Input: "ST", Want: "st", WantOK: true},
		{Name: "Stuen", Input: "stuen", Want: "st", WantOK: true},
		{Name: "Stue", Input: "Stue", Want: "st", WantOK: true},
		{Name: "Kl", Input: "kl", Want: "kl", WantOK: true},
		{Name: "KlDot", Input: "kl.", Want: "kl", WantOK: true},
		{Name: "Kld", Input: "kld", Want: "kl", WantOK: true},
		{Name: "KldDot", Input: "Kld.", Want: "kl", WantOK: true},
		{Name: "Kaelder", Input: "kælder", Want: "kl", WantOK: true},
		{Name: "KaelderUpper", Input: "KÆLDER", Want: "kl", WantOK: true},
		{Name: "KaelderASCII", Input: "kaelder", Want: "kl", WantOK: true},
		{Name: "Number", Input: "2", Want: "2", WantOK: true},
		{Name: "NumberDot", Input: "2.", Want: "2", WantOK: true},
		{Name: "LeadingZero", Input: "02", Want: "2", WantOK: true},
		{Name: "Padded", Input: " 2", Want: "2", WantOK: true},
		{Name: "Sal", Input: "2. sal", Want: "2", WantOK: true},
		{Name: "SalNoBlank", Input: "2.sal", Want: "2", WantOK: true},
		{Name: "SalNoDot", Input: "2 sal", Want: "2", WantOK: true},
		{Name: "SalUpper", Input: "2. SAL", Want: "2", WantOK: true},
		{Name: "Etage", Input: "3. etage", Want: "3", WantOK: true},
		{Name: "Max", Input: "99", Want: "99", WantOK: true},
		{Name: "Empty", Input: "", WantOK: false},
		{Name: "Blank", Input: "  ", WantOK: false},
		{Name: "Zero", Input: "0", WantOK: false},
		{Name: "TooHigh", Input: "100", WantOK: false},
		{Name: "Door", Input: "tv", WantOK: false},
		{Name: "FloorAndDoor", Input: "2. tv", WantOK: false},
		{Name: "SalAlone", Input: "sal", WantOK: false},
		{Name: "Garbage", Input: "x", WantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			got, ok := NormalizeFloor(tt.Input)
			if got != tt.Want || ok != tt.WantOK {
				t.Errorf("NormalizeFloor(%q) = %q, %v; want %q, %v", tt.Input, got, ok, tt.Want, tt.WantOK)
			}
		})
	}
}

func TestNormalizeDoor(t *testing.T) {
	tests := []struct {
		Name   string
		Input  string
		Want   string
		WantOK bool
	}{
		{Name: "Tv", Input: "tv", Want: "tv", WantOK: true},
		{Name: "TvDot", Input: "tv.", Want: "tv", WantOK: true},
		{Name: "TvDotted", Input: "t.v.", Want: "tv", WantOK: true},
		{Name: "TvDottedShort", Input: "t.v", Want: "tv", WantOK: true},
		{Name: "TvUpper", Input: "TV", Want: "tv", WantOK: true},
		{Name: "TilVenstre", Input: "til venstre", Want: "tv", WantOK: true},
		{Name: "TilVenstreUpper", Input: "Til Venstre", Want: "tv", WantOK: true},
		{Name: "Th", Input: "th", Want: "th", WantOK: true},
		{Name: "ThDotted", Input: "t.h.", Want: "th", WantOK: true},
		{Name: "ThUpperDotted", Input: "T.H.", Want: "th", WantOK: true},
		{Name: "TilHoejre", Input: "til højre", Want: "th", WantOK: true},
		{Name: "TilHoejreASCII", Input: "til hoejre", Want: "th", WantOK: true},
		{Name: "TilHoejreUpper", Input: "TIL HØJRE", Want: "th", WantOK: true},
		{Name: "Mf", Input: "mf", Want: "mf", WantOK: true},
		{Name: "MfDotted", Input: "m.f.", Want: "mf", WantOK: true},
		{Name: "MidtFor", Input: "midt for", Want: "mf", WantOK: true},
		{Name: "MidtforOneWord", Input: "midtfor", Want: "mf", WantOK: true},
		{Name: "Number", Input: "3", Want: "3", WantOK: true},
		{Name: "NumberZero", Input: "03", Want: "3", WantOK: true},
		{Name: "NumberListField", Input: "0003", Want: "3", WantOK: true},
		{Name: "NumberLarge", Input: "0120", Want: "120", WantOK: true},
		{Name: "Padded", Input: " tv ", Want: "tv", WantOK: true},
		{Name: "Empty", Input: "", WantOK: false},
		{Name: "Blank", Input: "    ", WantOK: false},
		{Name: "Zero", Input: "0000", WantOK: false},
		{Name: "TAlone", Input: "t", WantOK: false},
		{Name: "TilAlone", Input: "til", WantOK: false},
		{Name: "Floor", Input: "st", WantOK: false},
		{Name: "TooLong", Input: "12345", WantOK: false},
		{Name: "Mixed", Input: "3a", WantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			got, ok := NormalizeDoor(tt.Input)
			if got != tt.Want || ok != tt.WantOK {
				t.Errorf("NormalizeDoor(%q) = %q, %v; want %q, %v", tt.Input, got, ok, tt.Want, tt.WantOK)
			}
		})
	}
}
