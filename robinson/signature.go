package robinson

import (
	"slices"
	"strings"
)

// Signatures narrow a blocking key down further. Match gives more than
// NoMatch only when the streets are compatible and a given name agrees
// (NameFull or NameInitial), and both imply that two bytes agree:
//
//   - the street signature: the first byte of the street's first word that
//     the compact comparison keeps (not a blank or ASCII punctuation).
//     Equal and compact-equal streets share their first kept byte; in an
//     abbreviated first word ("dr.") that byte starts the full word too.
//   - a given-name signature: the first byte of a given name. Equal names
//     share it, and so do an initial and the name it starts.
//
// A signature key is a blocking key followed by a street signature and a
// given-name signature. A store that puts the signature keys of every
// record in a filter can tell, for most contacts that share a blocking key
// with some record, that none of those records can match, without reading
// them. AnySignature stands for a street whose first word keeps no byte or
// an empty given name: such a signature agrees with every other.
const AnySignature = 0

// StreetSignature returns the street signature of a normalised street, or
// AnySignature when its first word keeps no byte.
func StreetSignature(street string) byte {
	w, _, _ := strings.Cut(street, " ")
	for i := 0; i < len(w); i++ {
		if !streetSkip(w[i]) {
			return w[i]
		}
	}
	return AnySignature
}

// GivenSignature returns the signature of a normalised given name, or
// AnySignature for an empty one.
func GivenSignature(word string) byte {
	if word == "" {
		return AnySignature
	}
	return word[0]
}

// AppendSignatureKey appends key, then the street and the given-name
// signature, to dst. Signature keys of one length of blocking key never
// collide: the two signature bytes are always the last two.
func AppendSignatureKey(dst, key []byte, street, given byte) []byte {
	dst = append(dst, key...)
	return append(dst, street, given)
}

// RecordSignatures appends rec's street signature, then the distinct
// signatures of its given names, to dst. The signature keys of rec under a
// blocking key are AppendSignatureKey(key, out[0], g) for each g in out[1:]
// (none for a record without a given name: it can match nothing).
// wildcard reports that one of the signatures is AnySignature.
func RecordSignatures(dst []byte, rec *Record) (out []byte, wildcard bool) {
	s := StreetSignature(rec.Address.Street)
	wildcard = s == AnySignature
	dst = append(dst, s)
	for i, g := range rec.Name.Given {
		gs := GivenSignature(g.Word)
		wildcard = wildcard || gs == AnySignature
		if !dupSignature(rec.Name.Given[:i], gs) {
			dst = append(dst, gs)
		}
	}
	return dst, wildcard
}

func dupSignature(given []Given, s byte) bool {
	for _, g := range given {
		if GivenSignature(g.Word) == s {
			return true
		}
	}
	return false
}

// Probe holds a contact's signatures for MayMatch. The zero Probe rules
// nothing out (MayMatch always reports true): a probe that was never built
// can only cost a read, never hide a record.
type Probe struct {
	street byte
	given  [8]byte
	ng     int
	// signed: the probe's signatures can rule records out. Not so when a
	// signature of the contact is AnySignature, when it has more than
	// eight given-name signatures, or for the zero Probe.
	signed bool
	// none: the contact can match no record (no street or no given name).
	none bool
}

// NewProbe returns the probe of a contact's parsed name and address. A
// contact with a wildcard signature, or whose given names start with more
// than eight different bytes, gets a probe that rules nothing out.
func NewProbe(name Name, addr Address) Probe {
	p := Probe{street: StreetSignature(addr.Street), signed: true}
	switch {
	case addr.Street == "" || len(name.Given) == 0:
		// StreetsCompatible and NameAgreementOf give None: no match.
		p.none = true
		return p
	case p.street == AnySignature:
		p.signed = false
	}
	for _, g := range name.Given {
		gs := GivenSignature(g.Word)
		switch {
		case gs == AnySignature:
			p.signed = false
		case slices.Contains(p.given[:p.ng], gs):
		case p.ng == len(p.given):
			p.signed = false
		default:
			p.given[p.ng] = gs
			p.ng++
		}
	}
	return p
}

// MayMatch reports whether a record stored under a blocking key can match
// the probe's contact, given test, which reports whether the signature key
// of that blocking key, street and given (AppendSignatureKey) may be among
// the records' (a Bloom filter's Test). false means Match gives NoMatch
// for every record under the key. wildcards says that some record's
// signature was AnySignature (RecordSignatures); the probe then also tests
// those keys. A probe that is not signed always gives true. test receives
// no key, so that a caller's key buffer does not escape through it.
func (p *Probe) MayMatch(wildcards bool, test func(street, given byte) bool) bool {
	if p.none {
		return false
	}
	if !p.signed {
		return true
	}
	streets := [2]byte{p.street, AnySignature}
	ns := 1
	if wildcards {
		ns = 2
	}
	for _, s := range streets[:ns] {
		for _, g := range p.given[:p.ng] {
			if test(s, g) {
				return true
			}
		}
		if wildcards && test(s, AnySignature) {
			return true
		}
	}
	return false
}
