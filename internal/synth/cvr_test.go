package synth

import (
	"bytes"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/cvr"
)

func TestWriteCVR(t *testing.T) {
	pub := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	for _, layout := range []string{CVRJSON, CVRCSV} {
		t.Run(layout, func(t *testing.T) {
			g := NewGenerator(Config{Seed: 7, Published: pub})
			var a, b bytes.Buffer
			st, err := g.WriteCVR(&a, 10000, 0.1, layout)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := g.WriteCVR(&b, 10000, 0.1, layout); err != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatal("output not deterministic")
			}
			if st.Companies != 10000 || st.Units < 6000 || st.Units > 9000 || st.Protected < 1400 || st.Protected > 2000 {
				t.Fatalf("stats %+v", st)
			}
			var companies, units, protected int
			seen := map[cvr.Number]bool{}
			ps, err := cvr.Parse(bytes.NewReader(a.Bytes()), cvr.Options{MaxRejectRatio: -1}, func(e *cvr.Entry) error {
				if e.Kind == cvr.KindCompany {
					companies++
					if seen[e.CVR] {
						t.Fatalf("company %v twice", e.CVR)
					}
					seen[e.CVR] = true
				} else {
					units++
					if len(e.Owners) != 1 || !seen[e.Owners[0]] {
						t.Fatalf("unit %+v without its company before it", e)
					}
				}
				if e.Protected {
					protected++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if companies != st.Companies || units != st.Units || protected != st.Protected {
				t.Fatalf("parsed %d companies, %d units, %d protected; wrote %+v", companies, units, protected, st)
			}
			if layout == CVRJSON && !ps.Newest.Equal(pub) {
				t.Errorf("newest timestamp %v, want %v", ps.Newest, pub)
			}
			if layout == CVRCSV && ps.Headers != 1 {
				t.Errorf("%d CSV headers", ps.Headers)
			}
		})
	}
	if _, err := NewGenerator(Config{}).WriteCVR(&bytes.Buffer{}, 1, 0, "xml"); err == nil {
		t.Error("an unknown layout is accepted")
	}
}
