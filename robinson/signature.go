package robinson

import (
	"encoding/binary"
	"slices"
	"strings"
	"unicode/utf8"
)

// Signatures let a store rule out, with a Bloom filter and without reading
// them, the records that cannot match a contact. Every record that
// Matcher.Match can give more than NoMatch shares at least one signature
// key with the contact, whatever NEAR, abbreviation or road-register name
// made it agree (screening-rules.md section 3.5 allows at most one NEAR).
//
// Signatures are made of letters: a "letter" is a rune folded to one byte
// (runeSig), so distinct runes may share one, which only costs a read. A
// street's s0 is its first letter (streetFirst); a given name's g0 is its
// first letter. A word of at least five letters has two edit signatures
// (editSigs), hashes of its letters 2-4 and 3-5, its last letter and its
// length, which two such words one edit apart share whenever the edit
// changes the first letter; a street's are those of its first word, mixed
// with the rest of the street (streetEditSigs).
//
// A signature key is a group and a key in it: the store's filter keeps all
// keys of one group in one block, so that the keys a contact tests in a
// group cost one memory access. Keeping a group small keeps its block from
// filling up (and then letting everything through).
//
//   - Letter keys (a contact surname word equals a list surname word, so
//     both are under one blocking key, AppendKey), grouped under the
//     blocking key and the street's s0 (AppendLetterGroup), LetterWidth
//     bytes: 'A' and g0 of every given name, and 'G' and each edit
//     signature of every full given name that has them.
//     Streets that agree EQUAL or ABBREVIATED share s0: compact equality
//     keeps the first letter, a dotted abbreviation is a prefix, and every
//     pair of the abbreviation table starts with the same letter. A NEAR
//     street shares s0 unless its one edit replaces, deletes, inserts or
//     swaps the first letter of the first word (see the wide keys). FULL
//     and INITIAL agreement of given names share g0; given names one edit
//     apart share g0 or an edit signature.
//   - Wide keys, grouped under the blocking key alone (AppendWideGroup),
//     WideWidth bytes: 'S', each edit signature of the street and g0 of
//     every given name, for a NEAR street whose edit changed its first
//     letter (the given names then agree FULL or INITIAL: a second NEAR
//     gives no match); and 'R' and the record's road (AppendRoadSig), when
//     its Kommunekode and Vejkode are known. A REGISTER or
//     NEAR-through-register street agrees with a name the road register
//     holds for the record's road, and such a name can start with any
//     letter (an earlier name of the road); the register is loaded
//     independently of the list. RoadExtras lists, per postcode, the
//     register names whose s0 and edit signatures the list's printed
//     streets for that road do not carry; a contact whose street agrees
//     with one of them tests that road's key as well (Probe.useExtras). The
//     register names whose letters are carried need no road key: they
//     share the printed street's keys.
//   - NEAR-surname keys (no surname word agrees, so the blocking keys
//     differ), grouped under the address (postcode and house number), the
//     street's s0 and a given name's g0 (AppendNearGroup), NearWidth
//     bytes: the prefix signatures of every surname word of at least
//     MinEditLetters letters.
//     A second NEAR gives no match, so the street agrees EQUAL,
//     ABBREVIATED or REGISTER (s0, or a road of RoadExtras), the given
//     names FULL or INITIAL (g0), and the surnames, one edit apart, share a
//     prefix signature.

// runeSig folds a rune to a signature byte, never 0.
func runeSig(r rune) byte {
	if r < utf8.RuneSelf && r > 0 {
		return byte(r)
	}
	return 0x80 | byte(r&0x7f)
}

// firstSig returns the signature of the first rune of w; ok is false for
// an empty word.
func firstSig(w string) (s byte, ok bool) {
	r, size := utf8.DecodeRuneInString(w)
	if size == 0 {
		return 0, false
	}
	return runeSig(r), true
}

// editSigLen is the width of an edit signature (editSigs).
const editSigLen = 3

// editSigs returns the edit signatures of w when it has at least
// MinEditLetters runes: a is a hash of its runes 2-4 (counted from 1), its
// last rune, its length in runes and seed; b of its runes 3-5, its last
// rune, its length less one and seed. Two such words one edit apart whose
// edit replaces, deletes, inserts or swaps the first rune share one: a
// replaced first rune leaves a (and b); a deleted one makes the shorter
// word's a the longer's b; an inserted one the other way round; a swap of
// the first two runes leaves b. The last rune stays in every case.
func editSigs(w string, seed uint32) (a, b [editSigLen]byte, ok bool) {
	var l [MinEditLetters]byte
	n := 0
	var last rune
	for _, r := range w {
		if n < MinEditLetters {
			l[n] = runeSig(r)
		}
		n++
		last = r
	}
	if n < MinEditLetters {
		return a, b, false
	}
	return editSig(l[1:4], last, n, seed), editSig(l[2:5], last, n-1, seed), true
}

// editSig hashes three letters, a last rune, a length and a seed into an
// edit signature.
func editSig(x []byte, last rune, length int, seed uint32) [editSigLen]byte {
	h := (2166136261 ^ seed) * 16777619
	for _, c := range x {
		h = (h ^ uint32(c)) * 16777619
	}
	h = (h ^ uint32(runeSig(last))) * 16777619
	h = (h ^ uint32(length)) * 16777619
	h ^= h >> 15
	h *= 0x2c1b3c6d
	h ^= h >> 12
	return [editSigLen]byte{byte(h), byte(h >> 8), byte(h >> 16)}
}

// streetFirst returns s0 of a normalised street (ParseAddress,
// NormalizeStreet): the signature of its first rune, skipping what compact
// equality skips (blanks, ASCII punctuation); 0 for a street without a
// letter or digit.
func streetFirst(s string) byte {
	i := 0
	for i < len(s) && streetSkip(s[i]) {
		i++
	}
	if i == len(s) {
		return 0
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return runeSig(r)
}

// streetEditSigs returns the edit signatures (editSigs) of a normalised
// street's first word, seeded with the rest of the street without its
// dots: NEAR (streetNear) changes the first letter only through one edit
// at the start of the first word, and then every other word is the same,
// with or without a trailing dot.
func streetEditSigs(s string) (a, b [editSigLen]byte, ok bool) {
	first, rest := s, ""
	if i := strings.IndexByte(s, ' '); i >= 0 {
		first, rest = s[:i], s[i:]
	}
	h := uint32(2166136261)
	for i := 0; i < len(rest); i++ {
		if rest[i] != '.' {
			h = (h ^ uint32(rest[i])) * 16777619
		}
	}
	return editSigs(first, h)
}

// Key widths: letter keys (a kind byte and three bytes), wide keys (a
// kind byte and four bytes).
const (
	LetterWidth = 4
	WideWidth   = 5
)

// appendKeyN appends the key k to dst unless it is there; dst holds keys
// of len(k) bytes each.
func appendKeyN(dst []byte, k ...byte) []byte {
	for i := 0; i+len(k) <= len(dst); i += len(k) {
		if string(dst[i:i+len(k)]) == string(k) {
			return dst
		}
	}
	return append(dst, k...)
}

// exactKeys appends the keys of a name's given names with a street whose
// edit signatures are st (ok: it has them): its letter keys ('A' g0, and
// 'G' and a given name's edit signature) to letter, its 'S' keys (a street
// edit signature and g0) to wide. Record and contact use the same keys.
func exactKeys(letter, wide []byte, st [2][editSigLen]byte, ok bool, name *Name) ([]byte, []byte) {
	for _, g := range name.Given {
		g0, has := firstSig(g.Word)
		if !has {
			continue
		}
		letter = appendKeyN(letter, 'A', g0, 0, 0)
		if !g.Initial {
			if a, b, ok := editSigs(g.Word, 0); ok {
				letter = appendKeyN(letter, 'G', a[0], a[1], a[2])
				letter = appendKeyN(letter, 'G', b[0], b[1], b[2])
			}
		}
		if ok {
			for _, t := range st {
				wide = appendKeyN(wide, 'S', t[0], t[1], t[2], g0)
			}
		}
	}
	return letter, wide
}

// givenFirstSigs appends the first letters of name's given names, without
// duplicates, to dst.
func givenFirstSigs(dst []byte, name *Name) []byte {
	for _, g := range name.Given {
		if a, ok := firstSig(g.Word); ok {
			dst = appendSig(dst, a)
		}
	}
	return dst
}

// prefixLetters is how many first letters of a word its prefix
// signatures are made of.
const prefixLetters = 3

// NearWidth is the width of a NEAR-surname key: a prefix signature.
const NearWidth = prefixLetters - 1

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

// surnameSigs appends the NEAR-surname signatures of every surname word
// that has at least MinEditLetters letters to dst, NearWidth bytes
// each, without duplicates: the word's prefix signatures (prefixSigs), one
// of which two words one edit apart always share.
func surnameSigs(dst []byte, name *Name) []byte {
	for _, w := range name.Surnames {
		if utf8.RuneCountInString(w) < MinEditLetters {
			continue
		}
		sigs, n := prefixSigs(w)
		for _, ps := range sigs[:n] {
			dst = appendKeyN(dst, ps[:]...)
		}
	}
	return dst
}

func appendSig(dst []byte, s byte) []byte {
	for _, c := range dst {
		if c == s {
			return dst
		}
	}
	if s == 0 {
		return dst
	}
	return append(dst, s)
}

// sigNear starts a NEAR-surname group; blocking keys start with a
// postcode (and, in a store, its own prefix).
const sigNear = 'n'

// AppendRoadSig appends the road key of road to dst: 'R', Kommunekode and
// Vejkode (big-endian), WideWidth bytes.
func AppendRoadSig(dst []byte, road RoadID) []byte {
	dst = append(dst, 'R')
	dst = binary.BigEndian.AppendUint16(dst, road.Kommune)
	return binary.BigEndian.AppendUint16(dst, road.Vej)
}

// AppendLetterGroup appends the group of the letter keys of a blocking key
// (AppendKey, with any prefix the store gives it) and a street's s0 to dst.
func AppendLetterGroup(dst, key []byte, s0 byte) []byte {
	return append(append(dst, key...), s0)
}

// AppendWideGroup appends the group of the wide keys of a blocking key to
// dst: the key and a 0, which no s0 is.
func AppendWideGroup(dst, key []byte) []byte {
	return append(append(dst, key...), 0)
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

// AppendNearGroup appends the group of NEAR-surname keys of an address
// (AppendAddressKey), a street letter s0 and a given-name letter g0 to
// dst.
func AppendNearGroup(dst, addrKey []byte, s0, g0 byte) []byte {
	dst = append(dst, sigNear)
	dst = append(dst, addrKey...)
	return append(dst, s0, g0)
}

// RecordSigs holds one record's signatures for a store's filter.
type RecordSigs struct {
	// Street is the street's s0; 0 for a record without a street, which
	// then has no letter, 'S' or NEAR-surname keys: only a road-register
	// name can make its street agree.
	Street byte
	// Letter: the letter keys, LetterWidth bytes each.
	Letter []byte
	// Wide: the 'S' keys and the road key, WideWidth bytes each.
	Wide []byte
	// First and Near: the NEAR-surname keys, NearWidth bytes each, in the
	// group (AppendNearGroup) of the address, Street and every First
	// letter; Near is empty when no surname word has MinEditLetters
	// letters.
	First []byte
	Near  []byte
}

// Signatures fills s with rec's signatures, reusing its slices.
func (s *RecordSigs) Signatures(rec *Record) {
	s.Street = streetFirst(rec.Address.Street)
	s.Letter, s.Wide = s.Letter[:0], s.Wide[:0]
	if s.Street != 0 {
		a, b, ok := streetEditSigs(rec.Address.Street)
		s.Letter, s.Wide = exactKeys(s.Letter, s.Wide, [2][editSigLen]byte{a, b}, ok, &rec.Name)
	}
	if rec.Road.Known() {
		s.Wide = AppendRoadSig(s.Wide, rec.Road)
	}
	s.First = givenFirstSigs(s.First[:0], &rec.Name)
	s.Near = surnameSigs(s.Near[:0], &rec.Name)
}

// EachKey calls add with every signature key of the record whose
// signatures s holds, stored under the blocking key key with the address
// key addrKey: the keys of one group and width at once (a store's filter
// adds them; add must not keep its arguments). buf is scratch space for
// the groups; EachKey returns it, grown.
func (s *RecordSigs) EachKey(buf, key, addrKey []byte, add func(group, keys []byte, width int)) []byte {
	if s.Street != 0 && len(s.Letter) > 0 {
		buf = AppendLetterGroup(buf[:0], key, s.Street)
		add(buf, s.Letter, LetterWidth)
	}
	if len(s.Wide) > 0 {
		buf = AppendWideGroup(buf[:0], key)
		add(buf, s.Wide, WideWidth)
	}
	if s.Street != 0 && len(s.Near) > 0 {
		for _, g := range s.First {
			buf = AppendNearGroup(buf[:0], addrKey, s.Street, g)
			add(buf, s.Near, NearWidth)
		}
	}
	return buf
}

// KeyCount returns how many keys EachKey adds for one blocking key.
func (s *RecordSigs) KeyCount() int {
	n := len(s.Wide) / WideWidth
	if s.Street != 0 {
		n += len(s.Letter)/LetterWidth + len(s.First)*len(s.Near)/NearWidth
	}
	return n
}

// Bounds of a Probe's signature sets; a contact with more gets a probe
// that rules nothing out.
const (
	maxProbeGiven = 8
	maxProbeSigs  = 12
	maxProbeRoads = 8
	maxProbeKey   = 160 // bytes of a blocking key (with the store's prefix)
)

// Probe holds a contact's signatures. The zero Probe rules nothing out: a
// probe that was never built can only cost a read, never hide a record.
type Probe struct {
	built bool
	// none: the contact can match no record (no street, no given name,
	// no postcode or no house number).
	none bool
	// all: a signature set overflowed; rule nothing out.
	all bool

	s0     byte
	st     [2][editSigLen]byte
	stOK   bool
	letter [LetterWidth * 3 * maxProbeGiven]byte
	nl     int
	wide   [WideWidth * (2*maxProbeGiven + maxProbeRoads)]byte
	nw     int // 'S' keys in wide; road keys follow (useExtras)
	first  [maxProbeGiven]byte
	nf     int
	near   [NearWidth * maxProbeSigs]byte
	nn     int

	// The road register the contact is matched with, and the road keys
	// its street makes it test (useExtras): wide[nw:nw+nr] for
	// exact-surname lookups; nrExact > 0 when its street agrees EQUAL or
	// ABBREVIATED with a register name of RoadExtras, which NEAR-surname
	// lookups then cannot rule out.
	register Roads
	extFor   *RoadExtras
	extDone  bool
	nr       int
	nrExact  int
	postcode string
	street   string

	addrKey [32]byte
	nak     int
	group   [maxProbeKey + 1]byte // scratch for groups
	name    Name

	prefetched bool
	hashes     [16]uint64 // Prefetch's group hashes
	sink       uint64     // what Prefetch read, so that the reads stay

	// What the store found, reading the exact blocking keys, about the
	// list words one edit from the contact's surname words at its address
	// (KnowNear): bit i of nearKnown is set when nearData[i] holds them
	// for surname word i.
	nearKnown uint32
	nearData  [maxProbeSurnames][]byte
}

// maxProbeSurnames bounds the surname words whose NEAR words a probe can
// be told (KnowNear); a contact with more reads the address's summary.
const maxProbeSurnames = 32

// NewProbe returns the probe of a contact's parsed name and address,
// matched with the road register roads (nil: none loaded).
func NewProbe(name Name, addr Address, roads Roads) Probe {
	var p Probe
	p.Reset(name, addr, roads)
	return p
}

// Reset makes p the probe of a contact's parsed name and address, matched
// with the road register roads (nil: none loaded), as NewProbe does, in
// place: a caller that screens many contacts keeps one Probe and neither
// copies nor clears its key arrays per contact (only their used lengths
// are reset). The probe refers to name's and addr's strings.
func (p *Probe) Reset(name Name, addr Address, roads Roads) {
	p.built, p.none, p.all = true, false, false
	p.name, p.register, p.postcode, p.street = name, roads, addr.Postcode, addr.Street
	p.s0, p.st, p.stOK = 0, [2][editSigLen]byte{}, false
	p.nl, p.nw, p.nf, p.nn, p.nak = 0, 0, 0, 0, 0
	p.extFor, p.extDone, p.nr, p.nrExact = nil, false, 0, 0
	p.prefetched, p.sink = false, 0
	p.nearKnown = 0
	if addr.Street == "" || len(name.Given) == 0 || addr.Postcode == "" || addr.HouseNumber == "" ||
		len(addr.Postcode)+len(addr.HouseNumber)+2 > len(p.addrKey) {
		p.none = true
		return
	}
	p.nak = len(AppendAddressKey(p.addrKey[:0], addr.Postcode, addr.HouseNumber))
	p.s0 = streetFirst(addr.Street)
	if p.s0 == 0 || len(name.Given) > maxProbeGiven {
		// A street without a letter or digit agrees with nothing, and a
		// name with very many given names is rare: rule nothing out
		// rather than reason about them.
		p.all = true
		return
	}
	a, b, ok := streetEditSigs(addr.Street)
	p.st, p.stOK = [2][editSigLen]byte{a, b}, ok
	l, w := exactKeys(p.letter[:0], p.wide[:0], p.st, ok, &name)
	p.nl, p.nw = len(l), len(w)
	p.nf = len(givenFirstSigs(p.first[:0], &name))
	var sb [NearWidth * maxProbeSigs * 2]byte
	if sn := surnameSigs(sb[:0], &name); len(sn) > len(p.near) {
		p.all = true
	} else {
		p.nn = copy(p.near[:], sn)
	}
}

// None reports that the contact can match no record: lookups are useless.
func (p *Probe) None() bool { return p.built && p.none }

// Roads returns the road register the probe's contact is matched with
// (nil: none). A store builds the RoadExtras it passes to MayMatchExact
// and MayMatchNear from it.
func (p *Probe) Roads() Roads { return p.register }

// Filter is what a probe tests signatures against: a store's filter,
// whose TestAnyIn reports whether any of keys (each width bytes, one after
// the other) may be in group.
type Filter interface {
	TestAnyIn(group, keys []byte, width int) bool
}

// Prefetcher is a Filter that can load groups' memory ahead of tests
// (Probe.Prefetch): GroupHash returns the hash that places a group, and
// TouchHashes loads the memory of the groups with hashes hs, all at once,
// and returns a value read from it.
type Prefetcher interface {
	GroupHash(group []byte) uint64
	TouchHashes(hs []uint64) uint64
}

// Prefetch touches, once per probe, every group the probe's lookups may
// test in f: for each distinct surname word, the letter and wide groups
// of its blocking key (prefix, the store's prefix of blocking keys, then
// AppendKey), and the NEAR-surname groups of the address. The processor
// then fetches them at once. It does nothing for a probe that tests
// nothing.
func (p *Probe) Prefetch(prefix []byte, f Prefetcher) {
	if !p.built || p.none || p.all || p.prefetched {
		return
	}
	p.prefetched = true
	// The groups' hashes first, then their memory in one go: the loads
	// then overlap instead of waiting, each, for the next group's hash.
	hs := &p.hashes // in the probe: passed to an interface, a local would move to the heap
	n := 0
	var sink uint64
	touch := func(group []byte) {
		if n == len(hs) {
			sink += f.TouchHashes(hs[:n])
			n = 0
		}
		hs[n] = f.GroupHash(group)
		n++
	}
	ak := p.addrKey[:p.nak]
	for i, sn := range p.name.Surnames {
		if len(prefix)+len(ak)+len(sn)+1 > len(p.group) || slices.Contains(p.name.Surnames[:i], sn) {
			continue
		}
		k := append(append(append(p.group[:0], prefix...), ak...), sn...)
		k = append(k, p.s0)
		touch(k)
		k[len(k)-1] = 0
		touch(k)
	}
	if p.nn > 0 {
		for _, g := range p.first[:p.nf] {
			touch(AppendNearGroup(p.group[:0], ak, p.s0, g))
		}
	}
	p.sink = sink + f.TouchHashes(hs[:n])
}

// useExtras finds the roads whose keys the contact tests: the roads of x
// at the contact's postcode with a register name that the contact's
// street agrees with (EQUAL or ABBREVIATED) or is NEAR to and whose
// letters the list's printed streets for that road do not carry. x must
// be built from the list and the probe's road register (NewRoadExtras);
// a nil x with a register rules nothing out. It reports false when the
// probe must rule nothing out.
func (p *Probe) useExtras(x *RoadExtras) bool {
	if p.register == nil {
		return true
	}
	if x == nil {
		return false
	}
	if p.extDone && p.extFor == x {
		return !p.all
	}
	p.extFor, p.extDone, p.nr, p.nrExact = x, true, 0, 0
	es := x.byPostcode[p.postcode]
	// Roads whose name agrees EQUAL or ABBREVIATED first, then NEAR ones.
	for i := range es {
		e := &es[i]
		if e.exact && (e.s0 == p.s0 || e.s0 == 0) && StreetsCompatible(p.street, e.name) != StreetNone {
			if !p.addRoad(e.road) {
				return false
			}
		}
	}
	p.nrExact = p.nr
	for i := range es {
		e := &es[i]
		if e.near && (e.s0 == p.s0 || e.s0 == 0 || p.stOK && e.stOK && sharesEditSig(p.st, e.st)) && streetNear(p.street, e.name) {
			if !p.addRoad(e.road) {
				return false
			}
		}
	}
	return true
}

// sharesEditSig reports whether a and b have an edit signature in common.
func sharesEditSig(a, b [2][editSigLen]byte) bool {
	return a[0] == b[0] || a[0] == b[1] || a[1] == b[0] || a[1] == b[1]
}

// addRoad adds road's key to the probe's road keys unless it is there;
// false when they are full (the probe then rules nothing out).
func (p *Probe) addRoad(road RoadID) bool {
	var k [WideWidth]byte
	AppendRoadSig(k[:0], road)
	roads := p.wide[p.nw : p.nw+p.nr]
	for i := 0; i < len(roads); i += WideWidth {
		if string(roads[i:i+WideWidth]) == string(k[:]) {
			return true
		}
	}
	if p.nw+p.nr+WideWidth > len(p.wide) {
		p.all = true
		return false
	}
	p.nr += copy(p.wide[p.nw+p.nr:], k[:])
	return true
}

// MayMatchExact reports whether a record stored under the blocking key key
// can match the probe's contact, given f, which holds the records' letter
// and wide keys (RecordSigs) in their groups (AppendLetterGroup,
// AppendWideGroup), and x, the road register's extra names for the list
// (NewRoadExtras; nil without a road register). false means
// Matcher.Match gives NoMatch for every record under key.
func (p *Probe) MayMatchExact(key []byte, f Filter, x *RoadExtras) bool {
	if !p.built || p.all || len(key) > maxProbeKey {
		return true
	}
	if p.none {
		return false
	}
	if !p.useExtras(x) {
		return true
	}
	if p.nl > 0 && f.TestAnyIn(AppendLetterGroup(p.group[:0], key, p.s0), p.letter[:p.nl], LetterWidth) {
		return true
	}
	return p.nw+p.nr > 0 && f.TestAnyIn(AppendWideGroup(p.group[:0], key), p.wide[:p.nw+p.nr], WideWidth)
}

// MayMatchNear reports whether a record at the probe's address whose
// surname is one edit from the contact's can match the probe's contact,
// given f and x as in MayMatchExact, f holding the records' NEAR-surname
// keys (RecordSigs.Near) in their groups (AppendNearGroup). A
// contact whose street agrees with a register name of RoadExtras is let
// through: the address's records are read.
func (p *Probe) MayMatchNear(f Filter, x *RoadExtras) bool {
	if !p.built || p.all {
		return true
	}
	if p.none || p.nn == 0 {
		return false
	}
	if !p.useExtras(x) || p.nrExact > 0 {
		return true
	}
	ak := p.addrKey[:p.nak]
	for _, g := range p.first[:p.nf] {
		if f.TestAnyIn(AppendNearGroup(p.group[:0], ak, p.s0, g), p.near[:p.nn], NearWidth) {
			return true
		}
	}
	return false
}

// KnowNear tells the probe, after a store has read the blocking key key
// (AppendKey, without a store's prefix), what that key's records are
// stored with: data, in the store's own encoding, names the list's
// surname words at the key's address that are one edit from the key's
// surname word (OneEdit). When key is the contact's address and one of
// its surname words, the probe keeps data for that word (and for its
// repeats) until Reset; any other key is ignored. The probe does not copy
// data: it must stay valid while the probe serves this contact.
func (p *Probe) KnowNear(key, data []byte) {
	if !p.built || p.none || p.nak == 0 || len(key) <= p.nak || string(key[:p.nak]) != string(p.addrKey[:p.nak]) {
		return
	}
	w := key[p.nak:]
	for i, sn := range p.name.Surnames {
		if i < maxProbeSurnames && sn == string(w) {
			p.nearKnown |= 1 << i
			p.nearData[i] = data
		}
	}
}

// KnownNear returns, when KnowNear has been told them for every surname
// word of the contact that can be one edit from another word (at least
// MinEditLetters runes), the data it was told for them (words without
// enough runes have none): those words name every list word at the
// contact's address that NearSurname can accept, so a store need not read
// the address's summary. ok is false otherwise. The result is valid until
// the next call or Reset.
func (p *Probe) KnownNear(buf [][]byte) (data [][]byte, ok bool) {
	if !p.built || p.none || p.nak == 0 || len(p.name.Surnames) > maxProbeSurnames {
		return buf, false
	}
	data = buf[:0]
	for i, sn := range p.name.Surnames {
		if utf8.RuneCountInString(sn) < MinEditLetters {
			continue // OneEdit never accepts a word this short
		}
		if p.nearKnown&(1<<i) == 0 {
			return buf, false
		}
		if len(p.nearData[i]) > 0 && !slices.Contains(p.name.Surnames[:i], sn) {
			data = append(data, p.nearData[i])
		}
	}
	return data, true
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
