package synth

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MessyContact is a contact of MessyContacts: a Contact (Listed and
// Variant are the truth and the writing variants, as for Contacts) plus
// the outcome screening-rules.md section 3 prescribes for it.
type MessyContact struct {
	Contact
	// Expect is the outcome the rules prescribe against the whole list
	// (and the road register WriteStreets writes for the same Config),
	// derived independently of package robinson.
	Expect Expect
}

// Class is "listed-block", "listed-review", "listed-allow",
// "unlisted-allow", "unlisted-review" or "unlisted-block".
func (c MessyContact) Class() string {
	k := "unlisted-"
	if c.Listed {
		k = "listed-"
	}
	return k + strings.ToLower(c.Expect.String())
}

// written is a contact's parts as the generator writes them.
type written struct {
	sur, given []string // words as written (surname words joined later)
	hyphen     bool     // surnames joined by a hyphen
	comma      bool     // "Surname, Given" form
	street     string
	num        int
	letter     string
	floor      string // canonical floor/door the unit stands for ("" = not written)
	door       string
	a          *Address
}

// MessyContacts calls fn for n contacts of a realistic messy CRM list,
// deterministic in the Config (use Config.Messy), n and seed: every second
// contact is a listed person (current or previous address) written the
// ways section 3 covers — official abbreviated or expanded street (every
// row of the abbreviation table, with or without dots), a dot followed by
// a letter, the road register's full or earlier name, middle names only,
// initials, "Surname, Given", hyphenated surnames, floor/door writings,
// upper case, ae/oe/aa — and about one in four with one perturbation that
// leaves only REVIEW (a typo in a street word, surname or given name, a
// dropped or added definite ending, an initial, a floor/door conflict).
// The others are negatives: fresh people, neighbours with another surname,
// "Hansen"/"Hanssen" neighbours, relatives at the same address sharing only
// a family-type middle name, the same name at the same house number of
// another street of the postcode, the same name on "Strandvej" beside a
// listed person on "Strandvejen" (a different road), relatives at another
// house. Expect is derived from the rule text (expect.go).
func (g *Generator) MessyContacts(n int, seed uint64, fn func(MessyContact) error) error {
	if g.persons == 0 {
		return errors.New("synth: MessyContacts needs a list")
	}
	x := g.messyIdx()
	r, aux := newRNG(), newRNG()
	for j := 0; j < n; j++ {
		r.seed(mix64(seed^0x3E55C0A7), mix64(uint64(j)^mix64(seed+g.cfg.Seed+1)))
		var c MessyContact
		if j%2 == 0 {
			c = g.messyListed(r, aux, x)
		} else {
			for try := 0; ; try++ {
				c = g.messyNegative(r, aux, x)
				if c.Expect != ExpectBlock || try == 8 {
					break
				}
			}
		}
		c.Ref = "M" + pad0(j+1, 8)
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

func (g *Generator) messyListed(r, aux *rng, x *messyIndex) MessyContact {
	i := r.n(g.persons)
	p := g.person(aux, i)
	a := p.Current()
	tags := []string{"listed-current"}
	if p.Previous != nil && r.pct(30) {
		a = *p.Previous
		tags[0] = "listed-previous"
	}
	w := written{sur: p.Surnames, given: p.Given, num: a.HouseNumber, letter: a.HouseLetter, floor: a.Floor, door: a.Door, a: &a}
	tags = append(tags, w.writeName(r)...)
	tags = append(tags, w.writeStreet(r, &a)...)
	if (w.floor != "" || w.door != "") && r.pct(5) {
		w.floor, w.door = "", ""
		tags = append(tags, "no-unit")
	}
	if r.pct(25) {
		// One perturbation that the rules still answer with REVIEW; one
		// that leaves the person unrecoverable by rule (e.g. a dropped
		// definite ending where the register knows "Strandvej" as another
		// road, or a typo next to an abbreviation) is tried again.
		for try := 0; try < 4; try++ {
			w2 := w
			pt := w2.perturb(r)
			if len(pt) == 0 {
				continue
			}
			if c := g.finish(r, x, w2, true, append(tags[:len(tags):len(tags)], pt...)); c.Expect != ExpectAllow {
				return c
			}
		}
	}
	return g.finish(r, x, w, true, tags)
}

// perturb applies one change that the rules answer with at most REVIEW.
func (w *written) perturb(r *rng) []string {
	for try := 0; try < 6; try++ {
		switch r.n(6) {
		case 0: // typo in a street word
			f := strings.Fields(w.street)
			k := r.n(len(f))
			if t, ok := typo(r, f[k]); ok {
				f[k] = t
				w.street = strings.Join(f, " ")
				return []string{"near-street-typo"}
			}
		case 1: // definite ending dropped or added
			f := strings.Fields(w.street)
			l := f[len(f)-1]
			if strings.HasSuffix(l, ".") || !isLetters(l) {
				continue
			}
			switch {
			case strings.HasSuffix(l, "en") || strings.HasSuffix(l, "et"):
				l = l[:len(l)-2]
			case strings.HasSuffix(strings.ToLower(l), "vej") || strings.HasSuffix(l, "gade") || strings.HasSuffix(l, "de"):
				if strings.HasSuffix(l, "e") {
					l += "n"
				} else {
					l += "en"
				}
			default:
				continue
			}
			f[len(f)-1] = l
			w.street = strings.Join(f, " ")
			return []string{"near-street-definite"}
		case 2: // typo in a surname word
			k := r.n(len(w.sur))
			if t, ok := typo(r, w.sur[k]); ok {
				w.sur = append([]string(nil), w.sur...)
				w.sur[k] = t
				return []string{"near-surname-typo"}
			}
		case 3: // typo in a given name (the first written)
			if t, ok := typo(r, w.given[0]); ok && len(w.given) == 1 {
				w.given = []string{t}
				return []string{"near-given-typo"}
			}
		case 4: // initials only
			var g []string
			for _, n := range w.given {
				g = append(g, string([]rune(n)[0])+".")
			}
			if r.pct(50) {
				g = g[:1]
			}
			w.given = g
			return []string{"initials"}
		case 5: // floor/door conflict
			if w.door == "tv" || w.door == "th" {
				w.door = map[string]string{"tv": "th", "th": "tv"}[w.door]
				return []string{"unit-conflict"}
			}
			if w.floor != "" {
				w.floor = map[string]string{"st": "1", "kl": "st"}[w.floor]
				if w.floor == "" {
					w.floor = "st"
				}
				return []string{"unit-conflict"}
			}
		}
	}
	return nil
}

func isLetters(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return s != ""
}

// typo applies one edit (insert, delete, replace, swap) anywhere, the
// first letter included, to an ASCII word of at least 6 letters (so the
// shorter side keeps at least 5).
func typo(r *rng, s string) (string, bool) {
	if len(s) < 6 || !isLetters(s) || utf8.RuneCountInString(s) != len(s) {
		return "", false
	}
	lower := "abcdefghijklmnoprstuvy"
	b := []byte(s)
	k := r.n(len(b))
	c := lower[r.n(len(lower))]
	if k == 0 && unicode.IsUpper(rune(b[0])) {
		c = byte(unicode.ToUpper(rune(c)))
	}
	var out []byte
	switch r.n(4) {
	case 0:
		out = append(append(append([]byte{}, b[:k]...), c), b[k:]...)
	case 1:
		out = append(append([]byte{}, b[:k]...), b[k+1:]...)
	case 2:
		if strings.EqualFold(string(c), string(b[k])) {
			c = 'q'
		}
		out = append([]byte{}, b...)
		out[k] = c
	default:
		if k == len(b)-1 {
			k--
		}
		if strings.EqualFold(string(b[k]), string(b[k+1])) {
			return "", false
		}
		out = append([]byte{}, b...)
		out[k], out[k+1] = b[k+1], b[k]
		if k == 0 { // keep the capital at the front
			out[0], out[1] = byte(unicode.ToUpper(rune(out[0]))), byte(unicode.ToLower(rune(out[1])))
		}
	}
	if strings.EqualFold(string(out), s) {
		return "", false
	}
	return string(out), true
}

// writeName picks which names are written and in what form.
func (w *written) writeName(r *rng) []string {
	var tags []string
	if len(w.given) >= 2 {
		switch u := r.n(100); {
		case u < 35:
			w.given = w.given[:1]
			tags = append(tags, "first-name")
		case u < 50:
			w.given = []string{w.given[1+r.n(len(w.given)-1)]}
			tags = append(tags, "middle-name")
		}
	}
	if len(w.sur) == 2 {
		switch u := r.n(100); {
		case u < 35:
			w.sur = []string{w.sur[r.n(2)]}
			tags = append(tags, "one-surname")
		case u < 60:
			w.hyphen = true
			tags = append(tags, "hyphen-surname")
		}
	}
	if r.pct(15) {
		w.comma = true
		tags = append(tags, "surname-first")
	}
	return tags
}

// writeStreet picks the street as written for a listed person's address.
func (w *written) writeStreet(r *rng, a *Address) []string {
	switch u := r.n(100); {
	case u < 30:
		w.street = a.Street
		return []string{"street-full"}
	case u < 45:
		w.street = a.StreetAbbrev
		return []string{"street-list-form"}
	case u < 80:
		f := strings.Fields(a.Street)
		done := false
		for k, word := range f {
			if ab := abbrevsOf(word); len(ab) > 0 && r.pct(70) {
				f[k] = ab[r.n(len(ab))]
				if r.pct(50) {
					f[k] += "."
				}
				done = true
			} else if k < len(f)-1 && utf8.RuneCountInString(word) >= 7 && isLetters(word) && r.pct(20) {
				f[k] = string([]rune(word)[:4]) + "."
				done = true
			}
		}
		w.street = strings.Join(f, " ")
		if !done {
			return []string{"street-full"}
		}
		return []string{"street-table-abbrev"}
	case u < 88:
		k, _ := strconv.Atoi(a.Kommunekode)
		if e := earlierOf(roadHash(k, a.st)); e != nil {
			w.street = e.full
			if r.pct(30) {
				w.street = e.abbrev
			}
			return []string{"street-earlier-name"}
		}
		w.street = a.Street
		return []string{"street-full"}
	default:
		// A dot directly followed by a letter: "B.Thriges", "Skt.Hans".
		s := a.StreetAbbrev
		if !strings.Contains(s, ". ") {
			s = a.Street
		}
		w.street = strings.Replace(s, ". ", ".", 1)
		if w.street == s {
			return []string{"street-list-form"}
		}
		return []string{"street-dot-letter"}
	}
}

// abbrevsOf returns the table's written forms for a full street word.
func abbrevsOf(word string) []string {
	n := norm31(word)
	var out []string
	for short, longs := range abbrevTable {
		for _, l := range longs {
			if l == n {
				s := strings.ToUpper(short[:1]) + short[1:]
				if short == "oe" {
					s = "Ø"
				}
				out = append(out, s)
			}
		}
	}
	// Map order is random: sort for determinism.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func (g *Generator) messyNegative(r, aux *rng, x *messyIndex) MessyContact {
	var w written
	var tags []string
	var a Address
	kind := r.n(8)
	pickListed := func() Person {
		p := g.person(aux, r.n(g.persons))
		a = p.Current()
		return p
	}
	switch kind {
	case 0, 1: // fresh
		nn := drawName(r)
		w.sur, w.given = nn.surnames(), nn.givens()
		a = drawAddress(r, -1)
		tags = []string{"fresh"}
	case 2: // neighbour with another surname, same house
		p := pickListed()
		nn := drawName(r)
		w.sur, w.given = nn.surnames(), nn.givens()
		if r.pct(40) {
			w.given = p.Given[:1]
		}
		tags = []string{"neighbour-surname"}
	case 3: // Hansen/Hanssen: a surname one edit away, same house
		p := pickListed()
		nn := drawName(r)
		w.sur, w.given = nn.surnames(), nn.givens()
		if t, ok := typo(r, p.Surnames[0]); ok {
			w.sur = []string{t}
			if r.pct(50) {
				w.given = p.Given[:1]
			}
			tags = []string{"neighbour-near-surname"}
		} else {
			tags = []string{"neighbour-surname"}
		}
	case 4: // relative sharing only a family-type middle name
		if len(x.people) == 0 {
			return g.messyNegative(r, aux, x)
		}
		p := g.person(aux, x.people[r.n(len(x.people))])
		a = p.Current()
		nn := drawName(r)
		w.sur = p.Surnames
		w.given = []string{nn.givens()[0], p.Given[len(p.Given)-1]}
		tags = []string{"relative-family-middle"}
	case 5: // same name, same house number, another street of the postcode
		p := pickListed()
		w.sur, w.given = p.Surnames, p.Given
		pc := &postcodes[a.pc]
		k := r.n(len(pc.streets))
		if pc.streets[k] == a.st {
			k = (k + 1) % len(pc.streets)
		}
		b := a
		b.st, b.Street, b.StreetAbbrev = pc.streets[k], streets[pc.streets[k]].full, streets[pc.streets[k]].abbrev
		a = b
		tags = []string{"same-name-other-street"}
	case 6: // the same name on the twin road (Strandvej / Strandvejen)
		if len(x.twins) == 0 {
			return g.messyNegative(r, aux, x)
		}
		p := g.person(aux, x.twins[r.n(len(x.twins))])
		a = p.Current()
		w.sur, w.given = p.Surnames, p.Given
		if a.Street == twinStreet {
			a.Street, a.StreetAbbrev = twinOf, twinOf
		} else {
			a.Street, a.StreetAbbrev = twinStreet, twinStreet
		}
		tags = []string{"twin-road"}
	default: // relative at another house of the same street
		p := pickListed()
		w.sur, w.given = p.Surnames, p.Given
		if r.pct(50) {
			nn := drawName(r)
			w.given = nn.givens()
		}
		h := a.HouseNumber
		for a.HouseNumber == h {
			a.HouseNumber = 1 + r.n(max(h+10, 30))
		}
		a.HouseLetter = ""
		tags = []string{"neighbour-house"}
	}
	w.num, w.letter, w.floor, w.door, w.a = a.HouseNumber, a.HouseLetter, a.Floor, a.Door, &a
	if kind >= 2 && kind <= 4 && w.floor != "" && r.pct(50) {
		// Another flat in the same house.
		w.floor, w.door = floorNames[r.n(len(floorNames))], []string{"tv", "th", "mf"}[r.n(3)]
	}
	tags = append(tags, w.writeName(r)...)
	switch u := r.n(100); {
	case u < 60:
		w.street = a.Street
	case u < 80:
		w.street = a.StreetAbbrev
	default:
		tags = append(tags, w.writeStreet(r, &a)...)
	}
	return g.finish(r, x, w, false, tags)
}

// finish writes the contact's text and derives its expected outcome.
func (g *Generator) finish(r *rng, x *messyIndex, w written, listed bool, tags []string) MessyContact {
	a := w.a
	sur := strings.Join(w.sur, " ")
	if w.hyphen && len(w.sur) == 2 {
		sur = w.sur[0] + "-" + w.sur[1]
	}
	name := strings.Join(w.given, " ") + " " + sur
	if w.comma {
		name = sur + ", " + strings.Join(w.given, " ")
	}
	house := strconv.Itoa(w.num) + w.letter
	if w.letter != "" && r.pct(40) {
		house = strconv.Itoa(w.num) + " " + strings.ToLower(w.letter)
		tags = append(tags, "house-space")
	}
	sep := ", "
	if r.pct(15) {
		sep = " "
		tags = append(tags, "no-commas")
	}
	line := w.street + " " + house
	if w.floor != "" || w.door != "" {
		unit, ut := writeUnit(r, w.floor, w.door)
		tags = append(tags, ut...)
		line += sep + unit
	}
	pcCol := ""
	switch u := r.n(100); {
	case u < 55:
		pcCol = a.Postcode
	case u < 85:
		line += sep + a.Postcode + " " + a.Town
		tags = append(tags, "postcode-in-address")
	default:
		pcCol = a.Postcode
		line += sep + a.Postcode + " " + a.Town
		tags = append(tags, "postcode-both")
	}
	if r.pct(15) {
		name, line = translit(name), translit(line)
		tags = append(tags, "translit")
	}
	if r.pct(8) {
		name, line = strings.ToUpper(name), strings.ToUpper(line)
		tags = append(tags, "upper")
	}
	c := MessyContact{Contact: Contact{Name: name, Address: line, PostalCode: pcCol, Listed: listed, Variant: strings.Join(tags, "+")}}
	ca := oAddr{pc: a.Postcode, street: norm31(w.street), house: houseString(w.num, w.letter), floor: w.floor, door: w.door}
	c.Expect = x.expect(contactName(name), ca)
	return c
}

// MessyContactsCSVHeader is the header line of WriteMessyContactsCSV.
var MessyContactsCSVHeader = []string{"ref", "name", "address", "postal_code", "expected_listed", "expected", "class", "variant"}

// WriteMessyContactsCSV writes n MessyContacts as semicolon-separated
// UTF-8 CSV (MessyContactsCSVHeader; expected is ALLOW, REVIEW or BLOCK).
func (g *Generator) WriteMessyContactsCSV(w io.Writer, n int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	cw := csv.NewWriter(bw)
	cw.Comma = ';'
	if err := cw.Write(MessyContactsCSVHeader); err != nil {
		return err
	}
	err := g.MessyContacts(n, seed, func(c MessyContact) error {
		return cw.Write([]string{c.Ref, c.Name, c.Address, c.PostalCode, strconv.FormatBool(c.Listed), c.Expect.String(), c.Class(), c.Variant})
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
