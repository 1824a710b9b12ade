package calllist

import "os"

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
