package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/robinscreen/robinscreen/internal/synth"
	"github.com/robinscreen/robinscreen/robinson"
	"github.com/robinscreen/robinscreen/screening"
)

// synthList writes a synthetic Robinson list of n records into dir.
func synthList(t testing.TB, dir string, n int) string {
	t.Helper()
	g := synth.NewGenerator(synth.Config{Seed: 7, Records: n, Published: published})
	p := filepath.Join(dir, "robinson-synth.txt")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.WriteRobinson(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// tables returns the Badger tables of a version directory, relative to it.
func tables(t testing.TB, vdir string) []string {
	t.Helper()
	ts, err := filepath.Glob(filepath.Join(vdir, badgerDir, "*.sst"))
	if err != nil || len(ts) == 0 {
		t.Fatalf("no tables in %s (%v)", vdir, err)
	}
	for i := range ts {
		ts[i] = badgerDir + "/" + filepath.Base(ts[i])
	}
	sort.Strings(ts)
	return ts
}

func TestVersionFilesHashed(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s := openStore(t, dir)
	man, err := s.LoadRobinson(context.Background(), robinsonFile(t, src, entries), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vdir := filepath.Join(dir, screening.KindRobinson, man.Version)
	want := append(tables(t, vdir), badgerDir+"/MANIFEST", badgerDir+"/"+badger.KeyRegistryFileName, filterFile(man.Filter))
	for _, f := range want {
		if _, ok := man.Files[f]; !ok {
			t.Errorf("manifest has no hash of %s (has %v)", f, man.Files)
		}
	}
	s.Close()
	// Serving opens a version read-only: opening it twice changes no file.
	for range 2 {
		s2 := openStore(t, dir)
		if !s2.Ready() || s2.Damage(screening.KindRobinson) != nil {
			t.Fatalf("an intact version is not served: %v", s2.Damage(screening.KindRobinson))
		}
		if err := s2.Scrub(); err != nil {
			t.Fatalf("scrub of an intact version: %v", err)
		}
		s2.Close()
	}
	if err := verifyFiles(vdir, man); err != nil {
		t.Fatal(err)
	}
}

// damageFunc damages the version directory vdir; it returns the file
// (relative to vdir) the damage must be reported in.
type damageFunc func(t *testing.T, vdir string) string

func zeroPage(at func(size int64) int64) damageFunc {
	return func(t *testing.T, vdir string) string {
		rel := tables(t, vdir)[0]
		p := filepath.Join(vdir, rel)
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		off := max(0, min(at(fi.Size()), fi.Size()-4096))
		if _, err := f.WriteAt(make([]byte, min(4096, fi.Size())), off); err != nil {
			t.Fatal(err)
		}
		return rel
	}
}

func flipBytes(rel func(t *testing.T, vdir string) string, at func(size int64) int64, n int) damageFunc {
	return func(t *testing.T, vdir string) string {
		r := rel(t, vdir)
		p := filepath.Join(vdir, r)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		off := max(0, min(at(int64(len(b))), int64(len(b)-n)))
		for i := range n {
			b[off+int64(i)] ^= 0x5a
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return r
	}
}

func truncateTable(to func(size int64) int64) damageFunc {
	return func(t *testing.T, vdir string) string {
		rel := tables(t, vdir)[0]
		p := filepath.Join(vdir, rel)
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(p, to(fi.Size())); err != nil {
			t.Fatal(err)
		}
		return rel
	}
}

func removeFile(rel func(t *testing.T, vdir string) string) damageFunc {
	return func(t *testing.T, vdir string) string {
		r := rel(t, vdir)
		if err := os.Remove(filepath.Join(vdir, r)); err != nil {
			t.Fatal(err)
		}
		return r
	}
}

func firstTable(t *testing.T, vdir string) string { return tables(t, vdir)[0] }
func named(rel string) func(*testing.T, string) string {
	return func(*testing.T, string) string { return rel }
}

// damageCases are kinds of damage at several offsets.
func damageCases() []struct {
	name   string
	damage damageFunc
} {
	return []struct {
		name   string
		damage damageFunc
	}{
		{"zeroed first page of a table", zeroPage(func(int64) int64 { return 0 })},
		{"zeroed page in the middle of a table", zeroPage(func(n int64) int64 { return n / 2 })},
		{"zeroed last page of a table", zeroPage(func(n int64) int64 { return n - 4096 })},
		{"flipped byte at 100", flipBytes(firstTable, func(int64) int64 { return 100 }, 1)},
		{"flipped bytes at a third", flipBytes(firstTable, func(n int64) int64 { return n / 3 }, 16)},
		{"flipped byte near the end", flipBytes(firstTable, func(n int64) int64 { return n - 10 }, 1)},
		{"table truncated by one byte", truncateTable(func(n int64) int64 { return n - 1 })},
		{"table truncated to half", truncateTable(func(n int64) int64 { return n / 2 })},
		{"table truncated to nothing", truncateTable(func(int64) int64 { return 0 })},
		{"table deleted", removeFile(firstTable)},
		{"Badger MANIFEST deleted", removeFile(named(badgerDir + "/MANIFEST"))},
		{"Badger MANIFEST flipped", flipBytes(named(badgerDir+"/MANIFEST"), func(n int64) int64 { return n / 2 }, 1)},
		{"key registry deleted", removeFile(named(badgerDir + "/" + badger.KeyRegistryFileName))},
		{"filter flipped", flipBytes(named(sigBloomFileV3), func(n int64) int64 { return n / 2 }, 1)},
		{"filter deleted", removeFile(named(sigBloomFileV3))},
		{"manifest sum deleted", removeFile(named(manifestSumFile))},
		{"manifest changed", flipBytes(named(manifestFile), func(n int64) int64 { return n / 2 }, 1)},
		{"manifest deleted", removeFile(named(manifestFile))},
		{"unexpected file", func(t *testing.T, vdir string) string {
			writeFile(t, filepath.Join(vdir, badgerDir), "000099.sst", []byte("x"))
			return badgerDir + "/000099.sst"
		}},
	}
}

// TestDamagedVersionAtOpen: a damaged serving version is never served.
// Under DamageNotServing the store opens without it and names the damage;
// under DamageRollback it serves the previous version.
func TestDamagedVersionAtOpen(t *testing.T) {
	for _, tc := range damageCases() {
		t.Run(tc.name, func(t *testing.T) {
			src, dir := t.TempDir(), t.TempDir()
			list := synthList(t, src, 3000)
			s := openStore(t, dir)
			clock := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
			first, err := s.LoadRobinson(context.Background(), list, LoadOptions{Now: func() time.Time { return clock }})
			if err != nil {
				t.Fatal(err)
			}
			// Another file (versions are named by their content): a few
			// records more.
			second, err := s.LoadRobinson(context.Background(), synthList(t, t.TempDir(), 3050), LoadOptions{Now: func() time.Time { return clock.Add(time.Hour) }})
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			file := tc.damage(t, filepath.Join(dir, screening.KindRobinson, second.Version))

			ns, err := Open(dir, Options{})
			if err != nil {
				t.Fatalf("not-serving: the store does not open: %v", err)
			}
			if ns.Ready() {
				t.Error("not-serving: a damaged version is served")
			}
			de := ns.Damage(screening.KindRobinson)
			if de == nil || de.Version != second.Version || !errors.Is(de, ErrDamaged) {
				t.Fatalf("not-serving: damage %v, want version %s", de, second.Version)
			}
			if !strings.Contains(de.Error(), second.Version) || !strings.Contains(de.Error(), file) && !strings.Contains(de.Error(), filepath.Base(file)) {
				t.Errorf("not-serving: %q does not name version %s and file %s", de.Error(), second.Version, file)
			}
			ns.Close()
			if tc.name == "zeroed page in the middle of a table" {
				// A load replaces the damaged version, which stays as the
				// previous one (not pruned), and serves again.
				s := openStore(t, dir)
				third, err := s.LoadRobinson(context.Background(), synthList(t, t.TempDir(), 3100), LoadOptions{Now: func() time.Time { return clock.Add(2 * time.Hour) }})
				if err != nil {
					t.Fatalf("loading over a damaged version: %v", err)
				}
				st, _ := s.readState(screening.KindRobinson)
				if !s.Ready() || s.Damage(screening.KindRobinson) != nil || st.Current != third.Version || st.Previous != second.Version {
					t.Errorf("after a load over the damaged version: ready %v, damage %v, state %+v", s.Ready(), s.Damage(screening.KindRobinson), st)
				}
				return
			}

			rb, err := Open(dir, Options{OnDamage: DamageRollback})
			if err != nil {
				t.Fatalf("rollback: the store does not open: %v", err)
			}
			defer rb.Close()
			if !rb.Ready() || rb.servingVersion(screening.KindRobinson) != first.Version {
				t.Fatalf("rollback: serving %q, want the previous version %s", rb.servingVersion(screening.KindRobinson), first.Version)
			}
			st, err := rb.readState(screening.KindRobinson)
			if err != nil || st.Current != first.Version || st.Previous != second.Version {
				t.Errorf("rollback: state %+v (%v), want current %s, previous %s (kept)", st, err, first.Version, second.Version)
			}
		})
	}
}

// blockingKeys returns every blocking key ('r' keys but address
// summaries) of the serving Robinson version.
func blockingKeys(t *testing.T, s *Store) [][]byte {
	t.Helper()
	d := s.serving[screening.KindRobinson]
	var keys [][]byte
	err := d.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.PrefetchValues = false
		opt.Prefix = []byte{'r'}
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.ValidForPrefix(opt.Prefix); it.Next() {
			k := it.Item().KeyCopy(nil)
			if k[len(k)-1] != addressSummaryMark {
				keys = append(keys, k)
			}
		}
		return nil
	})
	if err != nil || len(keys) == 0 {
		t.Fatalf("%d keys: %v", len(keys), err)
	}
	return keys
}

// TestDamageWhileServing damages a table under a serving store: no key
// whose records were found before reads as "not listed" afterwards. A
// lookup finds its records or fails with ErrDamaged, the version is marked
// damaged (health would go NOT_SERVING), and the scrub reports it.
func TestDamageWhileServing(t *testing.T) {
	cases := []struct {
		name   string
		damage damageFunc
	}{
		{"zeroed page at a quarter", zeroPage(func(n int64) int64 { return n / 4 })},
		{"zeroed page in the middle", zeroPage(func(n int64) int64 { return n / 2 })},
		{"flipped bytes at two thirds", flipBytes(firstTable, func(n int64) int64 { return 2 * n / 3 }, 8)},
		{"table truncated to half", truncateTable(func(n int64) int64 { return n / 2 })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src, dir := t.TempDir(), t.TempDir()
			s := openStore(t, dir)
			changed := make(chan struct{}, 4)
			s.SetOnChange(func() { changed <- struct{}{} })
			man, err := s.LoadRobinson(context.Background(), synthList(t, src, 20000), LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			keys := blockingKeys(t, s)
			tc.damage(t, filepath.Join(dir, screening.KindRobinson, man.Version))
			silent, failed := 0, 0
			for _, k := range keys {
				snap, release := s.Acquire()
				n := 0
				err := snap.Robinson.Candidates(k[1:], nil, func(*robinson.Record) { n++ })
				release()
				switch {
				case err != nil && errors.Is(err, ErrDamaged):
					failed++
				case err != nil:
					t.Fatalf("lookup failed with %v, want ErrDamaged", err)
				case n == 0:
					silent++
				}
			}
			if silent > 0 {
				t.Errorf("%d of %d listed keys read as not listed after the damage", silent, len(keys))
			}
			if failed == 0 {
				t.Error("no lookup failed: the damage went unnoticed")
			}
			if s.Ready() || s.Damage(screening.KindRobinson) == nil {
				t.Error("the damaged version is still reported ready")
			}
			select {
			case <-changed:
			case <-time.After(5 * time.Second):
				t.Error("the change hook was not called")
			}
			if err := s.Scrub(); !errors.Is(err, ErrDamaged) {
				t.Errorf("scrub: %v, want ErrDamaged", err)
			}
			if st := s.ScrubStats(); st.Runs != 1 || st.Failures != 1 || !st.LastSuccess.IsZero() {
				t.Errorf("scrub stats %+v, want one failed run", st)
			}
		})
	}
}

// TestScrubRollsBack: the scrub finds a serving version damaged on disk;
// under DamageRollback the previous version serves, under DamageNotServing
// none does and reads fail.
func TestScrubRollsBack(t *testing.T) {
	for _, policy := range []DamagePolicy{DamageNotServing, DamageRollback} {
		t.Run(policy.String(), func(t *testing.T) {
			src, dir := t.TempDir(), t.TempDir()
			s, err := Open(dir, Options{OnDamage: policy})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			changed := make(chan struct{}, 4)
			s.SetOnChange(func() { changed <- struct{}{} })
			clock := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
			first, err := s.LoadRobinson(context.Background(), robinsonFile(t, src, entries), LoadOptions{Now: func() time.Time { return clock }})
			if err != nil {
				t.Fatal(err)
			}
			// Another file (versions are named by their content).
			second, err := s.LoadRobinson(context.Background(), robinsonFile(t, src, entries[:3]), LoadOptions{AllowShrink: true, Now: func() time.Time { return clock.Add(time.Hour) }})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Scrub(); err != nil {
				t.Fatalf("scrub of intact versions: %v", err)
			}
			if st := s.ScrubStats(); st.Runs != 1 || st.Failures != 0 || st.LastSuccess.IsZero() {
				t.Errorf("scrub stats %+v, want one good run", st)
			}
			flipBytes(named(sigBloomFileV3), func(n int64) int64 { return n / 2 }, 1)(t, filepath.Join(dir, screening.KindRobinson, second.Version))
			if err := s.Scrub(); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), sigBloomFileV3) {
				t.Fatalf("scrub: %v, want damage naming %s", err, sigBloomFileV3)
			}
			select {
			case <-changed:
			case <-time.After(10 * time.Second):
				t.Fatal("the change hook was not called")
			}
			switch policy {
			case DamageRollback:
				if got := s.servingVersion(screening.KindRobinson); got != first.Version || !s.Ready() {
					t.Errorf("serving %s (ready %v), want the previous version %s", got, s.Ready(), first.Version)
				}
				if got := lookup(t, s, "2200", "15", "hansen"); len(got) != 2 {
					t.Errorf("after the rollback: %d records, want 2", len(got))
				}
			default:
				if s.Ready() || s.Usable() == nil {
					t.Error("a damaged version is ready")
				}
				snap, release := s.Acquire()
				err := snap.Robinson.Candidates(robinson.AppendKey(nil, "2200", "15", "hansen"), nil, func(*robinson.Record) {})
				release()
				if !errors.Is(err, ErrDamaged) {
					t.Errorf("a read of the damaged version: %v, want ErrDamaged", err)
				}
			}
		})
	}
}

// TestStateFileDeleted: a kind whose state file is gone adopts its newest
// complete version (and the one before as previous) instead of serving
// nothing and losing the versions at the next load.
func TestStateFileDeleted(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s := openStore(t, dir)
	clock := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	// Two lists, the newer load the older publication: its version name
	// (date and content) sorts first, its load time last.
	loads := []struct {
		list string
		opt  LoadOptions
	}{
		{robinsonFile(t, src, entries), LoadOptions{Published: published.AddDate(0, 0, 1)}},
		{robinsonFile(t, src, entries[:3]), LoadOptions{AllowShrink: true}},
	}
	var versions []string
	for i, l := range loads {
		l.opt.Now = func() time.Time { return clock.Add(time.Duration(i) * time.Hour) }
		man, err := s.LoadRobinson(context.Background(), l.list, l.opt)
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, man.Version)
	}
	if versions[1] >= versions[0] {
		t.Fatalf("versions %v: the newer load's name should sort first", versions)
	}
	s.Close()
	if err := os.Remove(filepath.Join(dir, screening.KindRobinson, stateFile)); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	if got := s.servingVersion(screening.KindRobinson); got != versions[1] {
		t.Fatalf("serving %q, want the newest version %s", got, versions[1])
	}
	st, err := s.readState(screening.KindRobinson)
	if err != nil || st.Current != versions[1] || st.Previous != versions[0] {
		t.Errorf("state %+v (%v), want %v", st, err, versions)
	}
	vs, err := s.Versions(screening.KindRobinson, time.Now())
	if err != nil || len(vs) != 2 {
		t.Fatalf("versions kept: %d (%v), want 2", len(vs), err)
	}
	if _, err := s.Rollback(screening.KindRobinson); err != nil {
		t.Errorf("rollback to the adopted previous version: %v", err)
	}
}

// TestUnhashedVersionHashedOnFirstOpen: a version built before verified
// storage (no file hashes, no manifest sum) is served after Badger checked
// its tables, and its files are hashed into its manifest then; damage
// after that is found like in any other version. A truncated or damaged
// table is found before Badger opens it.
func TestUnhashedVersionHashedOnFirstOpen(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage damageFunc // nil: intact
	}{
		{"intact", nil},
		{"truncated table", truncateTable(func(n int64) int64 { return n - 100 })},
		{"zeroed page in a table", zeroPage(func(n int64) int64 { return n / 3 })},
		{"flipped bytes in a table", flipBytes(firstTable, func(n int64) int64 { return n / 5 }, 16)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dir := t.TempDir(), t.TempDir()
			s := openStore(t, dir)
			man, err := s.LoadRobinson(context.Background(), synthList(t, src, 3000), LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			vdir := filepath.Join(dir, screening.KindRobinson, man.Version)
			old := *man
			writeOldManifest(t, vdir, &old)
			if tc.damage != nil {
				// Found before Badger opens the table (which would panic
				// in a goroutine of its own on some of these).
				rel := tc.damage(t, vdir)
				s = openStore(t, dir)
				de := s.Damage(screening.KindRobinson)
				if s.Ready() || de == nil || de.File != rel {
					t.Fatalf("ready %v, damage %v: want the damaged table %s named", s.Ready(), de, rel)
				}
				return
			}
			s = openStore(t, dir)
			if !s.Ready() {
				t.Fatalf("an intact version from before verified storage is not served: %v", s.Damage(screening.KindRobinson))
			}
			got, err := readVerifiedManifest(vdir, screening.KindRobinson)
			if err != nil || len(got.Files) != len(man.Files) || got.FilesHashedAt.IsZero() {
				t.Fatalf("manifest after the first open: %d files hashed at %v (%v), want %d", len(got.Files), got.FilesHashedAt, err, len(man.Files))
			}
			for f, sum := range man.Files {
				if got.Files[f] != sum {
					t.Errorf("%s hashed at open as %v, at build as %v", f, got.Files[f], sum)
				}
			}
			s.Close()
			rel := flipBytes(firstTable, func(n int64) int64 { return n / 2 }, 1)(t, vdir)
			s = openStore(t, dir)
			if de := s.Damage(screening.KindRobinson); s.Ready() || de == nil || de.File != rel {
				t.Errorf("damage after the first open: ready %v, %v", s.Ready(), de)
			}
		})
	}
}

// TestKeyRotationKeepsHashes: rotating the encryption key rewrites the key
// registries and records their new hashes, so the versions still verify.
func TestKeyRotationKeepsHashes(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	key, _ := newKeyFile(t)
	s := openStoreWith(t, dir, Options{EncryptionKey: key})
	if _, err := s.LoadRobinson(context.Background(), robinsonFile(t, src, entries), LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	newKey, _ := newKeyFile(t)
	if err := RotateEncryptionKey(dir, key, newKey); err != nil {
		t.Fatal(err)
	}
	s = openStoreWith(t, dir, Options{EncryptionKey: newKey})
	if !s.Ready() || s.Scrub() != nil {
		t.Fatalf("after rotation: ready %v, damage %v", s.Ready(), s.Damage(screening.KindRobinson))
	}
	if !slices.ContainsFunc(lookup(t, s, "2200", "15", "hansen"), func(r robinson.Record) bool { return true }) {
		t.Error("after rotation: no records")
	}
}
