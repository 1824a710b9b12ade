package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bits-and-blooms/bloom/v3"
	badger "github.com/dgraph-io/badger/v4"

	"github.com/robinscreen/robinscreen/cprcheck"
	"github.com/robinscreen/robinscreen/ingest"
	"github.com/robinscreen/robinscreen/internal/cprfmt"
	"github.com/robinscreen/robinscreen/robinson"
	"github.com/robinscreen/robinscreen/screening"
)

var published = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

var entries = []cprfmt.RobinsonEntry{
	{Name: "Testesen,Søren", Address: "Fiktivvej 12, 2. tv", PostDist: "2100 København Ø", HouseNumber: "012", Floor: "02", Door: "tv"},
	{Name: "Hansen Jensen,Mette", Address: "Dronn. Louises V. 15, 1. th", PostDist: "2200 København N", HouseNumber: "015", Floor: "01", Door: "th"},
	{Name: "Hansen,Mette", Address: "Dronn. Louises V. 15, 3. th", PostDist: "2200 København N", HouseNumber: "015", Floor: "03", Door: "th"},
	{Name: "Jensen,Hans Peter", Address: "Gl. Testvej 3 st tv", PostDist: "5000 Odense C", Previous: true},
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func robinsonFile(t testing.TB, dir string, es []cprfmt.RobinsonEntry) string {
	t.Helper()
	b, err := cprfmt.RobinsonFile(published, es)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, fmt.Sprintf("robinson-%d.txt", len(es)), b)
}

var numbers = []string{"0101801230", "0202451236", "0303901232", "1212121212"}

func cprFile(t testing.TB, dir string, withEnd bool) string {
	t.Helper()
	lines := []string{cprfmt.CPRStart(published)}
	for i, n := range numbers {
		status := "01"
		if i == 1 {
			status = "90"
		}
		lines = append(lines, cprfmt.CPRPerson(n, status))
	}
	lines = append(lines, cprfmt.CPRProtection(numbers[0], "0003", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{}))
	lines = append(lines, "002"+numbers[2]+"Fiktiv Vej 1")
	if withEnd {
		lines = append(lines, cprfmt.CPREnd(len(lines)-1))
	}
	return writeFile(t, dir, fmt.Sprintf("cpr-%v.txt", withEnd), []byte(strings.Join(lines, "\n")+"\n"))
}

func openStore(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// outcomes screens name/address against the serving Robinson list.
func lookup(t testing.TB, s *Store, postcode, house, surname string) []robinson.Record {
	t.Helper()
	snap, release := s.Acquire()
	defer release()
	if snap.Robinson == nil {
		t.Fatal("no Robinson list serving")
	}
	var got []robinson.Record
	err := snap.Robinson.Candidates(robinson.AppendKey(nil, postcode, house, surname), nil, func(r *robinson.Record) {
		c := *r
		c.Name.Surnames = append([]string(nil), r.Name.Surnames...)
		got = append(got, c)
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestLoadRobinsonAndLookup(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s := openStore(t, dir)
	if s.Ready() {
		t.Fatal("empty store reports ready")
	}
	man, err := s.LoadRobinson(context.Background(), robinsonFile(t, src, entries), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if man.Records != 4 || man.Current != 3 || man.Previous != 1 || man.Rejected != 0 || !man.Published.Equal(published) || len(man.SourceSHA256) != 64 {
		t.Errorf("manifest = %+v", man)
	}
	if !s.Ready() {
		t.Fatal("store not ready after load")
	}
	tests := []struct {
		name                     string
		postcode, house, surname string
		lines                    []int
	}{
		{"single surname", "2100", "12", "testesen", []int{3}},
		{"double surname first word", "2200", "15", "hansen", []int{4, 5}},
		{"double surname second word", "2200", "15", "jensen", []int{4}},
		{"previous address from Standardadresse", "5000", "3", "jensen", []int{6}},
		{"other house number", "2100", "14", "testesen", nil},
		{"other postcode", "2000", "12", "testesen", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lookup(t, s, tt.postcode, tt.house, tt.surname)
			var lines []int
			for _, r := range got {
				lines = append(lines, r.Line)
			}
			if fmt.Sprint(lines) != fmt.Sprint(tt.lines) {
				t.Errorf("lines = %v, want %v", lines, tt.lines)
			}
		})
	}
}

// cloneRecord copies a record handed to a callback, which is valid only
// during the call (its strings may lie in a table's memory map, its
// slices are reused for the next record).
func cloneRecord(r *robinson.Record) robinson.Record {
	c := *r
	c.Address.Postcode, c.Address.Street = strings.Clone(r.Address.Postcode), strings.Clone(r.Address.Street)
	c.Address.HouseNumber, c.Address.Floor, c.Address.Door = strings.Clone(r.Address.HouseNumber), strings.Clone(r.Address.Floor), strings.Clone(r.Address.Door)
	c.Name.Surnames = nil
	for _, w := range r.Name.Surnames {
		c.Name.Surnames = append(c.Name.Surnames, strings.Clone(w))
	}
	c.Name.Given = nil
	for _, g := range r.Name.Given {
		c.Name.Given = append(c.Name.Given, robinson.Given{Initial: g.Initial, Word: strings.Clone(g.Word)})
	}
	return c
}

// contactProbe is a contact's parsed name and address and its probe, on
// a snapshot of the store (release it when done).
type contactProbe struct {
	name    robinson.Name
	addr    robinson.Address
	snap    screening.Snapshot
	release func()
	probe   robinson.Probe
}

func newContactProbe(t testing.TB, s *Store, name, address string) *contactProbe {
	t.Helper()
	n, err := robinson.ParseContactName(name)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := robinson.ParseAddress(address)
	snap, release := s.Acquire()
	return &contactProbe{name: n, addr: a, snap: snap, release: release, probe: robinson.NewProbe(n, a, snapRoads(snap))}
}

// candidates returns the records the serving list hands the engine for a
// contact's name and address under one surname word's blocking key.
func candidates(t testing.TB, s *Store, name, address, surname string) []robinson.Record {
	t.Helper()
	c := newContactProbe(t, s, name, address)
	defer c.release()
	a, snap, probe := c.addr, c.snap, &c.probe
	var got []robinson.Record
	err := snap.Robinson.Candidates(robinson.AppendKey(nil, a.Postcode, a.HouseNumber, surname), probe, func(r *robinson.Record) {
		got = append(got, cloneRecord(r))
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestBloomKeepsMissesAwayFromBadger(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s := openStore(t, dir)
	if _, err := s.LoadRobinson(context.Background(), robinsonFile(t, src, entries), LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	d := s.serving[screening.KindRobinson]
	before := d.reads.Load()
	for i := 0; i < 10000; i++ {
		name := fmt.Sprintf("Søren Nobody%d", i)
		addr := fmt.Sprintf("Fiktivvej %d, 2100 København Ø", 100+i%800)
		if got := candidates(t, s, name, addr, fmt.Sprintf("nobody%d", i)); len(got) != 0 {
			t.Fatalf("phantom candidates %v", got)
		}
	}
	if reads := d.reads.Load() - before; reads > 50 {
		t.Errorf("%d of 10000 misses reached Badger; the Bloom filter should stop ~0.1 %%", reads)
	}
	if got := candidates(t, s, "Søren Testesen", "Fiktivvej 12, 2100 København Ø", "testesen"); len(got) != 1 {
		t.Errorf("a listed contact got %d candidates, want 1", len(got))
	}
	if d.reads.Load() == before {
		t.Error("a hit did not read Badger")
	}
}

// TestSignaturesKeepNonMatchesAwayFromBadger: a contact sharing a blocking
// key with records that cannot match it (another street, another given
// name) costs no Badger read; a contact one of them may match does.
func TestSignaturesKeepNonMatchesAwayFromBadger(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s := openStore(t, dir)
	man, err := s.LoadRobinson(context.Background(), robinsonFile(t, src, entries), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if man.Filter != filterSignaturesV3 {
		t.Fatalf("manifest filter %q; want %q", man.Filter, filterSignaturesV3)
	}
	d := s.serving[screening.KindRobinson]
	tests := []struct {
		name, contact, address, surname string
		reads                           bool
		records                         int
	}{
		{"listed", "Mette Hansen", "Dronning Louises Vej 15, 2200 København N", "hansen", true, 2},
		{"initial", "M. Hansen", "Dronn. Louises V. 15, 2200 København N", "hansen", true, 2},
		{"other given name", "Karen Hansen", "Dronning Louises Vej 15, 2200 København N", "hansen", false, 0},
		// The street's first letter is part of the exact-surname
		// signature: another street is ruled out; one with the same
		// first letter is read, and Match rules it out.
		{"other street", "Mette Hansen", "Vestergade 15, 2200 København N", "hansen", false, 0},
		{"other street, same first letter", "Mette Hansen", "Damhusvej 15, 2200 København N", "hansen", true, 2},
		{"surname only", "Hansen", "Dronning Louises Vej 15, 2200 København N", "hansen", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := d.reads.Load()
			got := candidates(t, s, tt.contact, tt.address, tt.surname)
			if read := d.reads.Load() > before; read != tt.reads {
				t.Errorf("Badger read = %v, want %v", read, tt.reads)
			}
			if len(got) != tt.records {
				t.Errorf("%d candidates, want %d", len(got), tt.records)
			}
		})
	}
}

func TestLoadCPRStoresOnlyPseudonyms(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s := openStore(t, dir)
	ctx := context.Background()
	if _, err := s.LoadRobinson(ctx, robinsonFile(t, src, entries), LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	man, err := s.LoadCPR(ctx, cprFile(t, src, true), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if man.Persons != 4 || man.Protections != 1 || man.Skipped != 1 {
		t.Errorf("manifest = %+v", man)
	}
	snap, release := s.Acquire()
	for i, n := range numbers {
		num, _ := cprcheck.Parse(n)
		p, ok, err := snap.CPR.Lookup(num)
		if err != nil || !ok {
			t.Fatalf("lookup %d: ok=%v err=%v", i, ok, err)
		}
		if (i == 1) != p.Deceased() || (i == 0) != p.MarketingProtectedOn(published) {
			t.Errorf("person %d = %+v", i, p)
		}
	}
	absent, _ := cprcheck.Parse("0707901233")
	if _, ok, _ := snap.CPR.Lookup(absent); ok {
		t.Error("absent number found")
	}
	release()
	s.Close()

	// Walk every key and value of every Badger database, and every raw
	// file of the data directory: no personal number in any form.
	forms := func(n string) [][]byte { return [][]byte{[]byte(n), []byte(n[:6] + "-" + n[6:])} }
	check := func(where string, b []byte) {
		for _, n := range numbers {
			for _, f := range forms(n) {
				if bytes.Contains(b, f) {
					t.Errorf("personal number in clear in %s", where)
				}
			}
		}
	}
	dbs, _ := filepath.Glob(filepath.Join(dir, "*", "*", badgerDir))
	if len(dbs) == 0 {
		t.Fatal("no Badger databases found")
	}
	keys := 0
	for _, p := range dbs {
		db, err := badger.Open(badger.DefaultOptions(p).WithLogger(nil).WithReadOnly(true))
		if err != nil {
			t.Fatal(err)
		}
		db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.DefaultIteratorOptions)
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				keys++
				check("key "+p, it.Item().Key())
				v, _ := it.Item().ValueCopy(nil)
				check("value "+p, v)
			}
			return nil
		})
		db.Close()
	}
	if keys < len(numbers) {
		t.Errorf("walked only %d keys", keys)
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			check(p, b)
		}
		return nil
	})
}

func TestRefusedFileLeavesServingVersion(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s := openStore(t, dir)
	ctx := context.Background()
	good, err := s.LoadRobinson(ctx, robinsonFile(t, src, entries), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	goodCPR, err := s.LoadCPR(ctx, cprFile(t, src, true), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), mustRobinson(t, entries)...)
	bad = append(bad, []byte("this is not a list line\r\nneither is this\r\n")...)
	tests := []struct {
		name string
		load func() error
		want error
	}{
		{"empty robinson file", func() error {
			_, err := s.LoadRobinson(ctx, writeFile(t, src, "empty.txt", nil), LoadOptions{})
			return err
		}, robinson.ErrEmpty},
		{"too many rejects", func() error {
			_, err := s.LoadRobinson(ctx, writeFile(t, src, "bad.txt", bad), LoadOptions{})
			return err
		}, &robinson.RejectError{}},
		{"robinson partly re-saved as UTF-8", func() error {
			mixed := append(append([]byte(nil), mustRobinson(t, entries)...), "Søren\r\n"...)
			_, err := s.LoadRobinson(ctx, writeFile(t, src, "mixed.txt", mixed), LoadOptions{})
			return err
		}, ingest.ErrDamagedEncoding},
		{"cpr partly re-saved as UTF-8", func() error {
			b, err := os.ReadFile(cprFile(t, src, true))
			if err != nil {
				t.Fatal(err)
			}
			mixed := append([]byte("002"+numbers[2]+"Sønder Vej 1\n002"+numbers[2]+"S\xf8nder Vej 1\n"), b...)
			_, err = s.LoadCPR(ctx, writeFile(t, src, "mixed-cpr.txt", mixed), LoadOptions{})
			return err
		}, ingest.ErrDamagedEncoding},
		{"cpr without 999", func() error {
			_, err := s.LoadCPR(ctx, cprFile(t, src, false), LoadOptions{})
			return err
		}, cprcheck.ErrTruncated},
		{"missing file", func() error {
			_, err := s.LoadRobinson(ctx, filepath.Join(src, "nope.txt"), LoadOptions{})
			return err
		}, os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.load()
			if err == nil {
				t.Fatal("load succeeded")
			}
			if re, ok := tt.want.(*robinson.RejectError); ok {
				if !errors.As(err, &re) {
					t.Errorf("err = %v, want a RejectError", err)
				}
			} else if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if errors.Is(err, ingest.ErrDamagedEncoding) && !regexp.MustCompile(`\(lines? \d`).MatchString(err.Error()) {
				t.Errorf("encoding refusal names no line: %v", err)
			}
			st := s.Status(time.Now())
			if len(st) != 2 || st[0].Version != good.Version || st[1].Version != goodCPR.Version {
				t.Errorf("serving changed: %+v", st)
			}
			if got := lookup(t, s, "2100", "12", "testesen"); len(got) != 1 {
				t.Errorf("old version no longer answers: %v", got)
			}
		})
	}
	builds, _ := filepath.Glob(filepath.Join(dir, "*", ".build-*"))
	if len(builds) != 0 {
		t.Errorf("half-built versions left behind: %v", builds)
	}
}

// TestSourceSHA256 checks the manifests' source checksums, and that the
// checksum is taken in the parsers' encoding pass, not in a pass of its own.
func TestSourceSHA256(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s := openStore(t, dir)
	ctx := context.Background()
	rp, cp := robinsonFile(t, src, entries), cprFile(t, src, true)
	rm, err := s.LoadRobinson(ctx, rp, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm, err := s.LoadCPR(ctx, cp, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path, got string
	}{{rp, rm.SourceSHA256}, {cp, cm.SourceSHA256}} {
		b, err := os.ReadFile(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != c.got {
			t.Errorf("%s: manifest SHA-256 %s, want %x", c.path, c.got, sum)
		}
		hr := &hashingReader{f: bytes.NewReader(b), h: sha256.New(), hashing: true}
		lines, err := ingest.Open(hr, ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for lines.Next() {
		}
		if hr.n != int64(len(b)) {
			t.Errorf("%s: hashed %d of %d bytes in the encoding pass", c.path, hr.n, len(b))
		}
		if got, _ := hr.sum(int64(len(b))); got != c.got {
			t.Errorf("%s: hashingReader sum %s, want %s", c.path, got, c.got)
		}
	}
}

func mustRobinson(t testing.TB, es []cprfmt.RobinsonEntry) []byte {
	b, err := cprfmt.RobinsonFile(published, es)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReopenAndReload(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	ctx := context.Background()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.LoadRobinson(ctx, robinsonFile(t, src, entries), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadCPR(ctx, cprFile(t, src, true), LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		t.Errorf("second Open: err = %v, want ErrLocked", err)
	}
	// A snapshot taken before a reload keeps answering from its version.
	old, release := s.Acquire()
	second, err := s.LoadRobinson(ctx, robinsonFile(t, src, entries[:1]), LoadOptions{AllowShrink: true}) // a smaller list on purpose
	if err != nil {
		t.Fatal(err)
	}
	// The old snapshot still answers from the old version.
	n := 0
	if err := old.Robinson.Candidates(robinson.AppendKey(nil, "2200", "15", "hansen"), nil, func(*robinson.Record) { n++ }); err != nil || n != 2 {
		t.Errorf("in-flight snapshot after reload: %d records, err %v; want 2 from the old version", n, err)
	}
	release()
	if first.Version == second.Version {
		t.Fatal("reload kept the version name")
	}
	if got := lookup(t, s, "2200", "15", "hansen"); len(got) != 0 {
		t.Errorf("new version still has the old records: %v", got)
	}
	s.Close()

	s = openStore(t, dir)
	st := s.Status(time.Now())
	if len(st) != 2 || st[0].Version != second.Version || st[0].Records != 1 {
		t.Fatalf("after reopen: %+v", st)
	}
	// The previous version is kept for rollback, older ones are pruned.
	vs, _ := os.ReadDir(filepath.Join(dir, screening.KindRobinson))
	var names []string
	for _, v := range vs {
		if v.IsDir() {
			names = append(names, v.Name())
		}
	}
	if len(names) != 2 {
		t.Errorf("robinson versions on disk = %v, want current and previous", names)
	}
	s.Close()

	// A different key cannot read the pseudonymised CPR dataset.
	other := filepath.Join(t.TempDir(), "other.key")
	if _, err := Open(dir, Options{KeyFile: other}); !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("Open with another key: err = %v, want ErrKeyMismatch", err)
	}
}

func TestConcurrentLoadOfSameKind(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s := openStore(t, dir)
	path := robinsonFile(t, src, entries)
	started, proceed := make(chan struct{}), make(chan struct{})
	var once bool
	errc := make(chan error, 1)
	go func() {
		_, err := s.LoadRobinson(context.Background(), path, LoadOptions{Progress: func(p Progress) {
			if !once {
				once = true
				close(started)
				<-proceed
			}
		}})
		errc <- err
	}()
	<-started
	if _, err := s.LoadRobinson(context.Background(), path, LoadOptions{}); !errors.Is(err, ErrLoadInProgress) {
		t.Errorf("second load: err = %v, want ErrLoadInProgress", err)
	}
	// Another kind may load meanwhile.
	if _, err := s.LoadCPR(context.Background(), cprFile(t, src, true), LoadOptions{}); err != nil {
		t.Errorf("CPR load during Robinson load: %v", err)
	}
	close(proceed)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// TestVerifyFilterFindsMisses: a filter that does not hold what the
// database holds is refused, for a signature filter and a key filter.
func TestVerifyFilterFindsMisses(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s := openStore(t, dir)
	ctx := context.Background()
	if _, err := s.LoadRobinson(ctx, robinsonFile(t, src, entries), LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadCPR(ctx, cprFile(t, src, true), LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{screening.KindRobinson, screening.KindCPR} {
		d := s.serving[kind]
		if err := d.verifyFilter(); err != nil {
			t.Fatalf("%s: the loaded filter fails verification: %v", kind, err)
		}
		saved := d.filter
		d.filter = newFilter(d.man.Filter, 100)
		if err := d.verifyFilter(); err == nil {
			t.Errorf("%s: an empty filter passes verification", kind)
		}
		d.filter = saved
	}
}

// TestKeyFilterVersionNotServed: a Robinson version written before
// signature filters (format 1: its manifest names no filter, its Bloom
// filter holds the blocking keys) was normalised by the first matching
// rules: it is not served (ErrOutdatedFormat), but the store opens, so the
// list can be loaded again.
func TestKeyFilterVersionNotServed(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	man, err := s.LoadRobinson(context.Background(), robinsonFile(t, src, entries), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Rewrite the version as an older build wrote it.
	d := s.serving[screening.KindRobinson]
	filter := bloom.NewWithEstimates(uint(man.Keys), bloomFPRate)
	if err := d.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			filter.Add(it.Item().Key())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	vdir := d.dir
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var fb bytes.Buffer
	if _, err := filter.WriteTo(&fb); err != nil {
		t.Fatal(err)
	}
	writeFile(t, vdir, bloomFile, fb.Bytes())
	os.Remove(filepath.Join(vdir, sigBloomFileV3))
	sum := sha256.Sum256(fb.Bytes())
	old := *man
	old.Format, old.Filter, old.FilterWildcards, old.BloomSHA256 = formatKeyFilter, "", false, hex.EncodeToString(sum[:])
	writeOldManifest(t, vdir, &old)
	checkOutdatedNotServed(t, dir, src)
}

// checkOutdatedNotServed opens the store at dir, whose serving Robinson
// version is outdated: nothing is served for the kind, and loading the
// list again serves it.
func checkOutdatedNotServed(t *testing.T, dir, src string) {
	t.Helper()
	if _, err := openVersionDir(dir); !errors.Is(err, ErrOutdatedFormat) {
		t.Errorf("opening the outdated version: %v, want ErrOutdatedFormat", err)
	}
	s := openStore(t, dir)
	snap, release := s.Acquire()
	served := snap.Robinson != nil
	release()
	if served {
		t.Fatal("an outdated Robinson version is served")
	}
	if _, err := s.LoadRobinson(context.Background(), robinsonFile(t, src, entries), LoadOptions{}); err != nil {
		t.Fatalf("loading the list again: %v", err)
	}
	if got := candidates(t, s, "Søren Testesen", "Fiktivvej 12, 2100 København Ø", "testesen"); len(got) != 1 {
		t.Errorf("after loading again: %d candidates, want 1", len(got))
	}
}

// openVersionDir opens the serving Robinson version of the data directory
// dir directly.
func openVersionDir(dir string) (*dataset, error) {
	b, err := os.ReadFile(filepath.Join(dir, screening.KindRobinson, stateFile))
	if err != nil {
		return nil, err
	}
	var st kindState
	if err := jsonUnmarshal(b, &st); err != nil {
		return nil, err
	}
	d, err := openDataset(filepath.Join(dir, screening.KindRobinson, st.Current), screening.KindRobinson, nil, nil)
	if err == nil {
		d.close()
	}
	return d, err
}

// snapRoads returns the snapshot's road register as the matcher takes
// it: nil when none is loaded.
func snapRoads(snap screening.Snapshot) robinson.Roads {
	if snap.Streets == nil {
		return nil
	}
	return snap.Streets
}

// nearCandidates returns the records NearCandidates hands over for a
// contact.
func nearCandidates(t testing.TB, s *Store, name, address string) []robinson.Record {
	t.Helper()
	c := newContactProbe(t, s, name, address)
	defer c.release()
	var got []robinson.Record
	if err := c.snap.Robinson.NearCandidates(&c.probe, func(r *robinson.Record) { got = append(got, cloneRecord(r)) }); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestNearSurnameCandidates: a record whose surname is one edit from the
// contact's is found through the address summary, and only such records.
func TestNearSurnameCandidates(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s := openStore(t, dir)
	es := append([]cprfmt.RobinsonEntry{
		{Name: "Hanssen,Peter", Address: "Strandvejen 7", PostDist: "2900 Hellerup", HouseNumber: "007"},
		{Name: "Hansen,Karen", Address: "Strandvejen 7", PostDist: "2900 Hellerup", HouseNumber: "007"},
		{Name: "Bech,Peter", Address: "Strandvejen 7", PostDist: "2900 Hellerup", HouseNumber: "007"},
	}, entries...)
	if _, err := s.LoadRobinson(context.Background(), robinsonFile(t, src, es), LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	d := s.serving[screening.KindRobinson]
	tests := []struct {
		name, contact, address string
		want                   []string // surnames of the records handed over
	}{
		{"one edit", "Peter Hansen", "Strandvejen 7, 2900 Hellerup", []string{"hanssen"}},
		{"one edit, street with the same first letter", "Peter Hansen", "Stationsvej 7, 2900 Hellerup", []string{"hanssen"}},
		{"one edit, other street", "Peter Hansen", "Vestergade 7, 2900 Hellerup", nil},
		{"typo in first letter", "Peter Kanssen", "Strandvejen 7, 2900 Hellerup", []string{"hanssen"}},
		{"other given initial", "Ole Hansen", "Strandvejen 7, 2900 Hellerup", nil},
		{"exact surname is not near", "Karl Hanssen", "Strandvejen 7, 2900 Hellerup", []string{"hansen"}},
		{"short surname never near", "Peter Bach", "Strandvejen 7, 2900 Hellerup", nil},
		{"other address", "Peter Hansen", "Strandvejen 9, 2900 Hellerup", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, r := range nearCandidates(t, s, tt.contact, tt.address) {
				got = append(got, r.Name.Surnames...)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("NEAR candidates %v, want %v", got, tt.want)
			}
		})
	}
	// A contact with no NEAR candidate at its address reads nothing.
	before := d.reads.Load()
	for i := range 200 {
		nearCandidates(t, s, "Mogens Nobodysen", fmt.Sprintf("Strandvejen %d, 2900 Hellerup", 100+i))
	}
	if reads := d.reads.Load() - before; reads > 10 {
		t.Errorf("%d of 200 NEAR lookups without a candidate reached Badger", reads)
	}
}

// TestFamilyTypesStored: the family-type words are counted over the loaded
// list and kept in the version, checked against the manifest when it opens.
func TestFamilyTypesStored(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s := openStore(t, dir)
	es := []cprfmt.RobinsonEntry{
		{Name: "Rasmussen,René Andersen", Address: "Strandvejen 7", PostDist: "2900 Hellerup", HouseNumber: "007"},
		{Name: "Andersen,Lone", Address: "Strandvejen 9", PostDist: "2900 Hellerup", HouseNumber: "009"},
		{Name: "Andersen,Per", Address: "Strandvejen 11", PostDist: "2900 Hellerup", HouseNumber: "011"},
		{Name: "Lund,Anne", Address: "Strandvejen 13", PostDist: "2900 Hellerup", HouseNumber: "013"},
		{Name: "Anne,Lund", Address: "Strandvejen 15", PostDist: "2900 Hellerup", HouseNumber: "015"},
	}
	man, err := s.LoadRobinson(context.Background(), robinsonFile(t, src, es), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	snap, release := s.Acquire()
	ft := snap.Robinson.FamilyTypes()
	for w, want := range map[string]bool{"andersen": true, "rasmussen": true, "lund": false, "anne": false, "rene": false} {
		if got := ft.FamilyType(w); got != want {
			t.Errorf("FamilyType(%q) = %v, want %v", w, got, want)
		}
	}
	release()
	if man.FamilyTypes != 2 {
		t.Errorf("manifest counts %d family-type words, want 2", man.FamilyTypes)
	}
	vdir := s.serving[screening.KindRobinson].dir
	s.Close()
	m := *man
	m.FamilyTypes++
	// A manifest with a consistent sum: the count itself is checked.
	if err := writeManifest(vdir, &m); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(dir, Options{}); err == nil {
		s.Close()
		t.Error("a version whose family-type words disagree with its manifest opened")
	}
}

// TestVersionFormatGuards: a signature version cannot be read as a key
// filter. Its filter file has its own name (a binary from before signature
// filters fails to open it instead of finding no key), and a version whose
// format or filter this binary does not know is refused.
func TestVersionFormatGuards(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	man, err := s.LoadRobinson(context.Background(), robinsonFile(t, src, entries), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vdir := s.serving[screening.KindRobinson].dir
	s.Close()
	if man.Format != formatNearLists {
		t.Errorf("format %d, want %d", man.Format, formatNearLists)
	}
	if _, err := os.Stat(filepath.Join(vdir, bloomFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a signature version has %s (err %v): an older binary would read it as a key filter", bloomFile, err)
	}
	tests := []struct {
		name   string
		format int
		filter string
	}{
		{"unknown filter", formatSignaturesV3, "signatures4"},
		{"unknown filter with near lists", formatNearLists, "signatures4"},
		{"newer format", formatNearLists + 1, filterSignaturesV3},
		{"second signature filter with near lists", formatNearLists, filterSignaturesV2},
		{"key filter with near lists", formatNearLists, ""},
		{"signature filter under the old format", formatKeyFilter, filterSignaturesV3},
		{"signature filter under format 3", formatSignaturesV2, filterSignaturesV3},
		{"first signature filter under the new format", formatSignaturesV3, filterSignatures},
		{"second signature filter under the new format", formatSignaturesV3, filterSignaturesV2},
		{"key filter under the new format", formatSignaturesV3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := *man
			m.Format, m.Filter = tt.format, tt.filter
			if err := writeJSON(filepath.Join(vdir, manifestFile), &m); err != nil {
				t.Fatal(err)
			}
			s, err := Open(dir, Options{})
			if err != nil {
				return // refused
			}
			defer s.Close()
			// An old format opens the store but is not served.
			if snap, release := s.Acquire(); snap.Robinson != nil {
				release()
				t.Fatal("served a version with an unknown format or filter")
			} else {
				release()
			}
		})
	}
}

// buildFormat makes the test's Robinson loads build versions of format
// (formatSignaturesV3: without near lists, as the binary before them).
func buildFormat(t *testing.T, format int) {
	t.Helper()
	prev := robinsonFormat
	robinsonFormat = format
	t.Cleanup(func() { robinsonFormat = prev })
}

// TestFirstSignatureVersionNotServed: a version written with the first
// signature filter (format 2, before matching v2) is not served either.
func TestFirstSignatureVersionNotServed(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	man, err := s.LoadRobinson(context.Background(), robinsonFile(t, src, entries), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vdir := s.serving[screening.KindRobinson].dir
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// An empty filter of the first kind: consulting it would hide everyone.
	var fb bytes.Buffer
	if _, err := bloom.NewWithEstimates(100, bloomFPRate).WriteTo(&fb); err != nil {
		t.Fatal(err)
	}
	writeFile(t, vdir, sigBloomFile, fb.Bytes())
	os.Remove(filepath.Join(vdir, sigBloomFileV3))
	sum := sha256.Sum256(fb.Bytes())
	old := *man
	old.Format, old.Filter, old.BloomSHA256 = formatSignatures, filterSignatures, hex.EncodeToString(sum[:])
	writeOldManifest(t, vdir, &old)
	checkOutdatedNotServed(t, dir, src)
}

// writeOldManifest writes m as the manifest of a version built before
// verified storage: no file hashes and no manifest sum.
func writeOldManifest(t *testing.T, vdir string, m *Manifest) {
	t.Helper()
	m.Files, m.FilesHashedAt = nil, time.Time{}
	if err := writeJSON(filepath.Join(vdir, manifestFile), m); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(vdir, manifestSumFile)); err != nil {
		t.Fatal(err)
	}
}

// TestSecondSignatureVersionServedUnfiltered: a version written with the
// second signature filter (format 3, matching v2 without street letters in
// the filter) is served without consulting its filter: every blocking key
// and address summary is read, so a record its filter would rule out
// differently is still handed to the matcher.
func TestSecondSignatureVersionServedUnfiltered(t *testing.T) {
	buildFormat(t, formatSignaturesV3) // values without near lists, as format 3 had
	src, dir := t.TempDir(), t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	man, err := s.LoadRobinson(context.Background(), robinsonFile(t, src, entries), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vdir := s.serving[screening.KindRobinson].dir
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(vdir, sigBloomFileV3), filepath.Join(vdir, sigBloomFileV2)); err != nil {
		t.Fatal(err)
	}
	old := *man
	old.Format, old.Filter, old.ListRoads = formatSignaturesV2, filterSignaturesV2, 0
	writeOldManifest(t, vdir, &old)
	s = openStore(t, dir)
	d := s.serving[screening.KindRobinson]
	if d == nil {
		t.Fatal("a format 3 version is not served")
	}
	// The signature-v3 filter rules this contact out (another street);
	// unfiltered, the records are read and handed over.
	before := d.reads.Load()
	if got := candidates(t, s, "Mette Hansen", "Vestergade 15, 2200 København N", "hansen"); len(got) != 2 {
		t.Errorf("%d candidates, want 2", len(got))
	}
	if got := nearCandidates(t, s, "Mette Hansem", "Vestergade 15, 2200 København N"); len(got) != 2 {
		t.Errorf("%d NEAR candidates, want 2", len(got))
	}
	if d.reads.Load()-before < 3 {
		t.Errorf("%d reads, want a read of the key, the summary and the NEAR key", d.reads.Load()-before)
	}
}
