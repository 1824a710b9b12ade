package store

import (
	"context"
	"strings"
	"testing"

	"github.com/robinscreen/robinscreen/internal/cprfmt"
	"github.com/robinscreen/robinscreen/screening"
)

// roadEntries are list records on the roads of testRoads: the list prints
// the addressing name; the register adds the full name and, for
// Borgm Christiansensg, the earlier name Christiansgade, which starts with
// another letter than the printed street.
var roadEntries = []cprfmt.RobinsonEntry{
	{Name: "Hansen,Mette", Address: "Borgm Christiansensg 7", PostDist: "2100 København Ø", HouseNumber: "007", Kommunekode: "0101", Vejkode: "2001"},
	{Name: "Jensen,Karl", Address: "Fiktivvej 9", PostDist: "2100 København Ø", HouseNumber: "009", Kommunekode: "0101", Vejkode: "4242"},
}

// TestRegisterNamesThroughRoadKeys: a contact who writes a road-register
// name of the record's road that the printed street's letters do not
// carry (an earlier name) is handed the record through the road key, for
// the exact and the NEAR surname; without the register, or with a street
// that agrees with no name of the road, the filter rules it out.
func TestRegisterNamesThroughRoadKeys(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s := openStore(t, dir)
	ctx := context.Background()
	man, err := s.LoadRobinson(ctx, robinsonFile(t, src, roadEntries), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if man.ListRoads != 2 {
		t.Errorf("manifest counts %d postcode and road pairs, want 2", man.ListRoads)
	}
	d := s.serving[screening.KindRobinson]
	type check struct {
		name, contact, address string
		near                   bool // NearCandidates, else Candidates of "hansen"
		want                   int
	}
	run := func(t *testing.T, checks []check) {
		for _, c := range checks {
			t.Run(c.name, func(t *testing.T) {
				before := d.reads.Load()
				var got int
				if c.near {
					got = len(nearCandidates(t, s, c.contact, c.address))
				} else {
					got = len(candidates(t, s, c.contact, c.address, "hansen"))
				}
				if got != c.want {
					t.Errorf("%d candidates, want %d", got, c.want)
				}
				if read := d.reads.Load() > before; read != (c.want > 0) {
					t.Errorf("Badger read = %v with %d candidates", read, got)
				}
			})
		}
	}
	t.Run("without register", func(t *testing.T) {
		run(t, []check{
			{"printed street", "Mette Hansen", "Borgm Christiansensg 7, 2100 København Ø", false, 1},
			{"earlier name", "Mette Hansen", "Christiansgade 7, 2100 København Ø", false, 0},
		})
	})
	if _, err := s.LoadStreets(ctx, streetsFile(t, src, "v.txt", published, testRoads), LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Run("with register", func(t *testing.T) {
		run(t, []check{
			{"printed street", "Mette Hansen", "Borgm Christiansensg 7, 2100 København Ø", false, 1},
			{"full name", "Mette Hansen", "Borgmester Christiansens Gade 7, 2100 København Ø", false, 1},
			{"earlier name", "Mette Hansen", "Christiansgade 7, 2100 København Ø", false, 1},
			{"earlier name, NEAR", "Mette Hansen", "Christiansgaden 7, 2100 København Ø", false, 1},
			{"earlier name, NEAR surname", "Mette Hansem", "Christiansgade 7, 2100 København Ø", true, 1},
			{"another street", "Mette Hansen", "Carlsgade 7, 2100 København Ø", false, 0},
			{"another street, NEAR surname", "Mette Hansem", "Carlsgade 7, 2100 København Ø", true, 0},
		})
	})
	x := d.roadExtras(s.serving[screening.KindStreets].roads)
	if x.Len() == 0 {
		t.Error("the register's earlier name is not an extra name")
	}
	if d.roadExtras(s.serving[screening.KindStreets].roads) != x {
		t.Error("the extra names are built again for the same register")
	}
}

// TestListRoadsStored: the postcodes and roads are kept in the version and
// checked against the manifest when it opens.
func TestListRoadsStored(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	man, err := s.LoadRobinson(context.Background(), robinsonFile(t, src, append(roadEntries, entries...)), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vdir := s.serving[screening.KindRobinson].dir
	if got := s.serving[screening.KindRobinson].listRoads.Len(); got != man.ListRoads || got != 2 {
		t.Errorf("%d postcode and road pairs served, manifest %d, want 2", got, man.ListRoads)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// An unhashed manifest (as before verified storage), so that the
	// version opens as far as its roads.
	good := *man
	writeOldManifest(t, vdir, &good)
	d, err := openDataset(vdir, screening.KindRobinson, nil, nil)
	if err != nil {
		t.Fatalf("the version does not open: %v", err)
	}
	d.close()
	bad := *man
	bad.ListRoads++
	writeOldManifest(t, vdir, &bad)
	if d, err := openDataset(vdir, screening.KindRobinson, nil, nil); err == nil {
		d.close()
		t.Fatal("a version whose roads disagree with its manifest opens")
	} else if !strings.Contains(err.Error(), "postcode and road entries") {
		t.Errorf("refused for another reason: %v", err)
	}
}
