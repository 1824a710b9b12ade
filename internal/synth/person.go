package synth

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/robinscreen/robinscreen/internal/cprfmt"
)

// Address is a synthetic Danish address as CPR holds it.
type Address struct {
	Street       string // full street name, e.g. "Dronning Louises Vej"
	StreetAbbrev string // CPR's addressing form, e.g. "Dronn. Louises V."; equal to Street when not abbreviated
	HouseNumber  int    // 1..250
	HouseLetter  string // "" or "A".."D"
	Floor        string // "", "st", "kl", "1".."9"
	Door         string // "", "tv", "th", "mf" or "1".."20"
	Postcode     string // "2100"
	Town         string // post district, "København Ø"
	Locality     string // supplementary town name (Bynavn), usually ""
	Kommunekode  string // 4 digits
	Vejkode      string // 4 digits
	OlderForm    bool   // the list writes the Standardadresse in the older form "Vej 12 2 tv"

	pc, st uint16 // table indices
}

// Person is one synthetic listed person, with everything needed to build
// list records and contacts.
type Person struct {
	Surnames []string // raw Danish spelling, e.g. ["Hansen", "Jensen"]
	Given    []string // 1-3 given names, e.g. ["Mette", "Louise"]
	Female   bool

	Street       string
	StreetAbbrev string
	HouseNumber  int
	HouseLetter  string
	Floor        string
	Door         string
	Postcode     string
	Town         string
	Locality     string
	Kommunekode  string
	Vejkode      string
	OlderForm    bool

	// Previous is the most recent previous address when the person also
	// has a previous-address ("*") record, else nil.
	Previous *Address

	pc, st uint16
}

// Current returns the person's current address.
func (p Person) Current() Address {
	return Address{
		Street: p.Street, StreetAbbrev: p.StreetAbbrev, HouseNumber: p.HouseNumber,
		HouseLetter: p.HouseLetter, Floor: p.Floor, Door: p.Door, Postcode: p.Postcode,
		Town: p.Town, Locality: p.Locality, Kommunekode: p.Kommunekode, Vejkode: p.Vejkode,
		OlderForm: p.OlderForm, pc: p.pc, st: p.st,
	}
}

func (p *Person) setCurrent(a Address) {
	p.Street, p.StreetAbbrev, p.HouseNumber = a.Street, a.StreetAbbrev, a.HouseNumber
	p.HouseLetter, p.Floor, p.Door, p.Postcode = a.HouseLetter, a.Floor, a.Door, a.Postcode
	p.Town, p.Locality, p.Kommunekode, p.Vejkode = a.Town, a.Locality, a.Kommunekode, a.Vejkode
	p.OlderForm, p.pc, p.st = a.OlderForm, a.pc, a.st
}

// ListName is the Personnavn field: "Surname Surname,Given Given".
func (p Person) ListName() string {
	return strings.Join(p.Surnames, " ") + "," + strings.Join(p.Given, " ")
}

// Entries returns the person's list records: the current address, then the
// previous address when there is one.
func (p Person) Entries() []cprfmt.RobinsonEntry {
	cur := p.Current()
	es := []cprfmt.RobinsonEntry{cur.entry(p.ListName(), false)}
	if p.Previous != nil {
		es = append(es, p.Previous.entry(p.ListName(), true))
	}
	return es
}

// House is the house number with its letter, "12A".
func (a Address) House() string { return strconv.Itoa(a.HouseNumber) + a.HouseLetter }

// Husnummer is the structured field: zero-padded to 3 digits, "086B".
func (a Address) Husnummer() string {
	s := strconv.Itoa(a.HouseNumber)
	for len(s) < 3 {
		s = "0" + s
	}
	return s + a.HouseLetter
}

// Standard is the Standardadresse as CPR writes it: the abbreviated street,
// then "12A, 2. tv" (newer form) or "12A 2 tv" (older form, OlderForm).
func (a Address) Standard() string {
	var b strings.Builder
	b.WriteString(a.StreetAbbrev)
	b.WriteByte(' ')
	b.WriteString(a.House())
	if a.Floor == "" && a.Door == "" {
		return b.String()
	}
	if a.OlderForm {
		if a.Floor != "" {
			b.WriteString(" " + a.Floor)
		}
		if a.Door != "" {
			b.WriteString(" " + a.Door)
		}
		return b.String()
	}
	b.WriteString(",")
	if a.Floor != "" {
		b.WriteString(" " + a.Floor + ".")
	}
	if a.Door != "" {
		b.WriteString(" " + a.Door)
	}
	return b.String()
}

// PostDist is the "Postnr. og postdistrikt" field, "2100 København Ø".
func (a Address) PostDist() string { return a.Postcode + " " + a.Town }

func (a Address) entry(name string, previous bool) cprfmt.RobinsonEntry {
	return cprfmt.RobinsonEntry{
		Name: name, Address: a.Standard(), Town: a.Locality, PostDist: a.PostDist(),
		Previous: previous, Kommunekode: a.Kommunekode, Vejkode: a.Vejkode,
		HouseNumber: a.Husnummer(), Floor: a.Floor, Door: a.Door,
	}
}

// rng is a reseedable PCG-backed source.
type rng struct {
	pcg rand.PCG
	r   *rand.Rand
}

func newRNG() *rng {
	x := &rng{}
	x.r = rand.New(&x.pcg)
	return x
}

func (x *rng) seed(a, b uint64) { x.pcg.Seed(a, b) }
func (x *rng) n(k int) int      { return x.r.IntN(k) }

// pct reports true with probability p percent.
func (x *rng) pct(p int) bool { return x.r.IntN(100) < p }

// mix64 is the splitmix64 finaliser.
func mix64(z uint64) uint64 {
	z += 0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// nameParts is a drawn name as table indices (given -1 = none, s2 -1 = none).
type nameParts struct {
	s1, s2 int16
	given  [3]int16
	female bool
}

func (n *nameParts) ng() int {
	k := 0
	for k < 3 && n.given[k] >= 0 {
		k++
	}
	return k
}

func (n *nameParts) listLen() int {
	l := utf8.RuneCountInString(surnames[n.s1]) + 1
	if n.s2 >= 0 {
		l += 1 + utf8.RuneCountInString(surnames[n.s2])
	}
	for k := 0; k < n.ng(); k++ {
		if k > 0 {
			l++
		}
		l += utf8.RuneCountInString(givenNames[n.given[k]])
	}
	return l
}

// key packs the collation ranks so that comparing keys orders list names
// alphabetically (surname words, then given names; a shorter name first).
func (n *nameParts) key() uint64 {
	k := uint64(surnameRank[n.s1]) << 39
	if n.s2 >= 0 {
		k |= uint64(surnameRank[n.s2]+1) << 30
	}
	k |= uint64(givenRank[n.given[0]]) << 20
	if n.given[1] >= 0 {
		k |= uint64(givenRank[n.given[1]]+1) << 10
	}
	if n.given[2] >= 0 {
		k |= uint64(givenRank[n.given[2]] + 1)
	}
	return k
}

func (n *nameParts) surnames() []string {
	if n.s2 >= 0 {
		return []string{surnames[n.s1], surnames[n.s2]}
	}
	return []string{surnames[n.s1]}
}

func (n *nameParts) givens() []string {
	g := make([]string, n.ng())
	for k := range g {
		g[k] = givenNames[n.given[k]]
	}
	return g
}

// drawName draws a name that fits the 34-character Personnavn field.
func drawName(r *rng) nameParts {
	n := nameParts{s2: -1, given: [3]int16{-1, -1, -1}}
	n.female = r.n(2) == 0
	ng := 1
	switch u := r.n(100); {
	case u >= 85:
		ng = 3
	case u >= 35:
		ng = 2
	}
	idx, w := maleIdx, maleW
	if n.female {
		idx, w = femaleIdx, femaleW
	}
	for k := 0; k < ng; k++ {
		for {
			g := int16(idx[w.draw(r)])
			if k == 0 || (g != n.given[0] && (k < 2 || g != n.given[1])) {
				n.given[k] = g
				break
			}
		}
	}
	n.s1 = int16(surnameW.draw(r))
	if r.pct(10) {
		for {
			s := int16(surnameW.draw(r))
			if s != n.s1 {
				n.s2 = s
				break
			}
		}
	}
	for n.listLen() > 34 {
		if k := n.ng(); k > 1 {
			n.given[k-1] = -1
		} else {
			n.s2 = -1
		}
	}
	return n
}

var (
	floorNames  = []string{"st", "kl", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	floorWeight = newWeighted([]int{18, 1, 22, 18, 14, 10, 6, 4, 3, 2, 2})
	letterW     = newWeighted([]int{50, 30, 15, 5})
)

// drawAddress draws an address; pc < 0 draws the postcode too.
func drawAddress(r *rng, pc int) Address {
	if pc < 0 {
		pc = postcodeW.draw(r)
	}
	p := &postcodes[pc]
	k := r.n(len(p.streets))
	return fillAddress(r, pc, p.streets[k], p.vejkodes[k])
}

// fillAddress draws the rest of an address on street st (Vejkode vejkode)
// of postcode pc.
func fillAddress(r *rng, pc int, st uint16, vejkode string) Address {
	p := &postcodes[pc]
	s := &streets[st]
	u := r.r.Float64()
	a := Address{
		Street: s.full, StreetAbbrev: s.abbrev,
		HouseNumber: 1 + int(250*u*u),
		Postcode:    p.code, Town: p.town, Kommunekode: p.kommune,
		Vejkode: vejkode,
		pc:      uint16(pc), st: st,
	}
	if r.pct(8) {
		a.HouseLetter = string(rune('A' + letterW.draw(r)))
	}
	apt := 25
	switch {
	case p.city:
		apt = 75
	case p.weight >= 4:
		apt = 50
	}
	if r.pct(apt) {
		a.Floor = floorNames[floorWeight.draw(r)]
		switch u := r.n(100); {
		case u < 42:
			a.Door = "tv"
		case u < 84:
			a.Door = "th"
		case u < 90:
			a.Door = "mf"
		default:
			a.Door = strconv.Itoa(1 + r.n(20))
		}
	}
	if !p.city && p.weight == 1 && r.pct(15) {
		a.Locality = localities[r.n(len(localities))]
	}
	a.OlderForm = r.pct(20)
	return a
}

// vejkodes assigns every street of every postcode its Vejkode: a street
// has one code in its kommune (shared by the kommune's postcodes), and no
// two streets of a kommune share one (the road register ties a code to
// one road). The first choice is a hash of kommune and street; a code
// already taken moves on to the next free one, in table order, so the
// assignment is deterministic.
func vejkodes() map[string]map[uint64]bool {
	type road struct {
		kommune string
		st      uint16
	}
	codes := map[road]string{}
	used := map[string]map[uint64]bool{}
	for pi := range postcodes {
		p := &postcodes[pi]
		p.vejkodes = make([]string, len(p.streets))
		for i, st := range p.streets {
			key := road{p.kommune, st}
			c, ok := codes[key]
			if !ok {
				k, _ := strconv.Atoi(p.kommune)
				v := 1 + mix64(uint64(k)<<16|uint64(st))%9899
				if used[p.kommune] == nil {
					used[p.kommune] = map[uint64]bool{}
				}
				for used[p.kommune][v] {
					v = v%9899 + 1
				}
				used[p.kommune][v] = true
				s := strconv.FormatUint(v, 10)
				c = strings.Repeat("0", 4-len(s)) + s
				codes[key] = c
			}
			p.vejkodes[i] = c
		}
	}
	return used
}

// nextVejkode returns the first free Vejkode of kommune at or after the
// hash of (kommune, st), and marks it used.
func nextVejkode(used map[string]map[uint64]bool, kommune string, st uint16) string {
	k, _ := strconv.Atoi(kommune)
	v := 1 + mix64(uint64(k)<<16|uint64(st))%9899
	if used[kommune] == nil {
		used[kommune] = map[uint64]bool{}
	}
	for used[kommune][v] {
		v = v%9899 + 1
	}
	used[kommune][v] = true
	s := strconv.FormatUint(v, 10)
	return strings.Repeat("0", 4-len(s)) + s
}
