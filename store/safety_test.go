package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/internal/cprfmt"
)

func TestSyntheticDataIsNeverServedAsReal(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	ctx := context.Background()
	s, err := Open(dir, Options{AllowSynthetic: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadRobinson(ctx, robinsonFile(t, src, entries), LoadOptions{Synthetic: true}); err != nil {
		t.Fatal(err)
	}
	// Real data may not join the demo data in one directory.
	if _, err := s.LoadCPR(ctx, cprFile(t, src, true), LoadOptions{}); !errors.Is(err, ErrSynthetic) {
		t.Errorf("real load into a demo directory: err = %v, want ErrSynthetic", err)
	}
	s.Close()
	// Without --demo the directory is refused outright.
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrSynthetic) {
		t.Errorf("Open of a demo directory without AllowSynthetic: err = %v, want ErrSynthetic", err)
	}
	// And the demo dataset does not join real data.
	real := t.TempDir()
	r := openStore(t, real)
	if _, err := r.LoadCPR(ctx, cprFile(t, src, true), LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.LoadRobinson(ctx, robinsonFile(t, src, entries), LoadOptions{Synthetic: true}); err == nil {
		t.Error("demo load into a directory with real data succeeded")
	}
}

func TestFutureDatesAreRefused(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s := openStore(t, dir)
	ctx := context.Background()
	future := time.Now().UTC().AddDate(1, 0, 0)
	b, err := cprfmt.RobinsonFile(future, entries)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		load func() error
	}{
		{"header date", func() error {
			_, err := s.LoadRobinson(ctx, writeFile(t, src, "future.txt", b), LoadOptions{})
			return err
		}},
		{"override", func() error {
			_, err := s.LoadRobinson(ctx, robinsonFile(t, src, entries), LoadOptions{Published: future})
			return err
		}},
		{"cpr production date", func() error {
			_, err := s.LoadCPR(ctx, cprFile(t, src, true), LoadOptions{Published: future})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.load(); !errors.Is(err, ErrFutureDate) {
				t.Errorf("err = %v, want ErrFutureDate", err)
			}
		})
	}
	if s.Ready() {
		t.Error("a future-dated list is serving")
	}
}

func TestDamagedBloomFilterRefused(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	man, err := s.LoadRobinson(context.Background(), robinsonFile(t, src, entries), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	p := filepath.Join(dir, "robinson", man.Version, filterFile(man.Filter))
	b, _ := os.ReadFile(p)
	for i := len(b) / 2; i < len(b); i++ {
		b[i] = 0 // clear bits: the filter would answer "no candidate"
	}
	os.WriteFile(p, b, 0o600)
	for _, policy := range []DamagePolicy{DamageNotServing, DamageRollback} {
		// No previous version: both policies leave the list unserved.
		s, err := Open(dir, Options{OnDamage: policy})
		if err != nil {
			t.Fatalf("%s: the store does not open: %v", policy, err)
		}
		if s.Ready() {
			t.Errorf("%s: serving a version whose Bloom filter was damaged", policy)
		}
		de := s.Damage("robinson")
		if de == nil || de.Version != man.Version || de.File != filterFile(man.Filter) {
			t.Errorf("%s: damage %v, want version %s, file %s", policy, de, man.Version, filterFile(man.Filter))
		}
		s.Close()
	}
}

func TestCloseEndsServingAndLoads(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadRobinson(context.Background(), robinsonFile(t, src, entries), LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	snap, release := s.Acquire()
	release()
	if snap.Robinson != nil || s.Ready() {
		t.Error("a closed store still hands out datasets")
	}
	if _, err := s.LoadRobinson(context.Background(), robinsonFile(t, src, entries), LoadOptions{}); !errors.Is(err, ErrClosed) {
		t.Errorf("load after Close: err = %v, want ErrClosed", err)
	}
}

func TestReserveAndCancel(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s := openStore(t, dir)
	release, err := s.Reserve("robinson")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadRobinson(context.Background(), robinsonFile(t, src, entries), LoadOptions{}); !errors.Is(err, ErrLoadInProgress) {
		t.Errorf("load while reserved: err = %v, want ErrLoadInProgress", err)
	}
	if _, err := s.LoadRobinson(context.Background(), robinsonFile(t, src, entries), LoadOptions{Reserved: true}); err != nil {
		t.Errorf("load with the reservation: %v", err)
	}
	release()
	// A canceled load is not a refusal of the file.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.LoadRobinson(ctx, robinsonFile(t, src, entries[:2]), LoadOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled load: err = %v", err)
	}
	if r := s.LastRefused("robinson"); r != nil {
		t.Errorf("a canceled load was recorded as refused: %+v", r)
	}
	if got := lookup(t, s, "2200", "15", "hansen"); len(got) != 2 {
		t.Errorf("serving version changed by a canceled load: %v", got)
	}
}

func TestReadErrorHidesTheKey(t *testing.T) {
	key := "2100\x1f12\x1ftestesen"
	cause := fmt.Errorf("DB::Get key: %q: %w", key, os.ErrClosed) // as Badger words it
	err := error(&ReadError{Version: "v1", err: cause})
	if strings.Contains(err.Error(), "testesen") || strings.Contains(err.Error(), "2100") {
		t.Errorf("read error text %q carries the key", err.Error())
	}
	if !errors.Is(err, os.ErrClosed) {
		t.Error("the cause is not reachable through errors.Is")
	}
}
