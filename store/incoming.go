package store

import (
	"path/filepath"

	"github.com/robinscreen/robinscreen/store/intake"
)

// OpenImport opens name inside the import directory (Options.ImportDir) as
// a Source named after the file's base name, through an os.Root so that
// neither ".." nor a symbolic link leads outside the directory. Call the
// returned function to close it. It returns intake.ErrNoImportDir,
// intake.ErrNotLocal, intake.ErrOutside, intake.ErrNotFound,
// intake.ErrPermission, intake.ErrNotRegular, or the error of opening the
// import directory.
func (s *Store) OpenImport(name string) (Source, func(), error) {
	f, size, err := intake.OpenImport(s.opts.ImportDir, name)
	if err != nil {
		return Source{}, func() {}, err
	}
	return Source{R: f, Size: size, Name: filepath.Base(filepath.FromSlash(name))}, func() { f.Close() }, nil
}

// StageUpload starts an upload staged encrypted in the incoming directory
// of the data volume (emptied at every Open, so a crash leaves nothing
// behind for long). Write it, Seal it and load it with UploadSource; Remove
// it afterwards. It returns I/O errors.
func (s *Store) StageUpload() (*intake.Upload, error) {
	return intake.NewUpload(s.IncomingDir())
}

// UploadSource is a sealed upload as a Source named name.
func UploadSource(u *intake.Upload, name string) Source {
	return Source{R: u, Size: u.Size(), Name: name}
}
