package synth

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Contact is one synthetic CRM contact.
type Contact struct {
	Ref        string // "K00000001"
	Name       string // "Søren Hansen", "Hansen, Søren", ...
	Address    string // street, house, floor/door; sometimes with postcode and town
	PostalCode string // "2100" or blank when the postcode is only in Address
	CPR        string // a synthetic personal number for some contacts, else blank
	// Listed is the truth: this contact is a listed person (current or
	// previous address) written some other way. A contact with Listed false
	// cannot match any list record under screening-rules.md section 3: no
	// listed person at its address shares a surname word with it.
	Listed bool
	// Variant names the writing variants applied, joined by "+" (for
	// example "translit+no-commas+postcode-in-address"); "canonical" when
	// none. For listed contacts it also names the kind ("listed-current",
	// "listed-previous"), for the others the kind of negative ("fresh",
	// "neighbour-house", "neighbour-surname"). The tag "!street" marks a
	// listed contact whose street is not compatible with the list's
	// abbreviated form under the section 3 street rule (e.g. "Gammel
	// Kongevej" against "Gl. Kongevej", or "H C Andersens Boulevard"
	// against "H.C. Andersens Boul."): a rule-following matcher misses it.
	Variant string
}

// personBits is the width of the person field in the address index; the
// address key takes the upper 30 bits.
const personBits = 34

// addrKey identifies an address up to floor and door (what a Robinson
// match requires to be equal: postcode, street, house number).
func (a Address) addrKey() uint64 {
	l := uint64(0)
	if a.HouseLetter != "" {
		l = uint64(a.HouseLetter[0]-'A') + 1
	}
	return uint64(a.pc)<<20 | uint64(a.st)<<11 | uint64(a.HouseNumber)<<3 | l
}

// addrIndex returns the sorted (address key, person) index over current
// and previous addresses, built once.
func (g *Generator) addrIndex() []uint64 {
	g.addrOnce.Do(func() {
		idx := make([]uint64, g.persons+g.prev)
		// Previous records go after the persons: slot persons+k for the
		// k-th person with a previous address, which is floor(i*prev/persons)
		// for person i (see hasPrevious).
		parallel(g.persons, func(lo, hi int) {
			r := newRNG()
			for i := lo; i < hi; i++ {
				p := g.person(r, i)
				cur := p.Current()
				idx[i] = cur.addrKey()<<personBits | uint64(i)
				if p.Previous != nil {
					k := int(int64(i) * int64(g.prev) / int64(g.persons))
					idx[g.persons+k] = p.Previous.addrKey()<<personBits | uint64(i)
				}
			}
		})
		slices.Sort(idx)
		g.addrIdx = idx
	})
	return g.addrIdx
}

// conflicts reports whether a listed person (other than skip) lives or
// lived at a's house and shares a surname word with surnames.
func (g *Generator) conflicts(r *rng, a *Address, surnames []string, skip int) bool {
	idx := g.addrIndex()
	k := a.addrKey()
	i, _ := slices.BinarySearch(idx, k<<personBits)
	for ; i < len(idx) && idx[i]>>personBits == k; i++ {
		j := int(idx[i] & (1<<personBits - 1))
		if j == skip {
			continue
		}
		g.seedPerson(r, j)
		n := drawName(r)
		for _, s := range n.surnames() {
			for _, t := range surnames {
				if foldName(s) == foldName(t) {
					return true
				}
			}
		}
	}
	return false
}

// Contacts calls fn for n synthetic contacts (deterministic in the Config,
// n, listedShare and seed). About listedShare of them are listed persons
// (current or previous address) written the messy ways contact lists use;
// the rest are not listed: fresh people, a listed person's relative at
// another house number of the same street, or a neighbour with another
// surname at the same house. All contacts, listed or not, get random
// writing variants. An error from fn stops the generation and is returned.
func (g *Generator) Contacts(n int, listedShare float64, seed uint64, fn func(Contact) error) error {
	if listedShare < 0 || listedShare > 1 {
		return errors.New("synth: listedShare outside [0,1]")
	}
	r := newRNG()   // the contact stream
	aux := newRNG() // recomputing listed persons
	for j := 0; j < n; j++ {
		r.seed(mix64(seed^0xC0417AC7), mix64(uint64(j)^mix64(seed+g.cfg.Seed)))
		c := g.contact(r, aux, j, listedShare)
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

func (g *Generator) contact(r, aux *rng, j int, listedShare float64) Contact {
	c := Contact{Ref: "K" + pad0(j+1, 8)}
	var (
		surn, given []string
		addr        Address
		listAbbrev  string // the list's street when listed
		tags        []string
	)
	listed := g.persons > 0 && r.r.Float64() < listedShare
	if listed {
		i := r.n(g.persons)
		p := g.person(aux, i)
		surn, given = p.Surnames, p.Given
		addr = p.Current()
		tags = append(tags, "listed-current")
		if p.Previous != nil && r.pct(30) {
			addr = *p.Previous
			tags[0] = "listed-previous"
		}
		listAbbrev = addr.StreetAbbrev
		c.Listed = true
	} else {
		surn, given, addr, tags = g.negative(r, aux)
	}

	name, nt := writeName(r, surn, given)
	tags = append(tags, nt...)
	line, pcCol, at := writeAddress(r, &addr)
	tags = append(tags, at...)
	if r.pct(15) {
		name, line = translit(name), translit(line)
		tags = append(tags, "translit")
	}
	switch u := r.n(100); {
	case u < 8:
		name, line = strings.ToUpper(name), strings.ToUpper(line)
		tags = append(tags, "upper")
	case u < 11:
		name, line = strings.ToLower(name), strings.ToLower(line)
		tags = append(tags, "lower")
	}
	if r.pct(8) {
		if k := strings.IndexByte(line, ' '); k >= 0 {
			line = line[:k] + "  " + line[k+1:]
		}
		name = strings.Replace(name, " ", "  ", 1)
		tags = append(tags, "double-space")
	}
	if listed && !streetCompatible(streetOf(line, &addr), listAbbrev) {
		tags = append(tags, "!street")
	}
	c.Name, c.Address, c.PostalCode = name, line, pcCol
	if r.pct(20) {
		c.CPR = randomCPR(r)
	}
	if len(tags) == 1 {
		tags = append(tags, "canonical")
	}
	c.Variant = strings.Join(tags, "+")
	return c
}

// negative draws a contact that matches no list record.
func (g *Generator) negative(r, aux *rng) (surn, given []string, addr Address, tags []string) {
	kind := r.n(4)
	if g.persons == 0 {
		kind = 0
	}
	for try := 0; ; try++ {
		switch {
		case kind == 3 && try < 8: // relative at another house on the same street
			i := r.n(g.persons)
			p := g.person(aux, i)
			addr = p.Current()
			surn, given = p.Surnames, p.Given
			if r.pct(50) {
				nn := drawName(r)
				given = nn.givens()
			}
			h := addr.HouseNumber
			for addr.HouseNumber == h {
				addr.HouseNumber = 1 + r.n(max(h+10, 30))
			}
			addr.HouseLetter = ""
			tags = []string{"neighbour-house"}
			if !g.conflicts(aux, &addr, surn, -1) {
				return
			}
		case kind == 2 && try < 8: // neighbour with another surname, same house
			i := r.n(g.persons)
			p := g.person(aux, i)
			addr = p.Current()
			nn := drawName(r)
			surn, given = nn.surnames(), nn.givens()
			if r.pct(30) {
				given = p.Given
			}
			tags = []string{"neighbour-surname"}
			if !g.conflicts(aux, &addr, surn, -1) {
				return
			}
		default: // a fresh person
			nn := drawName(r)
			surn, given = nn.surnames(), nn.givens()
			addr = drawAddress(r, -1)
			tags = []string{"fresh"}
			if g.persons == 0 || !g.conflicts(aux, &addr, surn, -1) {
				return
			}
		}
	}
}

// writeName writes a person's name the ways contact lists do.
func writeName(r *rng, surn, given []string) (string, []string) {
	var tags []string
	g := given
	if len(g) >= 2 {
		switch u := r.n(100); {
		case u < 35:
			g = g[:1]
			tags = append(tags, "first-name")
		case u < 45:
			g = []string{g[1+r.n(len(g)-1)]}
			tags = append(tags, "middle-name")
		}
	}
	s := strings.Join(surn, " ")
	if len(surn) == 2 {
		switch u := r.n(100); {
		case u < 40:
			s = surn[r.n(2)]
			tags = append(tags, "one-surname")
		case u < 55:
			s = surn[0] + "-" + surn[1]
			tags = append(tags, "hyphen-surname")
		}
	}
	if r.pct(10) {
		return s + ", " + strings.Join(g, " "), append(tags, "surname-first")
	}
	return strings.Join(g, " ") + " " + s, tags
}

var (
	doorWords = map[string][2]string{"tv": {"t.v.", "til venstre"}, "th": {"t.h.", "til højre"}, "mf": {"m.f.", "midt for"}}
)

// writeAddress writes an address the ways contact lists do; it returns the
// address column, the postal_code column and the variant tags.
func writeAddress(r *rng, a *Address) (line, pcCol string, tags []string) {
	st := a.Street
	if a.StreetAbbrev != a.Street {
		p := 12
		if !abbrevIsPrefix(a.StreetAbbrev, a.Street) {
			p = 50 // "Gl.", "Skt." are written by people too
		}
		if r.pct(p) {
			st = a.StreetAbbrev
			tags = append(tags, "list-abbrev")
		}
	}
	if strings.Contains(st, "H.C.") && r.pct(40) {
		st = strings.ReplaceAll(st, "H.C.", "H C")
		tags = append(tags, "hc")
	}
	if strings.Contains(st, "llé") && r.pct(50) {
		st = strings.ReplaceAll(st, "llé", "lle")
		tags = append(tags, "alle")
	}
	house := a.House()
	if a.HouseLetter != "" && r.pct(50) {
		house = strconv.Itoa(a.HouseNumber) + " " + strings.ToLower(a.HouseLetter)
		tags = append(tags, "house-space")
	}
	comma := ", "
	if r.pct(15) {
		comma = " "
		tags = append(tags, "no-commas")
	}
	line = st + " " + house
	if (a.Floor != "" || a.Door != "") && r.pct(5) {
		tags = append(tags, "no-unit")
	} else if a.Floor != "" || a.Door != "" {
		unit, ut := writeUnit(r, a.Floor, a.Door)
		tags = append(tags, ut...)
		line += comma + unit
	}
	switch u := r.n(100); {
	case u < 55:
		pcCol = a.Postcode
	case u < 85:
		line += comma + a.Postcode + " " + a.Town
		tags = append(tags, "postcode-in-address")
	default:
		pcCol = a.Postcode
		line += comma + a.Postcode + " " + a.Town
		tags = append(tags, "postcode-both")
	}
	return line, pcCol, tags
}

func writeUnit(r *rng, floor, door string) (string, []string) {
	fl, dr := floor, door
	var tags []string
	if floor != "" {
		fl = floor + "."
	}
	w, isWord := doorWords[door]
	switch u := r.n(100); {
	case u < 45: // official: "2. tv", "st. tv"
	case u < 55:
		fl = floor
		tags = append(tags, "no-dots")
	case u < 70 && isWord:
		dr = w[0]
		tags = append(tags, "dotted-door")
	case u < 80 && isWord:
		dr = w[1]
		tags = append(tags, "door-words")
	case u < 90 && floor != "" && floor != "st" && floor != "kl":
		fl = floor + ". sal"
		tags = append(tags, "sal")
		if isWord {
			dr = w[0]
		}
	}
	switch floor {
	case "st":
		if r.pct(35) {
			fl = "stuen"
			tags = append(tags, "stuen")
		}
	case "kl":
		if r.pct(50) {
			fl = "kælder"
			tags = append(tags, "kaelder")
		}
	}
	return strings.TrimSpace(fl + " " + dr), tags
}

// streetOf recovers the street part of a written address line (before the
// house number) for the compatibility check.
func streetOf(line string, a *Address) string {
	n := strconv.Itoa(a.HouseNumber)
	f := strings.Fields(line)
	for k, w := range f {
		if k > 0 && strings.HasPrefix(w, n) {
			return strings.Join(f[:k], " ")
		}
	}
	return line
}

// foldName is the comparison form of screening-rules.md section 3 for the
// generator's own checks: lower case, æ/ø/å as ae/oe/aa, accents dropped,
// hyphens as blanks, blanks collapsed.
func foldName(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		switch r {
		case 'æ', 'ä':
			b.WriteString("ae")
		case 'ø', 'ö':
			b.WriteString("oe")
		case 'å':
			b.WriteString("aa")
		case 'é', 'è', 'ê':
			b.WriteByte('e')
		case 'ü':
			b.WriteByte('u')
		case '-', ' ', '\t':
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
			continue
		default:
			b.WriteRune(r)
		}
		space = false
	}
	return strings.TrimRight(b.String(), " ")
}

// streetCompatible implements the street rule of screening-rules.md
// section 3 on folded text.
func streetCompatible(a, b string) bool {
	a, b = foldName(a), foldName(b)
	if a == b {
		return true
	}
	compact := func(s string) string {
		return strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				return r
			}
			return -1
		}, s)
	}
	if ca := compact(a); ca != "" && ca == compact(b) {
		return true
	}
	wa, wb := strings.Fields(a), strings.Fields(b)
	if len(wa) != len(wb) {
		return false
	}
	for k := range wa {
		if !wordsAgree(wa[k], wb[k]) {
			return false
		}
	}
	return true
}

func wordsAgree(x, y string) bool {
	if x == y {
		return true
	}
	sx, ax := strings.CutSuffix(x, ".")
	sy, ay := strings.CutSuffix(y, ".")
	if sx == "" || sy == "" {
		return false
	}
	return ax && strings.HasPrefix(sy, sx) || ay && strings.HasPrefix(sx, sy)
}

// abbrevIsPrefix reports whether the abbreviated street is compatible with
// the full one under the section 3 rule ("Dronn." yes, "Gl." no).
func abbrevIsPrefix(abbrev, full string) bool { return streetCompatible(abbrev, full) }

var translitRepl = strings.NewReplacer("æ", "ae", "ø", "oe", "å", "aa", "Æ", "Ae", "Ø", "Oe", "Å", "Aa")

func translit(s string) string { return translitRepl.Replace(s) }

func pad0(n, w int) string {
	s := strconv.Itoa(n)
	if len(s) < w {
		s = strings.Repeat("0", w-len(s)) + s
	}
	return s
}

// ContactsCSVHeader is the header line of WriteContactsCSV.
var ContactsCSVHeader = []string{"ref", "name", "address", "postal_code", "cpr", "expected_listed"}

// WriteContactsCSV writes n contacts (see Contacts) as semicolon-separated
// UTF-8 CSV with the header ref;name;address;postal_code;cpr;expected_listed
// (expected_listed is "true" or "false").
func (g *Generator) WriteContactsCSV(w io.Writer, n int, listedShare float64, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	cw := csv.NewWriter(bw)
	cw.Comma = ';'
	if err := cw.Write(ContactsCSVHeader); err != nil {
		return err
	}
	rec := make([]string, 6)
	err := g.Contacts(n, listedShare, seed, func(c Contact) error {
		rec[0], rec[1], rec[2], rec[3], rec[4] = c.Ref, c.Name, c.Address, c.PostalCode, c.CPR
		rec[5] = strconv.FormatBool(c.Listed)
		return cw.Write(rec)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}
