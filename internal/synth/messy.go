package synth

import (
	"strconv"
	"strings"
)

// messyStreetData are the extra roads of Config.Messy: "postcode Full=Abbrev"
// (the abbreviated addressing name is what the list prints). With the
// roads the synthetic tables already have they cover every row of the
// abbreviation table of screening-rules.md section 3.3.
const messyStreetData = `1050 Lille Kongensgade=Ll. Kongensgade|1050 Kongens Nytorv=Kgs. Nytorv|2000 Frederiks Allé=Frs. Allé|2000 Vilhelm Thomsens Allé=Vilh. Thomsens Allé|4000 Gamle Havdrupvej=Gl Havdrupvej|5000 Thomas B. Thriges Gade=Thomas B.Thriges Gd.|8000 Frederik Banners Vej=Fr. Banners Vej|9000 Lille Sankt Hans Gade=Ll. Sct. Hans Gd.|6000 Store Torv=St. Torv|7100 Nordre Kirkevej=Ndr. Kirkevej`

// twinStreet is added, as a road of its own, to the postcodes (at most
// maxTwins) that already have twinOf: a contact on one of them agrees
// with the other only NEAR (definite ending), and the road register's
// districts say it lives on another road.
const (
	twinStreet = "Strandvej"
	twinOf     = "Strandvejen"
	maxTwins   = 6
)

// messyRoad is a road persons of a messy list may be moved to.
type messyRoad struct {
	pc      int
	st      uint16
	vejkode string
	twin    bool // Strandvej or Strandvejen in a postcode that has both
}

var messyRoads []messyRoad

// initMessyStreets adds the extra roads to the street table (after every
// existing street, so that existing indices, Vejkodes and outputs stay
// the same) and to their postcodes' messy lists.
func initMessyStreets(used map[string]map[uint64]bool) {
	byCode := map[string]int{}
	for pi := range postcodes {
		byCode[postcodes[pi].code] = pi
	}
	codes := map[string]string{} // kommune|street index -> Vejkode
	add := func(pi int, full, abbrev string) {
		p := &postcodes[pi]
		for _, s := range p.streets {
			if streets[s].full == full {
				panic("synth: messy street already in postcode " + p.code + ": " + full)
			}
		}
		st := uint16(len(streets))
		for i := range streets {
			if streets[i].full == full && streets[i].abbrev == abbrev {
				st = uint16(i)
				break
			}
		}
		if int(st) == len(streets) {
			streets = append(streets, street{full: full, abbrev: abbrev})
		}
		key := p.kommune + "|" + strconv.Itoa(int(st))
		c, ok := codes[key]
		if !ok {
			c = nextVejkode(used, p.kommune, st)
			codes[key] = c
		}
		p.messy = append(p.messy, st)
		p.messyVejkodes = append(p.messyVejkodes, c)
		messyRoads = append(messyRoads, messyRoad{pc: pi, st: st, vejkode: c, twin: full == twinStreet})
	}
	for _, f := range strings.Split(messyStreetData, "|") {
		code, rest, _ := strings.Cut(f, " ")
		full, abbrev, ok := strings.Cut(rest, "=")
		if !ok {
			abbrev = full
		}
		pi, ok := byCode[code]
		if !ok {
			panic("synth: messy street in unknown postcode " + code)
		}
		add(pi, full, abbrev)
	}
	twins := 0
	for pi := range postcodes {
		if twins == maxTwins {
			break
		}
		p := &postcodes[pi]
		for k, s := range p.streets {
			if streets[s].full == twinOf {
				add(pi, twinStreet, twinStreet)
				// The existing road is a place to live for messy persons too.
				messyRoads = append(messyRoads, messyRoad{pc: pi, st: s, vejkode: p.vejkodes[k], twin: true})
				twins++
				break
			}
		}
	}
}

// familyMiddles are the surnames a messy person may carry as a middle
// name; the list uses them far more often as surnames, so they are
// family-type given names (screening-rules.md section 3.4).
var familyMiddles = []string{"Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen", "Rasmussen", "Jørgensen", "Madsen", "Kristensen", "Olsen", "Thomsen", "Møller", "Lykke", "Skov", "Holm", "Dahl", "Lund"}

// messyPerson moves about one person in eight to a messy road and gives
// about one in eight a family-type middle name.
func messyPerson(r *rng, p *Person) {
	if r.pct(12) {
		m := messyRoads[r.n(len(messyRoads))]
		a := fillAddress(r, m.pc, m.st, m.vejkode)
		if p.Previous == nil || p.Previous.addrKey() != a.addrKey() {
			p.setCurrent(a)
		}
	}
	if r.pct(12) {
		w := familyMiddles[r.n(len(familyMiddles))]
		for _, s := range p.Surnames {
			if s == w {
				return
			}
		}
		for _, s := range p.Given {
			if s == w {
				return
			}
		}
		if len([]rune(p.ListName()))+1+len([]rune(w)) <= 34 {
			p.Given = append(p.Given[:len(p.Given):len(p.Given)], w)
		}
	}
}

// messyIndex is what MessyContacts needs to derive the expected outcome
// from the rules: every list record by postcode and house number, the
// family-type words, and the road register.
type messyIndex struct {
	byHouse map[string][]oRec // postcode|house -> records
	family  map[string]bool
	roads   map[roadKey][]string // normalised names
	roadsAt map[string][]roadKey // postcode -> roads with a district there (all house numbers)
	people  []int                // persons with a family-type middle name
	twins   []int                // persons on a twin road
}

type roadKey struct{ kommune, vejkode string }

func (g *Generator) messyIdx() *messyIndex {
	g.messyOnce.Do(func() {
		x := &messyIndex{byHouse: map[string][]oRec{}, roads: map[roadKey][]string{}, roadsAt: map[string][]roadKey{}}
		// The road register, as WriteStreets writes it.
		for pi := range postcodes {
			p := &postcodes[pi]
			addRoad := func(st uint16, vk string) {
				k := roadKey{p.kommune, vk}
				x.roadsAt[p.code] = append(x.roadsAt[p.code], k)
				if _, ok := x.roads[k]; ok {
					return
				}
				s := &streets[st]
				names := []string{norm31(s.abbrev), norm31(s.full)}
				kn, _ := strconv.Atoi(p.kommune)
				if e := earlierOf(roadHash(kn, st)); e != nil {
					names = append(names, norm31(e.abbrev), norm31(e.full))
				}
				x.roads[k] = names
			}
			for i, st := range p.streets {
				addRoad(st, p.vejkodes[i])
			}
			if g.cfg.Messy {
				for i, st := range p.messy {
					addRoad(st, p.messyVejkodes[i])
				}
			}
		}
		sur, giv := map[string]int{}, map[string]int{}
		r := newRNG()
		twinRoad := map[roadKey]bool{}
		for _, m := range messyRoads {
			if m.twin {
				twinRoad[roadKey{postcodes[m.pc].kommune, m.vejkode}] = true
			}
		}
		for i := 0; i < g.persons; i++ {
			p := g.person(r, i)
			name := listName(p.ListName())
			cur := p.Current()
			addrs := []Address{cur}
			if p.Previous != nil {
				addrs = append(addrs, *p.Previous)
			}
			for _, a := range addrs {
				k := a.Postcode + "|" + a.House()
				x.byHouse[k] = append(x.byHouse[k], oRec{person: i, name: name, addr: listAddr(a), road: roadKey{a.Kommunekode, a.Vejkode}})
				seen := map[string]bool{}
				for _, w := range name.sur {
					if !seen["s"+w] {
						seen["s"+w] = true
						sur[w]++
					}
				}
				for _, gv := range name.giv {
					if !seen["g"+gv.w] {
						seen["g"+gv.w] = true
						giv[gv.w]++
					}
				}
			}
			if len(p.Given) > 1 && slicesContains(familyMiddles, p.Given[len(p.Given)-1]) {
				x.people = append(x.people, i)
			}
			if twinRoad[roadKey{cur.Kommunekode, cur.Vejkode}] {
				x.twins = append(x.twins, i)
			}
		}
		x.family = map[string]bool{}
		for w, n := range sur {
			if n > giv[w] {
				x.family[w] = true
			}
		}
		g.messy = x
	})
	return g.messy
}

func slicesContains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func listAddr(a Address) oAddr {
	return oAddr{pc: a.Postcode, street: norm31(a.StreetAbbrev), house: a.House(), floor: a.Floor, door: a.Door}
}
