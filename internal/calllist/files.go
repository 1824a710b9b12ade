package calllist

import (
	"errors"
	"os"
	"path/filepath"
)

// OutputPerm is the mode of every file the screening tool writes: call
// lists and their errors hold personal data (names, phone numbers, CPR
// numbers), so only the owner may read them.
const OutputPerm os.FileMode = 0o600

// CreatePrivate creates or truncates path for writing with mode
// OutputPerm. A regular file that already exists keeps its mode under
// O_CREATE, so one left readable by others (e.g. by an earlier version) is
// narrowed to OutputPerm as well; non-regular files (a pipe, /dev/stdout)
// are left alone.
func CreatePrivate(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, OutputPerm)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&^OutputPerm != 0 {
		if err := f.Chmod(OutputPerm); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// PendingFile is an output written under a temporary name in the
// directory of its final name and renamed to it only by Commit: a run that
// fails or is interrupted leaves nothing under the final name (at most a
// hidden ".NAME.*.partial" file, removed by Abort). A final name that
// exists and is not a regular file (a pipe, /dev/stdout) is written
// directly.
type PendingFile struct {
	*os.File
	final   string
	direct  bool
	settled bool
}

// CreatePending starts the file that Commit renames to path; it has mode
// OutputPerm. It returns the errors of creating the temporary file.
func CreatePending(path string) (*PendingFile, error) {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		f, err := CreatePrivate(path)
		if err != nil {
			return nil, err
		}
		return &PendingFile{File: f, final: path, direct: true}, nil
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.partial")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(OutputPerm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &PendingFile{File: f, final: path}, nil
}

// Final is the name Commit renames the file to.
func (p *PendingFile) Final() string { return p.final }

// Commit syncs and closes the file and renames it to its final name. It
// returns the errors of those steps (and removes the temporary file on
// one).
func (p *PendingFile) Commit() error {
	if p.settled {
		return errors.New("output file already committed or discarded")
	}
	p.settled = true
	if p.direct {
		return p.File.Close()
	}
	if err := p.File.Sync(); err != nil {
		p.File.Close()
		os.Remove(p.File.Name())
		return err
	}
	if err := p.File.Close(); err != nil {
		os.Remove(p.File.Name())
		return err
	}
	if err := os.Rename(p.File.Name(), p.final); err != nil {
		os.Remove(p.File.Name())
		return err
	}
	return nil
}

// Abort closes and removes the temporary file; after Commit it does
// nothing.
func (p *PendingFile) Abort() {
	if p.settled {
		return
	}
	p.settled = true
	p.File.Close()
	if !p.direct {
		os.Remove(p.File.Name())
	}
}
