package robinson

import (
	"slices"
	"strings"
)

// ListRoads holds, for each postcode and road (Kommunekode and Vejkode) of
// a list's records, the letters of the streets the list prints for them
// (StreetLettersWidth bytes each: s0 and the edit signatures,
// streetLetters):
// what a store's filter holds of those records' streets.
// With a road register, NewRoadExtras compares them with the names the
// register holds for the road. The zero ListRoads is empty and ready to
// use; it is not safe for concurrent use while it is filled.
type ListRoads struct {
	m map[listRoad][]byte
}

type listRoad struct {
	postcode string
	road     RoadID
}

// StreetLettersWidth is the width of a street's letters in ListRoads: its
// s0, 1 when it has edit signatures (else 0), and its two edit signatures
// (zero when it has none).
const StreetLettersWidth = 2 + 2*editSigLen

// streetLetters returns the letters of a normalised street as ListRoads
// keeps them; all zero for a street without a letter or digit.
func streetLetters(s string) (l [StreetLettersWidth]byte) {
	if l[0] = streetFirst(s); l[0] == 0 {
		return l
	}
	if a, b, ok := streetEditSigs(s); ok {
		l[1] = 1
		copy(l[2:], a[:])
		copy(l[2+editSigLen:], b[:])
	}
	return l
}

// Add records the printed street of rec when its road is known. A record
// without a street counts as letters all zero (NewRoadExtras then treats
// every register name of its road as extra).
func (l *ListRoads) Add(rec *Record) {
	if !rec.Road.Known() {
		return
	}
	sl := streetLetters(rec.Address.Street)
	l.AddLetters(rec.Address.Postcode, rec.Road, sl[:])
}

// AddLetters records streets' letters (StreetLettersWidth bytes each)
// printed for road at postcode, as Each hands them out. A short last part
// is ignored.
func (l *ListRoads) AddLetters(postcode string, road RoadID, letters []byte) {
	if l.m == nil {
		l.m = make(map[listRoad][]byte)
	}
	k := listRoad{postcode, road}
	cur, ok := l.m[k]
	if !ok {
		k.postcode = strings.Clone(postcode)
	}
	for i := 0; i+StreetLettersWidth <= len(letters); i += StreetLettersWidth {
		cur = appendKeyN(cur, letters[i:i+StreetLettersWidth]...)
	}
	l.m[k] = cur
}

// Len returns the number of postcode and road pairs.
func (l *ListRoads) Len() int { return len(l.m) }

// Each calls fn with every postcode and road and the letters of the
// streets printed for it (StreetLettersWidth bytes each; fn must not keep
// the slice).
func (l *ListRoads) Each(fn func(postcode string, road RoadID, letters []byte)) {
	for k, v := range l.m {
		fn(k.postcode, k.road, v)
	}
}

// RoadExtras lists, per postcode, the road-register names of the roads a
// list's records lie on (ListRoads) whose letters the streets the list
// prints for that road at that postcode do not carry: the names through
// which a contact's street can agree (REGISTER, or NEAR through the
// register) with a record whose signature pairs it does not share
// (Probe.useExtras). It is immutable and safe for concurrent use.
type RoadExtras struct {
	byPostcode map[string][]roadExtra
	n          int
}

type roadExtra struct {
	road RoadID
	name string
	s0   byte
	st   [2][editSigLen]byte
	stOK bool
	// exact: a street that agrees with name EQUAL or ABBREVIATED (and so
	// shares s0 with it) can miss every printed street's keys, as its s0
	// is not theirs; near: a street NEAR name (sharing s0 or an edit
	// signature with it) can, as name's s0 or an edit signature is not
	// theirs.
	exact, near bool
}

// NewRoadExtras compares the list's printed streets with the names roads
// holds for their roads (RoadNames) and keeps the names that are extra.
func NewRoadExtras(list *ListRoads, roads Roads) *RoadExtras {
	x := &RoadExtras{byPostcode: map[string][]roadExtra{}}
	if list == nil || roads == nil {
		return x
	}
	list.Each(func(postcode string, road RoadID, printed []byte) {
		for _, n := range roads.RoadNames(road) {
			nl := streetLetters(n)
			e := roadExtra{road: road, name: n, s0: nl[0], stOK: nl[1] != 0}
			copy(e.st[0][:], nl[2:])
			copy(e.st[1][:], nl[2+editSigLen:])
			for i := 0; i+StreetLettersWidth <= len(printed); i += StreetLettersWidth {
				pl := printed[i : i+StreetLettersWidth]
				pt := [2]string{string(pl[2 : 2+editSigLen]), string(pl[2+editSigLen:])}
				carried := func(t [editSigLen]byte) bool { return pl[1] != 0 && (string(t[:]) == pt[0] || string(t[:]) == pt[1]) }
				e.exact = e.exact || e.s0 != pl[0] || e.s0 == 0
				e.near = e.near || e.s0 != pl[0] || e.s0 == 0 || e.stOK && (!carried(e.st[0]) || !carried(e.st[1]))
			}
			if e.exact || e.near {
				x.byPostcode[postcode] = append(x.byPostcode[postcode], e)
				x.n++
			}
		}
	})
	// A fixed order, whatever the map's: the probe's road keys are then
	// the same for the same data.
	for _, es := range x.byPostcode {
		slices.SortFunc(es, func(a, b roadExtra) int {
			if c := int(a.road.Kommune) - int(b.road.Kommune); c != 0 {
				return c
			}
			if c := int(a.road.Vej) - int(b.road.Vej); c != 0 {
				return c
			}
			return strings.Compare(a.name, b.name)
		})
	}
	return x
}

// Len returns the number of extra names.
func (x *RoadExtras) Len() int {
	if x == nil {
		return 0
	}
	return x.n
}
