package robinson

import (
	"slices"
	"unicode/utf8"
)

// Signatures let a store rule out, with a Bloom filter and without reading
// them, the records that cannot match a contact. Every record that
// Matcher.Match can give more than NoMatch shares at least one signature
// with the contact, whatever NEAR, abbreviation or road-register name made
// it agree (screening-rules.md section 3.5 allows at most one NEAR). The
// street never takes part: a REGISTER street (an earlier name of the road,
// a name the register holds for a road outside any postal district) or a
// NEAR street can start with anything, and the road register may be
// loaded, replaced or absent independently of the list.
//
//   - Exact-surname signatures (a contact surname word equals a list
//     surname word, so both are under one blocking key, AppendKey), grouped
//     under the blocking key: for a full given name its first letter and
//     its prefix signatures (prefixSigs), for an initial its letter. A FULL name
//     shares a word, so all its pairs; a NEAR given name (one edit, the
//     shorter at least five letters) shares a prefix signature; an INITIAL
//     shares a first letter (contactGivenSigs); shared family-type words
//     are shared words.
//   - NEAR-surname signatures (no surname word agrees, so the blocking keys
//     differ), grouped under the address (postcode and house number) and a
//     given name's first letter: the prefix signatures of every surname word of
//     at least MinEditLetters letters. A second NEAR gives no match, so
//     the given names agree FULL or INITIAL and share a first letter; the
//     surnames, one edit apart, share a prefix signature.
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

// Given-name signature kinds (the first of a signature's three bytes).
const (
	givenInitial = 'I' // a record's initial; a contact's full name tests its first letter
	givenWord    = 'W' // a record's full name's first letter; a contact's initial tests it
	givenPair    = 'D' // three of a full name's first four letters (prefixSigs)
)

// prefixLetters is how many first letters of a word its prefix
// signatures are made of. Three letters (pairs) kept more lookups out of
// Badger than four (triples) on the synthetic 1-million-record list: four
// letters give a word more signatures, and a fuller filter lets more
// through than the longer signatures keep out.
const prefixLetters = 3

// Signature widths in bytes: a given-name signature is a kind byte and a
// prefix signature; a surname signature is a prefix signature.
const (
	GivenSigWidth   = 1 + prefixLetters - 1
	SurnameSigWidth = prefixLetters - 1
)

// prefixSigs returns the signatures of a word's first prefixLetters
// letters with one letter deleted ("han" -> "an", "hn", "ha"), or, for a
// shorter word, the word itself (padded with zeros): n signatures in out.
// Two words one edit apart whose shorter has at least prefixLetters
// letters always share one: an edit after those letters leaves them alike;
// a letter replaced, inserted or deleted among them is undone by deleting
// it on both sides; two neighbouring letters swapped among them are alike
// once one of the two is deleted, or, swapped across the last of them and
// the next, leave all but the last alike. Equal words share all their
// signatures.
func prefixSigs(w string) (out [prefixLetters][prefixLetters - 1]byte, n int) {
	var p [prefixLetters]byte
	i := 0
	for _, r := range w {
		p[i] = runeSig(r)
		if i++; i == prefixLetters {
			break
		}
	}
	if i < prefixLetters {
		copy(out[0][:], p[:i])
		return out, 1
	}
	for d := range prefixLetters {
		k := 0
		for j := range prefixLetters {
			if j != d {
				out[d][k] = p[j]
				k++
			}
		}
	}
	return out, prefixLetters
}

// appendSigN appends the signature sig to dst unless it is there; dst
// holds signatures of len(sig) bytes each.
func appendSigN(dst, sig []byte) []byte {
	for i := 0; i+len(sig) <= len(dst); i += len(sig) {
		if string(dst[i:i+len(sig)]) == string(sig) {
			return dst
		}
	}
	return append(dst, sig...)
}

// givenSig appends the given-name signature of kind and sig (padded) to
// dst unless it is there.
func givenSig(dst []byte, kind byte, sig ...byte) []byte {
	var b [GivenSigWidth]byte
	b[0] = kind
	copy(b[1:], sig)
	return appendSigN(dst, b[:])
}

// recordGivenSigs appends the exact-surname signatures of a list name,
// GivenSigWidth bytes each, to dst: an initial gives {givenInitial,
// letter}; a full name gives {givenWord, first letter} and its prefix
// signatures.
func recordGivenSigs(dst []byte, name *Name) []byte {
	for _, g := range name.Given {
		a, _, n := firstSigs(g.Word, false)
		if n == 0 {
			continue
		}
		if g.Initial {
			dst = givenSig(dst, givenInitial, a)
			continue
		}
		dst = givenSig(dst, givenWord, a)
		sigs, ns := prefixSigs(g.Word)
		for _, ps := range sigs[:ns] {
			dst = givenSig(dst, givenPair, ps[:]...)
		}
	}
	return dst
}

// contactGivenSigs appends the signatures a contact's given names test,
// GivenSigWidth bytes each, to dst. A record whose given names agree with the
// contact's (FULL, INITIAL or NEAR) has one of them among its
// recordGivenSigs: a shared full name or a NEAR pair shares a prefix signature
// (a NEAR pair's shorter word has at least five letters); a contact's
// initial fits a record's full name ({givenWord}) or initial
// ({givenInitial}); a record's initial fits the contact's full name
// ({givenInitial} of its first letter).
func contactGivenSigs(dst []byte, name *Name) []byte {
	for _, g := range name.Given {
		a, _, n := firstSigs(g.Word, false)
		if n == 0 {
			continue
		}
		dst = givenSig(dst, givenInitial, a)
		if g.Initial {
			dst = givenSig(dst, givenWord, a)
			continue
		}
		sigs, ns := prefixSigs(g.Word)
		for _, ps := range sigs[:ns] {
			dst = givenSig(dst, givenPair, ps[:]...)
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

// surnameSigs appends the NEAR-surname signatures of every surname word
// that has at least MinEditLetters letters to dst, SurnameSigWidth bytes
// each, without
// duplicates: the word's prefix signatures (prefixSigs), one of which two
// words one edit apart always share.
func surnameSigs(dst []byte, name *Name) []byte {
	for _, w := range name.Surnames {
		if utf8.RuneCountInString(w) < MinEditLetters {
			continue
		}
		sigs, n := prefixSigs(w)
		for _, ps := range sigs[:n] {
			dst = appendSigN(dst, ps[:])
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

// sigNear starts a NEAR-surname group; blocking keys start with a
// postcode (and, in a store, its own prefix).
const sigNear = 'n'

// A signature key is a group and a key in it: the store's filter keeps
// all keys of one group in one block, so that the several signatures a
// contact tests for a group cost one memory access. Exact-surname
// signatures are grouped under the blocking key (AppendKey, with any prefix
// the store gives it) and keyed by a given-name signature (three bytes of
// RecordSigs.Given); NEAR-surname signatures are grouped under
// AppendNearGroup and keyed by a surname signature (two bytes of
// RecordSigs.Surname).

// AppendAddressKey appends the key of an address, postcode and house
// number, to dst: the records of an address are stored under keys that
// start with it (AppendKey), and NEAR-surname lookups start from it.
func AppendAddressKey(dst []byte, postcode, houseNumber string) []byte {
	dst = append(dst, postcode...)
	dst = append(dst, KeySeparator)
	dst = append(dst, houseNumber...)
	return append(dst, KeySeparator)
}

// AppendNearGroup appends the group of NEAR-surname signatures of an
// address (AppendAddressKey) and a given-name signature to dst.
func AppendNearGroup(dst, addrKey []byte, given byte) []byte {
	dst = append(dst, sigNear)
	dst = append(dst, addrKey...)
	return append(dst, given)
}

// RecordSigs holds one record's signatures for a store's filter.
type RecordSigs struct {
	// Given: the exact-surname signatures, GivenSigWidth bytes each.
	Given []byte
	// First and Surname: the NEAR-surname signatures; a Surname key in
	// the group of every First (AppendNearGroup; Surname holds SurnameSigWidth
	// bytes a signature). Surname is empty when no surname word has
	// MinEditLetters letters.
	First   []byte
	Surname []byte
}

// Signatures fills s with rec's signatures, reusing its slices.
func (s *RecordSigs) Signatures(rec *Record) {
	s.Given = recordGivenSigs(s.Given[:0], &rec.Name)
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

	given   [GivenSigWidth * maxProbeSigs]byte
	ng      int
	first   [maxProbeSigs]byte
	nf      int
	surname [SurnameSigWidth * maxProbeSigs]byte
	nsn     int

	// NEAR-surname lookups.
	addrKey [32]byte
	nak     int
	group   [40]byte // scratch for MayMatchNear's groups
	name    Name
}

// NewProbe returns the probe of a contact's parsed name and address.
func NewProbe(name Name, addr Address) Probe {
	p := Probe{built: true, name: name}
	if addr.Street == "" || len(name.Given) == 0 || addr.Postcode == "" || addr.HouseNumber == "" ||
		len(addr.Postcode)+len(addr.HouseNumber)+2 > len(p.addrKey) {
		p.none = true
		return p
	}
	p.nak = len(AppendAddressKey(p.addrKey[:0], addr.Postcode, addr.HouseNumber))
	var buf [GivenSigWidth * maxProbeSigs]byte
	if g := contactGivenSigs(buf[:0], &name); len(g) > len(p.given) {
		p.all = true
	} else {
		p.ng = copy(p.given[:], g)
	}
	p.nf = setSigs(&p.first, givenFirstSigs(buf[:0], &name), &p.all)
	if sn := surnameSigs(buf[:0], &name); len(sn) > len(p.surname) {
		p.all = true
	} else {
		p.nsn = copy(p.surname[:], sn)
	}
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

// Filter is what a probe tests signatures against: a store's filter,
// whose TestAnyIn reports whether any of keys (each width bytes, one after
// the other) may be in group.
type Filter interface {
	TestAnyIn(group, keys []byte, width int) bool
}

// MayMatchExact reports whether a record stored under the blocking key key
// can match the probe's contact, given f, which holds the records'
// exact-surname signatures (RecordSigs.Given) in the group key. false
// means Matcher.Match gives NoMatch for every record under key.
func (p *Probe) MayMatchExact(key []byte, f Filter) bool {
	if !p.built || p.all {
		return true
	}
	if p.none {
		return false
	}
	return f.TestAnyIn(key, p.given[:p.ng], GivenSigWidth)
}

// MayMatchNear reports whether a record at the probe's address whose
// surname is one edit from the contact's can match the probe's contact,
// given f as in MayMatchExact, holding the records' NEAR-surname
// signatures (RecordSigs.Surname) in their groups (AppendNearGroup).
func (p *Probe) MayMatchNear(f Filter) bool {
	if !p.built || p.all {
		return true
	}
	if p.none || p.nsn == 0 {
		return false
	}
	ak := p.addrKey[:p.nak]
	for _, g := range p.first[:p.nf] {
		if f.TestAnyIn(AppendNearGroup(p.group[:0], ak, g), p.surname[:p.nsn], SurnameSigWidth) {
			return true
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
