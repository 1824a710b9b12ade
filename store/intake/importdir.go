package intake

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Errors of OpenImport. None of them names the file.
var (
	// ErrNoImportDir means the server was started without an import
	// directory: named files are disabled.
	ErrNoImportDir = errors.New("intake: no import directory is configured")
	// ErrNotLocal means the name is absolute, empty or climbs out with "..".
	ErrNotLocal = errors.New("intake: the name must be a relative path inside the import directory")
	// ErrOutside means the name leads outside the import directory through
	// a symbolic link, or cannot be opened inside it for another reason
	// than its absence or a missing permission.
	ErrOutside = errors.New("intake: the name does not lead to a file inside the import directory")
	// ErrNotFound means there is no such file in the import directory.
	ErrNotFound = errors.New("intake: no such file in the import directory")
	// ErrPermission means the server may not read the file.
	ErrPermission = errors.New("intake: the server may not read the file in the import directory")
	// ErrNotRegular means the name is a directory, device, pipe or socket.
	ErrNotRegular = errors.New("intake: not a regular file in the import directory")
)

// OpenImport opens name, a slash- or OS-separated path relative to dir,
// for reading. The open goes through an os.Root on dir: every component is
// resolved inside dir, so ".." and symbolic links may move within dir but
// never out of it, and nothing changes between a check and the open. The
// file is opened without blocking (a named pipe cannot stall the caller)
// and must be a regular file. It returns the open file and its size, or
// ErrNoImportDir, ErrNotLocal, ErrOutside, ErrNotFound, ErrPermission,
// ErrNotRegular, or the error of opening dir itself.
func OpenImport(dir, name string) (*os.File, int64, error) {
	if dir == "" {
		return nil, 0, ErrNoImportDir
	}
	name = filepath.FromSlash(name)
	if !filepath.IsLocal(name) {
		return nil, 0, ErrNotLocal
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, 0, err
	}
	defer root.Close() // the opened file stays valid
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		return nil, 0, ErrNotFound
	case errors.Is(err, fs.ErrPermission):
		return nil, 0, ErrPermission
	default:
		return nil, 0, ErrOutside
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, ErrNotRegular
	}
	return f, fi.Size(), nil
}
