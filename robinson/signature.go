package robinson

import (
	"slices"
	"unicode/utf8"
)

// Signatures let a store rule out, with a Bloom filter and without reading
// them, the records that cannot match a contact. Every record that
// Matcher.Match can give more than NoMatch shares at least one signature
// key with the contact, whatever NEAR, abbreviation or road-register name
// made it agree (screening-rules.md section 3.5 allows at most one NEAR):
//
//   - Exact-surname keys (a contact surname word equals a list surname
//     word, so both are under one blocking key, AppendKey): the blocking
//     key plus a given-name signature. A given name's signatures are the
//     first two letters of the word (one for an initial). A FULL name
//     shares a word; an INITIAL shares the first letter (an initial fits a
//     name that starts with it; shared family-type words are shared
//     words); a NEAR given name is one edit from the other, and two words
//     one edit apart always share one of their first two letters as a
//     set. The street is left out: a REGISTER or NEAR street can start
//     with anything.
//   - NEAR-surname keys (no surname word agrees, so the blocking keys
//     differ): postcode and house number, the street's first letter, a
//     given name's first letter and one of the first two letters of a
//     surname word of at least MinEditLetters letters. Then the street
//     agrees EQUAL, ABBREVIATED (both keep the first letter; every pair
//     of the abbreviation table does) or REGISTER (the probe adds the first
//     letters of the names of the roads the contact's street names, see
//     NewProbe), and the given names FULL or INITIAL, since a second NEAR
//     gives no match.
//
// A "letter" here is a rune folded to one byte (runeSig): distinct runes
// may share a signature, which only costs a read.

// runeSig folds a rune to a signature byte, never 0.
func runeSig(r rune) byte {
	if r < utf8.RuneSelf && r > 0 {
		return byte(r)
	}
	return 0x80 | byte(r&0x7f)
}

// firstSigs returns the signatures of the first one or two runes of w.
func firstSigs(w string, two bool) (a, b byte, n int) {
	r, size := utf8.DecodeRuneInString(w)
	if size == 0 {
		return 0, 0, 0
	}
	a, n = runeSig(r), 1
	if two && size < len(w) {
		r2, _ := utf8.DecodeRuneInString(w[size:])
		if s := runeSig(r2); s != a {
			b, n = s, 2
		}
	}
	return a, b, n
}

// givenSigs appends the given-name signatures of name (the first two
// letters of every given name, the first of an initial), without
// duplicates, to dst.
func givenSigs(dst []byte, name *Name) []byte {
	for _, g := range name.Given {
		a, b, n := firstSigs(g.Word, !g.Initial)
		dst = appendSig(dst, a)
		if n == 2 {
			dst = appendSig(dst, b)
		}
	}
	return dst
}

// givenFirstSigs appends the first letters of name's given names, without
// duplicates, to dst.
func givenFirstSigs(dst []byte, name *Name) []byte {
	for _, g := range name.Given {
		a, _, n := firstSigs(g.Word, false)
		if n > 0 {
			dst = appendSig(dst, a)
		}
	}
	return dst
}

// surnameSigs appends the first two letters of every surname word that has
// at least MinEditLetters letters, without duplicates, to dst.
func surnameSigs(dst []byte, name *Name) []byte {
	for _, w := range name.Surnames {
		if utf8.RuneCountInString(w) < MinEditLetters {
			continue
		}
		a, b, n := firstSigs(w, true)
		dst = appendSig(dst, a)
		if n == 2 {
			dst = appendSig(dst, b)
		}
	}
	return dst
}

func appendSig(dst []byte, s byte) []byte {
	if s == 0 || slices.Contains(dst, s) {
		return dst
	}
	return append(dst, s)
}

// StreetSignature returns the first byte of a normalised street that the
// compact comparison keeps (not a blank or ASCII punctuation), or 0 when
// there is none.
func StreetSignature(street string) byte {
	for i := 0; i < len(street); i++ {
		if !streetSkip(street[i]) {
			return street[i]
		}
	}
	return 0
}

// Signature key kinds: the byte after a blocking key, and the first byte of
// a NEAR-surname key.
const (
	sigExact = 0x00
	sigNear  = 'n'
)

// AppendExactSigKey appends the exact-surname signature key of a blocking
// key (AppendKey, with any prefix the store gives it) and a given-name
// signature to dst.
func AppendExactSigKey(dst, key []byte, given byte) []byte {
	dst = append(dst, key...)
	return append(dst, sigExact, given)
}

// AppendAddressKey appends the key of an address, postcode and house
// number, to dst: the records of an address are stored under keys that
// start with it (AppendKey), and NEAR-surname lookups start from it.
func AppendAddressKey(dst []byte, postcode, houseNumber string) []byte {
	dst = append(dst, postcode...)
	dst = append(dst, KeySeparator)
	dst = append(dst, houseNumber...)
	return append(dst, KeySeparator)
}

// AppendNearSigKey appends the NEAR-surname signature key of an address
// (AppendAddressKey), a street, a given-name and a surname signature.
func AppendNearSigKey(dst, addrKey []byte, street, given, surname byte) []byte {
	dst = append(dst, sigNear)
	dst = append(dst, addrKey...)
	return append(dst, street, given, surname)
}

// RecordSigs holds one record's signatures for a store's filter.
type RecordSigs struct {
	// Given: the exact-surname signatures (AppendExactSigKey).
	Given []byte
	// Street, First and Surname: the NEAR-surname signatures; a key for
	// every First x Surname pair (AppendNearSigKey). Surname is empty when
	// no surname word has MinEditLetters letters.
	Street  byte
	First   []byte
	Surname []byte
}

// Signatures fills s with rec's signatures, reusing its slices.
func (s *RecordSigs) Signatures(rec *Record) {
	s.Given = givenSigs(s.Given[:0], &rec.Name)
	s.Street = StreetSignature(rec.Address.Street)
	s.First = givenFirstSigs(s.First[:0], &rec.Name)
	s.Surname = surnameSigs(s.Surname[:0], &rec.Name)
}

// maxProbeSigs bounds each signature set of a Probe; a contact with more
// gets a probe that rules nothing out.
const maxProbeSigs = 12

// Probe holds a contact's signatures. The zero Probe rules nothing out: a
// probe that was never built can only cost a read, never hide a record.
type Probe struct {
	built bool
	// none: the contact can match no record (no street, no given name,
	// no postcode or no house number).
	none bool
	// all: a signature set overflowed; rule nothing out.
	all bool

	given   [maxProbeSigs]byte
	ng      int
	first   [maxProbeSigs]byte
	nf      int
	streets [maxProbeSigs]byte
	nst     int
	surname [maxProbeSigs]byte
	nsn     int

	// NEAR-surname lookups.
	addrKey [32]byte
	nak     int
	name    Name
}

// NewProbe returns the probe of a contact's parsed name and address. roads
// is the loaded road register or nil; with it, the street signatures also
// hold the first letters of every name of each road that has a postal
// district for the contact's postcode and house number and whose name the
// contact's street agrees with (EQUAL or ABBREVIATED), so that a record on
// that road is found when the contact writes an earlier or a full name.
func NewProbe(name Name, addr Address, roads Roads) Probe {
	p := Probe{built: true, name: name}
	if addr.Street == "" || len(name.Given) == 0 || addr.Postcode == "" || addr.HouseNumber == "" ||
		len(addr.Postcode)+len(addr.HouseNumber)+2 > len(p.addrKey) {
		p.none = true
		return p
	}
	p.nak = len(AppendAddressKey(p.addrKey[:0], addr.Postcode, addr.HouseNumber))
	var buf [4 * maxProbeSigs]byte
	p.ng = setSigs(&p.given, givenSigs(buf[:0], &name), &p.all)
	p.nf = setSigs(&p.first, givenFirstSigs(buf[:0], &name), &p.all)
	p.nsn = setSigs(&p.surname, surnameSigs(buf[:0], &name), &p.all)
	streets := appendSig(buf[:0], StreetSignature(addr.Street))
	if roads != nil {
		if n, ok := HouseNumberValue(addr.HouseNumber); ok {
			for _, r := range roads.RoadsAt(addr.Postcode, n) {
				names := roads.RoadNames(r)
				agrees := false
				for _, rn := range names {
					if StreetsCompatible(addr.Street, rn) != StreetNone {
						agrees = true
						break
					}
				}
				if !agrees {
					continue
				}
				for _, rn := range names {
					streets = appendSig(streets, StreetSignature(rn))
				}
			}
		}
	}
	p.nst = setSigs(&p.streets, streets, &p.all)
	return p
}

// setSigs copies sigs into dst and returns how many it copied; when they
// do not fit it sets *overflow.
func setSigs(dst *[maxProbeSigs]byte, sigs []byte, overflow *bool) int {
	if len(sigs) > len(dst) {
		*overflow = true
	}
	return copy(dst[:], sigs)
}

// None reports that the contact can match no record: lookups are useless.
func (p *Probe) None() bool { return p.built && p.none }

// MayMatchExact reports whether a record stored under the blocking key key
// can match the probe's contact, given test, which reports whether a
// signature key (AppendExactSigKey of key) may be in the store's filter.
// false means Matcher.Match gives NoMatch for every record under key.
func (p *Probe) MayMatchExact(key []byte, buf []byte, test func([]byte) bool) bool {
	if !p.built || p.all {
		return true
	}
	if p.none {
		return false
	}
	for _, g := range p.given[:p.ng] {
		if test(AppendExactSigKey(buf[:0], key, g)) {
			return true
		}
	}
	return false
}

// MayMatchNear reports whether a record at the probe's address whose
// surname is one edit from the contact's can match the probe's contact,
// given test as in MayMatchExact for NEAR-surname keys (AppendNearSigKey).
func (p *Probe) MayMatchNear(buf []byte, test func([]byte) bool) bool {
	if !p.built || p.all {
		return true
	}
	if p.none || p.nsn == 0 {
		return false
	}
	ak := p.addrKey[:p.nak]
	for _, s := range p.streets[:p.nst] {
		for _, g := range p.first[:p.nf] {
			for _, n := range p.surname[:p.nsn] {
				if test(AppendNearSigKey(buf[:0], ak, s, g, n)) {
					return true
				}
			}
		}
	}
	return false
}

// AddressKey returns the contact's address key (AppendAddressKey); empty
// for a probe that can match nothing.
func (p *Probe) AddressKey() []byte { return p.addrKey[:p.nak] }

// NearSurname reports whether the list surname word w is one edit from one
// of the contact's surname words (OneEdit) and equal to none of them: the
// records under w's blocking key are then NEAR-surname candidates.
func (p *Probe) NearSurname(w string) bool {
	near := false
	for _, c := range p.name.Surnames {
		if c == w {
			return false
		}
		near = near || OneEdit(c, w)
	}
	return near
}
