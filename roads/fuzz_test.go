package roads

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/robinscreen/robinscreen/ingest"
	"github.com/robinscreen/robinscreen/robinson"
)

// reasons are every reason ParseLine and Parse give for a rejected line;
// none of them carries text from the line.
var reasons = []error{errType, errKommune, errVej, errNoName, errFrom, errTo, errRange, errParity, errPostcode, ErrLineTooLong}

// FuzzParse parses arbitrary files: Parse never panics, counts every line
// once, rejects only with its fixed reasons, and the Register it returns
// answers RoadsAt as its districts say and RoadNames without duplicates.
// Seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add(file(sample(), true))
	f.Add(file(sample(), false))
	f.Add([]byte("004010100010001009 U2026010112002100Kbh\n0040101000100020098L\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		reg, st, err := Parse(bytes.NewReader(data), Options{MaxRejectRatio: 0.5})
		counted := st.Blank + st.Headers + st.Trailers + st.Skipped + st.Roads + st.Districts + st.Earlier + st.Rejected
		if err == nil && counted != st.Lines {
			t.Fatalf("%d lines, %d counted: %+v", st.Lines, counted, st)
		}
		for _, le := range st.Rejects {
			if le.Line < 1 || le.Line > st.Lines || !slices.ContainsFunc(reasons, func(r error) bool { return errors.Is(le, r) }) {
				t.Fatalf("reject %v", le)
			}
		}
		if err != nil {
			var re *RejectError
			if reg != nil {
				t.Fatal("a register with an error")
			}
			if !errors.Is(err, ErrNoRoads) && !errors.As(err, &re) && !errors.Is(err, ingest.ErrDamagedEncoding) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if st.Roads+st.Districts+st.Earlier == 0 || reg.Len() == 0 || reg.Districts() != st.Districts {
			t.Fatalf("accepted: %+v, %d roads, %d districts", st, reg.Len(), reg.Districts())
		}
		var b Builder
		for r := range reg.Roads() {
			b.AddRoad(r)
			names := reg.RoadNames(r.ID)
			for i, n := range names {
				if n == "" || slices.Contains(names[:i], n) {
					t.Fatalf("road %v: names %q", r.ID, names)
				}
			}
			for _, d := range r.Districts {
				if d.From.Number > d.To.Number || len(d.Postcode) != 4 {
					t.Fatalf("road %v: district %+v", r.ID, d)
				}
				for _, n := range []int{d.From.Number - 1, d.From.Number, d.From.Number + 1, d.To.Number, d.To.Number + 1} {
					checkRoadsAt(t, reg, d.Postcode, n)
				}
			}
		}
		again := b.Build()
		for r := range reg.Roads() {
			if !slices.Equal(again.RoadNames(r.ID), reg.RoadNames(r.ID)) {
				t.Fatalf("road %v: names differ after a rebuild", r.ID)
			}
		}
	})
}

// checkRoadsAt compares RoadsAt with the districts themselves.
func checkRoadsAt(t *testing.T, reg *Register, postcode string, n int) {
	t.Helper()
	var want []robinson.RoadID
	for r := range reg.Roads() {
		for _, d := range r.Districts {
			if d.Postcode == postcode && d.Holds(n) {
				want = append(want, r.ID)
				break
			}
		}
	}
	if got := reg.RoadsAt(postcode, n); !slices.Equal(got, want) {
		t.Fatalf("RoadsAt(%q, %d) = %v, want %v", postcode, n, got, want)
	}
}

// FuzzParseLine checks single lines: no panic, fixed reasons, and the
// fields of an accepted record hold what the layout promises.
func FuzzParseLine(f *testing.F) {
	for _, l := range sample() {
		f.Add([]byte(l))
	}
	f.Add([]byte("004010100010000999LU"))
	f.Add([]byte("0160101000120260101120019991231235920261231235"))
	f.Fuzz(func(t *testing.T, line []byte) {
		e, err := ParseLine(line)
		if err != nil {
			if !slices.Contains(reasons, err) {
				t.Fatalf("reason %v", err)
			}
			return
		}
		switch e.Kind {
		case KindRoad, KindEarlier:
			if !e.Road.Known() || e.AddressingName == "" && e.Name == "" {
				t.Fatalf("%+v", e)
			}
		case KindDistrict:
			d := e.District
			if !e.Road.Known() || d.From.Number > d.To.Number || !allDigits(d.Postcode, 4) || d.Parity > Odd {
				t.Fatalf("%+v", e)
			}
		}
	})
}
