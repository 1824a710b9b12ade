package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/internal/cprfmt"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/store/intake"
)

// TestLoadStagedUpload: a staged upload loads as written; one altered on
// disk between staging and loading is refused, and the serving version
// stays.
func TestLoadStagedUpload(t *testing.T) {
	es := append([]cprfmt.RobinsonEntry(nil), entries...)
	for i := range 3000 { // several staging chunks
		es = append(es, cprfmt.RobinsonEntry{Name: fmt.Sprintf("Fyldsen%d,Person", i), Address: fmt.Sprintf("Fyldvej %d", 1+i%900), PostDist: fmt.Sprintf("%04d Fyldby", 1000+i%8000)})
	}
	list := mustRobinson(t, es)
	if len(list) < 3*intake.ChunkSize {
		t.Fatalf("list of %d bytes spans fewer than three chunks", len(list))
	}
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	if _, err := s.LoadRobinson(ctx, robinsonFile(t, t.TempDir(), entries), LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	chunk := int64(intake.ChunkSize + 16)
	tests := []struct {
		name   string
		change func(path string) error
	}{
		{"intact", nil},
		{"a bit flipped", func(path string) error {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			b[chunk+100] ^= 0x20
			return os.WriteFile(path, b, 0o600)
		}},
		{"truncated at a chunk boundary", func(path string) error { return os.Truncate(path, 2*chunk) }},
		{"two chunks swapped", func(path string) error {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			first := append([]byte(nil), b[:chunk]...)
			copy(b, b[chunk:2*chunk])
			copy(b[chunk:], first)
			return os.WriteFile(path, b, 0o600)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.Status(time.Now())[0].Version
			up, err := s.StageUpload()
			if err != nil {
				t.Fatal(err)
			}
			defer up.Remove()
			if dir := filepath.Dir(up.Name()); dir != s.IncomingDir() {
				t.Errorf("staged in %s, want the incoming directory", dir)
			}
			if _, err := up.Write(list); err != nil {
				t.Fatal(err)
			}
			if err := up.Seal(); err != nil {
				t.Fatal(err)
			}
			if tt.change != nil {
				if err := tt.change(up.Name()); err != nil {
					t.Fatal(err)
				}
			}
			man, err := s.LoadSource(ctx, screening.KindRobinson, UploadSource(up, "upload.txt"), LoadOptions{AllowShrink: true})
			if tt.change == nil {
				if err != nil {
					t.Fatal(err)
				}
				if man.SourceSHA256 != up.SHA256() || man.Records != len(es) {
					t.Errorf("loaded %d records with SHA-256 %s, want %d and the received %s", man.Records, man.SourceSHA256, len(es), up.SHA256())
				}
				return
			}
			var le *LoadError
			if !errors.As(err, &le) || !errors.Is(err, intake.ErrTampered) {
				t.Fatalf("err = %v, want a LoadError for intake.ErrTampered", err)
			}
			if st := s.Status(time.Now()); len(st) != 1 || st[0].Version != before {
				t.Errorf("serving changed: %+v", st)
			}
		})
	}
}

func TestOpenImportSource(t *testing.T) {
	base := t.TempDir()
	imp := filepath.Join(base, "import")
	if err := os.Mkdir(imp, 0o700); err != nil {
		t.Fatal(err)
	}
	robinsonFile(t, imp, entries)
	outside := robinsonFile(t, base, entries)
	if err := os.Symlink(outside, filepath.Join(imp, "link.txt")); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.TempDir(), Options{ImportDir: imp})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tests := []struct {
		name, path string
		err        error
	}{
		{"file inside", "robinson-4.txt", nil},
		{"symlink out", "link.txt", intake.ErrOutside},
		{"dot-dot", "../robinson-4.txt", intake.ErrNotLocal},
		{"absolute", outside, intake.ErrNotLocal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, done, err := s.OpenImport(tt.path)
			defer done()
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			man, err := s.LoadSource(context.Background(), screening.KindRobinson, src, LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if man.SourceName != "robinson-4.txt" || man.Records != len(entries) {
				t.Errorf("loaded %s with %d records", man.SourceName, man.Records)
			}
		})
	}
}
