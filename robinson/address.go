package robinson

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// ErrAddress is the sentinel wrapped by every error of ParseAddress; test
// with errors.Is. The errors never echo the address (personal data).
var ErrAddress = errors.New("robinson: invalid address")

// The errors are of type error, so that returning one does not convert
// (and allocate) each time.
var (
	errAddrEmpty    error = addrError("empty address")
	errAddrNoStreet error = addrError("no street name before the house number")
	errAddrNoHouse  error = addrError("no house number")
)

// addrError is a static error wrapping ErrAddress.
type addrError string

func (e addrError) Error() string { return ErrAddress.Error() + ": " + string(e) }
func (e addrError) Unwrap() error { return ErrAddress }

// ParseAddress parses a free-text Danish address line the way contact lists
// and CRM exports write it (data-formats.md section 4), for example
// "Strandvejen 123A, st. tv, 2900 Hellerup", "STRANDVEJEN 123 a st th",
// "Dronn. Louises V. 15, 1. th", "Vej 12 2 tv", "Vestergade 7 2.tv",
// "H C Andersens Boulevard 12, 3. til venstre, 1553 København V".
//
// The line is normalised (see Normalize) and split into tokens at blanks
// and commas. The rules, in order:
//
//   - House number: the first token after at least one street token that is
//     1 to 3 digits (leading zeros allowed, value 1-999), optionally directly
//     followed by one letter ("123a"; "0123a" is allowed too, but four
//     digits without a letter are a postcode). A separate single-letter token right
//     after it ("123 a") is its letter, except "t" before "v"/"h" and "m"
//     before "f" (the doors "t v", "t h", "m f"). A number token followed by
//     a dot ("4.") before the house number is part of the street (ordinal
//     street names such as "Christian 4. Gade"); so a house number written
//     with a dot ("Vestergade 7.") is not recognised.
//   - Street: the tokens before the house number joined by single blanks,
//     dots kept ("dronn. louises v.", "h.c. andersens boulevard"); a "nr"
//     or "nr." token just before the house number is dropped. A leading
//     care-of or attention part ("c/o", "att.", "v/") up to its comma is not
//     part of it ("c/o Hansen, Vestergade 7" has the street "vestergade").
//   - Unit: the tokens after the house number, split further at dots
//     ("2.tv" -> "2", "tv"; "t.v." -> "t", "v"), up to the postcode. First
//     an optional floor ("st", "stuen", "kl", "kld", "kælder", or a number
//     1-99 optionally followed by "sal"/"etage"; a lone number right after
//     the house number is the floor), then an optional door ("tv", "t.v.",
//     "til venstre", "th", "t.h.", "til højre", "mf", "m.f.", "midt for", or
//     a door number of 1-3 digits, leading zeros dropped). Anything else
//     ends the unit; "2 3" is floor 2, door 3; a number above 99 right
//     after the house number is a door, not a floor.
//   - Postcode: the first token (or dot-separated piece) of exactly four
//     digits after the house number. Everything after it (the town) is
//     ignored.
//
// On error the returned Address still holds the parts that were found, so
// callers can use them: without a house number, Postcode is the first
// 4-digit token anywhere in the line and Street is the tokens before the
// first token that starts with a digit. The error wraps ErrAddress when the
// line is empty, holds no street before the house number, or holds no house
// number. ParseAddress never panics.
func ParseAddress(line string) (Address, error) { return parseAddress(line, nil) }

// parseAddress is ParseAddress, with the buffer of p (nil: allocate).
func parseAddress(line string, p *ContactParser) (Address, error) {
	var a Address
	var n string
	if p != nil {
		p.addr = p.addr[:0]
		n = p.normalize(line)
	} else {
		n = Normalize(line)
	}
	var tb [24]addrTok
	toks := tb[:0]
	for i := 0; i < len(n); {
		for i < len(n) && (n[i] == ' ' || n[i] == ',') {
			i++
		}
		j := i
		for j < len(n) && n[j] != ' ' && n[j] != ',' {
			j++
		}
		if j > i {
			toks = append(toks, addrTok{i, j})
		}
		i = j
	}
	if len(toks) == 0 {
		return a, errAddrEmpty
	}
	tok := func(k int) string { return n[toks[k].s:toks[k].e] }

	h, hEnd := -1, -1
	var digits string
	var letter byte
	for k := 1; k < len(toks); k++ {
		if d, l, ok := addrHouseToken(tok(k)); ok {
			h, hEnd, digits, letter = k, k, d, l
			break
		}
	}
	if h < 0 {
		// Best effort: street up to the first token starting with a
		// digit, postcode the first 4-digit token.
		end := len(toks)
		for k := 0; k < len(toks); k++ {
			if t := tok(k); t[0] >= '0' && t[0] <= '9' {
				end = k
				break
			}
		}
		a.Street = p.canonWords(addrJoin(n, toks[:end], p))
		for k := 0; k < len(toks); k++ {
			if t := tok(k); addrIsPostcode(t) {
				a.Postcode = t
				break
			}
		}
		if a.Street == "" {
			return a, errAddrNoStreet
		}
		return a, errAddrNoHouse
	}
	if letter == 0 && h+1 < len(toks) {
		if u := tok(h + 1); len(u) == 1 && u[0] >= 'a' && u[0] <= 'z' {
			next := ""
			if h+2 < len(toks) {
				next = tok(h + 2)
			}
			if !addrDoorPair(u[0], next) {
				letter, hEnd = u[0], h+1
			}
		}
	}
	switch {
	case letter == 0:
		a.HouseNumber = digits
	case p != nil:
		a.HouseNumber = p.concat(digits, letter-('a'-'A'))
	default:
		a.HouseNumber = digits + string(rune(letter-('a'-'A')))
	}
	se := h
	if se > 1 {
		if t := tok(se - 1); t == "nr" || t == "nr." {
			se--
		}
	}
	// A care-of or attention line before the street ("c/o Hansen,
	// Vestergade 7", "att. Jensen, ...") is not part of it: the street
	// starts after the comma that ends it.
	ss := 0
	if t := tok(0); t == "c/o" || t == "co" || t == "att." || t == "att" || t == "att:" || t == "v/" {
		for k := 1; k < se; k++ {
			if strings.IndexByte(n[toks[k-1].e:toks[k].s], ',') >= 0 {
				ss = k
				break
			}
		}
	}
	a.Street = p.canonWords(addrJoin(n, toks[ss:se], p))

	// Unit pieces up to the postcode.
	var pb [12]string
	pieces := pb[:0]
collect:
	for k := hEnd + 1; k < len(toks); k++ {
		t := tok(k)
		for len(t) > 0 {
			p := t
			if i := strings.IndexByte(t, '.'); i >= 0 {
				p, t = t[:i], t[i+1:]
			} else {
				t = ""
			}
			if p == "" {
				continue
			}
			if addrIsPostcode(p) {
				a.Postcode = p
				break collect
			}
			if len(pieces) < len(pb) {
				pieces = append(pieces, p)
			}
		}
	}
	j := 0
	if v, c := unitFloorAt(pieces, j); c > 0 {
		a.Floor = v
		j += c
	}
	if v, c := unitDoorAt(pieces, j); c > 0 {
		a.Door = v
	}
	if a.Street == "" {
		// The words before the house number were punctuation only: no
		// street, so no house number either (as for a line without one).
		return Address{Postcode: a.Postcode}, errAddrNoStreet
	}
	return a, nil
}

// addrTok is a token of the normalised line as byte offsets.
type addrTok struct{ s, e int }

// addrJoin joins tokens of n with single blanks, without allocating when
// they are already separated by single blanks, and otherwise in p's buffer
// (nil: allocate).
func addrJoin(n string, toks []addrTok, p *ContactParser) string {
	if len(toks) == 0 {
		return ""
	}
	contiguous := true
	size := 0
	for k := range toks {
		size += toks[k].e - toks[k].s + 1
		if k > 0 && (toks[k].s != toks[k-1].e+1 || n[toks[k-1].e] != ' ') {
			contiguous = false
		}
	}
	if contiguous {
		return n[toks[0].s:toks[len(toks)-1].e]
	}
	if p != nil {
		start := len(p.addr)
		for k := range toks {
			if k > 0 {
				p.addr = append(p.addr, ' ')
			}
			p.addr = append(p.addr, n[toks[k].s:toks[k].e]...)
		}
		return p.str(start)
	}
	var b strings.Builder
	b.Grow(size)
	for k := range toks {
		if k > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(n[toks[k].s:toks[k].e])
	}
	return b.String()
}

// addrIsPostcode reports exactly four ASCII digits.
func addrIsPostcode(t string) bool {
	return len(t) == 4 && unitDigits(t) == 4
}

// unitDigits returns the length of the leading run of ASCII digits of t.
func unitDigits(t string) int {
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	return i
}

// unitTrimZeros strips leading zeros from a digit string.
func unitTrimZeros(d string) string {
	for len(d) > 0 && d[0] == '0' {
		d = d[1:]
	}
	return d
}

// addrHouseToken recognises a normalised house-number token: 1-3 digits,
// value 1-999, optionally followed by one letter a-z. It returns the digits
// without leading zeros and the letter (0 for none).
func addrHouseToken(t string) (digits string, letter byte, ok bool) {
	nd := unitDigits(t)
	// Four digits are a postcode, unless a zero-padded number carries a
	// letter ("0012a", the list's 4-wide field).
	if nd == 0 || nd > 4 || nd == 4 && (t[0] != '0' || len(t) == 4) {
		return "", 0, false
	}
	d := unitTrimZeros(t[:nd])
	if d == "" {
		return "", 0, false
	}
	switch rest := t[nd:]; {
	case rest == "":
		return d, 0, true
	case len(rest) == 1 && rest[0] >= 'a' && rest[0] <= 'z':
		return d, rest[0], true
	}
	return "", 0, false
}

// addrDoorPair reports whether the single letter u and the following token
// spell a door ("t v", "t h", "m f").
func addrDoorPair(u byte, next string) bool {
	if next == "" {
		return false
	}
	next, _, _ = strings.Cut(next, ".")
	switch u {
	case 't':
		return next == "v" || next == "h"
	case 'm':
		return next == "f"
	}
	return false
}

// eqLower reports whether p equals the lower-case ASCII literal lit,
// ignoring ASCII case in p.
func eqLower(p, lit string) bool {
	if len(p) != len(lit) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i]|0x20 != lit[i] {
			return false
		}
	}
	return true
}

// unitFloorAt recognises a floor starting at pieces[i]; it returns the
// floor and the number of pieces consumed (0 when there is none).
func unitFloorAt(pieces []string, i int) (string, int) {
	if i >= len(pieces) {
		return "", 0
	}
	p := pieces[i]
	switch {
	case eqLower(p, "st"), eqLower(p, "stuen"), eqLower(p, "stue"):
		return "st", 1
	case eqLower(p, "kl"), eqLower(p, "kld"), eqLower(p, "kaelder"), eqLower(p, "kaelderen"):
		return "kl", 1
	}
	nd := unitDigits(p)
	if nd == 0 || nd != len(p) || nd > 2 {
		return "", 0
	}
	d := unitTrimZeros(p)
	if d == "" {
		return "", 0
	}
	if i+1 < len(pieces) {
		if q := pieces[i+1]; eqLower(q, "sal") || eqLower(q, "etage") || eqLower(q, "etg") {
			return d, 2
		}
	}
	return d, 1
}

// unitDoorAt recognises a door starting at pieces[i]; it returns the door
// and the number of pieces consumed (0 when there is none).
func unitDoorAt(pieces []string, i int) (string, int) {
	if i >= len(pieces) {
		return "", 0
	}
	p := pieces[i]
	next := ""
	if i+1 < len(pieces) {
		next = pieces[i+1]
	}
	switch {
	case eqLower(p, "tv"), eqLower(p, "venstre"):
		return "tv", 1
	case eqLower(p, "th"), eqLower(p, "hoejre"), eqLower(p, "hojre"):
		return "th", 1
	case eqLower(p, "mf"), eqLower(p, "midtfor"):
		return "mf", 1
	case eqLower(p, "t"):
		switch {
		case eqLower(next, "v"):
			return "tv", 2
		case eqLower(next, "h"):
			return "th", 2
		}
		return "", 0
	case eqLower(p, "m"):
		if eqLower(next, "f") {
			return "mf", 2
		}
		return "", 0
	case eqLower(p, "til"):
		switch {
		case eqLower(next, "venstre"):
			return "tv", 2
		case eqLower(next, "hoejre"), eqLower(next, "hojre"):
			return "th", 2
		}
		return "", 0
	case eqLower(p, "midt"):
		if eqLower(next, "for") {
			return "mf", 2
		}
		return "", 0
	}
	nd := unitDigits(p)
	if nd == 0 || nd != len(p) || nd > 4 {
		return "", 0
	}
	d := unitTrimZeros(p)
	if d == "" {
		return "", 0
	}
	return d, 1
}

// unitPieces splits a unit field into pieces at blanks, dots, commas and
// hyphens. It normalises s first when it is not pure ASCII. ok is false
// when there are more pieces than fit in buf.
func unitPieces(s string, buf []string) (pieces []string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			s = Normalize(s)
			break
		}
	}
	pieces = buf[:0]
	for i := 0; i < len(s); {
		for i < len(s) && unitIsSep(s[i]) {
			i++
		}
		j := i
		for j < len(s) && !unitIsSep(s[j]) {
			j++
		}
		if j > i {
			if len(pieces) == len(buf) {
				return pieces, false
			}
			pieces = append(pieces, s[i:j])
		}
		i = j
	}
	return pieces, true
}

func unitIsSep(c byte) bool {
	return c <= ' ' || c == '.' || c == ',' || c == '-' || c == 0x7f
}

// NormalizeHouseNumber returns the house number s in normal form: digits
// without leading zeros plus an optional upper-case letter ("12", "012",
// "12 a", "12A", "012a", "086B", "0012" -> "12", "12", "12A", "12A", "12A",
// "86B", "12"). s may hold up to 4 digits (the list field is 4 wide) but
// the value must be 1-999; surrounding blanks are ignored. ok is false for
// anything else (empty, "0", letters only, two letters, a 4-digit value).
func NormalizeHouseNumber(s string) (string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			s = Normalize(s)
			break
		}
	}
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	nd := unitDigits(s)
	if nd == 0 || nd > 4 {
		return "", false
	}
	d := unitTrimZeros(s[:nd])
	if d == "" || len(d) > 3 {
		return "", false
	}
	rest := strings.TrimLeft(s[nd:], " \t")
	switch {
	case rest == "":
		return d, true
	case len(rest) != 1:
		return "", false
	case rest[0] >= 'A' && rest[0] <= 'Z':
		if len(s) == nd+1 {
			return s[nd-len(d):], true // already canonical after the zeros
		}
		return d + rest, true
	case rest[0] >= 'a' && rest[0] <= 'z':
		return d + string(rune(rest[0]-('a'-'A'))), true
	}
	return "", false
}

// NormalizeFloor returns the floor s in normal form: "st" for st, st.,
// stue, stuen; "kl" for kl, kl., kld, kld., kælder, kaelder; a number
// without leading zeros for 1-99 written "2", "2.", "02", "2. sal",
// "2.sal", "2 sal" (also "etage"). Case is ignored. ok is false for
// anything else, including the empty string (a blank field means "no
// floor": callers test for blank before calling).
func NormalizeFloor(s string) (string, bool) {
	var buf [4]string
	pieces, ok := unitPieces(s, buf[:])
	if !ok {
		return "", false
	}
	v, c := unitFloorAt(pieces, 0)
	if c == 0 || c != len(pieces) {
		return "", false
	}
	return v, true
}

// NormalizeDoor returns the door s in normal form: "tv" for tv, tv., t.v,
// t.v., til venstre; "th" for th, th., t.h, t.h., til højre, til hoejre;
// "mf" for mf, mf., m.f., midt for, midtfor; a door number 1-9999 without
// leading zeros ("03", "0003" -> "3"). Case is ignored. ok is false for
// anything else, including the empty string.
func NormalizeDoor(s string) (string, bool) {
	var buf [4]string
	pieces, ok := unitPieces(s, buf[:])
	if !ok {
		return "", false
	}
	v, c := unitDoorAt(pieces, 0)
	if c == 0 || c != len(pieces) {
		return "", false
	}
	return v, true
}
