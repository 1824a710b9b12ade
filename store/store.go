package store

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/robinscreen/robinscreen/screening"
)

// Errors returned by the store.
var (
	// ErrLocked means another process uses the data directory.
	ErrLocked = errors.New("store: data directory is in use by another process")
	// ErrLoadInProgress means a load of the same dataset kind is running.
	ErrLoadInProgress = errors.New("store: a load of this dataset is already in progress")
	// ErrSynthetic means the data directory holds the synthetic demo
	// dataset where real data is expected, or a load would mix the two.
	ErrSynthetic = errors.New("store: the data directory holds the synthetic demo dataset")
	// ErrClosed means the store was closed.
	ErrClosed = errors.New("store: closed")
	// ErrKeyMismatch means the pseudonym key is not the one the CPR dataset
	// was loaded with.
	ErrKeyMismatch = errors.New("store: the pseudonym key does not match the loaded CPR dataset")
	// ErrOutdatedFormat means a Robinson version was built by a robinscreen
	// from before matching v2: its keys and names are normalised the old
	// way (punctuation kept in names, "h.c." one word), so looking it up
	// with today's rules would miss listed people. It is never served; load
	// the list again.
	ErrOutdatedFormat = errors.New("store: the Robinson list version predates matching v2 and must be loaded again")
	// ErrMaxAge means a maximum age in Options is negative, or longer than
	// its kind's default without Options.AllowLongerMaxAge (screening rule
	// 2.7: an operator may shorten a maximum age; lengthening it needs an
	// explicit, logged override).
	ErrMaxAge = errors.New("store: maximum age not allowed")
)

// Options configure a Store.
type Options struct {
	// KeyFile is the pseudonym key file; empty means DefaultKeyFile(dir).
	KeyFile string
	// RobinsonMaxAge, CPRMaxAge, StreetsMaxAge and CVRMaxAge are the
	// maximum ages after publication (a road register's date, CVR data's
	// extraction date); zero means the defaults of package screening. One
	// may be shorter than its default; a longer one needs
	// AllowLongerMaxAge (screening rule 2.7).
	RobinsonMaxAge, CPRMaxAge, StreetsMaxAge, CVRMaxAge time.Duration
	// AllowLongerMaxAge is the operator's explicit override that lets a
	// maximum age exceed its default; Open logs every one it lets through.
	AllowLongerMaxAge bool
	// EncryptionKey, when set (16, 24 or 32 bytes), encrypts every dataset
	// at rest with Badger's AES encryption. A data directory loaded with a
	// key cannot be opened without it.
	EncryptionKey []byte
	// AllowSynthetic lets the store serve the synthetic demo dataset
	// (serve --demo). Without it a directory holding demo data is refused.
	AllowSynthetic bool
	// ImportDir is the only directory from which the server loads files
	// named in a request; empty disables named files.
	ImportDir string
	// Logger receives operational messages (never personal data).
	Logger *slog.Logger
	// BuildCommand, when set, is the command line of a build process
	// (the program and its arguments; the program runs ServeBuild): every
	// load then parses its file and writes the new version in that
	// process, so that running out of memory or disk space while writing
	// (a fault on a memory-mapped file) ends the build process, not this
	// one, and the load is refused. Empty builds in this process.
	BuildCommand []string
	// BuildStderr receives the build process's log lines and failpoint
	// messages; nil means os.Stderr. Anything else it prints (a crash
	// report) is kept only to describe its failure.
	BuildStderr io.Writer
	// OnDamage says what happens when a serving version is found damaged
	// (at open, by Scrub or by a failed read); the zero value is
	// DamageNotServing.
	OnDamage DamagePolicy
}

// DefaultKeyFile is where the pseudonym key lives unless configured:
// inside the data directory, so that load and then serve work with no
// flags. Production keeps it elsewhere (see README).
func DefaultKeyFile(dir string) string { return filepath.Join(dir, "pseudonym.key") }

// Store holds the serving version of every dataset kind.
type Store struct {
	dir   string
	opts  Options
	log   *slog.Logger
	pseud *Pseudonymizer
	// pseudKey is the pseudonym key, handed to a build process.
	pseudKey []byte
	lock     *os.File

	mu       sync.RWMutex
	serving  map[string]*dataset // kind -> serving version
	loadMu   sync.Mutex
	loading  map[string]bool // guarded by loadMu
	loadDone *sync.Cond      // on loadMu; broadcast when a load ends
	closed   bool
	retiring sync.WaitGroup // old versions waiting for their readers
	scrub    scrubState
}

// Open opens (creating if needed) the data directory dir, takes its lock,
// reads or creates the pseudonym key and opens the serving version of each
// dataset kind present. A serving version found damaged is handled by
// Options.OnDamage (rolled back, or not served and reported by Damage);
// a kind whose state file was deleted adopts its newest complete version.
// It returns ErrMaxAge when a maximum age in opts is not allowed
// (checkMaxAges), ErrLocked when another process holds the directory,
// ErrKeyMismatch when the key does not fit the CPR dataset, and I/O
// errors.
func Open(dir string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := checkMaxAges(opts); err != nil {
		return nil, err
	}
	if opts.KeyFile == "" {
		opts.KeyFile = DefaultKeyFile(dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dir, opts: opts, log: opts.Logger, lock: lock, serving: map[string]*dataset{}, loading: map[string]bool{}}
	s.loadDone = sync.NewCond(&s.loadMu)
	if rel, err := filepath.Rel(dir, opts.KeyFile); err == nil && !strings.HasPrefix(rel, "..") && !opts.AllowSynthetic {
		s.log.Warn("the pseudonym key file lies inside the data directory: anyone with a copy of the directory can reverse the pseudonyms; keep it elsewhere in production (--key-file)")
	}
	key, err := LoadOrCreateKey(opts.KeyFile, true)
	if err == nil {
		s.pseud, err = NewPseudonymizer(key)
		s.pseudKey = key
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	os.RemoveAll(s.IncomingDir()) // uploads of an interrupted load
	for _, kind := range Kinds {
		s.removeBuilds(kind)
		d, err := s.openCurrent(kind)
		if errors.Is(err, ErrOutdatedFormat) {
			// Not served (screening answers no dataset), but the store
			// opens, so that the list can be loaded again.
			s.log.Error("not serving the Robinson list: its version predates matching v2; load the list again", "kind", kind, "error", err.Error())
			continue
		}
		if err != nil {
			s.Close()
			return nil, err
		}
		if d != nil {
			s.serving[kind] = d
		}
	}
	return s, nil
}

// checkMaxAges enforces screening rule 2.7 on the configured maximum ages:
// each may be shorter than its kind's default (zero is the default); a
// negative one is refused, and a longer one is refused unless
// AllowLongerMaxAge is set, in which case it is logged as a warning. It
// returns an error wrapping ErrMaxAge that names the kind and both ages.
func checkMaxAges(opts Options) error {
	for _, kind := range Kinds {
		age, def := opts.maxAge(kind), screening.DefaultMaxAge(kind)
		switch {
		case age < 0:
			return fmt.Errorf("%w: the %s maximum age %v is negative", ErrMaxAge, kind, age)
		case age <= def:
		case !opts.AllowLongerMaxAge:
			return fmt.Errorf("%w: the %s maximum age of %s is longer than its default of %s without an explicit override (screening rule 2.7)",
				ErrMaxAge, kind, days(age), days(def))
		default:
			opts.Logger.Warn("maximum age longer than its default, by the operator's override (screening rule 2.7)",
				"kind", kind, "max_age_days", age.Hours()/24, "default_days", def.Hours()/24)
		}
	}
	return nil
}

// days writes a duration in days: "100 days", "1.5 days".
func days(d time.Duration) string {
	return strconv.FormatFloat(d.Hours()/24, 'f', -1, 64) + " days"
}

// lockDir takes the exclusive lock of a data directory; it returns
// ErrLocked when another process holds it.
func lockDir(dir string) (*os.File, error) {
	lock, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("%w: %s", ErrLocked, dir)
	}
	return lock, nil
}

func (s *Store) kindDir(kind string) string { return filepath.Join(s.dir, kind) }

// openCurrent opens the serving version named by the kind's state file, or
// returns nil when there is none. It refuses a synthetic (demo) version
// unless the store allows them.
func (s *Store) openCurrent(kind string) (*dataset, error) {
	st, err := s.readState(kind)
	if err == nil && st.Current == "" {
		st, err = s.adoptState(kind)
	}
	if err != nil || st.Current == "" {
		return nil, err
	}
	d, err := s.openVersion(kind, st.Current)
	var de *DamageError
	if errors.As(err, &de) {
		d, err = s.openDamaged(kind, st, de)
		if d == nil || err != nil {
			return nil, err
		}
		st = kindState{Current: d.man.Version, Previous: st.Current}
	}
	if err != nil {
		return nil, err
	}
	if d.man.Synthetic && !s.opts.AllowSynthetic {
		d.close()
		return nil, fmt.Errorf("%w (%s version %s); serve it with --demo, or load real data into another data directory", ErrSynthetic, kind, st.Current)
	}
	s.prune(kind, st.Current, st.Previous)
	return d, nil
}

// stateFile names a kind's serving and previous versions. It is replaced
// atomically in one rename, so a crash leaves either the old or the new
// pair, never a mix.
const (
	stateFile   = "STATE"
	refusedFile = "LAST_REFUSED.json"
)

type kindState struct {
	Current  string `json:"current"`
	Previous string `json:"previous,omitempty"`
}

// readState reads a kind's state; a missing file is the zero state. It
// returns read and decoding errors, so that nothing is pruned on a guess.
func (s *Store) readState(kind string) (kindState, error) {
	var st kindState
	b, err := os.ReadFile(filepath.Join(s.kindDir(kind), stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := jsonUnmarshal(b, &st); err != nil {
		return st, fmt.Errorf("store: %s state file: %w", kind, err)
	}
	return st, nil
}

func (s *Store) writeState(kind string, st kindState) error {
	b, err := jsonMarshal(st)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(s.kindDir(kind), stateFile), b, 0o600)
}

// openVersion opens a version of kind and checks it against the store's
// keys. It returns ErrKeyMismatch for a CPR version made with another
// pseudonym key.
func (s *Store) openVersion(kind, version string) (*dataset, error) {
	d, err := openDataset(filepath.Join(s.kindDir(kind), version), kind, s.opts.EncryptionKey, s.log)
	if err != nil {
		return nil, err
	}
	if kind == screening.KindCPR && d.man.KeyFingerprint != s.pseud.Fingerprint() {
		d.close()
		return nil, fmt.Errorf("%w (key file %s)", ErrKeyMismatch, s.opts.KeyFile)
	}
	d.maxAge = s.maxAge(kind)
	d.onDamage = func(d *dataset) { go s.onDamaged(d) }
	if kind == screening.KindStreets {
		// A road register is served from memory: build it once here.
		if err := d.openRoads(); err != nil {
			d.close()
			return nil, err
		}
	}
	return d, nil
}

func (s *Store) maxAge(kind string) time.Duration { return s.opts.maxAge(kind) }

// maxAge returns the configured maximum age of kind; zero means the
// default.
func (o Options) maxAge(kind string) time.Duration {
	switch kind {
	case screening.KindCPR:
		return o.CPRMaxAge
	case screening.KindStreets:
		return o.StreetsMaxAge
	case screening.KindCVR:
		return o.CVRMaxAge
	}
	return o.RobinsonMaxAge
}

// Close closes every dataset and releases the directory lock. It waits
// for running loads, which fail with ErrClosed, and for snapshots still
// held on retiring versions. It returns the datasets' and the lock's close
// errors; a second Close returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	serving := s.serving
	s.serving = map[string]*dataset{} // later snapshots see no dataset: FAILED_PRECONDITION
	s.mu.Unlock()
	// Running loads fail at their switch (ErrClosed); wait for them, and
	// for retiring versions, before closing the serving ones.
	// No load begins once closed is set (beginLoad checks it under
	// loadMu), so the count only falls.
	s.loadMu.Lock()
	for len(s.loading) > 0 {
		s.loadDone.Wait()
	}
	s.loadMu.Unlock()
	s.retiring.Wait()
	var errs []error
	for _, d := range serving {
		d.inflight.Lock()
		errs = append(errs, d.close())
		d.inflight.Unlock()
	}
	if s.lock != nil {
		errs = append(errs, s.lock.Close())
	}
	return errors.Join(errs...)
}

// Ready reports whether a Robinson list is loaded and not found damaged.
func (s *Store) Ready() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.serving[screening.KindRobinson]
	return d != nil && d.damaged() == nil
}

// Acquire returns a consistent snapshot of the serving datasets and a
// release function that must be called when the snapshot is no longer
// used. A version switch waits for released snapshots before closing the
// old version, so a snapshot never sees a mix of versions. A snapshot reads
// each dataset inside one Badger read transaction: it is for one goroutine
// at a time (acquire one per goroutine).
func (s *Store) Acquire() (screening.Snapshot, func()) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var snap screening.Snapshot
	var held []*reader
	if d := s.serving[screening.KindRobinson]; d != nil {
		d.inflight.RLock()
		r := &reader{d: d}
		held = append(held, r)
		snap.Robinson = robinsonList{r}
	}
	if d := s.serving[screening.KindCPR]; d != nil {
		d.inflight.RLock()
		r := &reader{d: d}
		held = append(held, r)
		snap.CPR = cprRegister{r: r, p: s.pseud}
	}
	if d := s.serving[screening.KindStreets]; d != nil {
		// Served from memory: no reader to hold, and the register stays
		// valid after the version is retired.
		snap.Streets = streetRegister{info: d.info(), Register: d.roads}
	}
	if d := s.serving[screening.KindCVR]; d != nil {
		d.inflight.RLock()
		r := &reader{d: d}
		held = append(held, r)
		snap.CVR = cvrData{r}
	}
	return snap, func() {
		for _, r := range held {
			r.close()
			r.d.inflight.RUnlock()
		}
	}
}

// Status describes the serving version of one dataset kind.
type Status struct {
	Manifest
	Age   time.Duration
	Stale bool
	// Damaged says why the version is not trusted (failed verification
	// or read); empty when it is intact as far as known.
	Damaged string
}

// Status returns the serving versions in the order of Kinds.
func (s *Store) Status(now time.Time) []Status {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Status
	for _, kind := range Kinds {
		d := s.serving[kind]
		if d == nil {
			continue
		}
		info := d.info()
		st := Status{Manifest: d.man, Age: now.Sub(d.man.Published), Stale: info.Stale(now)}
		if de := d.damaged(); de != nil {
			st.Damaged = de.Error()
		}
		out = append(out, st)
	}
	return out
}

func (d *dataset) info() screening.DatasetInfo {
	return screening.DatasetInfo{Kind: d.man.Kind, Version: d.man.Version, Published: d.man.Published, MaxAge: d.maxAge}
}

// switchTo makes d the serving version of kind: it writes the state file
// atomically, swaps the in-memory dataset, retires the old one once
// in-flight snapshots are released and prunes versions beyond the previous
// one.
func (s *Store) switchTo(kind string, d *dataset, previous string) error {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	if err := s.writeState(kind, kindState{Current: d.man.Version, Previous: previous}); err != nil {
		return err
	}
	failpoint(FailpointSwitched)
	s.mu.Lock()
	old := s.serving[kind]
	s.serving[kind] = d
	s.mu.Unlock()
	s.setOpenDamage(kind, nil)
	if old != nil {
		// In-flight snapshots finish on the old version; it is closed
		// once they are released.
		s.retiring.Add(1)
		go func() {
			defer s.retiring.Done()
			old.retire()
		}()
	}
	s.prune(kind, d.man.Version, previous)
	return nil
}

func versionOf(d *dataset) string {
	if d == nil {
		return ""
	}
	return d.man.Version
}

// removeBuilds removes half-built versions left by an interrupted load.
func (s *Store) removeBuilds(kind string) {
	builds, _ := filepath.Glob(filepath.Join(s.kindDir(kind), ".build-*"))
	for _, b := range builds {
		os.RemoveAll(b)
	}
}

// prune removes every version directory of kind except keep (serving and
// previous); half-built directories are left to removeBuilds.
func (s *Store) prune(kind string, keep ...string) {
	entries, err := os.ReadDir(s.kindDir(kind))
	if err != nil {
		return
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if strings.HasPrefix(n, ".build-") {
			continue // a concurrent load of this kind cannot exist; Open cleans these
		}
		kept := false
		for _, k := range keep {
			kept = kept || n == k
		}
		if !kept {
			if err := os.RemoveAll(filepath.Join(s.kindDir(kind), n)); err != nil {
				s.log.Warn("prune dataset version", "kind", kind, "version", n, "err", err)
			} else {
				s.log.Info("removed a dataset version older than the previous one", "kind", kind, "version", n)
			}
		}
	}
}
