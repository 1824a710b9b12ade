package robinson

// Differential tests of Matcher.Match against the oracle of oracle_test.go
// on contacts generated from list records by realistic mutations.

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// Roads of the oracle's fake register, all with postal districts in
// postcode 2900.
var (
	orcRoadGammelvej   = RoadID{201, 1}  // earlier name Nyvej
	orcRoadBorgm       = RoadID{201, 2}  // Borgm Christiansensg / Borgmester Christiansens Gade
	orcRoadStrandvejen = RoadID{201, 3}  // 1-199
	orcRoadStrandvej   = RoadID{201, 4}  // even 2-40
	orcRoadDronn       = RoadID{201, 5}  // Dronn. Louises V. / Dronning Louises Vej, earlier Dronningens Vej
	orcRoadRingvejen   = RoadID{201, 6}  // 1-99
	orcRoadRingvej     = RoadID{201, 7}  // odd 1-51
	orcRoadTorvet      = RoadID{201, 8}  // Torvet
	orcRoadStationsvej = RoadID{201, 9}  // Stationsvejen; earlier Banegaardsvej
	orcRoadStationsv2  = RoadID{201, 10} // Stationsvej 1-20: another road
	orcRoadHCA         = RoadID{201, 11} // H.C. Andersens Blvd. / H.C. Andersens Boulevard
	orcRoadGlKongevej  = RoadID{201, 12} // Gl. Kongevej / Gammel Kongevej
	orcRoadThriges     = RoadID{201, 13} // Thomas B.Thriges Gd. / Thomas B. Thriges Gade
	orcRoadSktHans     = RoadID{201, 14} // Skt. Hans Gade / Sankt Hans Gade, earlier Hans Tavsens Gade
	orcRoadNrAlle      = RoadID{201, 15} // Nr. Allé / Nørre Allé
	orcRoadTorv        = RoadID{201, 16} // Torv, even 2-98: another road
	orcRoadNoDistrict  = RoadID{201, 17} // Vestervej, no district in 2900
)

type orcRoadDef struct {
	id       RoadID
	names    []string // addressing name, full name, earlier names
	from, to int
	parity   byte
}

var orcRoadDefs = []orcRoadDef{
	{orcRoadGammelvej, []string{"Gammelvej", "Gammelvej", "Nyvej"}, 1, 99, 0},
	{orcRoadBorgm, []string{"Borgm Christiansensg", "Borgmester Christiansens Gade"}, 1, 99, 0},
	{orcRoadStrandvejen, []string{"Strandvejen"}, 1, 199, 0},
	{orcRoadStrandvej, []string{"Strandvej"}, 2, 40, 'L'},
	{orcRoadDronn, []string{"Dronn. Louises V.", "Dronning Louises Vej", "Dronningens Vej"}, 1, 99, 0},
	{orcRoadRingvejen, []string{"Ringvejen"}, 1, 99, 0},
	{orcRoadRingvej, []string{"Ringvej"}, 1, 51, 'U'},
	{orcRoadTorvet, []string{"Torvet"}, 1, 99, 0},
	{orcRoadStationsvej, []string{"Stationsvejen", "Stationsvejen", "Banegaardsvej"}, 1, 99, 0},
	{orcRoadStationsv2, []string{"Stationsvej"}, 1, 20, 0},
	{orcRoadHCA, []string{"H.C. Andersens Blvd.", "H.C. Andersens Boulevard"}, 1, 99, 0},
	{orcRoadGlKongevej, []string{"Gl. Kongevej", "Gammel Kongevej"}, 1, 99, 0},
	{orcRoadThriges, []string{"Thomas B.Thriges Gd.", "Thomas B. Thriges Gade"}, 1, 99, 0},
	{orcRoadSktHans, []string{"Skt. Hans Gade", "Sankt Hans Gade", "Hans Tavsens Gade"}, 1, 99, 0},
	{orcRoadNrAlle, []string{"Nr. Allé", "Nørre Allé"}, 1, 99, 0},
	{orcRoadTorv, []string{"Torv"}, 2, 98, 'L'},
	{orcRoadNoDistrict, []string{"Vestervej"}, 0, 0, 0},
}

func orcRoads() *fakeRoads {
	r := &fakeRoads{names: map[RoadID][]string{}}
	for _, d := range orcRoadDefs {
		var ns []string
		for _, n := range d.names {
			n = NormalizeStreet(n)
			if !slices.Contains(ns, n) {
				ns = append(ns, n)
			}
		}
		r.names[d.id] = ns
		if d.to > 0 {
			r.districts = append(r.districts, fakeDistrict{d.id, "2900", d.from, d.to, d.parity})
		}
	}
	return r
}

// Streets not in the register.
var orcFreeStreets = []string{
	"Gammel Køge Landevej", "Dronning Olgas Vej", "Store Kongensgade", "Østre Stationsvej",
	"Kongens Nytorv", "Christians Brygge", "Frederiks Allé", "Vilhelm Becks Vej",
	"Israels Plads", "Lille Strandstræde", "Nordre Fasanvej", "Søndre Fasanvej",
	"Doktor Abildgaards Allé", "Christian IX's Gade", "Frederik VII's Gade", "Sankt Annæ Plads",
	"Vestre Ringgade", "Bovej", "Allégade", "Nørregade", "Vester Voldgade", "Gl. Torv",
	"Dronningens Tværgade", "St. Kongensgade", "Sdr. Boulevard", "Ndr. Frihavnsgade",
}

var orcSurnames = []string{
	"Hansen", "Jensen", "Nielsen", "Pedersen", "Andersen", "Christensen", "Larsen",
	"Sørensen", "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen",
	"Thomsen", "Poulsen", "Møller", "Bech", "Beck", "Lund", "Holm", "Haansen", "Hanssen",
	"Østergaard", "Aagaard", "Kristensen-Nielsen", "Lykke",
}

var orcGivens = []string{
	"Hans", "Peter", "Mette", "Anne", "Jesper", "Søren", "Øjvind", "Lone", "Lykke", "René",
	"Kirsten", "Lars", "Jens", "Ole", "Mads", "Karen", "Åse", "Bo", "Ib", "Christian",
	"Frederik", "Vilhelm", "Anders", "Hans-Peter", "Marie", "Jespr", "Søs", "Ane", "Anna",
	"Lotte", "Lotta", "Karina", "Katrine", "Henrik", "Henriks",
}

// orcListCorpus is the loaded list the family-type words are counted over.
var orcListCorpus = []string{
	"Rasmussen,René Andersen", "Andersen,Lone", "Andersen,Per", "Hansen,Mette",
	"Jensen,Hans Peter", "Lykke,Karen", "Lykke,Søren", "Nielsen,Lykke Marie",
	"Holm,Lars", "Bech,Anne Holm", "Møller,Peter", "Peter,Hans",
}

func orcFamilyTypes() FamilySet {
	var c FamilyCounter
	for _, s := range orcListCorpus {
		n, err := ParseListName(s)
		if err != nil {
			panic(err)
		}
		c.Add(&Record{Name: n})
	}
	return c.Set()
}

// orcChooser draws decisions first from the fuzzer's bytes, then from a
// seeded PRNG.
type orcChooser struct {
	data []byte
	r    *rand.Rand
}

func newOrcChooser(seed uint64, data []byte) *orcChooser {
	return &orcChooser{data: data, r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (c *orcChooser) n(k int) int {
	if k <= 1 {
		return 0
	}
	if len(c.data) > 0 {
		b := c.data[0]
		c.data = c.data[1:]
		return int(b) % k
	}
	return c.r.IntN(k)
}

func (c *orcChooser) p(percent int) bool { return c.n(100) < percent }

func orcPick[T any](c *orcChooser, xs []T) T { return xs[c.n(len(xs))] }

// orcCase is one generated contact and list record.
type orcCase struct {
	Contact, ContactAddr string
	ListName, ListAddr   string
	Road                 RoadID
	Register, Family     bool
	// ListPost is the record's postcode ("2900" when empty).
	ListPost string
}

func (k orcCase) String() string {
	return fmt.Sprintf("contact %q / %q; list %q / %q %s road %v register=%v family=%v",
		k.Contact, k.ContactAddr, k.ListName, k.ListAddr, k.listPost(), k.Road, k.Register, k.Family)
}

func (k orcCase) listPost() string {
	if k.ListPost == "" {
		return "2900"
	}
	return k.ListPost
}

// Table forms for mutations (written form -> full forms), raw spelling.
var orcAbbrevRaw = map[string][]string{
	"Gl": {"Gammel", "Gamle"}, "Ll": {"Lille"}, "Ndr": {"Nordre"}, "Nr": {"Nørre"},
	"Sdr": {"Sønder", "Søndre"}, "Skt": {"Sankt"}, "Sct": {"Sankt"}, "St": {"Sankt", "Store"},
	"V": {"Vester", "Vestre", "Vej"}, "Ø": {"Øster", "Østre"}, "Kgs": {"Kongens"},
	"Blvd": {"Boulevard"}, "Boul": {"Boulevard"}, "Chr": {"Christian", "Christians"},
	"Fr": {"Frederik", "Frederiks"}, "Frs": {"Frederik", "Frederiks"},
	"Dr": {"Dronning", "Dronningens", "Doktor"}, "Dronn": {"Dronning", "Dronningens", "Doktor"},
	"Vilh": {"Vilhelm"}, "Pl": {"Plads"}, "Gd": {"Gade"},
}

var orcLetterPool = []rune("abcdefghijklmnopqrstuvwxyzæøåé")

// orcEdit applies one random edit (insert, delete, replace, swap) to w.
func orcEdit(c *orcChooser, w string) string {
	r := []rune(w)
	if len(r) == 0 {
		return w
	}
	i := c.n(len(r))
	switch c.n(4) {
	case 0:
		r = slices.Insert(r, i, orcPick(c, orcLetterPool))
	case 1:
		if len(r) > 1 {
			r = slices.Delete(r, i, i+1)
		}
	case 2:
		r[i] = orcPick(c, orcLetterPool)
	case 3:
		if i+1 < len(r) {
			r[i], r[i+1] = r[i+1], r[i]
		}
	}
	return string(r)
}

func orcCase1(c *orcChooser, w string) string {
	switch c.n(6) {
	case 0:
		return strings.ToUpper(w)
	case 1:
		return strings.ToLower(w)
	}
	return w
}

// orcMutateStreet applies realistic mutations to a street as written.
func orcMutateStreet(c *orcChooser, s string, road RoadID) string {
	for k := c.n(3); k >= 0; k-- {
		words := strings.Fields(s)
		if len(words) == 0 {
			return s
		}
		i := c.n(len(words))
		w := words[i]
		bare := strings.TrimSuffix(w, ".")
		switch c.n(14) {
		case 0, 1: // abbreviate / expand through the table
			done := false
			for short, longs := range orcAbbrevRaw {
				if strings.EqualFold(bare, short) {
					w = orcPick(c, longs)
					done = true
					break
				}
			}
			if !done {
				var cands []string
				for short, longs := range orcAbbrevRaw {
					for _, l := range longs {
						if strings.EqualFold(bare, l) {
							cands = append(cands, short)
						}
					}
				}
				if len(cands) > 0 {
					slices.Sort(cands)
					w = orcPick(c, cands)
					if c.p(50) {
						w += "."
					}
				}
			}
		case 2: // dotted prefix (or undotted prefix, which is no abbreviation)
			r := []rune(bare)
			if len(r) >= 3 {
				w = string(r[:1+c.n(len(r)-1)])
				if c.p(75) {
					w += "."
				}
			}
		case 3: // drop or add a dot
			if strings.HasSuffix(w, ".") {
				w = bare
			} else {
				w += "."
			}
		case 4: // definite ending on the last word
			i = len(words) - 1
			w = words[i]
			cut := false
			for _, e := range []string{"en", "et", "n", "t"} {
				if strings.HasSuffix(w, e) && c.p(50) {
					w = strings.TrimSuffix(w, e)
					cut = true
					break
				}
			}
			if !cut {
				w += orcPick(c, []string{"en", "et", "n", "t"})
			}
		case 5, 6: // one edit
			w = orcEdit(c, w)
		case 7, 12, 13: // another name of the record's road, or another road
			def := orcRoadDefs[c.n(len(orcRoadDefs))]
			if c.p(60) {
				for _, d := range orcRoadDefs {
					if d.id == road {
						def = d
					}
				}
			}
			return orcPick(c, def.names)
		case 8: // blanks and dots: "H.C." <-> "H C", "B.Thriges"
			s = strings.Join(words, " ")
			switch c.n(3) {
			case 0:
				s = strings.ReplaceAll(s, ".", " ")
			case 1:
				s = strings.ReplaceAll(s, ". ", ".")
			case 2:
				s = strings.ReplaceAll(s, " ", "")
			}
			continue
		case 9: // case
			w = orcCase1(c, w)
		case 10: // ae/oe/aa for æ/ø/å, Alle for Allé
			w = strings.NewReplacer("æ", "ae", "ø", "oe", "å", "aa", "é", "e", "Ø", "Oe", "Æ", "Ae", "Å", "Aa").Replace(w)
		case 11: // hyphen
			if i+1 < len(words) {
				words[i] = w + "-" + words[i+1]
				words = slices.Delete(words, i+1, i+2)
				s = strings.Join(words, " ")
				continue
			}
		}
		words[i] = w
		s = strings.Join(words, " ")
	}
	return s
}

var orcUnitsRaw = [][2]string{
	{"", ""}, {"st", "tv"}, {"st.", "th."}, {"stuen", "til venstre"}, {"1.", "th"}, {"2.", "tv"},
	{"2. sal", "t.v."}, {"3", "mf"}, {"kl", ""}, {"kælder", ""}, {"1", "3"}, {"2.", ""}, {"", "tv"},
}

func orcUnitText(u [2]string) string {
	switch {
	case u[0] == "" && u[1] == "":
		return ""
	case u[0] == "":
		return ", " + u[1]
	case u[1] == "":
		return ", " + u[0]
	}
	return ", " + u[0] + " " + u[1]
}

// orcGen generates one case.
func orcGen(c *orcChooser) orcCase {
	var k orcCase
	k.Register = c.p(70)
	k.Family = c.p(70)

	// The list record.
	var street string
	if c.p(65) {
		def := orcRoadDefs[c.n(len(orcRoadDefs))]
		k.Road = def.id
		street = def.names[0]
		if c.p(25) {
			street = orcPick(c, def.names)
		}
	} else {
		street = orcPick(c, orcFreeStreets)
		if c.p(30) {
			k.Road = RoadID{999, uint16(1 + c.n(5))}
		}
	}
	house := orcPick(c, []string{"2", "12", "13", "42", "7", "51", "12A", "121", "150", "201"})
	if c.p(5) {
		k.ListPost = "2200" // no postal district of the register
	}
	listUnit := orcPick(c, orcUnitsRaw)
	k.ListAddr = street + " " + house + orcUnitText(listUnit)

	nsur := 1 + c.n(2)
	var surs []string
	for range nsur {
		surs = append(surs, orcPick(c, orcSurnames))
	}
	ngiv := 1 + c.n(3)
	var givs []string
	for range ngiv {
		g := orcPick(c, orcGivens)
		if c.p(8) {
			g = g[:1] + "."
		}
		givs = append(givs, g)
	}
	if c.p(15) { // a family name carried as a middle name
		givs = append(givs, orcPick(c, []string{"Andersen", "Lykke", "Holm", "Hansen"}))
	}
	k.ListName = strings.Join(surs, " ") + "," + strings.Join(givs, " ")
	if c.p(5) {
		k.ListName = strings.Join(surs, "-") + "," + strings.Join(givs, " ")
	}

	// The contact name.
	cg := slices.Clone(givs)
	for m := c.n(3); m > 0; m-- {
		switch c.n(10) {
		case 0: // drop a given name
			if len(cg) > 1 {
				i := c.n(len(cg))
				cg = slices.Delete(cg, i, i+1)
			}
		case 1: // swap given names
			if len(cg) > 1 {
				i := c.n(len(cg) - 1)
				cg[i], cg[i+1] = cg[i+1], cg[i]
			}
		case 2: // an initial
			i := c.n(len(cg))
			r, _ := utf8.DecodeRuneInString(cg[i])
			cg[i] = string(r)
			if c.p(70) {
				cg[i] += "."
			}
		case 3: // a family-type middle name
			cg = slices.Insert(cg, c.n(len(cg)+1), orcPick(c, []string{"Andersen", "Lykke", "Holm", "Hansen", "Jensen"}))
		case 4: // another given name
			cg = append(cg, orcPick(c, orcGivens))
		case 5: // replace a given name
			cg[c.n(len(cg))] = orcPick(c, orcGivens)
		case 6, 7: // one edit
			i := c.n(len(cg))
			cg[i] = orcEdit(c, cg[i])
		case 8: // no given names at all
			if c.p(20) {
				cg = nil
			}
		case 9:
			i := c.n(len(cg))
			cg[i] = orcCase1(c, strings.NewReplacer("ø", "oe", "å", "aa", "æ", "ae", "é", "e", "Ø", "Oe", "Å", "Aa").Replace(cg[i]))
		}
		if len(cg) == 0 {
			break
		}
	}
	cs := slices.Clone(surs)
	switch c.n(8) {
	case 0: // one of the surname words
		cs = []string{orcPick(c, surs)}
	case 1: // another surname
		cs = []string{orcPick(c, orcSurnames)}
	case 2, 3: // one edit in a surname word
		i := c.n(len(cs))
		cs[i] = orcEdit(c, cs[i])
	}
	switch c.n(4) {
	case 0: // Surname, Given
		k.Contact = strings.Join(cs, " ") + ", " + strings.Join(cg, " ")
	case 1: // Given Surname-Surname
		k.Contact = strings.TrimSpace(strings.Join(cg, " ") + " " + strings.Join(cs, "-"))
	default: // Given ... Surname (a second surname word becomes a given name)
		k.Contact = strings.TrimSpace(strings.Join(cg, " ") + " " + strings.Join(cs, " "))
	}

	// The contact address.
	cstreet := street
	if c.p(85) {
		cstreet = orcMutateStreet(c, street, k.Road)
	}
	chouse := house
	switch c.n(12) {
	case 0:
		chouse = "0" + house
	case 1:
		if strings.HasSuffix(house, "A") {
			chouse = strings.TrimSuffix(house, "A") + " a"
		}
	case 2:
		chouse = orcPick(c, []string{"2", "12", "13", "42", "7", "51", "12B", "121"})
	}
	cu := listUnit
	switch c.n(5) {
	case 0:
		cu = orcPick(c, orcUnitsRaw)
	case 1:
		cu = [2]string{}
	}
	post := k.listPost()
	if c.p(3) {
		post = orcPick(c, []string{"2900", "2200"})
	}
	k.ContactAddr = cstreet + " " + chouse + orcUnitText(cu) + ", " + post + " Hellerup"
	return k
}

// orcCheck compares Match with the oracle on one case. It returns "" when
// they agree (or the case does not parse), else a description.
// orcParse parses a case; ok is false when a name does not parse or the
// list address has no street or house number.
func orcParse(k orcCase, roads Roads, fam FamilySet) (m Matcher, name Name, addr Address, rec *Record, ok bool) {
	name, err := ParseContactName(k.Contact)
	if err != nil {
		return m, name, addr, nil, false
	}
	addr, _ = ParseAddress(k.ContactAddr)
	ln, err := ParseListName(k.ListName)
	if err != nil {
		return m, name, addr, nil, false
	}
	la, _ := ParseAddress(k.ListAddr)
	la.Postcode = k.listPost()
	if la.HouseNumber == "" || la.Street == "" {
		return m, name, addr, nil, false
	}
	rec = &Record{Line: 7, Name: ln, Address: la, Road: k.Road}
	if k.Register {
		m.Roads = roads
	}
	if k.Family {
		m.Family = fam
	}
	return m, name, addr, rec, true
}

func orcCheck(k orcCase, roads Roads, fam FamilySet) (diff string, o Outcome, want oracleResult, ok bool) {
	m, name, addr, rec, ok := orcParse(k, roads, fam)
	if !ok {
		return "", o, want, false
	}
	ln, la := rec.Name, rec.Address
	o = m.Match(name, addr, rec)
	want = orcMatch(&m, name, addr, rec)
	var diffs []string
	if o.Level != NoMatch && !m.NamesMayAgree(name, rec.Name) {
		diffs = append(diffs, fmt.Sprintf("level %v, but NamesMayAgree says NoMatch", o.Level))
	}
	if o.Level != want.Level {
		diffs = append(diffs, fmt.Sprintf("level %v, oracle %v", o.Level, want.Level))
	}
	if addr.Postcode == la.Postcode && addr.HouseNumber == la.HouseNumber && addr.HouseNumber != "" {
		if o.Street != want.Street {
			diffs = append(diffs, fmt.Sprintf("street %v, oracle %v", o.Street, want.Street))
		}
		if want.Street != StreetNone && o.Unit != want.Unit {
			diffs = append(diffs, fmt.Sprintf("unit %v, oracle %v", o.Unit, want.Unit))
		}
	}
	if o.Level == want.Level && want.NameUnique && o.Name != want.Name {
		diffs = append(diffs, fmt.Sprintf("name %v, oracle %v", o.Name, want.Name))
	}
	if len(diffs) == 0 {
		return "", o, want, true
	}
	return fmt.Sprintf("%s\n\tparsed contact %+v %+v\n\tparsed record %+v %+v\n\tMatch: %v\n\toracle: %+v",
		strings.Join(diffs, "; "), name, addr, ln, la, o, want), o, want, true
}

// orcStoreCheck: when Match (or the oracle) gives more than NoMatch, the
// store's signature filter must hand the record to the matcher.
func orcStoreCheck(k orcCase, roads Roads, level Level) string {
	if level == NoMatch {
		return ""
	}
	m, name, addr, rec, ok := orcParse(k, roads, nil)
	if !ok {
		return ""
	}
	var r Roads
	if m.Roads != nil {
		r = roads
	}
	var s sigSet
	s.addRecord(rec)
	if !s.found(name, addr, r, rec) {
		return fmt.Sprintf("level %v but the store's signature filter rules the record out", level)
	}
	return ""
}

// orcInject puts the fuzzer's raw string into one place of the case: a
// word of either street, a given name or a surname on either side.
func orcInject(c *orcChooser, k orcCase, extra string) orcCase {
	if extra == "" {
		return k
	}
	replaceWord := func(s string) string {
		ws := strings.Fields(s)
		if len(ws) == 0 {
			return extra
		}
		ws[c.n(len(ws))] = extra
		return strings.Join(ws, " ")
	}
	switch c.n(6) {
	case 0, 1: // a word of the contact's street (not the house number)
		street, rest, _ := strings.Cut(k.ContactAddr, ",")
		ws := strings.Fields(street)
		if len(ws) > 1 {
			ws[c.n(len(ws)-1)] = extra
		}
		k.ContactAddr = strings.Join(ws, " ") + "," + rest
	case 2: // a word of the list street
		ws := strings.Fields(k.ListAddr)
		if len(ws) > 1 {
			ws[c.n(len(ws)-1)] = extra
		}
		k.ListAddr = strings.Join(ws, " ")
	case 3: // a word of the contact's name
		k.Contact = replaceWord(k.Contact)
	case 4: // a given name of the list
		sur, giv, _ := strings.Cut(k.ListName, ",")
		k.ListName = sur + "," + replaceWord(giv)
	case 5: // a surname of the list
		sur, giv, _ := strings.Cut(k.ListName, ",")
		k.ListName = replaceWord(sur) + "," + giv
	}
	return k
}

// FuzzOracle compares Matcher.Match with the oracle on contacts generated
// from list records by realistic mutations (seed and data drive the
// choices; extra, when not empty, replaces one word somewhere), and checks
// that the store's signature filter finds every record Match (or the
// oracle) says matches. Known implementation bugs of Match
// (orcKnownMatchBug) are not reported again; the store's filter has none.
func FuzzOracle(f *testing.F) {
	for i := range uint64(32) {
		f.Add(i, []byte{}, "")
	}
	f.Add(uint64(99), []byte{0, 0, 0, 5}, "Søndre")
	f.Add(uint64(7), []byte{}, "IX's")
	f.Add(uint64(8), []byte{}, "Stræde.")
	f.Add(uint64(9), []byte{}, "Æ.")
	roads := orcRoads()
	fam := orcFamilyTypes()
	f.Fuzz(func(t *testing.T, seed uint64, data []byte, extra string) {
		c := newOrcChooser(seed, data)
		k := orcInject(c, orcGen(c), extra)
		diff, o, want, ok := orcCheck(k, roads, fam)
		if !ok {
			return
		}
		if diff != "" && orcKnownMatchBug(k, roads, fam, o) == "" {
			t.Fatalf("%v\n\t%s", k, diff)
		}
		if msg := orcStoreCheck(k, roads, o.Level); msg != "" {
			t.Fatalf("%v\n\t%s", k, msg)
		}
		if msg := orcStoreCheck(k, roads, want.Level); msg != "" {
			t.Fatalf("%v\n\toracle %s", k, msg)
		}
	})
}

// TestOracleGenerated runs a fixed set of generated cases (fixed seeds)
// and requires 100 % agreement between Match and the oracle, except for
// the known implementation bugs of Match, which are counted and reported
// as skipped, and that the store's filter finds every matching record.
func TestOracleGenerated(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 3000
	}
	roads := orcRoads()
	fam := orcFamilyTypes()
	known := map[string][]string{}
	checked, levels := 0, map[Level]int{}
	for i := range n {
		k := orcGen(newOrcChooser(uint64(i), nil))
		diff, o, want, ok := orcCheck(k, roads, fam)
		if !ok {
			continue
		}
		checked++
		levels[o.Level]++
		if diff != "" {
			if bug := orcKnownMatchBug(k, roads, fam, o); bug != "" {
				known[bug] = append(known[bug], fmt.Sprintf("seed %d: %v: %s", i, k, strings.SplitN(diff, "\n", 2)[0]))
			} else {
				t.Errorf("seed %d: %v\n\t%s", i, k, diff)
			}
		}
		for _, lv := range []Level{o.Level, want.Level} {
			if msg := orcStoreCheck(k, roads, lv); msg != "" {
				t.Errorf("seed %d: %v\n\t%s", i, k, msg)
				break
			}
		}
	}
	// The generator must keep hitting every level.
	if checked < n*9/10 || levels[Matched] < checked/20 || levels[Possible] < checked/20 || levels[NoMatch] < checked/20 {
		t.Errorf("generator degenerated: %d of %d checked, levels %v", checked, n, levels)
	}
	for bug, cases := range known {
		label := map[string]string{bugOneWayInitials: "OneWayInitials",
			bugEditRunes: "EditRunes", bugOneWayInitials + "; " + bugEditRunes: "OneWayInitialsEditRunes"}[bug]
		t.Run(label, func(t *testing.T) {
			t.Logf("%d cases, e.g. %s", len(cases), cases[0])
			t.Skip(bug)
		})
	}
}

// TestOracleKnownBugs holds minimal reproductions of the implementation
// bugs the oracle found, with the outcome the rule text requires. A case
// that still disagrees is skipped with the bug's description; once the
// implementation is fixed the case passes (and then guards the fix).
func TestOracleKnownBugs(t *testing.T) {
	roads := testRoads()
	tests := []struct {
		Name              string
		Contact, Address  string
		ListName, ListAdr string
		Road              RoadID
		Register          bool
		Want              Level
		Store             bool // check the store's filter instead of Match
		Bug               string
	}{
		{Name: "BothInitialsContactAa", Contact: "Å. Jensen", Address: "Strandvejen 12, 2900 Hellerup", ListName: "Jensen,A.", ListAdr: "Strandvejen 12",
			Want: Possible, Bug: bugOneWayInitials},
		{Name: "BothInitialsContactOe", Contact: "Ø. Jensen", Address: "Strandvejen 12, 2900 Hellerup", ListName: "Jensen,O.", ListAdr: "Strandvejen 12",
			Want: Possible, Bug: bugOneWayInitials},
		{Name: "BothInitialsMirror", Contact: "A. Jensen", Address: "Strandvejen 12, 2900 Hellerup", ListName: "Jensen,Å.", ListAdr: "Strandvejen 12",
			Want: Possible}, // passes today: the other direction works
		{Name: "EditDigitsStreet", Contact: "Hans Jensen", Address: "Parcel 10234 12, 2900 Hellerup", ListName: "Jensen,Hans", ListAdr: "Parcel 10235 12",
			Want: NoMatch, Bug: bugEditRunes},
		{Name: "EditDigitsSurname", Contact: "Hans Ab123", Address: "Strandvejen 12, 2900 Hellerup", ListName: "Ab124,Hans", ListAdr: "Strandvejen 12",
			Want: NoMatch, Bug: bugEditRunes},
		{Name: "ProbeRegisterOutsideDistrict", Contact: "Hans Hanssen", Address: "Nyvej 120, 2900 Hellerup", ListName: "Hansen,Hans", ListAdr: "Gammelvej 120",
			Road: roadGammelvej, Register: true, Want: Possible, Store: true},
		{Name: "ProbeRegisterOtherPostcode", Contact: "Hans Hanssen", Address: "Nyvej 12, 2200 København N", ListName: "Hansen,Hans", ListAdr: "Gammelvej 12",
			Road: roadGammelvej, Register: true, Want: Possible, Store: true},
		{Name: "ProbeRegisterFullName", Contact: "Hans Hanssen", Address: "Borgmester Christiansens Gade 120, 2900 Hellerup", ListName: "Hansen,Hans", ListAdr: "Christiansensg 120",
			Road: roadBorgm, Register: true, Want: Possible, Store: true},
		{Name: "ProbePrintedNameNotInRegister", Contact: "Hans Hanssen", Address: "Gammelvej 12, 2900 Hellerup", ListName: "Hansen,Hans", ListAdr: "Oldvej 12",
			Road: roadGammelvej, Register: true, Want: Possible, Store: true},
		{Name: "ProbeRegisterInsideDistrict", Contact: "Hans Hanssen", Address: "Nyvej 12, 2900 Hellerup", ListName: "Hansen,Hans", ListAdr: "Gammelvej 12",
			Road: roadGammelvej, Register: true, Want: Possible, Store: true},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			name, err := ParseContactName(tt.Contact)
			if err != nil {
				t.Fatal(err)
			}
			addr, _ := ParseAddress(tt.Address)
			rec := mustRecord(t, tt.ListName, tt.ListAdr, addr.Postcode, false, 1)
			rec.Road = tt.Road
			var m Matcher
			var r Roads
			if tt.Register {
				m.Roads, r = roads, roads
			}
			if w := orcMatch(&m, name, addr, rec); w.Level != tt.Want {
				t.Fatalf("oracle gives %v, want %v: the case is wrong", w.Level, tt.Want)
			}
			o := m.Match(name, addr, rec)
			if tt.Store {
				if o.Level != tt.Want {
					t.Fatalf("Match gives %v, want %v", o, tt.Want)
				}
				var s sigSet
				s.addRecord(rec)
				if s.found(name, addr, r, rec) {
					return
				}
				if tt.Bug != "" {
					t.Skip(tt.Bug)
				}
				t.Fatalf("Match gives %v but the store's filter rules the record out", o)
			}
			if o.Level == tt.Want {
				return
			}
			if tt.Bug != "" {
				t.Skip(tt.Bug + fmt.Sprintf(" (Match gives %v)", o))
			}
			t.Fatalf("Match gives %v, want %v", o, tt.Want)
		})
	}
}

// Known implementation bugs, classified precisely so that the deterministic
// test skips exactly those cases (see TestOracleKnownBugs for minimal
// reproductions).
const (
	bugOneWayInitials = "implementation bug: evalName tries only one direction when both given names are initials (contact \"Å.\" vs list \"A.\" gives NO_MATCH, contact \"A.\" vs list \"Å.\" gives POSSIBLE); rule 3.4 INITIAL: a one-letter given name fits a given name on the other side"
	bugEditRunes      = "implementation bug: OneEdit counts runes, not letters, for \"the shorter has at least 5 letters\" (3.3/3.4): street words of digits such as \"10234\"/\"10235\" are NEAR (Match gives POSSIBLE; the rule gives no match)"
)

// orcKnownMatchBug returns the known bug that explains a disagreement
// between Match and the oracle, or "".
func orcKnownMatchBug(k orcCase, roads Roads, fam FamilySet, o Outcome) string {
	m, name, addr, rec, ok := orcParse(k, roads, fam)
	if !ok {
		return ""
	}
	for _, c := range []struct {
		opts orcOpts
		bug  string
	}{
		{orcOpts{oneWayInitials: true}, bugOneWayInitials},
		{orcOpts{editRunes: true}, bugEditRunes},
		{orcOpts{oneWayInitials: true, editRunes: true}, bugOneWayInitials + "; " + bugEditRunes},
	} {
		if w := orcMatchOpt(&m, name, addr, rec, c.opts); w.Level == o.Level && w.Street == o.Street {
			return c.bug
		}
	}
	return ""
}
