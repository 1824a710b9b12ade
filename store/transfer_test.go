package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exportedFiles reads every file of e into memory.
func exportedFiles(t *testing.T, e *Export) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, f := range e.Files {
		r, err := e.Open(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Path] = b
	}
	return out
}

// TestTransfer sends a serving Robinson version from one store to an empty
// one: unchanged, it serves there under the same name with the same
// lookups; each way of changing it in transit is refused and leaves the
// receiving store empty and without left-over files.
func TestTransfer(t *testing.T) {
	src := t.TempDir()
	from := openStore(t, t.TempDir())
	if _, err := from.LoadRobinson(context.Background(), robinsonFile(t, src, entries), LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	e, err := from.ExportServing("robinson")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Files[0].Path != manifestSumFile || e.Files[1].Path != manifestFile || len(e.Files) < 4 {
		t.Fatalf("export files %+v: want the manifest's checksum, the manifest, then the version's files", e.Files)
	}
	files := exportedFiles(t, e)
	table := e.Files[len(e.Files)-1].Path
	for _, f := range e.Files {
		if strings.HasSuffix(f.Path, ".sst") {
			table = f.Path
		}
	}

	type sent struct {
		path string
		size int64
		sum  string
		data []byte
	}
	honest := func() []sent {
		var out []sent
		for _, f := range e.Files {
			out = append(out, sent{f.Path, f.Size, f.SHA256, files[f.Path]})
		}
		return out
	}
	tests := []struct {
		name    string
		version string
		change  func([]sent) []sent
		wantErr error // nil: installs
	}{
		{name: "unchanged", version: e.Version, change: func(s []sent) []sent { return s }},
		{name: "a flipped byte in a table", version: e.Version, change: func(s []sent) []sent {
			for i := range s {
				if s[i].path == table {
					d := bytes.Clone(s[i].data)
					d[len(d)/2] ^= 0xff
					s[i].data = d
				}
			}
			return s
		}, wantErr: ErrTransfer},
		{name: "a table cut short", version: e.Version, change: func(s []sent) []sent {
			for i := range s {
				if s[i].path == table {
					s[i].data = s[i].data[:len(s[i].data)-1]
				}
			}
			return s
		}, wantErr: ErrTransfer},
		{name: "a table missing", version: e.Version, change: func(s []sent) []sent {
			var out []sent
			for _, f := range s {
				if f.path != table {
					out = append(out, f)
				}
			}
			return out
		}, wantErr: ErrTransfer},
		{name: "a changed table announced with its own hash", version: e.Version, change: func(s []sent) []sent {
			for i := range s {
				if s[i].path == table {
					d := bytes.Clone(s[i].data)
					d[len(d)/2] ^= 0xff
					s[i].data = d
					s[i].sum = sha256Hex(d)
				}
			}
			return s
		}, wantErr: ErrDamaged}, // the manifest's hash catches it at open
		{name: "an extra file", version: e.Version, change: func(s []sent) []sent {
			return append(s, sent{"badger/extra.sst", 3, sha256Hex([]byte("abc")), []byte("abc")})
		}, wantErr: ErrTransfer},
		{name: "a path out of the version", version: e.Version, change: func(s []sent) []sent {
			return append(s, sent{"../escape", 3, sha256Hex([]byte("abc")), []byte("abc")})
		}, wantErr: ErrTransfer},
		{name: "another version name", version: "20260101T000000Z-deadbeef", change: func(s []sent) []sent { return s }, wantErr: ErrTransfer},
		{name: "a version name with a path", version: "../robinson", change: func(s []sent) []sent { return s }, wantErr: ErrTransfer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			to := openStore(t, dir)
			err := func() error {
				in, err := to.BeginInstall("robinson", tc.version)
				if err != nil {
					return err
				}
				defer in.Abort()
				for _, f := range tc.change(honest()) {
					if err := in.AddFile(f.path, f.size, f.sum, bytes.NewReader(f.data)); err != nil {
						return err
					}
				}
				_, err = in.Commit(context.Background())
				return err
			}()
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if !to.Ready() || to.Status(published)[0].Version != e.Version {
					t.Fatalf("after the transfer: ready %v, status %+v; want version %s", to.Ready(), to.Status(published), e.Version)
				}
				if got, want := len(lookup(t, to, "2100", "12", "testesen")), len(lookup(t, from, "2100", "12", "testesen")); got != want || got == 0 {
					t.Errorf("lookup finds %d records after the transfer, %d at the source", got, want)
				}
				if _, err := to.BeginInstall("robinson", e.Version); !errors.Is(err, ErrAlreadyServing) {
					t.Errorf("a second install: %v, want ErrAlreadyServing", err)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			}
			if to.Ready() {
				t.Error("the refused version serves")
			}
			left, _ := filepath.Glob(filepath.Join(dir, "robinson", "*"))
			for _, l := range left {
				if fi, err := os.Stat(l); err == nil && fi.IsDir() {
					t.Errorf("left over after a refused transfer: %s", l)
				}
			}
		})
	}
}

func TestExportServingNothing(t *testing.T) {
	s := openStore(t, t.TempDir())
	if _, err := s.ExportServing("robinson"); !errors.Is(err, ErrNotServing) {
		t.Fatalf("got %v, want ErrNotServing", err)
	}
	if _, err := s.ExportServing("nope"); !errors.Is(err, ErrUnknownKind) {
		t.Fatalf("got %v, want ErrUnknownKind", err)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
