package synth

// The expected outcome of a messy contact, derived from the rule text of
// screening-rules.md sections 3.1 to 3.5 alone. This is an independent
// re-statement of the rules (after robinson/oracle_test.go's oracle, which
// lives in a test file): it does not call package robinson, so a test that
// compares the service with it can fail. It works on the parts the
// generator wrote (street as written, name as written, the floor and door
// the written unit stands for), not on a parse of the contact's address
// line: parsing the address line is the service's job, and a misparse
// shows up as a disagreement.

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Expect is the outcome the rules prescribe for a contact.
type Expect uint8

const (
	ExpectAllow  Expect = iota // no list record matches or possibly matches
	ExpectReview               // POSSIBLE against some record, MATCH against none
	ExpectBlock                // MATCH against some record
)

func (e Expect) String() string {
	switch e {
	case ExpectBlock:
		return "BLOCK"
	case ExpectReview:
		return "REVIEW"
	}
	return "ALLOW"
}

type oGiven struct {
	w       string
	initial bool
}

type oName struct {
	sur []string
	giv []oGiven
}

type oAddr struct {
	pc, street, house, floor, door string
}

type oRec struct {
	person int
	name   oName
	addr   oAddr
	road   roadKey
}

// norm31 is section 3.1: NFC, lower case, æ/ø/å (and ä/ö) as ae/oe/aa,
// other accents dropped, hyphens as blanks, a dot directly followed by a
// letter separates two words, other punctuation inside a word removed (a
// word's trailing dot kept), runs of blanks collapsed.
func norm31(s string) string {
	rs := []rune(strings.ToLower(norm.NFC.String(s)))
	var b strings.Builder
	for k, r := range rs {
		switch {
		case r == 'æ' || r == 'ä':
			b.WriteString("ae")
		case r == 'ø' || r == 'ö':
			b.WriteString("oe")
		case r == 'å':
			b.WriteString("aa")
		case r == '-' || unicode.IsSpace(r):
			b.WriteByte(' ')
		case r == '.':
			b.WriteByte('.')
			if k+1 < len(rs) && unicode.IsLetter(rs[k+1]) {
				b.WriteByte(' ')
			}
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			for _, d := range norm.NFD.String(string(r)) {
				if !unicode.Is(unicode.Mn, d) {
					b.WriteRune(d)
				}
			}
		default: // other punctuation: removed
		}
	}
	words := strings.Fields(b.String())
	out := words[:0]
	for _, w := range words {
		// Dots inside a word (not directly followed by a letter, e.g.
		// "1.5") are punctuation; a trailing dot marks an abbreviation.
		trail := strings.HasSuffix(w, ".")
		w = strings.ReplaceAll(w, ".", "")
		if w == "" {
			continue
		}
		if trail {
			w += "."
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

// nameWord normalises one written name word to its comparison words.
func nameWords(w string) []string {
	var out []string
	for _, x := range strings.Fields(norm31(w)) {
		if x = strings.ReplaceAll(x, ".", ""); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func isInitial(w string) bool {
	n := 0
	for _, r := range w {
		if unicode.IsLetter(r) {
			n++
		} else if r != '.' {
			return false
		}
	}
	return n == 1
}

// contactName is section 3.4's reading of a contact name.
func contactName(s string) oName {
	var surPart, givPart string
	if i := strings.IndexByte(s, ','); i >= 0 {
		surPart, givPart = s[:i], s[i+1:]
	} else {
		f := strings.Fields(s)
		if len(f) == 0 {
			return oName{}
		}
		surPart, givPart = f[len(f)-1], strings.Join(f[:len(f)-1], " ")
	}
	var n oName
	for _, w := range strings.Fields(surPart) {
		n.sur = append(n.sur, nameWords(w)...)
	}
	for _, w := range strings.Fields(givPart) {
		ini := isInitial(w)
		for _, x := range nameWords(w) {
			n.giv = append(n.giv, oGiven{w: x, initial: ini})
		}
	}
	return n
}

// listName reads a Personnavn field "Surname Surname,Given Given".
func listName(s string) oName {
	sur, giv, _ := strings.Cut(s, ",")
	var n oName
	for _, w := range strings.Fields(sur) {
		n.sur = append(n.sur, nameWords(w)...)
	}
	for _, w := range strings.Fields(giv) {
		ini := isInitial(w)
		for _, x := range nameWords(w) {
			n.giv = append(n.giv, oGiven{w: x, initial: ini})
		}
	}
	return n
}

func letters(w string) int {
	n := 0
	for _, r := range w {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}

// damerau is the restricted Damerau-Levenshtein distance (optimal string
// alignment) over runes; one edit is the same under every variant.
func damerau(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			c := 1
			if x[i-1] == y[j-1] {
				c = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+c)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

// oneEdit: one edit apart and the shorter has at least 5 letters.
func oneEdit(a, b string) bool {
	if damerau(a, b) != 1 {
		return false
	}
	s := a
	if len([]rune(b)) < len([]rune(a)) {
		s = b
	}
	return letters(s) >= 5
}

// ---- 3.3 streets

func compact(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, s)
}

var abbrevTable = map[string][]string{
	"gl": {"gammel", "gamle"}, "ll": {"lille"}, "ndr": {"nordre"}, "nr": {"noerre"},
	"sdr": {"soender", "soendre"}, "skt": {"sankt"}, "sct": {"sankt"}, "st": {"sankt", "store"},
	"v": {"vester", "vestre", "vej"}, "oe": {"oester", "oestre"}, "kgs": {"kongens"},
	"blvd": {"boulevard"}, "boul": {"boulevard"}, "chr": {"christian", "christians"},
	"fr": {"frederik", "frederiks"}, "frs": {"frederik", "frederiks"},
	"dr": {"dronning", "dronningens", "doktor"}, "dronn": {"dronning", "dronningens", "doktor"},
	"vilh": {"vilhelm"}, "pl": {"plads"}, "gd": {"gade"},
}

func tablePair(short, long string) bool {
	short, long = strings.TrimSuffix(short, "."), strings.TrimSuffix(long, ".")
	for _, l := range abbrevTable[short] {
		if l == long {
			return true
		}
	}
	return false
}

func dottedPrefix(a, b string) bool {
	stem, ok := strings.CutSuffix(a, ".")
	return ok && stem != "" && strings.HasPrefix(strings.TrimSuffix(b, "."), stem)
}

func wordsAbbrev(a, b string) bool {
	return a == b || dottedPrefix(a, b) || dottedPrefix(b, a) || tablePair(a, b) || tablePair(b, a)
}

// streetAgrees: EQUAL or ABBREVIATED.
func streetAgrees(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if ca := compact(a); ca != "" && ca == compact(b) {
		return true
	}
	wa, wb := strings.Fields(a), strings.Fields(b)
	if len(wa) != len(wb) {
		return false
	}
	for i := range wa {
		if !wordsAbbrev(wa[i], wb[i]) {
			return false
		}
	}
	return true
}

func streetNear(a, b string) bool {
	wa, wb := strings.Fields(a), strings.Fields(b)
	if len(wa) == 0 || len(wa) != len(wb) {
		return false
	}
	diff := -1
	for i := range wa {
		if wa[i] != wb[i] {
			if diff >= 0 {
				return false
			}
			diff = i
		}
	}
	if diff < 0 {
		return false
	}
	x, y := wa[diff], wb[diff]
	if strings.HasSuffix(x, ".") || strings.HasSuffix(y, ".") {
		return false
	}
	if diff == len(wa)-1 {
		for _, e := range []string{"en", "et", "n", "t"} {
			if x == y+e || y == x+e {
				return true
			}
		}
	}
	return oneEdit(x, y)
}

type streetKind uint8

const (
	stNone streetKind = iota
	stAgree
	stRegister
	stNear
)

func (x *messyIndex) street(c oAddr, rec *oRec) streetKind {
	if streetAgrees(c.street, rec.addr.street) {
		return stAgree
	}
	names := x.roads[rec.road]
	for _, n := range names {
		if streetAgrees(c.street, n) {
			return stRegister
		}
	}
	near := streetNear(c.street, rec.addr.street)
	for _, n := range names {
		near = near || streetNear(c.street, n)
	}
	if !near {
		return stNone
	}
	// The synthetic register's districts hold every house number (1-299)
	// of every road in each of its postcodes.
	if n := houseNumberValue(c.house); n >= 1 && n <= 299 {
		for _, rd := range x.roadsAt[c.pc] {
			if rd == rec.road {
				continue
			}
			for _, nm := range x.roads[rd] {
				if streetAgrees(c.street, nm) {
					return stNone
				}
			}
		}
	}
	return stNear
}

func houseNumberValue(h string) int {
	n := 0
	for _, r := range h {
		if r < '0' || r > '9' {
			break
		}
		n = n*10 + int(r-'0')
	}
	return n
}

// ---- 3.4 names, 3.5 outcome

func (x *messyIndex) givenReadings(c, l []oGiven) (full, initial, near bool) {
	two := func(g oGiven) bool { return !g.initial && letters(g.w) >= 2 }
	for _, a := range c {
		for _, b := range l {
			if a.w == b.w && two(a) && two(b) && !x.family[a.w] {
				return true, false, false
			}
		}
	}
	for _, a := range c {
		for _, b := range l {
			if a.initial && strings.HasPrefix(b.w, a.w) || b.initial && strings.HasPrefix(a.w, b.w) {
				initial = true
			}
		}
	}
	shared, allFamily := 0, true
	for _, a := range c {
		for _, b := range l {
			if a.w == b.w {
				shared++
				if !x.family[a.w] {
					allFamily = false
				}
			}
		}
	}
	if shared > 0 && allFamily {
		initial = true
	}
	for _, a := range c {
		for _, b := range l {
			if !x.family[a.w] && !x.family[b.w] && oneEdit(a.w, b.w) {
				near = true
			}
		}
	}
	return
}

func unitConflict(a, b oAddr) bool {
	return a.floor != "" && b.floor != "" && a.floor != b.floor || a.door != "" && b.door != "" && a.door != b.door
}

func applyNears(base Expect, nears int) Expect {
	switch {
	case nears == 0:
		return base
	case nears == 1 && base > ExpectAllow:
		return ExpectReview
	}
	return ExpectAllow
}

// matchOne is section 3.5 against one record.
func (x *messyIndex) matchOne(n oName, c oAddr, rec *oRec) Expect {
	if c.pc != rec.addr.pc || c.house != rec.addr.house {
		return ExpectAllow
	}
	sk := x.street(c, rec)
	if sk == stNone {
		return ExpectAllow
	}
	agrees, near := false, false
	for _, s := range n.sur {
		for _, t := range rec.name.sur {
			if s == t {
				agrees = true
			}
		}
	}
	if !agrees {
		for _, s := range n.sur {
			for _, t := range rec.name.sur {
				near = near || oneEdit(s, t)
			}
		}
		if !near {
			return ExpectAllow
		}
	}
	full, initial, gnear := x.givenReadings(n.giv, rec.name.giv)
	nears := 0
	if sk == stNear {
		nears++
	}
	if near {
		nears++
	}
	conflict := unitConflict(c, rec.addr)
	row := func(fullLike bool) Expect {
		switch {
		case fullLike && !conflict:
			return ExpectBlock
		case fullLike || !conflict:
			return ExpectReview
		}
		return ExpectAllow
	}
	best := ExpectAllow
	if full {
		best = max(best, applyNears(row(true), nears))
	}
	if initial {
		best = max(best, applyNears(row(false), nears))
	}
	if gnear {
		best = max(best, applyNears(row(true), nears+1))
	}
	return best
}

// expect is the strongest outcome over every list record at the
// contact's postcode and house number.
func (x *messyIndex) expect(n oName, c oAddr) Expect {
	best := ExpectAllow
	for i, recs := 0, x.byHouse[c.pc+"|"+c.house]; i < len(recs); i++ {
		best = max(best, x.matchOne(n, c, &recs[i]))
	}
	return best
}

func houseString(n int, letter string) string { return strconv.Itoa(n) + strings.ToUpper(letter) }
