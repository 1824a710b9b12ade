package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// tmpfsCommand returns a command that runs a shell script as root of a new user and mount
// namespace, where it can mount a small tmpfs, or skips the test when this
// machine allows no such namespace.
func tmpfsCommand(t *testing.T, script string, args ...string) *exec.Cmd {
	t.Helper()
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("no unshare(1): cannot mount a small tmpfs to fill")
	}
	probe := t.TempDir()
	if out, err := exec.Command("unshare", "-rm", "sh", "-c", `mount -t tmpfs -o size=1m tmpfs "$1"`, "sh", probe).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs in a user+mount namespace here (unshare -rm: %v %s): the full-disk test needs one", err, strings.TrimSpace(string(out)))
	}
	return exec.Command("unshare", append([]string{"-rm", "sh", "-c", script, "sh"}, args...)...)
}

// fullDiskScript mounts an 8 MiB tmpfs on $1, loads $3 (the old list) into
// $1/data with the space check faked away (an 8 MiB disk is below its
// margin), fills the disk up to about 512 KiB, then tries offline loads of
// $4 (the new list) — with the real space check, and with it faked away so
// that the build itself runs out of space — writing each one's exit status
// and stderr to $2, and finally runs the server on the full disk with the
// space check faked away, so that online loads reach the build too (the
// fake, store.FakeFreeSpaceEnv, exists only in the failpoints build).
const fullDiskScript = `
set -e
mnt=$1 out=$2 old=$3 new=$4 bin=$5 addr=$6 imports=$7
mount -t tmpfs -o size=8m tmpfs "$mnt"
ROBINSCREEN_FAKE_FREE_BYTES=1000000000000 "$bin" load --data "$mnt/data" --robinson "$old" >/dev/null 2>"$out/first.err"
free=$(( $(stat -f -c '%a*%S' "$mnt") ))
head -c $(( free - 512*1024 )) /dev/zero > "$mnt/filler"
set +e
"$bin" load --data "$mnt/data" --robinson "$new" >/dev/null 2>"$out/precheck.err"
echo $? > "$out/precheck.code"
ROBINSCREEN_FAKE_FREE_BYTES=1000000000000 "$bin" load --data "$mnt/data" --robinson "$new" >/dev/null 2>"$out/build.err"
echo $? > "$out/build.code"
ROBINSCREEN_FAKE_FREE_BYTES=1000000000000 exec "$bin" serve --data "$mnt/data" --listen "$addr" --import-dir "$imports"
`

// errorLines returns stderr's lines that are not JSON log lines.
func errorLines(stderr string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if l != "" && !strings.HasPrefix(l, "{") {
			out = append(out, l)
		}
	}
	return out
}

// TestLoadOnFullDisk fills a real (tmpfs) disk and loads: offline, the
// space check refuses the load, and a build that runs out of space anyway
// is refused with one line; online, the server keeps serving the old
// version and refuses the load with NO_SPACE, whether the disk fills while
// the version is built (a fault on Badger's memory-mapped writes, or
// ENOSPC) or while the upload is staged.
func TestLoadOnFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	src := t.TempDir()
	oldFile, newFile, oldN, _ := versionFiles(t, src, 20000)
	mnt, out := t.TempDir(), t.TempDir()
	addr := freeAddr(t)
	cmd := tmpfsCommand(t, fullDiskScript, mnt, out, oldFile, newFile, binaryWithFailpoints(t), addr, src)
	p := startProc(t, cmd, addr)

	for _, tc := range []struct {
		name string
		want string
	}{
		{"precheck", "not enough free disk space in " + filepath.Join(mnt, "data", "robinson") + ": the load needs about"},
		{"build", "out of disk space in " + filepath.Join(mnt, "data", "robinson") + " while loading"},
	} {
		t.Run("offline/"+tc.name, func(t *testing.T) {
			code, _ := os.ReadFile(filepath.Join(out, tc.name+".code"))
			errOut, _ := os.ReadFile(filepath.Join(out, tc.name+".err"))
			lines := errorLines(string(errOut))
			if strings.TrimSpace(string(code)) != "1" || len(lines) != 1 || !strings.Contains(lines[0], tc.want) || !strings.Contains(lines[0], "previous dataset is unchanged") {
				t.Errorf("exit %s, want 1 and one line saying %q; stderr:\n%s", code, tc.want, errOut)
			}
		})
	}

	if got := p.which(t); got != "old" {
		t.Fatalf("before the online loads: %s", got)
	}
	for _, tc := range []struct {
		name  string
		named bool
		want  string
	}{
		{"build", true, "while loading"},
		{"staging", false, "while receiving the upload"},
	} {
		t.Run("online/"+tc.name, func(t *testing.T) {
			file := newFile
			if tc.named {
				file = filepath.Base(newFile)
			}
			_, err := uploadDataset(p.admin, &pb.LoadDatasetStart{Kind: pb.DatasetKind_DATASET_KIND_ROBINSON}, file, tc.named, newProgressBar(io.Discard))
			st := status.Convert(err)
			var reason string
			for _, d := range st.Details() {
				if ei, ok := d.(*errdetails.ErrorInfo); ok {
					reason = ei.GetReason()
				}
			}
			if st.Code() != codes.ResourceExhausted || reason != "NO_SPACE" || !strings.Contains(st.Message(), tc.want) {
				t.Errorf("load on a full disk: %v (reason %q), want RESOURCE_EXHAUSTED NO_SPACE saying %q", err, reason, tc.want)
			}
			// The server is still up and answers from the old version.
			if got := p.which(t); got != "old" {
				t.Errorf("after the load: %s, want the old version's answers", got)
			}
			if n := p.records(t); n != int64(oldN) {
				t.Errorf("serving %d records, want %d", n, oldN)
			}
		})
	}
	if strings.Contains(p.stderr.String(), "goroutine ") {
		t.Errorf("the server printed a goroutine dump:\n%s", p.stderr.String())
	}
	t.Logf("server log:\n%s", lastLines(p.stderr.String(), 6))
}

func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(ls[max(0, len(ls)-n):], "\n")
}
