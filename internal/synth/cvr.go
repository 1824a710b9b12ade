package synth

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/robinscreen/robinscreen/cvr"
	"github.com/robinscreen/robinscreen/internal/cvrfmt"
)

// CVRStats counts what WriteCVR wrote.
type CVRStats struct {
	Companies, Units, Protected int
}

// CVR file layouts of WriteCVR.
const (
	CVRJSON = "json" // JSON documents, one per line (every second a search hit)
	CVRCSV  = "csv"  // cvr;pnummer;reklamebeskyttet
)

// firstSyntheticCVR is where the synthetic CVR numbers start (the next
// valid number from here); the P-numbers start at firstSyntheticP.
const (
	firstSyntheticCVR = 10000000
	firstSyntheticP   = 1000000000
)

// WriteCVR writes synthetic CVR advertising-protection data
// (data-formats.md section 6) of n invented companies: the valid CVR
// numbers from 10000000 upwards, in order, each with advertising
// protection with probability protected; about one company in two has
// one or two production units (P-numbers from 1000000000 upwards), each
// protected with the same probability, related to its company. layout is
// CVRJSON (the newest document's sidstOpdateret is Config.Published) or
// CVRCSV. The output depends on the seed, n, protected and the date only.
// It returns the counts and w's errors.
func (g *Generator) WriteCVR(w io.Writer, n int, protected float64, layout string) (CVRStats, error) {
	var st CVRStats
	if layout != CVRJSON && layout != CVRCSV {
		return st, fmt.Errorf("synth: CVR layout %q is neither %q nor %q", layout, CVRJSON, CVRCSV)
	}
	r := rand.New(rand.NewPCG(g.cfg.Seed, 0xC5A))
	bw := bufio.NewWriterSize(w, 1<<20)
	var companies []cvrfmt.Company
	var units []cvrfmt.Unit
	next, p := uint64(firstSyntheticCVR), uint64(firstSyntheticP)
	for i := 0; i < n; i++ {
		num := nextCVR(&next)
		c := cvrfmt.Company{CVR: num.String(), Name: fmt.Sprintf("Syntetisk Virksomhed %d ApS", i+1), Protected: r.Float64() < protected,
			Kommune: 101 + r.IntN(800), Vejkode: 1 + r.IntN(9999)}
		companies = append(companies, c)
		if r.IntN(2) == 0 {
			for range 1 + r.IntN(2) {
				units = append(units, cvrfmt.Unit{P: fmt.Sprint(p), Owner: c.CVR, Name: c.Name, Protected: r.Float64() < protected})
				p++
			}
		}
		// Written in batches, so memory does not grow with n.
		if len(companies)+len(units) >= 4096 || i == n-1 {
			if err := writeCVRBatch(bw, g.cfg.Published, companies, units, layout, st.Companies+st.Units == 0, &st); err != nil {
				return st, err
			}
			companies, units = companies[:0], units[:0]
		}
	}
	return st, bw.Flush()
}

// nextCVR returns the next valid CVR number from *v on and moves *v past it.
func nextCVR(v *uint64) cvr.Number {
	for {
		num, err := cvr.NumberOf(*v)
		*v++
		if err == nil {
			return num
		}
	}
}

// writeCVRBatch writes companies and units; the first batch of a CSV
// carries the header. Every JSON document is dated at the extraction date
// (the newest timestamp of the file).
func writeCVRBatch(w io.Writer, extracted time.Time, cs []cvrfmt.Company, us []cvrfmt.Unit, layout string, first bool, st *CVRStats) error {
	for _, c := range cs {
		st.Companies++
		if c.Protected {
			st.Protected++
		}
	}
	for _, u := range us {
		st.Units++
		if u.Protected {
			st.Protected++
		}
	}
	var b []byte
	if layout == CVRCSV {
		b = cvrfmt.CSVFile(cs, us)
		if !first {
			_, b, _ = cutLine(b)
		}
	} else {
		b = cvrfmt.JSONFile(extracted, cs, us)
	}
	_, err := w.Write(b)
	return err
}

// cutLine drops the first line of b.
func cutLine(b []byte) ([]byte, []byte, bool) {
	for i, c := range b {
		if c == '\n' {
			return b[:i+1], b[i+1:], true
		}
	}
	return b, nil, false
}
