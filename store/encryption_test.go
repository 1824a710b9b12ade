package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newKeyFile(t *testing.T) ([]byte, string) {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	p := filepath.Join(t.TempDir(), "enc.key")
	if err := os.WriteFile(p, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadKey(p)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("ReadKey = %x, %v", got, err)
	}
	return key, p
}

// TestEncryptionAtRest loads with a key and searches every raw file of the
// data directory for the loaded names and streets, in every spelling the
// store could hold them.
func TestEncryptionAtRest(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	key, _ := newKeyFile(t)
	s, err := Open(dir, Options{EncryptionKey: key})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.LoadRobinson(ctx, robinsonFile(t, src, entries), LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadCPR(ctx, cprFile(t, src, true), LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := lookup(t, s, "2100", "12", "testesen"); len(got) != 1 {
		t.Fatalf("encrypted store does not answer: %v", got)
	}
	s.Close()

	secrets := []string{"testesen", "Testesen", "TESTESEN", "fiktivvej", "Fiktivvej", "soeren", "louises", "dronn"}
	files := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, _ := os.ReadFile(p)
		for _, sec := range secrets {
			if bytes.Contains(b, []byte(sec)) {
				t.Errorf("%q in clear in %s", sec, p)
			}
		}
		return nil
	})
	if files < 5 {
		t.Fatalf("searched only %d files", files)
	}

	// Without the key, or with another, the directory does not open.
	if _, err := Open(dir, Options{}); err == nil {
		t.Error("opened an encrypted directory without the key")
	}
	other, _ := newKeyFile(t)
	if _, err := Open(dir, Options{EncryptionKey: other}); err == nil {
		t.Error("opened an encrypted directory with the wrong key")
	}
	s = openStoreWith(t, dir, Options{EncryptionKey: key})
	if got := lookup(t, s, "2200", "15", "hansen"); len(got) != 2 {
		t.Errorf("after restart with the key: %v", got)
	}
	s.Close()

	// Key rotation: afterwards the new key opens it and the old one does not.
	newKey, _ := newKeyFile(t)
	if err := RotateEncryptionKey(dir, key, newKey); err != nil {
		t.Fatal(err)
	}
	if err := RotateEncryptionKey(dir, key, newKey); err != nil {
		t.Fatalf("second rotation (already done) failed: %v", err)
	}
	if _, err := Open(dir, Options{EncryptionKey: key}); err == nil {
		t.Error("old key still opens the rotated directory")
	}
	s = openStoreWith(t, dir, Options{EncryptionKey: newKey})
	if got := lookup(t, s, "2100", "12", "testesen"); len(got) != 1 {
		t.Errorf("after rotation: %v", got)
	}
	// Rotation needs the directory lock.
	if err := RotateEncryptionKey(dir, newKey, key); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("rotation of an open directory: err = %v, want ErrLocked", err)
	}
}

func openStoreWith(t *testing.T, dir string, o Options) *Store {
	t.Helper()
	s, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRollbackAndVersions(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s := openStore(t, dir)
	ctx := context.Background()
	if _, err := s.Rollback("robinson"); err != ErrNoPrevious {
		t.Errorf("rollback of nothing: %v, want ErrNoPrevious", err)
	}
	v1, err := s.LoadRobinson(ctx, robinsonFile(t, src, entries), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rollback("robinson"); err != ErrNoPrevious {
		t.Errorf("rollback with one version: %v, want ErrNoPrevious", err)
	}
	v2, err := s.LoadRobinson(ctx, robinsonFile(t, src, entries[:1]), LoadOptions{AllowShrink: true}) // a smaller list on purpose
	if err != nil {
		t.Fatal(err)
	}
	vs, err := s.Versions("robinson", published)
	if err != nil || len(vs) != 2 || vs[0].Version != v2.Version || !vs[0].Serving || vs[1].Serving || vs[1].Version != v1.Version {
		t.Fatalf("versions = %+v, %v", vs, err)
	}
	back, err := s.Rollback("robinson")
	if err != nil || back.Version != v1.Version {
		t.Fatalf("rollback = %v, %v; want %s", back, err, v1.Version)
	}
	if got := lookup(t, s, "2200", "15", "hansen"); len(got) != 2 {
		t.Errorf("after rollback the previous version's answers are back: %v", got)
	}
	// Roll forward again, and reopen: the pointers survive.
	if fwd, err := s.Rollback("robinson"); err != nil || fwd.Version != v2.Version {
		t.Fatalf("roll forward = %v, %v", fwd, err)
	}
	s.Close()
	s = openStore(t, dir)
	if st := s.Status(published); st[0].Version != v2.Version {
		t.Errorf("after reopen serving %s, want %s", st[0].Version, v2.Version)
	}
	if back, err := s.Rollback("robinson"); err != nil || back.Version != v1.Version {
		t.Errorf("rollback after reopen = %v, %v", back, err)
	}
	if _, err := s.Versions("nope", published); err == nil {
		t.Error("unknown kind accepted")
	}
	// A refused load is recorded with its reason.
	if _, err := s.LoadRobinson(ctx, writeFile(t, src, "empty.txt", nil), LoadOptions{}); err == nil {
		t.Fatal("empty file loaded")
	}
	r := s.LastRefused("robinson")
	if r == nil || r.SourceName != "empty.txt" || !strings.Contains(r.Error, "empty") {
		t.Errorf("last refused = %+v", r)
	}
}
