package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// TestAdminLoadImportDir runs the binary with --import-dir: a named file
// inside it loads; a name that leads out of it (.., an absolute path, a
// symbolic link) is refused with INVALID_ARGUMENT and the serving version
// stays.
func TestAdminLoadImportDir(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	src := t.TempDir()
	oldFile, newFile, _, newN := versionFiles(t, src, 100)
	imp := filepath.Join(t.TempDir(), "import")
	if err := os.MkdirAll(filepath.Join(imp, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(newFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(imp, "sub", "new.txt"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(newFile, filepath.Join(imp, "out.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(src, filepath.Join(imp, "outdir")); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "data")
	if code, _, errOut := runCLI(t, "load", "--data", data, "--robinson", oldFile); code != 0 {
		t.Fatal(errOut)
	}
	addr := freeAddr(t)
	cmd := exec.Command(binary(t), "serve", "--data", data, "--listen", addr, "--import-dir", imp)
	p := &serverProc{cmd: cmd, stderr: &lockedBuffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	p.conn, p.screen, p.admin = conn, pb.NewScreeningServiceClient(conn), pb.NewDatasetServiceClient(conn)
	t.Cleanup(p.kill)
	waitServing(t, conn)

	tests := []struct {
		name string
		path string
		want string // in stderr; "" for a load that succeeds
	}{
		{"dot-dot out", "../" + filepath.Base(filepath.Dir(newFile)) + "/new.txt", "must be a relative path inside the import directory"},
		{"dot-dot from a sub-directory", "sub/../../new.txt", "must be a relative path inside the import directory"},
		{"absolute path", newFile, "must be a relative path inside the import directory"},
		{"symbolic link to a file outside", "out.txt", "must stay inside the import directory"},
		{"through a linked directory outside", "outdir/new.txt", "must stay inside the import directory"},
		{"missing file", "nope.txt", "no such file in the import directory"},
		{"a directory", "sub", "not a regular file"},
		{"file inside", "sub/new.txt", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "admin", "load", "--addr", addr, "--import", "--robinson", tt.path)
			if tt.want == "" {
				if code != 0 || !strings.Contains(out, "records") {
					t.Fatalf("admin load: exit %d\n%s\n%s", code, out, errOut)
				}
				if got := p.which(t); got != "new" {
					t.Errorf("after the load: %s", got)
				}
				if n := p.records(t); n != int64(newN) {
					t.Errorf("serving %d records, want %d", n, newN)
				}
				return
			}
			if code == 0 || !strings.Contains(errOut, "InvalidArgument") || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant INVALID_ARGUMENT with %q", code, errOut, tt.want)
			}
			if strings.Contains(errOut, src) {
				t.Errorf("the refusal names a server path:\n%s", errOut)
			}
			if got := p.which(t); got != "old" {
				t.Errorf("after a refused name: %s", got)
			}
		})
	}
}
