package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/dgraph-io/badger/v4/fb"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/badger/v4/y"
)

// ErrDamaged means a stored dataset version does not match what was built:
// a file's size or SHA-256 differs from its manifest, a file is missing or
// unexpected, or Badger reported a checksum or read failure. errors.Is(err,
// ErrDamaged) holds for every *DamageError.
var ErrDamaged = errors.New("store: dataset version damaged")

// DamageError names a damaged dataset version and, where known, its file
// (a path relative to the version directory). It never holds personal
// data: file names and the kind of damage only.
type DamageError struct {
	Kind, Version string
	// Dir is the version directory.
	Dir string
	// File is the damaged file, relative to Dir; empty when unknown.
	File string
	// Problem says what is wrong ("SHA-256 mismatch", "missing", ...).
	Problem string
}

func (e *DamageError) Error() string {
	s := "store: " + e.Kind + " version " + e.Version + " (" + e.Dir + ") is damaged"
	if e.File != "" {
		s += ": file " + e.File
	}
	if e.Problem != "" {
		s += ": " + e.Problem
	}
	return s
}

// Is makes errors.Is(err, ErrDamaged) hold.
func (e *DamageError) Is(target error) bool { return target == ErrDamaged }

// FileSum is one file's size and SHA-256 in a manifest.
type FileSum struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// hashVersionFiles returns the size and SHA-256 of every regular file
// below the version directory dir but the manifest, keyed by its path
// relative to dir (forward slashes). It returns the file system's errors.
func hashVersionFiles(dir string) (map[string]FileSum, error) {
	out := map[string]FileSum{}
	err := walkHashedFiles(dir, func(p, rel string, _ fs.DirEntry) error {
		sum, err := hashFile(p)
		if err != nil {
			return err
		}
		out[rel] = sum
		return nil
	})
	return out, err
}

// walkHashedFiles calls fn for every regular file below the version
// directory dir that the manifest's hashes cover (hashedFile), with its
// path, its path relative to dir (forward slashes) and its entry. It
// returns the file system's errors and fn's.
func walkHashedFiles(dir string, fn func(path, rel string, e fs.DirEntry) error) error {
	return filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !hashedFile(rel) {
			return nil
		}
		return fn(p, rel, e)
	})
}

// hashedFile reports whether a file of a version directory is covered by
// the manifest's hashes: everything but the manifest itself and the
// temporary file of its atomic rewrite.
func hashedFile(rel string) bool {
	for _, m := range []string{manifestFile, manifestSumFile} {
		if rel == m || strings.HasPrefix(rel, "."+m+".tmp-") {
			return false
		}
	}
	return true
}

// manifestSumFile holds the hex SHA-256 of the manifest file's bytes, so
// that a damaged manifest (a changed date, count or sum that still
// parses) is found too.
const manifestSumFile = "manifest.sha256"

// writeManifest writes m as the manifest of the version directory dir and
// then its SHA-256 beside it (manifestSumFile), each atomically. It
// returns the file system's errors.
func writeManifest(dir string, m *Manifest) error {
	b, err := jsonMarshal(m)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, manifestFile), b, 0o600); err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	return writeFileAtomic(filepath.Join(dir, manifestSumFile), []byte(hex.EncodeToString(sum[:])+"\n"), 0o600)
}

// readVerifiedManifest reads the manifest of the version directory dir of
// kind and checks it against manifestSumFile. A version built before
// verified storage has neither the sum nor file hashes (Manifest.Files):
// it is read as it is. A version whose files were hashed at its first open
// and whose sum was not yet written gets it now. It returns a
// *DamageError for a missing or damaged manifest, or a missing sum where
// one must be.
func readVerifiedManifest(dir, kind string) (Manifest, error) {
	damage := func(file, problem string) (Manifest, error) {
		return Manifest{}, &DamageError{Kind: kind, Version: filepath.Base(dir), Dir: dir, File: file, Problem: problem}
	}
	raw, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if errors.Is(err, os.ErrNotExist) {
		return damage(manifestFile, "missing")
	}
	if err != nil {
		return damage(manifestFile, "cannot be read: "+err.Error())
	}
	var m Manifest
	if err := jsonUnmarshal(raw, &m); err != nil {
		return damage(manifestFile, "does not parse (damaged)")
	}
	sum := sha256.Sum256(raw)
	want, err := os.ReadFile(filepath.Join(dir, manifestSumFile))
	switch {
	case err == nil:
		if strings.TrimSpace(string(want)) != hex.EncodeToString(sum[:]) {
			return damage(manifestFile, "SHA-256 does not match "+manifestSumFile)
		}
	case !errors.Is(err, os.ErrNotExist):
		return damage(manifestSumFile, "cannot be read: "+err.Error())
	case len(m.Files) == 0:
		// Built before verified storage: hashed at this open.
	case !m.FilesHashedAt.IsZero():
		// Hashed at a first open that stopped before writing the sum.
		if err := writeFileAtomic(filepath.Join(dir, manifestSumFile), []byte(hex.EncodeToString(sum[:])+"\n"), 0o600); err != nil {
			return Manifest{}, err
		}
	default:
		return damage(manifestSumFile, "missing")
	}
	if m.Kind != kind {
		return damage(manifestFile, "names kind "+m.Kind)
	}
	return m, nil
}

// hashFile returns a file's size and SHA-256. It returns the file system's
// errors.
func hashFile(path string) (FileSum, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileSum{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return FileSum{}, err
	}
	return FileSum{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// verifyFiles checks every file of the version directory dir against the
// manifest m: the same set of files, each of its size and SHA-256. Sizes
// are compared first, for every file, so a truncated table is named
// without reading the others. It returns a *DamageError naming the first
// bad file, or nil; a manifest without hashes (a version built before
// verified storage) is not checked here (see dataset open).
func verifyFiles(dir string, m *Manifest) error {
	return checkFiles(dir, m, true)
}

// checkFiles is verifyFiles, hashing the files only when hash is set:
// without, it finds missing, unexpected, truncated and extended files
// from their sizes alone (cheaply, to name the file behind a failed read).
func checkFiles(dir string, m *Manifest, hash bool) error {
	if len(m.Files) == 0 {
		return nil
	}
	damage := func(file, problem string) error {
		return &DamageError{Kind: m.Kind, Version: m.Version, Dir: dir, File: file, Problem: problem}
	}
	seen := map[string]bool{}
	var names []string
	err := walkHashedFiles(dir, func(_, rel string, e fs.DirEntry) error {
		want, ok := m.Files[rel]
		if !ok {
			return damage(rel, "a file that is not in the manifest")
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		if info.Size() != want.Size {
			return damage(rel, fmt.Sprintf("%d bytes, the manifest says %d (truncated or extended)", info.Size(), want.Size))
		}
		seen[rel] = true
		names = append(names, rel)
		return nil
	})
	if err != nil {
		var de *DamageError
		if errors.As(err, &de) {
			return err
		}
		return damage("", "cannot be read: "+err.Error())
	}
	for name := range m.Files {
		if !seen[name] {
			return damage(name, "missing")
		}
	}
	if !hash {
		return nil
	}
	slices.Sort(names)
	for _, name := range names {
		got, err := hashFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return damage(name, "cannot be read: "+err.Error())
		}
		if got != m.Files[name] {
			return damage(name, "SHA-256 does not match the manifest")
		}
	}
	return nil
}

// checkTables checks every Badger table of a version without hashes in
// its manifest before Badger opens it: Badger reads a table's footer with
// no bounds checks, and a block's entry count before its checksum, and
// panics — in a goroutine of its own, which takes the process down — on a
// truncated table or a damaged block. The footer's lengths must lie
// inside the file and the index must match its checksum; in an
// unencrypted version every block must also match its checksum. It
// returns a *DamageError naming the first bad table.
func checkTables(dir string, m *Manifest, encrypted bool) error {
	tables, err := filepath.Glob(filepath.Join(dir, badgerDir, "*.sst"))
	if err != nil {
		return err
	}
	for _, t := range tables {
		rel := badgerDir + "/" + filepath.Base(t)
		if problem := tableProblem(t, encrypted); problem != "" {
			return &DamageError{Kind: m.Kind, Version: m.Version, Dir: dir, File: rel, Problem: problem}
		}
	}
	return nil
}

// tableProblem returns what is wrong with a Badger table (its footer and
// index, and unless encrypted its blocks), or "".
func tableProblem(path string, encrypted bool) string {
	data, err := mapFile(path)
	if err != nil {
		return "cannot be read: " + err.Error()
	}
	defer syscall.Munmap(data)
	raw, problem := tableIndex(data)
	if problem != "" || encrypted {
		return problem // an encrypted index needs the data key to be read
	}
	idx := fb.GetRootAsTableIndex(raw, 0)
	var ko fb.BlockOffset
	for j := 0; j < idx.OffsetsLength(); j++ {
		if !idx.Offsets(&ko, j) {
			return fmt.Sprintf("block %d missing from the index", j)
		}
		if p := checkBlock(data, int64(ko.Offset()), int(ko.Len())); p != "" {
			return fmt.Sprintf("block %d at offset %d: %s", j, ko.Offset(), p)
		}
	}
	return ""
}

// verifyBadgerChecksum checks data against a Badger checksum; an unknown
// algorithm (a damaged footer) is an error, not Badger's panic.
func verifyBadgerChecksum(data []byte, chk *pb.Checksum) error {
	switch chk.Algo {
	case pb.Checksum_CRC32C, pb.Checksum_XXHash64:
		return y.VerifyChecksum(data, chk)
	}
	return errors.New("unknown checksum algorithm")
}
