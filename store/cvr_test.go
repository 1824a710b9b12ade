package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/cvr"
	"github.com/robinscreen/robinscreen/internal/cvrfmt"
	"github.com/robinscreen/robinscreen/screening"
)

var (
	testCompanies = []cvrfmt.Company{
		{CVR: "10000009", Name: "Beskyttet A/S", Protected: true},
		{CVR: "12345674", Name: "Åben ApS"},
		{CVR: "30498763", Name: "Anden ApS"},
	}
	testUnits = []cvrfmt.Unit{
		{P: "1003456789", Owner: "12345674", Protected: true},
		{P: "1003456790", Owner: "12345674"},
	}
)

// extracted is the extraction time of the test CVR files (the newest
// document's sidstOpdateret).
var extracted = published.Add(6 * time.Hour)

func cvrJSONFile(t testing.TB, dir, name string, cs []cvrfmt.Company, us []cvrfmt.Unit) string {
	t.Helper()
	return writeFile(t, dir, name, cvrfmt.JSONFile(extracted, cs, us))
}

func TestLoadCVR(t *testing.T) {
	s := openStore(t, t.TempDir())
	snap, release := s.Acquire()
	if snap.CVR != nil {
		t.Error("a store without CVR data has Snapshot.CVR")
	}
	release()
	// The same company twice, once protected: the merged pair is
	// protected.
	cs := append(slices.Clone(testCompanies), cvrfmt.Company{CVR: "12345674"}, cvrfmt.Company{CVR: "30498763", Protected: true})
	us := append(slices.Clone(testUnits), cvrfmt.Unit{P: "1003456790", Owner: "30498763"})
	path := cvrJSONFile(t, t.TempDir(), "cvr.jsonl", cs, us)
	man, err := s.LoadCVR(context.Background(), path, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if man.Kind != screening.KindCVR || man.Companies != 5 || man.ProductionUnits != 3 || man.Records != 8 || man.Keys != 5 ||
		man.AdvertisingProtected != 3 || man.Rejected != 0 || !man.Published.Equal(published) || !man.PublishedFromHeader {
		t.Errorf("manifest %+v", man)
	}
	snap, release = s.Acquire()
	defer release()
	data := snap.CVR
	if data == nil {
		t.Fatal("no Snapshot.CVR after a load")
	}
	if info := data.Info(); info.Kind != screening.KindCVR || info.Version != man.Version || !info.Published.Equal(published) {
		t.Errorf("info %+v", info)
	}
	companies := []struct {
		n                cvr.Number
		known, protected bool
	}{{10000009, true, true}, {12345674, true, false}, {30498763, true, true}, {40000003, false, false}}
	for _, c := range companies {
		got, ok, err := data.Company(c.n)
		if err != nil || ok != c.known || got.Protected != c.protected {
			t.Errorf("Company(%v) = %+v, %v, %v; want known %v, protected %v", c.n, got, ok, err, c.known, c.protected)
		}
	}
	units := []struct {
		p                cvr.PNumber
		known, protected bool
		owners           []cvr.Number
	}{{1003456789, true, true, []cvr.Number{12345674}}, {1003456790, true, false, []cvr.Number{12345674, 30498763}}, {1999999999, false, false, nil}}
	for _, u := range units {
		got, ok, err := data.Unit(u.p)
		if err != nil || ok != u.known || got.Protected != u.protected || !slices.Equal(got.Owners, u.owners) {
			t.Errorf("Unit(%v) = %+v, %v, %v; want known %v, protected %v, owners %v", u.p, got, ok, err, u.known, u.protected, u.owners)
		}
	}
	// Stale exactly after 31 days by default.
	if data.Info().Stale(published.Add(31*24*time.Hour)) || !data.Info().Stale(published.Add(32*24*time.Hour)) {
		t.Error("CVR data is not stale exactly after 31 days")
	}
	var found bool
	for _, st := range s.Status(published.Add(40 * 24 * time.Hour)) {
		if st.Kind == screening.KindCVR {
			found = true
			if !st.Stale || st.Version != man.Version || st.Companies != 5 {
				t.Errorf("status %+v", st)
			}
		}
	}
	if !found {
		t.Error("Status lists no CVR dataset")
	}
}

// TestScreenWithStoredCVR screens business contacts through the real
// store and engine.
func TestScreenWithStoredCVR(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	ctx := context.Background()
	if _, err := s.LoadRobinson(ctx, robinsonFile(t, t.TempDir(), entries), LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	man, err := s.LoadCVR(ctx, cvrJSONFile(t, t.TempDir(), "cvr.jsonl", testCompanies, testUnits), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		c       screening.Contact
		want    screening.Decision
		reasons []screening.Reason
	}{
		{name: "protected company", c: screening.Contact{CVR: "10000009"}, want: screening.Block, reasons: []screening.Reason{screening.ReasonCVRAdvertisingProtection}},
		{name: "protected P-unit of an unprotected company", c: screening.Contact{CVR: "12345674", PNumber: "1003456789"}, want: screening.Block, reasons: []screening.Reason{screening.ReasonCVRAdvertisingProtection}},
		{name: "unprotected", c: screening.Contact{CVR: "12345674", PNumber: "1003456790"}, want: screening.Allow},
		{name: "unknown", c: screening.Contact{CVR: "40000003"}, want: screening.Review, reasons: []screening.Reason{screening.ReasonUnverifiable}},
		{name: "invalid number", c: screening.Contact{CVR: "40000004"}, want: screening.Review, reasons: []screening.Reason{screening.ReasonInvalidCVR}},
	}
	e := screening.Engine{Now: func() time.Time { return published.Add(24 * time.Hour) }}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, release := s.Acquire()
			defer release()
			res, err := e.Screen(snap, screening.ChannelPhone, screening.PurposeOther, &tt.c)
			if err != nil {
				t.Fatal(err)
			}
			if res.Decision != tt.want || !slices.Equal(res.Reasons, tt.reasons) {
				t.Fatalf("got %v %v, want %v %v", res.Decision, res.Reasons, tt.want, tt.reasons)
			}
			if tt.want != screening.Review || tt.reasons[0] != screening.ReasonInvalidCVR {
				if !slices.ContainsFunc(res.Datasets, func(d screening.DatasetRef) bool { return d.Kind == screening.KindCVR && d.Version == man.Version }) {
					t.Errorf("datasets %+v do not list the CVR version", res.Datasets)
				}
			}
		})
	}
}

func TestCVRDate(t *testing.T) {
	now := published.Add(48 * time.Hour)
	jsonFile := func(t *testing.T) string { return cvrJSONFile(t, t.TempDir(), "cvr.jsonl", testCompanies, testUnits) }
	csvFile := func(t *testing.T) string {
		return writeFile(t, t.TempDir(), "cvr.csv", cvrfmt.CSVFile(testCompanies, testUnits))
	}
	future := func(t *testing.T) string {
		return writeFile(t, t.TempDir(), "cvr.jsonl", cvrfmt.JSONFile(now.Add(72*time.Hour), testCompanies, nil))
	}
	tests := []struct {
		name     string
		file     func(t *testing.T) string
		override time.Time
		want     time.Time
		fromFile bool
		err      error
	}{
		{name: "newest sidstOpdateret", file: jsonFile, want: published, fromFile: true},
		{name: "operator's extraction date wins", file: jsonFile, override: published.AddDate(0, 0, -3), want: published.AddDate(0, 0, -3)},
		{name: "CSV without a date is refused", file: csvFile, err: ErrNoCVRDate},
		{name: "CSV with the operator's date", file: csvFile, override: published, want: published},
		{name: "a timestamp in the future is refused", file: future, err: ErrFutureDate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t, t.TempDir())
			man, err := s.LoadCVR(context.Background(), tt.file(t), LoadOptions{Published: tt.override, Now: func() time.Time { return now }})
			if tt.err != nil {
				var le *LoadError
				if !errors.Is(err, tt.err) || !errors.As(err, &le) {
					t.Fatalf("err = %v, want a LoadError wrapping %v", err, tt.err)
				}
				if s.servingVersion(screening.KindCVR) != "" {
					t.Error("a refused file serves")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !man.Published.Equal(tt.want) || man.PublishedFromHeader != tt.fromFile {
				t.Errorf("published %v (from file %v), want %v (%v)", man.Published, man.PublishedFromHeader, tt.want, tt.fromFile)
			}
		})
	}
}

// manyCompanies returns n companies with valid CVR numbers.
func manyCompanies(n int) []cvrfmt.Company {
	var out []cvrfmt.Company
	for v := 10000000; len(out) < n; v++ {
		if num, err := cvr.NumberOf(uint64(v)); err == nil {
			out = append(out, cvrfmt.Company{CVR: num.String(), Protected: v%3 == 0})
		}
	}
	return out
}

func TestCVRShrinkRollbackReopenAndRefusal(t *testing.T) {
	dir, src := t.TempDir(), t.TempDir()
	s := openStore(t, dir)
	ctx := context.Background()
	v1, err := s.LoadCVR(ctx, cvrJSONFile(t, src, "v1.jsonl", manyCompanies(20), nil), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 17 of 20 records: fewer than 90 %, refused unless expected.
	small := cvrJSONFile(t, src, "v2.jsonl", append(manyCompanies(17)[:16], testCompanies[0]), nil)
	_, err = s.LoadCVR(ctx, small, LoadOptions{})
	var se *ShrinkError
	if !errors.As(err, &se) || se.Records != 17 || se.Serving != 20 {
		t.Fatalf("err = %v, want a ShrinkError 17 of 20", err)
	}
	if s.servingVersion(screening.KindCVR) != v1.Version {
		t.Fatal("a refused shrink changed the serving version")
	}
	v2, err := s.LoadCVR(ctx, small, LoadOptions{AllowShrink: true})
	if err != nil {
		t.Fatal(err)
	}
	protected := func() bool {
		snap, release := s.Acquire()
		defer release()
		c, ok, err := snap.CVR.Company(10000009)
		if err != nil {
			t.Fatal(err)
		}
		return ok && c.Protected
	}
	if !protected() {
		t.Fatal("v2 does not serve its protected company")
	}

	// A refused file is recorded without its content and leaves v2.
	bad := writeFile(t, src, "bad.jsonl", []byte(`{"Vrvirksomhed":{"cvrNummer":99999999,"reklamebeskyttet":true}}`+"\n"))
	_, err = s.LoadCVR(ctx, bad, LoadOptions{})
	if !errors.Is(err, cvr.ErrNoRecords) {
		t.Fatalf("err = %v, want cvr.ErrNoRecords", err)
	}
	if r := s.LastRefused(screening.KindCVR); r == nil || r.SourceName != "bad.jsonl" || len(r.Rejects) != 1 || strings.Contains(fmt.Sprint(r), "99999999") {
		t.Errorf("last refused %+v", r)
	}
	if s.servingVersion(screening.KindCVR) != v2.Version {
		t.Error("a refused file changed the serving version")
	}

	// Rollback to v1, which does not know the company.
	if man, err := s.Rollback(screening.KindCVR); err != nil || man.Version != v1.Version {
		t.Fatalf("rollback: %v, %v", man, err)
	}
	if protected() {
		t.Error("after rollback the company of v2 is still served")
	}
	vs, err := s.Versions(screening.KindCVR, published)
	i := slices.IndexFunc(vs, func(v VersionInfo) bool { return v.Version == v1.Version })
	if err != nil || len(vs) != 2 || i < 0 || !vs[i].Serving || vs[i].MaxAge != screening.DefaultCVRMaxAge {
		t.Errorf("versions %+v, %v", vs, err)
	}
	s.Close()
	s = openStore(t, dir)
	if s.servingVersion(screening.KindCVR) != v1.Version || protected() {
		t.Error("the reopened store does not serve v1")
	}
	if man, err := s.Rollback(screening.KindCVR); err != nil || man.Version != v2.Version || !protected() {
		t.Errorf("roll forward: %v, %v", man, err)
	}
}

func TestCVRMaxAgeOption(t *testing.T) {
	s, err := Open(t.TempDir(), Options{CVRMaxAge: 10 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.LoadCVR(context.Background(), cvrJSONFile(t, t.TempDir(), "cvr.jsonl", testCompanies, nil), LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, st := range s.Status(published.Add(11 * 24 * time.Hour)) {
		if st.Kind == screening.KindCVR && !st.Stale {
			t.Error("not stale after its maximum age")
		}
	}
}

func TestCVRCodec(t *testing.T) {
	company := func(p bool) *cvr.Entry { return &cvr.Entry{Kind: cvr.KindCompany, CVR: 12345674, Protected: p} }
	unit := func(p bool, owners ...cvr.Number) *cvr.Entry {
		return &cvr.Entry{Kind: cvr.KindUnit, P: 1003456789, Protected: p, Owners: owners}
	}
	tests := []struct {
		name      string
		entries   []*cvr.Entry
		protected bool
		owners    []cvr.Number
	}{
		{name: "company", entries: []*cvr.Entry{company(true)}, protected: true},
		{name: "company twice, once protected", entries: []*cvr.Entry{company(false), company(true)}, protected: true},
		{name: "company twice, unprotected", entries: []*cvr.Entry{company(false), company(false)}},
		{name: "unit without owners", entries: []*cvr.Entry{unit(false)}},
		{name: "unit twice: owners joined", entries: []*cvr.Entry{unit(false, 12345674), unit(true, 30498763, 12345674)}, protected: true, owners: []cvr.Number{12345674, 30498763}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var key []byte
			var vals [][]byte
			for _, e := range tt.entries {
				k, v := appendCVREntry(nil, nil, e)
				key, vals = k, append(vals, v)
			}
			v := mergeCVR(key, nil, vals)
			flags, owners, err := decodeCVRValue(key, v)
			if err != nil || (flags&cvrProtected != 0) != tt.protected || !slices.Equal(owners, tt.owners) && len(owners)+len(tt.owners) > 0 {
				t.Fatalf("decoded %v %v %v", flags, owners, err)
			}
		})
	}
	damaged := []struct {
		name     string
		key, val []byte
	}{
		{name: "empty value", key: []byte{'c', 0, 0, 0, 1}},
		{name: "unknown flag", key: []byte{'c', 0, 0, 0, 1}, val: []byte{2}},
		{name: "company value too long", key: []byte{'c', 0, 0, 0, 1}, val: []byte{1, 0}},
		{name: "unit owners cut", key: []byte{'u', 0, 0, 0, 0, 0, 0, 0, 1}, val: []byte{0, 1, 0, 0}},
		{name: "unknown key", key: []byte{'x', 0}, val: []byte{0}},
	}
	for _, tt := range damaged {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := decodeCVRValue(tt.key, tt.val); !errors.Is(err, errCorrupt) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// TestCVRBuildProcess loads CVR data through a build process (as serve
// does): the version is the one an in-process build makes, and the CVR
// refusals keep their meaning across the process boundary.
func TestCVRBuildProcess(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	path := cvrJSONFile(t, src, "cvr.jsonl", testCompanies, testUnits)
	want, err := openStore(t, t.TempDir()).LoadCVR(ctx, path, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := openIsolated(t, t.TempDir(), Options{})
	man, err := s.LoadCVR(ctx, path, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if man.Records != want.Records || man.Keys != want.Keys || man.BloomSHA256 != want.BloomSHA256 || !man.Published.Equal(want.Published) ||
		man.Companies != want.Companies || man.ProductionUnits != want.ProductionUnits || man.AdvertisingProtected != want.AdvertisingProtected {
		t.Errorf("built in a process: %+v\nin this one: %+v", man, want)
	}
	snap, release := s.Acquire()
	u, ok, err := snap.CVR.Unit(1003456789)
	release()
	if err != nil || !ok || !u.Protected {
		t.Errorf("the version built in a process: unit %+v, %v, %v", u, ok, err)
	}
	for _, rc := range []struct {
		name, file string
		is         error
	}{
		{"CSV without a date", writeFile(t, src, "cvr.csv", cvrfmt.CSVFile(testCompanies, nil)), ErrNoCVRDate},
		{"no records", writeFile(t, src, "none.jsonl", []byte(`{"hits":{"hits":[]}}`+"\n")), cvr.ErrNoRecords},
		{"CSV header", writeFile(t, src, "header.csv", []byte("navn;reklamebeskyttet\nx;ja\n")), cvr.ErrCSVHeader},
	} {
		_, err := s.LoadCVR(ctx, rc.file, LoadOptions{})
		var le *LoadError
		if !errors.As(err, &le) || !errors.Is(err, rc.is) {
			t.Errorf("%s: err = %v, want a *LoadError matching %v", rc.name, err, rc.is)
		}
		if v := s.servingVersion(screening.KindCVR); v != man.Version {
			t.Errorf("%s: serving %s after a refusal, want %s", rc.name, v, man.Version)
		}
	}
}
