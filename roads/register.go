package roads

import (
	"cmp"
	"iter"
	"slices"
	"strings"

	"github.com/robinscreen/robinscreen/robinson"
)

// Road is everything the register holds for one road, names as written
// (blanks trimmed, not normalised).
type Road struct {
	ID robinson.RoadID
	// AddressingName and Name are the active road's (001) addressing name
	// and full street name; empty when the register has no 001 record for
	// the road (only districts or earlier names).
	AddressingName, Name string
	// Earlier holds the earlier names (016), in file order.
	Earlier []EarlierName
	// Districts holds the postal districts (004), in file order.
	Districts []District
}

// EarlierName is a road's name before it was renamed (016).
type EarlierName struct {
	AddressingName, Name string
}

// Builder collects a register's records; Build makes the Register. The
// zero Builder is ready to use. A Builder is not safe for concurrent use.
type Builder struct {
	roads map[robinson.RoadID]*Road
}

func (b *Builder) road(id robinson.RoadID) *Road {
	if b.roads == nil {
		b.roads = map[robinson.RoadID]*Road{}
	}
	r := b.roads[id]
	if r == nil {
		r = &Road{ID: id}
		b.roads[id] = r
	}
	return r
}

// Add adds a parsed record (KindRoad, KindDistrict, KindEarlier; other
// kinds are ignored). A second 001 record for a road keeps the first
// one's names and adds its own as earlier names, so no name is lost.
func (b *Builder) Add(e *Entry) {
	switch e.Kind {
	case KindRoad:
		r := b.road(e.Road)
		if r.AddressingName == "" && r.Name == "" {
			r.AddressingName, r.Name = e.AddressingName, e.Name
		} else {
			r.Earlier = append(r.Earlier, EarlierName{e.AddressingName, e.Name})
		}
	case KindEarlier:
		r := b.road(e.Road)
		r.Earlier = append(r.Earlier, EarlierName{e.AddressingName, e.Name})
	case KindDistrict:
		r := b.road(e.Road)
		r.Districts = append(r.Districts, e.District)
	}
}

// AddRoad adds a whole road (as Register.Roads yields it), merging it
// with what the builder holds for the road already. The builder keeps no
// reference to r's slices.
func (b *Builder) AddRoad(r Road) {
	dst := b.road(r.ID)
	if dst.AddressingName == "" && dst.Name == "" {
		dst.AddressingName, dst.Name = r.AddressingName, r.Name
	} else if r.AddressingName != "" || r.Name != "" {
		dst.Earlier = append(dst.Earlier, EarlierName{r.AddressingName, r.Name})
	}
	dst.Earlier = append(dst.Earlier, r.Earlier...)
	dst.Districts = append(dst.Districts, r.Districts...)
}

// Len returns the number of roads added so far.
func (b *Builder) Len() int { return len(b.roads) }

// Build returns the Register of everything added. The builder must not
// be used afterwards.
func (b *Builder) Build() *Register {
	reg := &Register{names: make(map[robinson.RoadID][]string, len(b.roads)), postcodes: map[string]*postcodeIndex{}}
	reg.roads = make([]Road, 0, len(b.roads))
	for _, r := range b.roads {
		reg.roads = append(reg.roads, *r)
	}
	b.roads = nil
	slices.SortFunc(reg.roads, func(x, y Road) int { return compareID(x.ID, y.ID) })
	byPostcode := map[string][]districtOf{}
	for i := range reg.roads {
		r := &reg.roads[i]
		reg.districts += len(r.Districts)
		reg.earlier += len(r.Earlier)
		if names := normalisedNames(r); len(names) > 0 {
			reg.names[r.ID] = names
		}
		for _, d := range r.Districts {
			byPostcode[d.Postcode] = append(byPostcode[d.Postcode], districtOf{r.ID, d})
		}
	}
	for pc, ds := range byPostcode {
		reg.postcodes[pc] = newPostcodeIndex(ds)
	}
	return reg
}

func compareID(x, y robinson.RoadID) int {
	if c := cmp.Compare(x.Kommune, y.Kommune); c != 0 {
		return c
	}
	return cmp.Compare(x.Vej, y.Vej)
}

// normalisedNames returns the road's names normalised with
// robinson.NormalizeStreet: addressing name, full name, then the earlier
// names (addressing, full), without empty names or duplicates.
func normalisedNames(r *Road) []string {
	var out []string
	add := func(s string) {
		if strings.TrimSpace(s) == "" {
			return
		}
		n := robinson.NormalizeStreet(s)
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	add(r.AddressingName)
	add(r.Name)
	for _, e := range r.Earlier {
		add(e.AddressingName)
		add(e.Name)
	}
	return slices.Clip(out)
}

// Register is an immutable road register held in memory. It implements
// robinson.Roads; its lookups do not allocate and are safe for
// concurrent use.
type Register struct {
	roads     []Road // sorted by ID
	names     map[robinson.RoadID][]string
	postcodes map[string]*postcodeIndex
	districts int
	earlier   int
}

var _ robinson.Roads = (*Register)(nil)

// RoadNames implements robinson.Roads: the road's normalised addressing
// name, full name and earlier names, without duplicates; nil for a road
// the register does not know. The slice must not be modified.
func (g *Register) RoadNames(road robinson.RoadID) []string {
	if g == nil {
		return nil
	}
	return g.names[road]
}

// RoadsAt implements robinson.Roads: the roads with a postal district
// for postcode whose range (number parts) and parity hold number, in
// RoadID order without duplicates; nil when there are none. The slice
// must not be modified.
func (g *Register) RoadsAt(postcode string, number int) []robinson.RoadID {
	if g == nil {
		return nil
	}
	ix := g.postcodes[postcode]
	if ix == nil {
		return nil
	}
	return ix.at(number)
}

// Road returns what the register holds for a road, and whether it knows
// it. The Road's slices must not be modified.
func (g *Register) Road(id robinson.RoadID) (Road, bool) {
	if g == nil {
		return Road{}, false
	}
	i, ok := slices.BinarySearchFunc(g.roads, id, func(r Road, id robinson.RoadID) int { return compareID(r.ID, id) })
	if !ok {
		return Road{}, false
	}
	return g.roads[i], true
}

// Roads yields every road in RoadID order. The Roads' slices must not be
// modified.
func (g *Register) Roads() iter.Seq[Road] {
	return func(yield func(Road) bool) {
		if g == nil {
			return
		}
		for _, r := range g.roads {
			if !yield(r) {
				return
			}
		}
	}
}

// Len returns the number of roads.
func (g *Register) Len() int {
	if g == nil {
		return 0
	}
	return len(g.roads)
}

// Districts returns the number of postal districts (004) over all roads.
func (g *Register) Districts() int {
	if g == nil {
		return 0
	}
	return g.districts
}

// EarlierNames returns the number of earlier names over all roads.
func (g *Register) EarlierNames() int {
	if g == nil {
		return 0
	}
	return g.earlier
}

// Postcodes returns the number of postcodes with a postal district.
func (g *Register) Postcodes() int {
	if g == nil {
		return 0
	}
	return len(g.postcodes)
}

type districtOf struct {
	road robinson.RoadID
	d    District
}

// postcodeIndex answers RoadsAt for one postcode without allocating: the
// number line is cut at every range's start and end+1 into segments in
// which the set of roads does not change, per parity, and each segment's
// sorted set is precomputed. Equal neighbouring sets share one slice.
type postcodeIndex struct {
	bounds []int // segment i is [bounds[i], bounds[i+1]); the last is empty
	even   [][]robinson.RoadID
	odd    [][]robinson.RoadID
}

func newPostcodeIndex(ds []districtOf) *postcodeIndex {
	var bounds []int
	for _, x := range ds {
		bounds = append(bounds, x.d.From.Number, x.d.To.Number+1)
	}
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)
	ix := &postcodeIndex{bounds: slices.Clip(bounds), even: make([][]robinson.RoadID, len(bounds)), odd: make([][]robinson.RoadID, len(bounds))}
	// Sweep: for each segment the districts covering it. A district covers
	// the segments from its From's to its To+1's bound.
	counts := make(map[robinson.RoadID][2]int) // road -> covering districts (even, odd)
	starts := make([][]int, len(bounds))
	ends := make([][]int, len(bounds))
	for i, x := range ds {
		s, _ := slices.BinarySearch(bounds, x.d.From.Number)
		e, _ := slices.BinarySearch(bounds, x.d.To.Number+1)
		starts[s] = append(starts[s], i)
		ends[e] = append(ends[e], i)
	}
	var prevEven, prevOdd []robinson.RoadID
	for seg := range bounds {
		for _, i := range ends[seg] {
			c := counts[ds[i].road]
			if ds[i].d.Parity != Odd {
				c[0]--
			}
			if ds[i].d.Parity != Even {
				c[1]--
			}
			if c == [2]int{} {
				delete(counts, ds[i].road)
			} else {
				counts[ds[i].road] = c
			}
		}
		for _, i := range starts[seg] {
			c := counts[ds[i].road]
			if ds[i].d.Parity != Odd {
				c[0]++
			}
			if ds[i].d.Parity != Even {
				c[1]++
			}
			counts[ds[i].road] = c
		}
		var ev, od []robinson.RoadID
		for id, c := range counts {
			// A segment of one number has one parity: a district of
			// the other parity covers none of it.
			lo, hi := bounds[seg], bounds[seg]
			if seg+1 < len(bounds) {
				hi = bounds[seg+1] - 1
			}
			if c[0] > 0 && hasParity(lo, hi, 0) {
				ev = append(ev, id)
			}
			if c[1] > 0 && hasParity(lo, hi, 1) {
				od = append(od, id)
			}
		}
		ix.even[seg] = share(&prevEven, ev)
		ix.odd[seg] = share(&prevOdd, od)
	}
	return ix
}

// hasParity reports whether [lo, hi] holds a number of parity p (0 even,
// 1 odd).
func hasParity(lo, hi, p int) bool {
	if hi > lo {
		return true
	}
	return lo&1 == p
}

// share sorts set and returns prev when it holds the same roads, so that
// neighbouring segments with the same roads share memory.
func share(prev *[]robinson.RoadID, set []robinson.RoadID) []robinson.RoadID {
	if len(set) == 0 {
		return nil
	}
	slices.SortFunc(set, compareID)
	if slices.Equal(*prev, set) {
		return *prev
	}
	set = slices.Clip(set)
	*prev = set
	return set
}

func (ix *postcodeIndex) at(n int) []robinson.RoadID {
	// The segment is the last bound at or below n.
	i, found := slices.BinarySearch(ix.bounds, n)
	if !found {
		i--
	}
	if i < 0 {
		return nil
	}
	if n&1 == 0 {
		return ix.even[i]
	}
	return ix.odd[i]
}
