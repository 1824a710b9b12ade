package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/robinscreen/robinscreen/screening"
)

// Errors of the administrative operations.
var (
	// ErrUnknownKind means the dataset kind is not robinson, cpr,
	// streets or cvr.
	ErrUnknownKind = errors.New("store: unknown dataset kind")
	// ErrNoPrevious means there is no previous version to roll back to.
	ErrNoPrevious = errors.New("store: no previous version to roll back to")
)

// Kinds lists the dataset kinds in display order.
var Kinds = []string{screening.KindRobinson, screening.KindCPR, screening.KindStreets, screening.KindCVR}

func validKind(kind string) error {
	switch kind {
	case screening.KindRobinson, screening.KindCPR, screening.KindStreets, screening.KindCVR:
		return nil
	}
	return fmt.Errorf("%w %q", ErrUnknownKind, kind)
}

// Loading reports whether a load or rollback of kind is running.
func (s *Store) Loading(kind string) bool {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	return s.loading[kind]
}

func (s *Store) servingVersion(kind string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return versionOf(s.serving[kind])
}

// VersionInfo describes a version kept on disk.
type VersionInfo struct {
	Manifest
	Serving bool
	Age     time.Duration
	Stale   bool
	MaxAge  time.Duration
}

func (s *Store) versionInfo(man Manifest, serving bool, now time.Time) VersionInfo {
	info := screening.DatasetInfo{Kind: man.Kind, Published: man.Published, MaxAge: s.maxAge(man.Kind)}
	max := info.MaxAge
	if max <= 0 {
		max = screening.DefaultMaxAge(man.Kind)
	}
	return VersionInfo{Manifest: man, Serving: serving, Age: now.Sub(man.Published), Stale: info.Stale(now), MaxAge: max}
}

// Versions lists the complete versions of kind kept on disk, newest
// load first. It returns ErrUnknownKind and I/O errors.
func (s *Store) Versions(kind string, now time.Time) ([]VersionInfo, error) {
	if err := validKind(kind); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(s.kindDir(kind))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	serving := s.servingVersion(kind)
	var out []VersionInfo
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		man, err := readManifest(filepath.Join(s.kindDir(kind), e.Name()))
		if err != nil {
			continue // not a complete version
		}
		out = append(out, s.versionInfo(man, man.Version == serving, now))
	}
	// Newest load first. Version names say nothing of the load's time
	// (they name the content), so the manifests' load times order them.
	sort.Slice(out, func(i, j int) bool {
		if !out[i].LoadedAt.Equal(out[j].LoadedAt) {
			return out[i].LoadedAt.After(out[j].LoadedAt)
		}
		return out[i].Version > out[j].Version
	})
	return out, nil
}

// Rollback switches kind back to its previous version, which becomes the
// serving one; the version rolled back from becomes the previous one, so a
// second rollback rolls forward again. It returns ErrNoPrevious,
// ErrLoadInProgress when a load of kind runs, ErrUnknownKind and errors
// opening the previous version (the serving version is then untouched).
func (s *Store) Rollback(kind string) (*Manifest, error) {
	if err := validKind(kind); err != nil {
		return nil, err
	}
	done, err := s.beginLoad(kind)
	if err != nil {
		return nil, err
	}
	defer done()
	current := s.servingVersion(kind)
	st, err := s.readState(kind)
	if err != nil {
		return nil, err
	}
	prev := st.Previous
	if prev == "" || prev == current {
		return nil, ErrNoPrevious
	}
	if _, err := os.Stat(filepath.Join(s.kindDir(kind), prev, manifestFile)); err != nil {
		return nil, ErrNoPrevious
	}
	d, err := s.openVersion(kind, prev)
	if err != nil {
		return nil, err
	}
	if err := s.switchTo(kind, d, current); err != nil {
		d.close()
		return nil, err
	}
	s.log.Info("dataset rolled back", "kind", kind, "from", current, "to", prev)
	m := d.man
	return &m, nil
}

// Refused records a refused load of a kind.
type Refused struct {
	At           time.Time `json:"at"`
	SourceName   string    `json:"source_name"`
	SourceSHA256 string    `json:"source_sha256,omitempty"`
	Error        string    `json:"error"`
	Rejects      []Reject  `json:"rejects,omitempty"`
}

// LastRefused returns the last refused load of kind, or nil.
func (s *Store) LastRefused(kind string) *Refused {
	var r Refused
	b, err := os.ReadFile(filepath.Join(s.kindDir(kind), refusedFile))
	if err != nil || jsonUnmarshal(b, &r) != nil {
		return nil
	}
	return &r
}

// recordRefused persists why a file was refused; the error texts carry
// counts and line numbers only, never file content.
func (s *Store) recordRefused(kind string, src Source, err error, rejects []Reject) {
	sum, _ := readerSHA256(src.R)
	name := src.Name
	r := Refused{At: time.Now().UTC(), SourceName: name, SourceSHA256: sum, Error: err.Error(), Rejects: rejects}
	b, jerr := jsonMarshal(r)
	if jerr == nil {
		os.MkdirAll(s.kindDir(kind), 0o700)
		if werr := writeFileAtomic(filepath.Join(s.kindDir(kind), refusedFile), b, 0o600); werr != nil {
			s.log.Warn("record refused load", "kind", kind, "err", werr)
		}
	}
	s.log.Warn("dataset load refused", "kind", kind, "file", name, "err", err.Error())
}

// RotateEncryptionKey re-encrypts the data keys of every version in the
// data directory dir from oldKey to newKey (Badger's key registry: the
// data itself is encrypted with data keys, which are stored encrypted
// under the master key). Run it offline: it takes the directory lock and
// returns ErrLocked while a server or load uses it. A version already on
// newKey is skipped, so an interrupted rotation can simply be run again.
func RotateEncryptionKey(dir string, oldKey, newKey []byte) error {
	lock, err := lockDir(dir)
	if err != nil {
		return err
	}
	defer lock.Close()
	for _, kind := range Kinds {
		entries, err := os.ReadDir(filepath.Join(dir, kind))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			bdir := filepath.Join(dir, kind, e.Name(), badgerDir)
			opt := badger.KeyRegistryOptions{Dir: bdir, ReadOnly: true, EncryptionKey: newKey}
			if kr, err := badger.OpenKeyRegistry(opt); err == nil {
				kr.Close()
				// Already rotated; an interrupted rotation may not have
				// recorded the registry's new hash yet.
				if err := rehashKeyRegistry(filepath.Join(dir, kind, e.Name()), kind); err != nil {
					return fmt.Errorf("store: %s/%s: record the new key registry's hash: %w", kind, e.Name(), err)
				}
				continue
			}
			opt.EncryptionKey = oldKey
			kr, err := badger.OpenKeyRegistry(opt)
			if err != nil {
				return fmt.Errorf("store: %s/%s: open key registry with the old key: %w", kind, e.Name(), err)
			}
			opt.EncryptionKey = newKey
			err = badger.WriteKeyRegistry(kr, opt)
			kr.Close()
			if err != nil {
				return fmt.Errorf("store: %s/%s: rewrite key registry: %w", kind, e.Name(), err)
			}
			if err := syncDir(bdir); err != nil {
				return err
			}
			if err := rehashKeyRegistry(filepath.Join(dir, kind, e.Name()), kind); err != nil {
				return fmt.Errorf("store: %s/%s: record the new key registry's hash: %w", kind, e.Name(), err)
			}
		}
	}
	return nil
}

// IncomingDir is where uploads are staged before a load.
func (s *Store) IncomingDir() string { return filepath.Join(s.dir, "incoming") }

// rehashKeyRegistry records the SHA-256 of a version's rewritten key
// registry in its manifest (a version without file hashes is left as it
// is: it is hashed at its next open). It returns a *DamageError for a
// damaged manifest and the file system's errors.
func rehashKeyRegistry(vdir, kind string) error {
	m, err := readVerifiedManifest(vdir, kind)
	if err != nil || len(m.Files) == 0 {
		return err
	}
	rel := badgerDir + "/" + badger.KeyRegistryFileName
	sum, err := hashFile(filepath.Join(vdir, badgerDir, badger.KeyRegistryFileName))
	if err != nil {
		return err
	}
	m.Files[rel] = sum
	return writeManifest(vdir, &m)
}
