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
