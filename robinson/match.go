package robinson

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// StreetAgreement says how two normalised street names agree, from no
// agreement to exact equality.
type StreetAgreement uint8

const (
	// StreetNone: the streets are not compatible (or one is empty).
	StreetNone StreetAgreement = iota
	// StreetEqual: the normalised streets are equal.
	StreetEqual
	// StreetCompact: equal after removing all blanks and punctuation
	// ("h.c. andersens boulevard" = "h c andersens boulevard").
	StreetCompact
	// StreetAbbreviated: the same number of words, and each pair is equal
	// or one word is written abbreviated with a trailing dot and is a
	// prefix of the other ("dronn. louises v." = "dronning louises vej").
	StreetAbbreviated
)

var streetNames = [...]string{"NONE", "EQUAL", "COMPACT", "ABBREVIATED"}

// String returns "NONE", "EQUAL", "COMPACT" or "ABBREVIATED".
func (s StreetAgreement) String() string {
	if int(s) < len(streetNames) {
		return streetNames[s]
	}
	return "StreetAgreement(" + strconv.Itoa(int(s)) + ")"
}

// StreetsCompatible reports how the normalised streets a and b agree (see
// StreetAgreement); the strongest applicable form is returned in the order
// StreetEqual, StreetCompact, StreetAbbreviated. Both must come from
// Normalize or ParseAddress. An empty street is compatible with nothing.
func StreetsCompatible(a, b string) StreetAgreement {
	if a == "" || b == "" {
		return StreetNone
	}
	if a == b {
		return StreetEqual
	}
	if streetCompactEqual(a, b) {
		return StreetCompact
	}
	if streetAbbreviated(a, b) {
		return StreetAbbreviated
	}
	return StreetNone
}

// streetSkip reports bytes dropped by the compact comparison: blanks and
// ASCII punctuation. Non-ASCII bytes (letters of other scripts) are kept.
func streetSkip(c byte) bool {
	switch {
	case c >= utf8.RuneSelf:
		return false
	case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c >= 'A' && c <= 'Z':
		return false
	}
	return true
}

// streetCompactEqual compares a and b ignoring blanks and punctuation; an
// all-punctuation string equals nothing.
func streetCompactEqual(a, b string) bool {
	i, j, n := 0, 0, 0
	for {
		for i < len(a) && streetSkip(a[i]) {
			i++
		}
		for j < len(b) && streetSkip(b[j]) {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b) && n > 0
		}
		if a[i] != b[j] {
			return false
		}
		i++
		j++
		n++
	}
}

// streetAbbreviated implements the word-by-word abbreviation rule.
func streetAbbreviated(a, b string) bool {
	for {
		var wa, wb string
		wa, a, _ = strings.Cut(a, " ")
		wb, b, _ = strings.Cut(b, " ")
		if wa == "" || wb == "" {
			return wa == "" && wb == ""
		}
		if !streetWordsAgree(wa, wb) {
			return false
		}
	}
}

// streetWordsAgree: equal, or one ends with a dot and its stem is a prefix
// of the other word (without its own trailing dot).
func streetWordsAgree(wa, wb string) bool {
	if wa == wb {
		return true
	}
	sa, abbrA := strings.CutSuffix(wa, ".")
	sb, abbrB := strings.CutSuffix(wb, ".")
	if sa == "" || sb == "" {
		return false
	}
	return abbrA && strings.HasPrefix(sb, sa) || abbrB && strings.HasPrefix(sa, sb)
}

// Level is the strength of a Robinson match; a higher value is stronger.
type Level uint8

// The match levels, weakest first. (The strongest is called Matched, not
// Match, because Match is the function.)
const (
	// NoMatch: the record does not match the contact.
	NoMatch Level = iota
	// Possible: a person must look (REVIEW ROBINSON_POSSIBLE_MATCH).
	Possible
	// Matched: the contact is on the list (BLOCK ROBINSON_LIST).
	Matched
)

var levelNames = [...]string{"NO_MATCH", "POSSIBLE", "MATCH"}

// String returns "NO_MATCH", "POSSIBLE" or "MATCH".
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return "Level(" + strconv.Itoa(int(l)) + ")"
}

// NameAgreement says how a contact's name agrees with a list name.
type NameAgreement uint8

const (
	// NameNone: the surnames do not agree, or no given name agrees.
	NameNone NameAgreement = iota
	// NameInitial: the surname agrees, no full given name agrees, and an
	// initial on one side is the start of a given name (or the same
	// initial) on the other side.
	NameInitial
	// NameFull: the surname agrees and a given name of two or more letters
	// appears on both sides.
	NameFull
)

var nameAgreementNames = [...]string{"NONE", "INITIAL", "FULL"}

// String returns "NONE", "INITIAL" or "FULL".
func (n NameAgreement) String() string {
	if int(n) < len(nameAgreementNames) {
		return nameAgreementNames[n]
	}
	return "NameAgreement(" + strconv.Itoa(int(n)) + ")"
}

// UnitAgreement says how floor and door of two addresses agree.
type UnitAgreement uint8

const (
	// UnitEqual: floor and door are the same on both sides (both given
	// and equal, or both absent).
	UnitEqual UnitAgreement = iota
	// UnitMissing: no conflict, but a floor or door is given on one side
	// only.
	UnitMissing
	// UnitConflict: a floor or door is given on both sides and differs.
	UnitConflict
)

var unitNames = [...]string{"EQUAL", "MISSING", "CONFLICT"}

// String returns "EQUAL", "MISSING" or "CONFLICT".
func (u UnitAgreement) String() string {
	if int(u) < len(unitNames) {
		return unitNames[u]
	}
	return "UnitAgreement(" + strconv.Itoa(int(u)) + ")"
}

// Outcome is the result of matching one contact against one list record,
// with the reasons that produced it.
type Outcome struct {
	// Level is the decision for this record.
	Level Level
	// Name says how the names agreed (NameNone when the address did not).
	Name NameAgreement
	// Street says how the streets agreed (StreetNone when postcode or
	// house number differ).
	Street StreetAgreement
	// Unit says how floor and door agreed (only meaningful when the
	// address agreed).
	Unit UnitAgreement
	// Previous is copied from the record: the match is on a previous
	// address.
	Previous bool
	// Line is copied from the record: its line number in the list file.
	Line int
}

// String returns a compact description such as
// "MATCH name=FULL street=EQUAL unit=MISSING line=12 previous".
func (o Outcome) String() string {
	b := make([]byte, 0, 64)
	b = append(b, o.Level.String()...)
	b = append(b, " name="...)
	b = append(b, o.Name.String()...)
	b = append(b, " street="...)
	b = append(b, o.Street.String()...)
	b = append(b, " unit="...)
	b = append(b, o.Unit.String()...)
	b = append(b, " line="...)
	b = strconv.AppendInt(b, int64(o.Line), 10)
	if o.Previous {
		b = append(b, " previous"...)
	}
	return string(b)
}

// Match compares a contact (name and parsed address) with one list record
// following screening-rules.md section 3:
//
//   - the postcodes must be equal and not empty, the house numbers equal and
//     not empty, and the streets compatible (StreetsCompatible); otherwise
//     the Level is NoMatch;
//   - the name agreement is computed by NameAgreementOf;
//   - NameFull and no unit conflict -> Matched; NameFull with a conflicting
//     floor or door -> Possible; NameInitial without conflict -> Possible;
//     anything else -> NoMatch.
//
// Previous and Line are always copied from rec. A nil rec gives NoMatch.
// Match does not allocate and never fails.
func Match(name Name, addr Address, rec *Record) Outcome {
	if rec == nil {
		return Outcome{}
	}
	o := Outcome{Previous: rec.Previous, Line: rec.Line}
	ra := &rec.Address
	if addr.Postcode == "" || addr.Postcode != ra.Postcode ||
		addr.HouseNumber == "" || addr.HouseNumber != ra.HouseNumber {
		return o
	}
	o.Street = StreetsCompatible(addr.Street, ra.Street)
	if o.Street == StreetNone {
		return o
	}
	o.Unit = UnitsAgree(addr, *ra)
	o.Name = NameAgreementOf(name, rec.Name)
	switch {
	case o.Name == NameFull && o.Unit != UnitConflict:
		o.Level = Matched
	case o.Name == NameFull:
		o.Level = Possible
	case o.Name == NameInitial && o.Unit != UnitConflict:
		o.Level = Possible
	}
	return o
}

// UnitsAgree compares floor and door of a and b (see UnitAgreement).
func UnitsAgree(a, b Address) UnitAgreement {
	u := UnitEqual
	for _, p := range [2][2]string{{a.Floor, b.Floor}, {a.Door, b.Door}} {
		switch {
		case p[0] == p[1]:
		case p[0] == "" || p[1] == "":
			u = UnitMissing
		default:
			return UnitConflict
		}
	}
	return u
}

// NameAgreementOf compares a contact's name with a list name. The surname
// agrees when any of the contact's surname words is one of the list's
// surname words. NameFull: the surname agrees and a given name of two or
// more letters that is not an Initial appears on both sides. NameInitial:
// the surname agrees, not NameFull, and an Initial on one side is the
// start of a given name on the other side, or equals an Initial there.
func NameAgreementOf(contact, list Name) NameAgreement {
	if !nameSurnameAgrees(contact.Surnames, list.Surnames) {
		return NameNone
	}
	initial := false
	for _, c := range contact.Given {
		for _, l := range list.Given {
			switch {
			case !c.Initial && !l.Initial:
				if c.Word == l.Word && nameHasTwoLetters(c.Word) {
					return NameFull
				}
			case c.Initial && l.Initial:
				initial = initial || c.Word == l.Word
			case c.Initial:
				initial = initial || strings.HasPrefix(l.Word, c.Word)
			default:
				initial = initial || strings.HasPrefix(c.Word, l.Word)
			}
		}
	}
	if initial {
		return NameInitial
	}
	return NameNone
}

func nameSurnameAgrees(contact, list []string) bool {
	for _, c := range contact {
		for _, l := range list {
			if c == l {
				return true
			}
		}
	}
	return false
}

// nameHasTwoLetters reports whether w holds at least two letters.
func nameHasTwoLetters(w string) bool {
	n := 0
	for _, r := range w {
		if unicode.IsLetter(r) {
			n++
			if n == 2 {
				return true
			}
		}
	}
	return false
}
