package robinson

import (
	"reflect"
	"testing"
)

// TestContactParser checks that a ContactParser, reused from one contact to
// the next, parses every name and address as ParseContactName and
// ParseAddress do, and, for the common forms, without allocating.
func TestContactParser(t *testing.T) {
	tests := []struct {
		Name, Contact, Address string
		NoAllocs               bool // the common forms allocate nothing
	}{
		{Name: "Plain", Contact: "Hans Peter Jensen", Address: "Strandvejen 12A, 2. tv, 2900 Hellerup", NoAllocs: true},
		{Name: "UpperCase", Contact: "HANS JENSEN", Address: "STRANDVEJEN 123 A ST TH 2900 HELLERUP", NoAllocs: true},
		{Name: "Comma", Contact: "Jensen, H.P.", Address: "Dronn. Louises V. 15, 1. th", NoAllocs: true},
		{Name: "Danish", Contact: "Søren Ågård Hansen-Jensen", Address: "Nørregade  12 , kælder, 8000 Aarhus C", NoAllocs: true},
		{Name: "DotLetter", Contact: "B.Thrige", Address: "B.Thriges Vej 7, 5000 Odense C", NoAllocs: true},
		{Name: "HouseLetterApart", Contact: "Mette Hansen", Address: "Vestergade 7 b, 2.tv", NoAllocs: true},
		{Name: "CareOf", Contact: "Anne Holm", Address: "c/o Hansen, Vestergade 7", NoAllocs: true},
		{Name: "CommaInStreet", Contact: "Anne Holm", Address: "Gl., Kongevej 7", NoAllocs: true},
		{Name: "Apostrophe", Contact: "Mary O'Brien", Address: "IX's Gade 3"},
		{Name: "Combining", Contact: "A\u030age Jensen", Address: "A\u030alborggade 3"},
		{Name: "NoHouseNumber", Contact: "Hans", Address: "Strandvejen, 2900 Hellerup", NoAllocs: true},
		{Name: "Empty", Contact: "", Address: "", NoAllocs: true},
		{Name: "ManyWords", Contact: "Anna Bente Carla Dorte Eva Hansen Jensen", Address: "H C Andersens Boulevard 12, 3. til venstre, 1553 København V"},
	}
	var p ContactParser
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			wantN, wantNErr := ParseContactName(tt.Contact)
			wantA, wantAErr := ParseAddress(tt.Address)
			for range 2 { // the second time with the buffers of the first
				n, err := p.ParseName(tt.Contact)
				if err != wantNErr || !reflect.DeepEqual(n, wantN) {
					t.Fatalf("ParseName = %+v, %v; want %+v, %v", n, err, wantN, wantNErr)
				}
				a, err := p.ParseAddress(tt.Address)
				if err != wantAErr || a != wantA {
					t.Fatalf("ParseAddress = %+v, %v; want %+v, %v", a, err, wantA, wantAErr)
				}
			}
			allocs := testing.AllocsPerRun(50, func() {
				p.ParseName(tt.Contact)
				p.ParseAddress(tt.Address)
			})
			if tt.NoAllocs && allocs != 0 {
				t.Errorf("%v allocations per contact, want 0", allocs)
			}
		})
	}
}
