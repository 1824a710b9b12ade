package synth

import (
	"bytes"
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// weighted is a table to draw indices from with a frequency skew.
type weighted struct {
	cum []uint32 // cumulative weights
}

func newWeighted(w []int) weighted {
	c := make([]uint32, len(w))
	var t uint32
	for i, x := range w {
		t += uint32(x)
		c[i] = t
	}
	return weighted{cum: c}
}

// draw maps a uniform value to an index.
func (w weighted) draw(r *rng) int {
	x := uint32(r.n(int(w.cum[len(w.cum)-1])))
	i, _ := slices.BinarySearch(w.cum, x+1)
	return i
}

type street struct {
	full, abbrev string
	city         bool
}

type postcode struct {
	code, town, kommune string
	weight              int
	city                bool // central Copenhagen/Frederiksberg
	streets             []uint16
	vejkodes            []string // the Vejkode of each of streets
	// messy and messyVejkodes are the extra roads of Config.Messy (see
	// messyStreetData); they are not drawn from without it.
	messy         []uint16
	messyVejkodes []string
}

// Tables, built once at package initialisation.
var (
	surnames       []string
	surnameRank    []uint16 // collation rank of surnames[i]
	surnameW       weighted
	givenNames     []string // female and male names, deduplicated
	givenRank      []uint16
	femaleIdx      []uint16 // indices into givenNames
	maleIdx        []uint16
	femaleW, maleW weighted
	streets        []street
	genericStreets []uint16
	cityStreets    []uint16
	postcodes      []postcode
	postcodeW      weighted
	localities     []string
	earlierNames   []street
)

func init() {
	var sw []int
	surnames, sw = parseNameWeights(surnameData)
	surnameW = newWeighted(sw)
	surnameRank = ranks(surnames)

	fem, fw := parseNameWeights(femaleData)
	mal, mw := parseNameWeights(maleData)
	pos := map[string]uint16{}
	add := func(n string) uint16 {
		if i, ok := pos[n]; ok {
			return i
		}
		pos[n] = uint16(len(givenNames))
		givenNames = append(givenNames, n)
		return pos[n]
	}
	for _, n := range fem {
		femaleIdx = append(femaleIdx, add(n))
	}
	for _, n := range mal {
		maleIdx = append(maleIdx, add(n))
	}
	femaleW, maleW = newWeighted(fw), newWeighted(mw)
	givenRank = ranks(givenNames)

	parseStreets := func(data string, city bool) (idx []uint16) {
		for _, f := range strings.Split(data, "|") {
			full, abbrev, ok := strings.Cut(f, "=")
			if !ok {
				abbrev = full
			}
			if len([]rune(abbrev)) > 20 {
				panic("synth: street without a short form: " + full)
			}
			idx = append(idx, uint16(len(streets)))
			streets = append(streets, street{full: full, abbrev: abbrev, city: city})
		}
		return idx
	}
	genericStreets = parseStreets(genericStreetData, false)
	cityStreets = parseStreets(cityStreetData, true)

	type kr struct {
		from int
		code string
	}
	var krs []kr
	for _, f := range strings.Split(kommuneData, "|") {
		a, b, _ := strings.Cut(f, " ")
		n, _ := strconv.Atoi(a)
		krs = append(krs, kr{n, b})
	}
	var pw []int
	for pi, f := range strings.Split(postcodeData, "|") {
		code, rest, _ := strings.Cut(f, " ")
		sp := strings.LastIndexByte(rest, ' ')
		town := rest[:sp]
		w, _ := strconv.Atoi(rest[sp+1:])
		n, _ := strconv.Atoi(code)
		k := krs[0].code
		for _, r := range krs {
			if r.from <= n {
				k = r.code
			}
		}
		p := postcode{code: code, town: town, kommune: k, weight: w, city: n < 2500}
		// Each postcode has its own set of streets: more in big districts.
		ns := 20 + 12*w
		seen := map[uint16]bool{}
		h := mix64(uint64(n) * 0x9E3779B97F4A7C15)
		for len(p.streets) < ns {
			h = mix64(h + 1)
			var s uint16
			if p.city && h%3 != 0 {
				s = cityStreets[(h>>8)%uint64(len(cityStreets))]
			} else {
				s = genericStreets[(h>>8)%uint64(len(genericStreets))]
			}
			if !seen[s] {
				seen[s] = true
				p.streets = append(p.streets, s)
			}
		}
		_ = pi
		postcodes = append(postcodes, p)
		pw = append(pw, w*w)
	}
	postcodeW = newWeighted(pw)
	used := vejkodes()
	initMessyStreets(used)
	for _, f := range strings.Split(earlierStreetData, "|") {
		full, abbrev, ok := strings.Cut(f, "=")
		if !ok {
			abbrev = full
		}
		earlierNames = append(earlierNames, street{full: full, abbrev: abbrev})
	}
	localities = strings.Split(localityData, "|")
	// The packed keys (nameParts.key, Address.addrKey) have these widths.
	if len(surnames) > 511 || len(givenNames) > 1022 || len(streets) > 511 || len(postcodes) > 1023 {
		panic("synth: tables too large for the packed keys")
	}
}

func parseNameWeights(data string) (names []string, w []int) {
	for _, f := range strings.Split(data, "|") {
		n, ws, _ := strings.Cut(f, " ")
		x, err := strconv.Atoi(ws)
		if err != nil || x <= 0 || strings.ContainsAny(n, " ,") {
			panic("synth: bad name table entry " + f)
		}
		names = append(names, n)
		w = append(w, x)
	}
	return names, w
}

// collationKey orders names the Danish way: case-insensitive, a..z, then
// æ, ø, å; accented letters sort with their base letter.
func collationKey(s string) []byte {
	var b []byte
	for _, r := range strings.ToLower(s) {
		switch r {
		case 'æ', 'ä':
			b = append(b, '{')
		case 'ø', 'ö':
			b = append(b, '|')
		case 'å':
			b = append(b, '}')
		case 'é', 'è', 'ê':
			b = append(b, 'e')
		case 'ü':
			b = append(b, 'y')
		default:
			if r < 0x80 && (unicode.IsLetter(r) || r == '-' || r == '\'') {
				b = append(b, byte(r))
			} else {
				panic("synth: unexpected character in name " + s)
			}
		}
	}
	return b
}

// ranks returns the collation rank of each name; ranks are unique.
func ranks(names []string) []uint16 {
	idx := make([]int, len(names))
	keys := make([][]byte, len(names))
	for i := range idx {
		idx[i] = i
		keys[i] = collationKey(names[i])
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := bytes.Compare(keys[a], keys[b]); c != 0 {
			return c
		}
		return cmp.Compare(names[a], names[b])
	})
	r := make([]uint16, len(names))
	for rank, i := range idx {
		r[i] = uint16(rank)
	}
	return r
}
