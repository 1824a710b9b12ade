package synth

import (
	"bufio"
	"cmp"
	"io"
	"slices"
	"strconv"
	"time"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"

	"github.com/robinscreen/robinscreen/internal/cprfmt"
)

// StreetsStats counts what WriteStreets wrote.
type StreetsStats struct {
	Roads, Districts, EarlierNames int
}

// WriteStreets writes the synthetic CPR road register (data-formats.md
// section 5) of every synthetic street: ISO 8859-1, CRLF line ends,
// trailing blanks trimmed, a 000 header dated Config.Published and a 999
// trailer. Each road — a street of a kommune, with the Kommunekode and
// Vejkode the list's records carry — has its 001 record (the list's
// addressing name, at most 20 characters and abbreviated for long names,
// and the full name), for about one road in twelve an earlier name (016),
// and a postal-district record (004) per postcode it lies in, covering
// every house number the generator draws (1-250, and the neighbours'
// houses up to 259): one range, an even and an odd range, or two ranges
// split at a house number with a letter. The register depends on the
// tables only, not on the seed or the record count.
func (g *Generator) WriteStreets(w io.Writer) (StreetsStats, error) {
	type pcRoad struct {
		kommune, vejkode string
		st               uint16
		pc               int
	}
	var all []pcRoad
	for pi := range postcodes {
		p := &postcodes[pi]
		for i, st := range p.streets {
			all = append(all, pcRoad{p.kommune, p.vejkodes[i], st, pi})
		}
		if g.cfg.Messy {
			for i, st := range p.messy {
				all = append(all, pcRoad{p.kommune, p.messyVejkodes[i], st, pi})
			}
		}
	}
	slices.SortFunc(all, func(a, b pcRoad) int {
		return cmp.Or(cmp.Compare(a.kommune, b.kommune), cmp.Compare(a.vejkode, b.vejkode), cmp.Compare(postcodes[a.pc].code, postcodes[b.pc].code))
	})
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := transform.NewWriter(bw, charmap.ISO8859_1.NewEncoder())
	pub := g.cfg.Published
	stamp := time.Date(pub.Year()-3, 1, 1, 12, 0, 0, 0, time.UTC)
	var st StreetsStats
	lines := 0
	var err error
	line := func(s string) {
		if err == nil {
			_, err = io.WriteString(enc, s+"\r\n")
			lines++
		}
	}
	line(cprfmt.RoadsStart(pub))
	for i, r := range all {
		s := &streets[r.st]
		k, _ := strconv.Atoi(r.kommune)
		h := roadHash(k, r.st)
		if i == 0 || all[i-1].kommune != r.kommune || all[i-1].vejkode != r.vejkode {
			st.Roads++
			line(cprfmt.RoadRecord(r.kommune, r.vejkode, stamp, s.abbrev, s.full))
			if e := earlierOf(h); e != nil {
				end := stamp.AddDate(-int(h>>16%30), 0, 0)
				line(cprfmt.EarlierRecord(r.kommune, r.vejkode, stamp, end.AddDate(-40, 0, 0), end, e.abbrev, e.full))
				st.EarlierNames++
			}
		}
		p := &postcodes[r.pc]
		dh := mix64(h ^ uint64(r.pc))
		var ds [][3]string // from, to, parity
		switch dh % 10 {
		case 0, 1, 2, 3, 4:
			ds = [][3]string{{"0001", "0299", ""}}
		case 5, 6, 7:
			ds = [][3]string{{"0001", "0299", "U"}, {"0002", "0298", "L"}}
		default:
			// Split at a house number with letters: 1-cut in one record,
			// cut+1 on in another, written the way CPR writes them.
			cut := 20 + int(dh>>8%200)
			ds = [][3]string{{"0001", cprfmt.HouseNumber4(cut, "Z"), ""}, {cprfmt.HouseNumber4(cut+1, "A"), "0299", ""}}
		}
		for _, d := range ds {
			line(cprfmt.DistrictRecord(r.kommune, r.vejkode, d[0], d[1], d[2], stamp, p.code, p.town))
			st.Districts++
		}
	}
	line(cprfmt.RoadsEnd(lines + 1))
	if err != nil {
		return st, err
	}
	if err := enc.Close(); err != nil {
		return st, err
	}
	return st, bw.Flush()
}

// roadHash is the hash that decides a road's earlier name and districts.
func roadHash(kommune int, st uint16) uint64 {
	return mix64(uint64(kommune)<<16 | uint64(st) ^ 0x57EE75)
}

// earlierOf returns the earlier name (016) of the road with hash h, or nil:
// about one road in twelve has one.
func earlierOf(h uint64) *street {
	if h%12 != 0 {
		return nil
	}
	return &earlierNames[(h>>8)%uint64(len(earlierNames))]
}
