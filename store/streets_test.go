package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/internal/cprfmt"
	"github.com/robinscreen/robinscreen/roads"
	"github.com/robinscreen/robinscreen/robinson"
	"github.com/robinscreen/robinscreen/screening"
)

var testRoads = []cprfmt.RoadEntry{
	{Kommunekode: "0101", Vejkode: "2001", AddressingName: "Borgm Christiansensg", Name: "Borgmester Christiansens Gade",
		Earlier:   []string{"Christiansgade"},
		Districts: []cprfmt.DistrictEntry{{From: "0001", To: "0099", Parity: "U", Postcode: "2100", Town: "København Ø"}, {From: "0002", To: "0098", Parity: "L", Postcode: "2100", Town: "København Ø"}}},
	{Kommunekode: "0101", Vejkode: "4242", AddressingName: "Fiktivvej", Name: "Fiktivvej",
		Districts: []cprfmt.DistrictEntry{{From: "0001", To: "050B", Postcode: "2100", Town: "København Ø"}}},
}

func streetsFile(t testing.TB, dir, name string, produced time.Time, es []cprfmt.RoadEntry) string {
	t.Helper()
	b, err := cprfmt.RoadsFile(produced, es)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, name, b)
}

func TestLoadStreets(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	snap, release := s.Acquire()
	if snap.Streets != nil {
		t.Error("a store without a road register has Snapshot.Streets")
	}
	release()

	path := streetsFile(t, t.TempDir(), "vejregister.txt", published, testRoads)
	man, err := s.LoadStreets(context.Background(), path, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(path); man.SourceSHA256 != fmt.Sprintf("%x", sha256.Sum256(raw)) || man.Encoding != "ISO-8859-1" {
		t.Errorf("manifest sha256 %s, encoding %s", man.SourceSHA256, man.Encoding)
	}
	if man.Kind != screening.KindStreets || man.Roads != 2 || man.Records != 2 || man.PostalDistricts != 3 || man.EarlierNames != 1 ||
		man.Postcodes != 1 || man.Rejected != 0 || man.HeaderLines != 2 || !man.Published.Equal(published) || !man.PublishedFromHeader {
		t.Errorf("manifest %+v", man)
	}
	snap, release = s.Acquire()
	defer release()
	st := snap.Streets
	if st == nil {
		t.Fatal("no Snapshot.Streets after a load")
	}
	if info := st.Info(); info.Kind != screening.KindStreets || info.Version != man.Version || !info.Published.Equal(published) {
		t.Errorf("info %+v", info)
	}
	borgm := robinson.RoadID{Kommune: 101, Vej: 2001}
	want := []string{robinson.NormalizeStreet("Borgm Christiansensg"), robinson.NormalizeStreet("Borgmester Christiansens Gade"), robinson.NormalizeStreet("Christiansgade")}
	if got := st.RoadNames(borgm); !slices.Equal(got, want) {
		t.Errorf("RoadNames = %q, want %q", got, want)
	}
	if got := st.RoadsAt("2100", 51); !slices.Equal(got, []robinson.RoadID{borgm}) {
		t.Errorf("RoadsAt(2100, 51) = %v", got)
	}
	if got := st.RoadsAt("2100", 50); len(got) != 2 {
		t.Errorf("RoadsAt(2100, 50) = %v, want both roads", got)
	}
	var found bool
	for _, stt := range s.Status(published.Add(24 * time.Hour)) {
		if stt.Kind == screening.KindStreets {
			found = true
			if stt.Stale || stt.Version != man.Version {
				t.Errorf("status %+v", stt)
			}
		}
	}
	if !found {
		t.Error("Status lists no streets dataset")
	}
	if st.Info().Stale(published.Add(101*24*time.Hour)) != true || st.Info().Stale(published.Add(99*24*time.Hour)) {
		t.Error("a road register is not stale exactly after 100 days")
	}
}

func TestStreetsDate(t *testing.T) {
	now := time.Date(2026, 11, 29, 15, 4, 5, 0, time.UTC)
	noHeader := func(t *testing.T) string {
		b, err := cprfmt.RoadsFile(published, testRoads)
		if err != nil {
			t.Fatal(err)
		}
		_, rest, _ := strings.Cut(string(b), "\r\n")
		return writeFile(t, t.TempDir(), "noheader.txt", []byte(rest))
	}
	tests := []struct {
		name       string
		file       func(t *testing.T) string
		override   time.Time
		want       time.Time
		fromHeader bool
	}{
		{name: "000 header", file: func(t *testing.T) string { return streetsFile(t, t.TempDir(), "v.txt", published, testRoads) }, want: published, fromHeader: true},
		{name: "operator overrides the header", file: func(t *testing.T) string { return streetsFile(t, t.TempDir(), "v.txt", published, testRoads) },
			override: published.AddDate(0, 1, 0), want: published.AddDate(0, 1, 0)},
		{name: "no header and no operator date: refused", file: noHeader},
		{name: "no header: the operator's date", file: noHeader, override: published, want: published},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t, t.TempDir())
			man, err := s.LoadStreets(context.Background(), tt.file(t), LoadOptions{Published: tt.override, Now: func() time.Time { return now }})
			if tt.want.IsZero() {
				if !errors.Is(err, ErrNoStreetsDate) {
					t.Fatalf("err = %v, want ErrNoStreetsDate", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !man.Published.Equal(tt.want) || man.PublishedFromHeader != tt.fromHeader {
				t.Errorf("published %v (from header %v), want %v (%v)", man.Published, man.PublishedFromHeader, tt.want, tt.fromHeader)
			}
		})
	}
}

func TestStreetsRollbackReopenAndRefusal(t *testing.T) {
	dir := t.TempDir()
	src := t.TempDir()
	s := openStore(t, dir)
	ctx := context.Background()
	v1, err := s.LoadStreets(ctx, streetsFile(t, src, "v1.txt", published, testRoads[:1]), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v2, err := s.LoadStreets(ctx, streetsFile(t, src, "v2.txt", published.AddDate(0, 0, 1), testRoads), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fiktiv := robinson.RoadID{Kommune: 101, Vej: 4242}
	names := func() []string {
		snap, release := s.Acquire()
		defer release()
		return snap.Streets.RoadNames(fiktiv)
	}
	if names() == nil {
		t.Fatal("v2 does not serve its second road")
	}

	// A refused file is recorded and leaves v2 serving.
	bad := writeFile(t, src, "not-a-register.txt", []byte("ROBINSONLISTEN  Dato: 01.10.2026\r\nHansen,Mette#Vej 1\r\n"))
	_, err = s.LoadStreets(ctx, bad, LoadOptions{})
	var le *LoadError
	if !errors.As(err, &le) || !errors.Is(err, roads.ErrNoRoads) {
		t.Fatalf("error %v, want a LoadError wrapping roads.ErrNoRoads", err)
	}
	if r := s.LastRefused(screening.KindStreets); r == nil || r.SourceName != "not-a-register.txt" || len(r.Rejects) != 2 || strings.Contains(r.Error, "Hansen") {
		t.Errorf("last refused %+v", r)
	}
	if s.servingVersion(screening.KindStreets) != v2.Version {
		t.Error("a refused file changed the serving version")
	}

	// Rollback to v1, which does not know the second road.
	man, err := s.Rollback(screening.KindStreets)
	if err != nil || man.Version != v1.Version {
		t.Fatalf("rollback: %v, %v", man, err)
	}
	if names() != nil {
		t.Error("after rollback the register still knows v2's road")
	}
	vs, err := s.Versions(screening.KindStreets, published)
	if err != nil || len(vs) != 2 || vs[1].Version != v1.Version || !vs[1].Serving || vs[1].MaxAge != screening.DefaultStreetsMaxAge {
		t.Errorf("versions %+v, %v", vs, err)
	}

	// Reopen: the serving version (v1) is read into memory again.
	s.Close()
	s = openStore(t, dir)
	if s.servingVersion(screening.KindStreets) != v1.Version || names() != nil {
		t.Error("reopened store does not serve v1")
	}
	snap, release := s.Acquire()
	if snap.Streets.RoadNames(robinson.RoadID{Kommune: 101, Vej: 2001}) == nil {
		t.Error("reopened v1 lost its road")
	}
	release()
	// A second rollback rolls forward.
	if man, err := s.Rollback(screening.KindStreets); err != nil || man.Version != v2.Version || names() == nil {
		t.Errorf("roll forward: %v, %v", man, err)
	}
}

func TestStreetsMaxAgeOption(t *testing.T) {
	s, err := Open(t.TempDir(), Options{StreetsMaxAge: 10 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.LoadStreets(context.Background(), streetsFile(t, t.TempDir(), "v.txt", published, testRoads), LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, st := range s.Status(published.Add(11 * 24 * time.Hour)) {
		if st.Kind == screening.KindStreets && !st.Stale {
			t.Error("not stale after its maximum age")
		}
	}
}

func TestRoadCodecRejectsDamage(t *testing.T) {
	r := roads.Road{ID: robinson.RoadID{Kommune: 101, Vej: 7}, AddressingName: "A", Name: "B",
		Earlier: []roads.EarlierName{{AddressingName: "C", Name: "D"}}, Districts: []roads.District{{From: roads.HouseNumber{Number: 1}, To: roads.HouseNumber{Number: 9, Letter: 'B'}, Parity: roads.Odd, Postcode: "2100", Name: "X"}}}
	key := roadKey(nil, r.ID)
	v := appendRoad(nil, &r)
	got, err := decodeRoad(key, v)
	if err != nil || got.Name != "B" || got.Districts[0] != r.Districts[0] || got.Earlier[0] != r.Earlier[0] || got.ID != r.ID {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for n := 0; n < len(v); n++ {
		if _, err := decodeRoad(key, v[:n]); err == nil {
			t.Errorf("a value cut to %d bytes decodes", n)
		}
	}
	if _, err := decodeRoad(key[:4], v); err == nil {
		t.Error("a short key decodes")
	}
}
