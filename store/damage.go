package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/robinscreen/robinscreen/screening"
)

// DamagePolicy says what the store does when the serving version of a
// kind is found damaged: at open, by the scrub or by a failed read.
type DamagePolicy int

const (
	// DamageNotServing keeps no damaged version in use: a damaged
	// Robinson list makes health NOT_SERVING and screening fail with
	// ErrDamaged until a load replaces it; a damaged CPR extract fails
	// every request with a personal number. The fail-closed default.
	DamageNotServing DamagePolicy = iota
	// DamageRollback switches to the kind's previous version when it
	// opens and verifies; without one it acts as DamageNotServing.
	DamageRollback
)

// String returns the policy's flag value.
func (p DamagePolicy) String() string {
	if p == DamageRollback {
		return "rollback"
	}
	return "not-serving"
}

// ParseDamagePolicy parses "not-serving" or "rollback". It returns an
// error naming the accepted values for anything else.
func ParseDamagePolicy(s string) (DamagePolicy, error) {
	switch s {
	case "not-serving":
		return DamageNotServing, nil
	case "rollback":
		return DamageRollback, nil
	}
	return 0, fmt.Errorf("store: unknown damage policy %q (want not-serving or rollback)", s)
}

// ScrubStats counts the store's scrubs.
type ScrubStats struct {
	Runs, Failures int64
	// LastSuccess is when a scrub last found every serving version intact.
	LastSuccess time.Time
	// LastDuration is how long the last scrub took.
	LastDuration time.Duration
}

// scrubState is the store's scrub bookkeeping and damage records.
type scrubState struct {
	mu    sync.Mutex
	stats ScrubStats
	// openDamage holds, per kind, the damage of the version refused at
	// open (not serving), until a load or rollback serves another.
	openDamage map[string]*DamageError
	onChange   func()
}

// SetOnChange sets fn to be called after the store changed what it serves
// or found a version damaged on its own (scrub, failed read, rollback), so
// that health can be refreshed. fn must not block for long.
func (s *Store) SetOnChange(fn func()) {
	s.scrub.mu.Lock()
	s.scrub.onChange = fn
	s.scrub.mu.Unlock()
}

func (s *Store) changed() {
	s.scrub.mu.Lock()
	fn := s.scrub.onChange
	s.scrub.mu.Unlock()
	if fn != nil {
		fn()
	}
}

// Damage returns the damage of kind's serving version, or of the version
// refused at open when none serves; nil when there is none.
func (s *Store) Damage(kind string) *DamageError {
	s.mu.RLock()
	d := s.serving[kind]
	s.mu.RUnlock()
	if d != nil {
		return d.damaged()
	}
	s.scrub.mu.Lock()
	defer s.scrub.mu.Unlock()
	return s.scrub.openDamage[kind]
}

// Usable returns an error (errors.Is ErrDamaged) when the serving Robinson
// version is damaged: nothing may be screened against it.
func (s *Store) Usable() error {
	if de := s.Damage(screening.KindRobinson); de != nil {
		return de
	}
	return nil
}

// ScrubStats returns the scrub counters.
func (s *Store) ScrubStats() ScrubStats {
	s.scrub.mu.Lock()
	defer s.scrub.mu.Unlock()
	return s.scrub.stats
}

func (s *Store) setOpenDamage(kind string, de *DamageError) {
	s.scrub.mu.Lock()
	defer s.scrub.mu.Unlock()
	if de == nil {
		delete(s.scrub.openDamage, kind)
		return
	}
	if s.scrub.openDamage == nil {
		s.scrub.openDamage = map[string]*DamageError{}
	}
	s.scrub.openDamage[kind] = de
}

// openDamaged handles a serving version found damaged at open: under
// DamageRollback it opens and serves the previous version, recording the
// switch in the state file; otherwise, or when that fails too, the kind
// is not served (nil, nil) and the damage is kept for Damage. Nothing is
// deleted.
func (s *Store) openDamaged(kind string, st kindState, de *DamageError) (*dataset, error) {
	s.setOpenDamage(kind, de)
	s.log.Error("the serving dataset version is damaged", "kind", kind, "version", st.Current, "error", de.Error(), "policy", s.opts.OnDamage.String())
	if s.opts.OnDamage != DamageRollback || st.Previous == "" || st.Previous == st.Current {
		s.log.Error("not serving the dataset: load it again, or roll back (--on-damage=rollback serves the previous version)", "kind", kind)
		return nil, nil
	}
	d, err := s.openVersion(kind, st.Previous)
	if err != nil {
		s.log.Error("the previous dataset version does not open either: not serving the dataset", "kind", kind, "version", st.Previous, "error", err.Error())
		return nil, nil
	}
	if err := s.writeState(kind, kindState{Current: st.Previous, Previous: st.Current}); err != nil {
		d.close()
		return nil, err
	}
	s.log.Warn("rolled back to the previous dataset version", "kind", kind, "from", st.Current, "to", st.Previous)
	return d, nil
}

// onDamaged handles a serving version found damaged while serving (a
// failed read or the scrub): it names the damaged file when the read
// could not (nameDamagedFile), logs it, rolls back under DamageRollback
// and tells SetOnChange's function. It runs in its own goroutine.
func (s *Store) onDamaged(d *dataset) {
	de := s.nameDamagedFile(d, d.damaged())
	s.log.Error("the serving dataset version is damaged", "kind", d.man.Kind, "version", d.man.Version, "error", de.Error(), "policy", s.opts.OnDamage.String())
	if s.opts.OnDamage == DamageRollback && d.man.Kind != screening.KindStreets && s.servingVersion(d.man.Kind) == d.man.Version {
		if _, err := s.Rollback(d.man.Kind); err != nil {
			s.log.Error("rollback from the damaged dataset version failed: not serving the dataset", "kind", d.man.Kind, "error", err.Error())
		}
	}
	s.changed()
}

// Scrub re-verifies the files of every serving version against the sizes
// and SHA-256 sums of its manifest. A damaged version is marked (every
// read of it fails from then on) and handled by the damage policy. It
// returns the damage found, joined (each errors.Is ErrDamaged), or nil.
// A road register is served from the copy in memory verified at open: its
// damage is reported, and takes effect at the next open.
func (s *Store) Scrub() error {
	start := time.Now()
	s.mu.RLock()
	var ds []*dataset
	for _, kind := range Kinds {
		if d := s.serving[kind]; d != nil {
			ds = append(ds, d)
		}
	}
	s.mu.RUnlock()
	var errs []error
	for _, d := range ds {
		if de := d.damaged(); de != nil {
			errs = append(errs, s.nameDamagedFile(d, de))
			continue
		}
		err := verifyFiles(d.dir, &d.man)
		var de *DamageError
		if !errors.As(err, &de) {
			continue
		}
		if s.servingVersion(d.man.Kind) != d.man.Version {
			continue // replaced (and perhaps pruned) meanwhile
		}
		errs = append(errs, de)
		if d.markDamaged(de) {
			go s.onDamaged(d)
		}
	}
	s.scrub.mu.Lock()
	s.scrub.stats.Runs++
	s.scrub.stats.LastDuration = time.Since(start)
	if len(errs) > 0 {
		s.scrub.stats.Failures++
	} else {
		s.scrub.stats.LastSuccess = time.Now()
	}
	s.scrub.mu.Unlock()
	return errors.Join(errs...)
}

// nameDamagedFile returns de, the damage of d found by a failed read
// (a Badger panic, say), which names no file when the file's size did not
// tell: then it hashes d's files to find the damaged one, records that
// damage in d instead and returns it, so that the log and the status
// name the file too.
func (s *Store) nameDamagedFile(d *dataset, de *DamageError) *DamageError {
	if de.File != "" {
		return de
	}
	var named *DamageError
	if !errors.As(verifyFiles(d.dir, &d.man), &named) || named.File == "" {
		return de
	}
	named.Problem = de.Problem + "; " + named.Problem
	if !d.damage.CompareAndSwap(de, named) {
		return d.damaged()
	}
	return named
}

// RunScrub scrubs every interval until ctx is done. It logs what it finds.
func (s *Store) RunScrub(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.Scrub(); err != nil {
			s.log.Error("scrub found damaged dataset versions", "error", err.Error())
			continue
		}
		s.log.Debug("scrub: every serving dataset version is intact")
	}
}

// adoptState handles a kind directory without a state file but with
// complete versions (the file was deleted): it adopts the newest complete
// version as serving and the one before as previous, writes the state
// file and logs it, so that no version is lost without a word. It returns
// the zero state when there is no version, and I/O errors.
func (s *Store) adoptState(kind string) (kindState, error) {
	var st kindState
	if _, err := os.Stat(filepath.Join(s.kindDir(kind), stateFile)); !errors.Is(err, os.ErrNotExist) {
		return st, nil // present (and naming no version), or unreadable: no guess
	}
	entries, err := os.ReadDir(s.kindDir(kind))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	var names []string
	loaded := map[string]time.Time{}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if _, err := os.Stat(filepath.Join(s.kindDir(kind), e.Name(), manifestFile)); err == nil {
			names = append(names, e.Name())
			if m, err := readManifest(filepath.Join(s.kindDir(kind), e.Name())); err == nil {
				loaded[e.Name()] = m.LoadedAt
			}
		}
	}
	if len(names) == 0 {
		return st, nil
	}
	// Newest load last. Version names say nothing of the load's time (they
	// name the content): the manifests' load times order them; a manifest
	// that does not read counts as the oldest.
	sort.Slice(names, func(i, j int) bool {
		if a, b := loaded[names[i]], loaded[names[j]]; !a.Equal(b) {
			return a.Before(b)
		}
		return names[i] < names[j]
	})
	st.Current = names[len(names)-1]
	if len(names) > 1 {
		st.Previous = names[len(names)-2]
	}
	if err := s.writeState(kind, st); err != nil {
		return kindState{}, fmt.Errorf("store: %s: the state file is missing and adopting version %s failed: %w", kind, st.Current, err)
	}
	s.log.Warn("the dataset state file was missing: adopted the newest complete version", "kind", kind, "version", st.Current, "previous", st.Previous, "versions", len(names))
	return st, nil
}
