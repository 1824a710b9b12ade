package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Errors of a version's transfer between replicas.
var (
	// ErrNotServing means the kind serves no version to send.
	ErrNotServing = errors.New("store: the dataset kind serves no version")
	// ErrAlreadyServing means a version is to be installed from a peer
	// for a kind that serves one already: seeding only fills a kind that
	// has none.
	ErrAlreadyServing = errors.New("store: the dataset kind serves a version already")
	// ErrTransfer means a file received from a peer does not match the
	// size or SHA-256 it was announced with, or the received version is
	// incomplete or not what was announced.
	ErrTransfer = errors.New("store: a received dataset version does not match what was announced")
)

// ExportFile is one file of a version directory as sent to a peer: its
// path relative to the version directory (forward slashes), size and hex
// SHA-256.
type ExportFile struct {
	Path   string
	Size   int64
	SHA256 string
}

// Export is a serving version opened for sending to a peer (see
// ExportServing). Close it when done.
type Export struct {
	Kind, Version string
	// Files are the manifest's checksum file and the manifest first, then
	// every file the manifest lists, in path order.
	Files []ExportFile
	root  *os.Root
}

// Open opens one of e.Files for reading. It returns the file system's
// errors (a version pruned meanwhile by two later loads: not found).
func (e *Export) Open(p string) (*os.File, error) { return e.root.Open(filepath.FromSlash(p)) }

// Close releases the version directory.
func (e *Export) Close() error { return e.root.Close() }

// ExportServing opens kind's serving version for sending to a peer that
// seeds its data directory. The file list comes from the version's
// manifest, whose hashes the version was verified against when it
// opened. It returns ErrUnknownKind, ErrNotServing when nothing serves,
// the version's *DamageError when it was found damaged, and file system
// errors.
func (s *Store) ExportServing(kind string) (*Export, error) {
	if err := validKind(kind); err != nil {
		return nil, err
	}
	s.mu.RLock()
	d := s.serving[kind]
	s.mu.RUnlock()
	if d == nil {
		if de := s.Damage(kind); de != nil {
			return nil, de
		}
		return nil, fmt.Errorf("%w: %s", ErrNotServing, kind)
	}
	if de := d.damaged(); de != nil {
		return nil, de
	}
	man := d.man
	root, err := os.OpenRoot(d.dir)
	if err != nil {
		return nil, err
	}
	e := &Export{Kind: kind, Version: man.Version, root: root}
	for _, name := range []string{manifestSumFile, manifestFile} {
		b, err := root.ReadFile(name)
		if err != nil {
			root.Close()
			return nil, err
		}
		sum := sha256.Sum256(b)
		e.Files = append(e.Files, ExportFile{Path: name, Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])})
	}
	names := make([]string, 0, len(man.Files))
	for n := range man.Files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		e.Files = append(e.Files, ExportFile{Path: n, Size: man.Files[n].Size, SHA256: man.Files[n].SHA256})
	}
	return e, nil
}

// Install is a version being received from a peer (see BeginInstall).
type Install struct {
	s             *Store
	kind, version string
	build         string
	root          *os.Root
	got           map[string]bool
	release       func()
	done          bool
}

// validVersionName: a version directory's name is one plain path element.
func validVersionName(v string) bool {
	return v != "" && !strings.HasPrefix(v, ".") && !strings.ContainsAny(v, `/\`) && filepath.IsLocal(v)
}

// BeginInstall starts receiving version of kind from a peer into a build
// directory, holding kind's load slot until Commit or Abort. It returns
// ErrUnknownKind, ErrTransfer for a version name that is not one plain
// name, ErrAlreadyServing when kind serves a version, ErrLoadInProgress,
// ErrClosed and file system errors.
func (s *Store) BeginInstall(kind, version string) (*Install, error) {
	if err := validKind(kind); err != nil {
		return nil, err
	}
	if !validVersionName(version) {
		return nil, fmt.Errorf("%w: version name %q", ErrTransfer, version)
	}
	if v := s.servingVersion(kind); v != "" {
		return nil, fmt.Errorf("%w (%s version %s)", ErrAlreadyServing, kind, v)
	}
	release, err := s.beginLoad(kind)
	if err != nil {
		return nil, err
	}
	build, err := s.newBuild(kind)
	if err != nil {
		release()
		return nil, err
	}
	root, err := os.OpenRoot(build)
	if err != nil {
		os.RemoveAll(build)
		release()
		return nil, err
	}
	return &Install{s: s, kind: kind, version: version, build: build, root: root, got: map[string]bool{}, release: release}, nil
}

// AddFile writes one file of the version from r, which must hold exactly
// size bytes with the hex SHA-256 sum. It returns ErrTransfer (naming the
// file, never its content) for a path outside the version directory, a
// file received twice, a size or SHA-256 that does not match, and the file
// system's errors; after an error, Abort.
func (in *Install) AddFile(p string, size int64, sum string, r io.Reader) error {
	local := filepath.FromSlash(p)
	if p == "" || path.Clean(p) != p || !filepath.IsLocal(local) || in.got[p] {
		return fmt.Errorf("%w: file %q: not a new path inside the version", ErrTransfer, p)
	}
	in.got[p] = true
	if dir := filepath.Dir(local); dir != "." {
		if err := in.root.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	f, err := in.root.OpenFile(local, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, size+1))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("%w: %s version %s, file %s: %d bytes received, %d announced", ErrTransfer, in.kind, in.version, p, n, size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, sum) {
		return fmt.Errorf("%w: %s version %s, file %s: SHA-256 does not match", ErrTransfer, in.kind, in.version, p)
	}
	return nil
}

// Commit checks the received version — its manifest against the
// manifest's checksum file, the kind and version named, every file the
// manifest lists received and nothing else — moves it into place, opens it
// as a load's test-open does (every file's SHA-256 against the manifest,
// Badger's table checksums, the filter) and serves it. It returns
// ErrTransfer, the version's *DamageError, ErrKeyMismatch (a CPR version
// made with another pseudonym key), ErrSynthetic, ErrAlreadyServing,
// context errors and file system errors; on error nothing changes and
// the received files are removed.
func (in *Install) Commit(ctx context.Context) (*Manifest, error) {
	defer in.Abort()
	s := in.s
	man, err := readVerifiedManifest(in.build, in.kind)
	if err != nil {
		return nil, err
	}
	if man.Version != in.version {
		return nil, fmt.Errorf("%w: the manifest names version %s, not %s", ErrTransfer, man.Version, in.version)
	}
	if len(man.Files) == 0 {
		return nil, fmt.Errorf("%w: %s version %s has no file hashes", ErrTransfer, in.kind, in.version)
	}
	for _, need := range []string{manifestFile, manifestSumFile} {
		if !in.got[need] {
			return nil, fmt.Errorf("%w: %s not received", ErrTransfer, need)
		}
	}
	for p := range man.Files {
		if !in.got[p] {
			return nil, fmt.Errorf("%w: %s version %s, file %s not received", ErrTransfer, in.kind, in.version, p)
		}
	}
	if len(in.got) != len(man.Files)+2 {
		return nil, fmt.Errorf("%w: %s version %s: files received that its manifest does not list", ErrTransfer, in.kind, in.version)
	}
	if v := s.servingVersion(in.kind); v != "" {
		return nil, fmt.Errorf("%w (%s version %s)", ErrAlreadyServing, in.kind, v)
	}
	if err := syncTree(in.build); err != nil {
		return nil, err
	}
	final := filepath.Join(s.kindDir(in.kind), in.version)
	if _, err := os.Lstat(final); err == nil {
		// A damaged copy of the same version (not serving): set aside
		// rather than mixed with the received one.
		if err := os.Rename(final, final+".damaged"); err != nil {
			return nil, err
		}
	}
	if err := os.Rename(in.build, final); err != nil {
		return nil, err
	}
	in.build = ""
	if err := syncDir(s.kindDir(in.kind)); err != nil {
		return nil, err
	}
	d, err := s.openVersion(in.kind, in.version)
	if err != nil {
		os.RemoveAll(final)
		return nil, err
	}
	fail := func(err error) (*Manifest, error) {
		d.close()
		os.RemoveAll(final)
		return nil, err
	}
	if d.man.Synthetic && !s.opts.AllowSynthetic {
		return fail(fmt.Errorf("%w (%s version %s)", ErrSynthetic, in.kind, in.version))
	}
	if err := d.verifyFilter(); err != nil {
		return fail(err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	previous := ""
	if st, err := s.readState(in.kind); err == nil && st.Current != in.version {
		previous = st.Current // a damaged version, kept for inspection
	}
	if err := s.switchTo(in.kind, d, previous); err != nil {
		return fail(err)
	}
	s.log.Info("dataset version installed from a peer", "kind", in.kind, "version", in.version, "records", d.man.Records)
	m := d.man
	return &m, nil
}

// Abort removes what was received and releases the load slot. It may be
// called more than once, and after Commit.
func (in *Install) Abort() {
	if in.done {
		return
	}
	in.done = true
	in.root.Close()
	if in.build != "" {
		os.RemoveAll(in.build)
	}
	in.release()
}

// InstallDir installs the version directory dir (of another data
// directory: a copy, a volume snapshot) as kind's serving version, when
// kind serves none, through an Install: every file the version's manifest
// lists is copied, and the copy is checked as one received from a peer
// (Commit). It returns BeginInstall's, AddFile's and Commit's errors, and
// ErrTransfer when dir holds no readable manifest.
func (s *Store) InstallDir(ctx context.Context, kind, dir string) (*Manifest, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	raw, err := root.ReadFile(manifestFile)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrTransfer, manifestFile, err)
	}
	var man Manifest
	if err := jsonUnmarshal(raw, &man); err != nil {
		return nil, fmt.Errorf("%w: %s does not parse", ErrTransfer, manifestFile)
	}
	in, err := s.BeginInstall(kind, filepath.Base(dir))
	if err != nil {
		return nil, err
	}
	defer in.Abort()
	add := func(p string, size int64, sum string) error {
		f, err := root.Open(filepath.FromSlash(p))
		if err != nil {
			return fmt.Errorf("%w: file %s: %v", ErrTransfer, p, err)
		}
		defer f.Close()
		return in.AddFile(p, size, sum, f)
	}
	for _, name := range []string{manifestSumFile, manifestFile} {
		b, err := root.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrTransfer, name, err)
		}
		sum := sha256.Sum256(b)
		if err := add(name, int64(len(b)), hex.EncodeToString(sum[:])); err != nil {
			return nil, err
		}
	}
	names := make([]string, 0, len(man.Files))
	for n := range man.Files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := add(n, man.Files[n].Size, man.Files[n].SHA256); err != nil {
			return nil, err
		}
	}
	return in.Commit(ctx)
}

// ServingVersionIn returns the version kind's state file in the data
// directory dataDir names as serving ("" when it names none). It returns
// read and decoding errors.
func ServingVersionIn(dataDir, kind string) (string, error) {
	if err := validKind(kind); err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(dataDir, kind, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var st kindState
	if err := jsonUnmarshal(b, &st); err != nil {
		return "", fmt.Errorf("store: %s state file in %s: %w", kind, dataDir, err)
	}
	if st.Current != "" && !validVersionName(st.Current) {
		return "", fmt.Errorf("%w: the %s state file names %q", ErrTransfer, kind, st.Current)
	}
	return st.Current, nil
}
