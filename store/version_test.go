package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/screening"
)

// fileSum returns the hex SHA-256 of the file at path.
func fileSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

var contentName = regexp.MustCompile(`^[0-9]{8}-[0-9a-f]{16}$`)

// TestVersionNamesContent: screening rule 5.3, the same file gives the
// same version in every data directory and on every reload, and another
// file or another date gives another.
func TestVersionNamesContent(t *testing.T) {
	src := t.TempDir()
	fileA := robinsonFile(t, src, entries)
	fileB := robinsonFile(t, src, entries[:3])
	override := published.AddDate(0, 0, 7)
	tests := []struct {
		name string
		// load loads files into fresh data directories and returns the
		// versions to compare.
		load     func(t *testing.T) (string, string)
		wantSame bool
	}{
		{"same file, two data directories", func(t *testing.T) (string, string) {
			a := loadRobinson(t, openStore(t, t.TempDir()), fileA, LoadOptions{})
			b := loadRobinson(t, openStore(t, t.TempDir()), fileA, LoadOptions{Now: func() time.Time { return time.Now().Add(time.Hour) }})
			return a.Version, b.Version
		}, true},
		{"same file under another name", func(t *testing.T) (string, string) {
			b, err := os.ReadFile(fileA)
			if err != nil {
				t.Fatal(err)
			}
			copyA := writeFile(t, t.TempDir(), "kopi.txt", b)
			x := loadRobinson(t, openStore(t, t.TempDir()), fileA, LoadOptions{})
			y := loadRobinson(t, openStore(t, t.TempDir()), copyA, LoadOptions{})
			return x.Version, y.Version
		}, true},
		{"same file, its own date given as override", func(t *testing.T) (string, string) {
			a := loadRobinson(t, openStore(t, t.TempDir()), fileA, LoadOptions{})
			b := loadRobinson(t, openStore(t, t.TempDir()), fileA, LoadOptions{Published: published})
			return a.Version, b.Version
		}, true},
		{"another file", func(t *testing.T) (string, string) {
			a := loadRobinson(t, openStore(t, t.TempDir()), fileA, LoadOptions{})
			b := loadRobinson(t, openStore(t, t.TempDir()), fileB, LoadOptions{})
			return a.Version, b.Version
		}, false},
		{"same file, another date given", func(t *testing.T) (string, string) {
			a := loadRobinson(t, openStore(t, t.TempDir()), fileA, LoadOptions{})
			b := loadRobinson(t, openStore(t, t.TempDir()), fileA, LoadOptions{Published: override, Now: func() time.Time { return override }})
			return a.Version, b.Version
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := tt.load(t)
			if !contentName.MatchString(a) || !contentName.MatchString(b) {
				t.Fatalf("versions %q, %q: want YYYYMMDD-<16 hex digits>", a, b)
			}
			if (a == b) != tt.wantSame {
				t.Errorf("versions %q and %q: same = %v, want %v", a, b, a == b, tt.wantSame)
			}
		})
	}
	// The name is the date and the file's SHA-256, so an operator can
	// tell it from the file.
	m := loadRobinson(t, openStore(t, t.TempDir()), fileA, LoadOptions{})
	if want := published.Format("20060102") + "-" + fileSum(t, fileA)[:16]; m.Version != want {
		t.Errorf("version %q, want %q (date and sha256sum of the file)", m.Version, want)
	}
}

func loadRobinson(t *testing.T, s *Store, path string, opt LoadOptions) *Manifest {
	t.Helper()
	t.Cleanup(func() { s.Close() })
	m, err := s.LoadRobinson(context.Background(), path, opt)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestLoadSameContentAgain: loading the serving version's file again
// changes nothing (the serving version keeps its load time); loading the
// previous version's file again serves that version again, rebuilt, and
// the one it replaces becomes the previous one.
func TestLoadSameContentAgain(t *testing.T) {
	src := t.TempDir()
	fileA := robinsonFile(t, src, entries)
	fileB := robinsonFile(t, src, entries[:3])
	first := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	at := func(d time.Duration) func() time.Time { return func() time.Time { return first.Add(d) } }

	t.Run("serving version loaded again", func(t *testing.T) {
		s := openStore(t, t.TempDir())
		a := loadRobinson(t, s, fileA, LoadOptions{Now: at(0)})
		var phases []string
		again := loadRobinson(t, s, fileA, LoadOptions{Now: at(time.Minute), Progress: func(p Progress) { phases = append(phases, p.Phase) }})
		if slices.Contains(phases, PhaseWriting) || slices.Contains(phases, PhaseReading) {
			t.Errorf("the serving version's file was built again: phases %v", phases)
		}
		if !again.Unchanged || again.Version != a.Version {
			t.Fatalf("second load: version %s unchanged=%v, want %s unchanged", again.Version, again.Unchanged, a.Version)
		}
		if !again.LoadedAt.Equal(first) {
			t.Errorf("second load reports loaded at %v, want the first load's %v", again.LoadedAt, first)
		}
		st := s.Status(time.Now())
		if len(st) != 1 || st[0].Version != a.Version || !st[0].LoadedAt.Equal(first) {
			t.Errorf("status after the second load: %+v", st)
		}
		vs, err := s.Versions(screening.KindRobinson, time.Now())
		if err != nil || len(vs) != 1 {
			t.Errorf("versions after loading the same file twice: %d (%v), want 1", len(vs), err)
		}
	})

	t.Run("serving version's file with its own date given", func(t *testing.T) {
		s := openStore(t, t.TempDir())
		a := loadRobinson(t, s, fileA, LoadOptions{Now: at(0)})
		again := loadRobinson(t, s, fileA, LoadOptions{Now: at(time.Minute), Published: published})
		if !again.Unchanged || again.Version != a.Version {
			t.Errorf("version %s unchanged=%v, want %s unchanged", again.Version, again.Unchanged, a.Version)
		}
		other := loadRobinson(t, s, fileA, LoadOptions{Now: at(2 * time.Minute), Published: published.AddDate(0, 0, 1)})
		if other.Unchanged || other.Version == a.Version {
			t.Errorf("another date: version %s unchanged=%v, want a new version", other.Version, other.Unchanged)
		}
	})

	t.Run("previous version loaded again", func(t *testing.T) {
		dir := t.TempDir()
		s := openStore(t, dir)
		a := loadRobinson(t, s, fileA, LoadOptions{Now: at(0)})
		b := loadRobinson(t, s, fileB, LoadOptions{Now: at(time.Minute), AllowShrink: true})
		again := loadRobinson(t, s, fileA, LoadOptions{Now: at(2 * time.Minute)})
		if again.Unchanged || again.Version != a.Version || a.Version == b.Version {
			t.Fatalf("A, B, A: versions %s, %s, %s (unchanged %v); want the first again, switched", a.Version, b.Version, again.Version, again.Unchanged)
		}
		if got := lookup(t, s, "2200", "15", "hansen"); len(got) != 2 {
			t.Errorf("after loading A again: %d records at the address, want A's 2", len(got))
		}
		vs, err := s.Versions(screening.KindRobinson, time.Now())
		if err != nil || len(vs) != 2 || vs[0].Version != a.Version || !vs[0].Serving || vs[1].Version != b.Version {
			t.Fatalf("versions: %+v (%v), want A serving (newest load) then B", vs, err)
		}
		if !vs[0].LoadedAt.Equal(first.Add(2 * time.Minute)) {
			t.Errorf("A's load time %v, want the third load's", vs[0].LoadedAt)
		}
		if _, err := os.Stat(filepath.Join(dir, screening.KindRobinson, a.Version, manifestFile)); err != nil {
			t.Error(err)
		}
		if m, err := s.Rollback(screening.KindRobinson); err != nil || m.Version != b.Version {
			t.Errorf("rollback: %v, %v; want B", m, err)
		}
		s.Close()
		// Nothing half-moved is left behind.
		left, _ := filepath.Glob(filepath.Join(dir, screening.KindRobinson, ".build-*"))
		if len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
	})

	t.Run("version of another file under the same name", func(t *testing.T) {
		dir := t.TempDir()
		s := openStore(t, dir)
		a := loadRobinson(t, s, fileA, LoadOptions{Now: at(0)})
		b := loadRobinson(t, s, fileB, LoadOptions{Now: at(time.Minute), AllowShrink: true})
		// Make the kept version A claim another file: a clash of names.
		man, err := readManifest(filepath.Join(dir, screening.KindRobinson, a.Version))
		if err != nil {
			t.Fatal(err)
		}
		man.SourceSHA256 = fileSum(t, fileB)
		if err := writeManifest(filepath.Join(dir, screening.KindRobinson, a.Version), &man); err != nil {
			t.Fatal(err)
		}
		_, err = s.LoadRobinson(context.Background(), fileA, LoadOptions{Now: at(2 * time.Minute)})
		if !errors.Is(err, ErrVersionClash) {
			t.Fatalf("load: %v, want ErrVersionClash", err)
		}
		if st := s.Status(time.Now()); len(st) != 1 || st[0].Version != b.Version {
			t.Errorf("after the clash: %+v, want B serving", st)
		}
	})
}

// TestLoadTimeNamedVersionsKeepWorking: a data directory whose versions
// were named after their load time (an older robinscreen) opens and
// serves them, lists them in load order, and rolls back to them after a
// content-named load.
func TestLoadTimeNamedVersionsKeepWorking(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	fileA := robinsonFile(t, src, entries)
	fileB := robinsonFile(t, src, entries[:3])
	s := openStore(t, dir)
	a := loadRobinson(t, s, fileA, LoadOptions{Now: func() time.Time { return time.Date(2026, 11, 22, 20, 56, 13, 0, time.UTC) }})
	s.Close()
	// Rename the version as an older robinscreen would have named it.
	const old = "20261122T205613Z-c3f0eec5"
	kdir := filepath.Join(dir, screening.KindRobinson)
	if err := os.Rename(filepath.Join(kdir, a.Version), filepath.Join(kdir, old)); err != nil {
		t.Fatal(err)
	}
	man, err := readManifest(filepath.Join(kdir, old))
	if err != nil {
		t.Fatal(err)
	}
	man.Version = old
	if err := writeManifest(filepath.Join(kdir, old), &man); err != nil {
		t.Fatal(err)
	}
	if err := writeJSON(filepath.Join(kdir, stateFile), kindState{Current: old}); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, dir)
	defer s.Close()
	if st := s.Status(time.Now()); len(st) != 1 || st[0].Version != old || !st[0].LoadedAt.Equal(man.LoadedAt) {
		t.Fatalf("status of the old-named version: %+v", st)
	}
	if got := lookup(t, s, "2200", "15", "hansen"); len(got) != 2 {
		t.Errorf("old-named version answers %d records, want 2", len(got))
	}
	b, err := s.LoadRobinson(context.Background(), fileB, LoadOptions{AllowShrink: true})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := s.Versions(screening.KindRobinson, time.Now())
	if err != nil || len(vs) != 2 || vs[0].Version != b.Version || vs[1].Version != old {
		t.Fatalf("versions: %+v (%v), want the new one first, then %s", vs, err, old)
	}
	if m, err := s.Rollback(screening.KindRobinson); err != nil || m.Version != old {
		t.Fatalf("rollback to the old-named version: %v, %v", m, err)
	}
	if got := lookup(t, s, "2200", "15", "hansen"); len(got) != 2 {
		t.Errorf("after rollback: %d records, want 2", len(got))
	}
}

// TestDamagedVersionLoadedAgain: the file of a serving version found
// damaged, loaded again, rebuilds that version (same name) and serves it;
// the load is not taken for "nothing changed", and the version is not
// kept as its own previous version.
func TestDamagedVersionLoadedAgain(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s := openStore(t, dir)
	defer s.Close()
	first := loadRobinson(t, s, robinsonFile(t, src, entries[:3]), LoadOptions{})
	list := robinsonFile(t, src, entries)
	a := loadRobinson(t, s, list, LoadOptions{})
	flipBytes(named(sigBloomFileV3), func(n int64) int64 { return n / 2 }, 1)(t, filepath.Join(dir, screening.KindRobinson, a.Version))
	if err := s.Scrub(); !errors.Is(err, ErrDamaged) || s.Ready() {
		t.Fatalf("scrub: %v, ready %v; want the version damaged", err, s.Ready())
	}
	again := loadRobinson(t, s, list, LoadOptions{})
	if again.Unchanged || again.Version != a.Version {
		t.Fatalf("loading the damaged version's file: version %s unchanged=%v, want %s rebuilt", again.Version, again.Unchanged, a.Version)
	}
	if !s.Ready() || s.Damage(screening.KindRobinson) != nil {
		t.Errorf("after the rebuild: ready %v, damage %v", s.Ready(), s.Damage(screening.KindRobinson))
	}
	if got := lookup(t, s, "2200", "15", "hansen"); len(got) != 2 {
		t.Errorf("after the rebuild: %d records, want 2", len(got))
	}
	st, err := s.readState(screening.KindRobinson)
	if err != nil || st.Current != a.Version || st.Previous != first.Version {
		t.Errorf("state %+v (%v), want current %s, previous %s", st, err, a.Version, first.Version)
	}
}
