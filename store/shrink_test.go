package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/internal/cprfmt"
	"github.com/robinscreen/robinscreen/screening"
)

// shrinkFile writes a file of kind with n records.
func shrinkFile(t *testing.T, dir, kind string, n int) string {
	t.Helper()
	name := fmt.Sprintf("%s-%d.txt", kind, n)
	switch kind {
	case screening.KindRobinson:
		es := make([]cprfmt.RobinsonEntry, n)
		for i := range es {
			h := fmt.Sprintf("%03d", i+1)
			es[i] = cprfmt.RobinsonEntry{Name: "Testesen,Søren", Address: fmt.Sprintf("Fiktivvej %d, 2. tv", i+1), PostDist: "2100 København Ø", HouseNumber: h, Floor: "02", Door: "tv"}
		}
		b, err := cprfmt.RobinsonFile(published, es)
		if err != nil {
			t.Fatal(err)
		}
		return writeFile(t, dir, name, b)
	case screening.KindCPR:
		lines := []string{cprfmt.CPRStart(published)}
		for i := 0; i < n; i++ {
			lines = append(lines, cprfmt.CPRPerson(fmt.Sprintf("%02d%02d80%04d", i%28+1, i/28+1, 1230), "01"))
		}
		lines = append(lines, cprfmt.CPREnd(len(lines)-1))
		return writeFile(t, dir, name, []byte(strings.Join(lines, "\n")+"\n"))
	case screening.KindStreets:
		es := make([]cprfmt.RoadEntry, n)
		for i := range es {
			es[i] = cprfmt.RoadEntry{Kommunekode: "0101", Vejkode: fmt.Sprintf("%04d", 1000+i), AddressingName: fmt.Sprintf("Fiktivvej %d", i), Name: fmt.Sprintf("Fiktivvej %d", i),
				Districts: []cprfmt.DistrictEntry{{From: "0001", To: "0099", Postcode: "2100", Town: "København Ø"}}}
		}
		return streetsFile(t, dir, name, published, es)
	case screening.KindCVR:
		return cvrJSONFile(t, dir, name, manyCompanies(n), nil)
	}
	t.Fatalf("kind %s", kind)
	return ""
}

func TestShrinkRule(t *testing.T) {
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) {
			ctx, src := context.Background(), t.TempDir()
			s := openStore(t, t.TempDir())
			load := func(n int, allow bool) (*Manifest, error) {
				opt := LoadOptions{AllowShrink: allow, Now: func() time.Time { return published.Add(time.Duration(n) * time.Second) }}
				path := shrinkFile(t, src, kind, n)
				switch kind {
				case screening.KindRobinson:
					return s.LoadRobinson(ctx, path, opt)
				case screening.KindCPR:
					return s.LoadCPR(ctx, path, opt)
				case screening.KindCVR:
					return s.LoadCVR(ctx, path, opt)
				}
				return s.LoadStreets(ctx, path, opt)
			}
			first, err := load(20, false)
			if err != nil {
				t.Fatal(err)
			}
			if first.Records != 20 {
				t.Fatalf("first version: %d records, want 20", first.Records)
			}

			// 17 of 20 records (85 %): refused, recorded, the serving
			// version untouched.
			_, err = load(17, false)
			var le *LoadError
			var se *ShrinkError
			if !errors.As(err, &le) || !errors.As(err, &se) || !errors.Is(err, ErrShrink) {
				t.Fatalf("17 of 20 records: err = %v, want a *LoadError wrapping a *ShrinkError", err)
			}
			want := fmt.Sprintf("17 records, fewer than 90 %% of the 20 records of the serving version %s; pass --allow-shrink if expected", first.Version)
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
			if r := s.LastRefused(kind); r == nil || !strings.Contains(r.Error, want) || r.SourceName != kind+"-17.txt" {
				t.Errorf("refusal not recorded: %+v", r)
			}
			if v := s.servingVersion(kind); v != first.Version {
				t.Errorf("serving %s after a refused shrink, want %s", v, first.Version)
			}

			// 18 of 20 (exactly 90 %) is not a shrink.
			second, err := load(18, false)
			if err != nil {
				t.Fatalf("18 of 20 records (90 %%): %v", err)
			}
			// 2 of 18 with AllowShrink: accepted and serving.
			third, err := load(2, true)
			if err != nil {
				t.Fatalf("2 of 18 records with AllowShrink: %v", err)
			}
			if v := s.servingVersion(kind); v != third.Version || v == second.Version {
				t.Errorf("serving %s, want %s", v, third.Version)
			}
			// Growing is never refused.
			if _, err := load(40, false); err != nil {
				t.Errorf("40 of 2 records: %v", err)
			}
		})
	}
}
