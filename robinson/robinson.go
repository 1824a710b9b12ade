package robinson

// Name is a person name split into normalised words.
type Name struct {
	// Surnames holds the normalised surname words ("hansen", "jensen" for
	// "Hansen-Jensen" or "Hansen Jensen").
	Surnames []string
	// Given holds the normalised given names in written order.
	Given []Given
}

// Given is one normalised given name.
type Given struct {
	// Word is the normalised name ("soeren"; an initial "Ø." is "oe").
	Word string
	// Initial reports that the name was written as a single letter, with
	// or without a trailing dot ("H.", "h", "Ø.").
	Initial bool
}

// Address is a Danish address in normalised parts. Empty strings mean the
// part was not given.
type Address struct {
	// Postcode is the 4-digit postcode.
	Postcode string
	// Street is the normalised street name: words separated by single
	// blanks, a trailing dot kept on abbreviated words ("dronn. louises v.").
	Street string
	// HouseNumber is the number without leading zeros plus an optional
	// upper-case letter ("12A").
	HouseNumber string
	// Floor is "st", "kl" or a number without leading zeros ("2").
	Floor string
	// Door is "tv", "th", "mf" or a door number without leading zeros.
	Door string
}

// Record is one data line of the Robinson list.
type Record struct {
	// Line is the 1-based line number in the source file.
	Line int
	// Name is the list name ("Efternavn,Fornavn").
	Name Name
	// Address is the address of this record: postcode from the
	// "Postnr. og postdistrikt" field, street from Standardadresse, house
	// number, floor and door from the structured fields where present.
	Address Address
	// Previous reports a previous address (history marker "*").
	Previous bool
	// Road is the record's Kommunekode and Vejkode, the key into the CPR
	// road register; zero when the list line leaves them blank.
	Road RoadID
}

// KeySeparator separates the parts of a blocking key.
const KeySeparator = 0x1f

// AppendKey appends the blocking key for postcode, house number and one
// surname word to dst and returns the extended slice. The loader stores a
// record under the key of every surname word of its list name; a lookup
// builds the key from the contact's postcode, house number and surname.
func AppendKey(dst []byte, postcode, houseNumber, surname string) []byte {
	dst = append(dst, postcode...)
	dst = append(dst, KeySeparator)
	dst = append(dst, houseNumber...)
	dst = append(dst, KeySeparator)
	dst = append(dst, surname...)
	return dst
}

// RoadID identifies a road the way CPR does: Kommunekode plus Vejkode, as
// both the Robinson list and the CPR road register carry them. The zero
// RoadID means the road is not known.
type RoadID struct {
	Kommune uint16
	Vej     uint16
}

// Known reports whether r names a road (both codes not zero).
func (r RoadID) Known() bool { return r.Kommune != 0 && r.Vej != 0 }

// Roads is the CPR road register as the matcher needs it (screening-rules.md
// section 3.3). Implementations are read-only and safe for concurrent use.
type Roads interface {
	// RoadNames returns the normalised names (NormalizeStreet) the register
	// holds for road: its addressing name, its full street name and every
	// earlier name, without duplicates; nil for a road it does not know.
	// The slice must not be modified.
	RoadNames(road RoadID) []string
	// RoadsAt returns the roads that have a postal-district record for
	// postcode whose house-number range and parity hold number (the number
	// part of a house number); nil when there are none. The slice must not
	// be modified.
	RoadsAt(postcode string, number int) []RoadID
}
