package robinson

import (
	"strconv"
	"strings"
	"unicode"
)

// StreetAgreement says how a contact's street agrees with a list record's
// (screening-rules.md section 3.3).
type StreetAgreement uint8

const (
	// StreetNone: the streets do not agree (or one is empty).
	StreetNone StreetAgreement = iota
	// StreetEqual: equal after removing all blanks and punctuation
	// ("h.c. andersens boulevard" = "h c andersens boulevard").
	StreetEqual
	// StreetCompact is no longer produced: compact equality is
	// StreetEqual. The value stays so that numbering does not change.
	StreetCompact
	// StreetAbbreviated: the same number of words, and each pair is equal
	// or one word abbreviates the other (a dotted prefix or a pair of the
	// abbreviation table).
	StreetAbbreviated
	// StreetRegister: the agreement was found only through a name the
	// CPR road register holds for the record's road.
	StreetRegister
	// StreetNear: no agreement above, but the names differ in one word by
	// a definite ending or by one edit.
	StreetNear
)

var streetNames = [...]string{"NONE", "EQUAL", "COMPACT", "ABBREVIATED", "REGISTER", "NEAR"}

// String returns "NONE", "EQUAL", "ABBREVIATED", "REGISTER" or "NEAR".
func (s StreetAgreement) String() string {
	if int(s) < len(streetNames) {
		return streetNames[s]
	}
	return "StreetAgreement(" + strconv.Itoa(int(s)) + ")"
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

// NameAgreement says how a contact's name agrees with a list name
// (screening-rules.md section 3.4). Higher values are stronger.
type NameAgreement uint8

const (
	// NameNone: the surnames do not agree, or no given name agrees.
	NameNone NameAgreement = iota
	// NameNear: one NEAR in the name: the surname is one edit from a list
	// surname word (and the given names agree FULL or INITIAL), or the
	// surname agrees and a given name is one edit from one on the other
	// side.
	NameNear
	// NameInitial: the surname agrees, no FULL, and an initial fits a given
	// name on the other side, or the shared given-part words are all
	// family-type.
	NameInitial
	// NameFull: the surname agrees and a given name of two or more letters
	// that is not family-type appears on both sides.
	NameFull
)

var nameAgreementNames = [...]string{"NONE", "NEAR", "INITIAL", "FULL"}

// String returns "NONE", "NEAR", "INITIAL" or "FULL".
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

// FamilyTypes tells which given-part words are family-type
// (screening-rules.md section 3.4): words the loaded list itself uses more
// often as a surname word than as a given name.
type FamilyTypes interface {
	FamilyType(word string) bool
}

// Matcher compares contacts with list records following
// screening-rules.md section 3. The zero Matcher knows no family-type
// words and no road register. A Matcher is read-only and safe for
// concurrent use when its Family and Roads are.
type Matcher struct {
	// Family tells family-type given names; nil: none is.
	Family FamilyTypes
	// Roads is the CPR road register; nil: not loaded (REGISTER cannot
	// agree, and NEAR is never vetoed by another road).
	Roads Roads
}

// Match compares with the zero Matcher: no family-type words, no road
// register.
func Match(name Name, addr Address, rec *Record) Outcome {
	var m Matcher
	return m.Match(name, addr, rec)
}

// Match compares a contact (name and parsed address) with one list record
// following screening-rules.md section 3.5:
//
//   - the postcodes must be equal and not empty, and the house numbers
//     equal and not empty; otherwise the Level is NoMatch;
//   - the street agreement (Street) and the name agreement (Name) are
//     computed as sections 3.3 and 3.4 say;
//   - street EQUAL, ABBREVIATED or REGISTER with a FULL name and no floor
//     or door conflict -> Matched; FULL with a conflict -> Possible;
//     INITIAL without a conflict -> Possible;
//   - exactly one NEAR (street, surname or given name) where those rows
//     would give Matched or Possible -> Possible; two NEARs -> NoMatch.
//
// Previous and Line are always copied from rec. A nil rec gives NoMatch.
// Match never fails.
func (m *Matcher) Match(name Name, addr Address, rec *Record) Outcome {
	if rec == nil {
		return Outcome{}
	}
	o := Outcome{Previous: rec.Previous, Line: rec.Line}
	ra := &rec.Address
	if addr.Postcode == "" || addr.Postcode != ra.Postcode ||
		addr.HouseNumber == "" || addr.HouseNumber != ra.HouseNumber {
		return o
	}
	o.Street = m.streetAgreement(addr, rec)
	if o.Street == StreetNone {
		return o
	}
	o.Unit = UnitsAgree(addr, *ra)
	e := m.evalName(name, rec.Name)
	nears := 0
	if o.Street == StreetNear {
		nears++
	}
	if e.surnameNear {
		nears++
	}
	// Each way the given names agree is tried; the strongest outcome wins,
	// and of equal ones the one with fewer NEARs.
	best, bestNears := NoMatch, 3
	for _, c := range [...]struct {
		ok    bool
		full  bool // a FULL-like row (FULL, or given NEAR standing in for it)
		near  int
		agree NameAgreement
	}{
		{e.full, true, 0, NameFull},
		{e.initial, false, 0, NameInitial},
		{e.givenNear && !e.surnameNear, true, 1, NameNear},
	} {
		if !c.ok {
			continue
		}
		lv := NoMatch
		switch {
		case c.full && o.Unit != UnitConflict:
			lv = Matched
		case c.full, o.Unit != UnitConflict:
			lv = Possible
		}
		n := nears + c.near
		switch {
		case n >= 2:
			lv = NoMatch
		case n == 1 && lv > Possible:
			lv = Possible
		}
		if o.Name == NameNone || lv > best || lv == best && n < bestNears {
			best, bestNears = lv, n
			o.Name = c.agree
			if e.surnameNear {
				o.Name = NameNear
			}
		}
	}
	o.Level = best
	return o
}

// streetAgreement compares the contact's street with every name of the
// record's street: its Standardadresse street and, with the road register,
// the names the register holds for its road.
func (m *Matcher) streetAgreement(addr Address, rec *Record) StreetAgreement {
	if a := StreetsCompatible(addr.Street, rec.Address.Street); a != StreetNone {
		return a
	}
	var names []string
	if m.Roads != nil && rec.Road.Known() {
		names = m.Roads.RoadNames(rec.Road)
		for _, n := range names {
			if StreetsCompatible(addr.Street, n) != StreetNone {
				return StreetRegister
			}
		}
	}
	near := streetNear(addr.Street, rec.Address.Street)
	for i := 0; i < len(names) && !near; i++ {
		near = streetNear(addr.Street, names[i])
	}
	if !near || m.livesOnOtherRoad(addr, rec.Road) {
		return StreetNone
	}
	return StreetNear
}

// livesOnOtherRoad reports whether the contact's street as written agrees
// (EQUAL, ABBREVIATED or through a register name) with a road other than
// road that has a postal district for the contact's postcode holding the
// contact's house number: the contact then lives on that road.
func (m *Matcher) livesOnOtherRoad(addr Address, road RoadID) bool {
	if m.Roads == nil {
		return false
	}
	n, ok := HouseNumberValue(addr.HouseNumber)
	if !ok {
		return false
	}
	for _, r := range m.Roads.RoadsAt(addr.Postcode, n) {
		if r == road {
			continue
		}
		for _, name := range m.Roads.RoadNames(r) {
			if StreetsCompatible(addr.Street, name) != StreetNone {
				return true
			}
		}
	}
	return false
}

// HouseNumberValue returns the number part of a normalised house number
// ("12A" -> 12).
func HouseNumberValue(h string) (int, bool) {
	n, i := 0, 0
	for ; i < len(h) && h[i] >= '0' && h[i] <= '9'; i++ {
		n = n*10 + int(h[i]-'0')
		if n > 1e6 {
			return 0, false
		}
	}
	return n, i > 0
}

// nameEval is how a contact's name relates to a list name.
type nameEval struct {
	surnameNear bool // no surname word agrees, but one is one edit away
	full        bool // FULL given-name agreement
	initial     bool // INITIAL given-name agreement
	givenNear   bool // a given name one edit from one on the other side
}

// evalName evaluates the name clauses of section 3.4. When neither the
// surname agrees nor is NEAR, nothing else is evaluated.
func (m *Matcher) evalName(contact, list Name) nameEval {
	var e nameEval
	if !nameSurnameAgrees(contact.Surnames, list.Surnames) {
		if !nameSurnameNear(contact.Surnames, list.Surnames) {
			return e
		}
		e.surnameNear = true
	}
	shared, sharedFamily := false, true
	for _, c := range contact.Given {
		for _, l := range list.Given {
			switch {
			case !c.Initial && !l.Initial:
				if c.Word == l.Word {
					if nameHasTwoLetters(c.Word) && !m.familyType(c.Word) {
						e.full = true
					}
					shared = true
					sharedFamily = sharedFamily && m.familyType(c.Word)
				} else if !e.givenNear && OneEdit(c.Word, l.Word) && !m.familyType(c.Word) && !m.familyType(l.Word) {
					e.givenNear = true
				}
			case c.Initial && l.Initial:
				// Either initial, as a given name, starts with the other
				// ("aa" for Å. starts with "a" for A.).
				e.initial = e.initial || strings.HasPrefix(l.Word, c.Word) || strings.HasPrefix(c.Word, l.Word)
			case c.Initial:
				e.initial = e.initial || strings.HasPrefix(l.Word, c.Word)
			default:
				e.initial = e.initial || strings.HasPrefix(c.Word, l.Word)
			}
		}
	}
	if shared && sharedFamily {
		e.initial = true
	}
	return e
}

// NamesMayAgree reports whether the names of a contact and of a list
// record agree in one of the ways that can give more than NoMatch (FULL,
// INITIAL, or a NEAR given name with the surnames equal): Match gives
// NoMatch whenever it is false, whatever the addresses. It costs much less
// than Match's comparison of the streets, which a caller comparing the
// many records of one blocking key can then skip.
func (m *Matcher) NamesMayAgree(contact, list Name) bool {
	e := m.evalName(contact, list)
	return e.full || e.initial || e.givenNear && !e.surnameNear
}

func (m *Matcher) familyType(w string) bool {
	return m.Family != nil && m.Family.FamilyType(w)
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

// NameAgreementOf compares a contact's name with a list name with no
// family-type words (see Matcher.Match for the rules): NameFull,
// NameInitial, NameNear (a given name or the surname one edit away) or
// NameNone.
func NameAgreementOf(contact, list Name) NameAgreement {
	var m Matcher
	e := m.evalName(contact, list)
	switch {
	case e.surnameNear && (e.full || e.initial):
		return NameNear
	case e.surnameNear:
		return NameNone
	case e.full:
		return NameFull
	case e.initial:
		return NameInitial
	case e.givenNear:
		return NameNear
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

func nameSurnameNear(contact, list []string) bool {
	for _, c := range contact {
		for _, l := range list {
			if OneEdit(c, l) {
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
