package main

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// fillRoundsScript mounts a tmpfs of $6 bytes on $1, loads the old list
// $5 into $1/data and serves it (the production binary $2, with the real
// free-space check) with the import directory $4. A helper loop fills the
// disk to the last byte when the file $7/fill appears and empties it
// when $7/empty appears, so that a test can fill the disk at any moment
// of an online load; it ends with the server.
const fillRoundsScript = `
set -e
mnt=$1 bin=$2 addr=$3 imports=$4 old=$5 size=$6 ctl=$7
mount -t tmpfs -o size=$size tmpfs "$mnt"
"$bin" load --data "$mnt/data" --robinson "$old" >/dev/null 2>"$ctl/first.err"
me=$$
(
  while kill -0 $me 2>/dev/null; do
    if [ -e "$ctl/fill" ]; then rm -f "$ctl/fill"; cat /dev/zero > "$mnt/filler" 2>/dev/null || true; touch "$ctl/filled"; fi
    if [ -e "$ctl/empty" ]; then rm -f "$ctl/empty" "$mnt/filler"; touch "$ctl/emptied"; fi
    sleep 0.01
  done
) &
exec "$bin" serve --data "$mnt/data" --listen "$addr" --import-dir "$imports"
`

// TestFullDiskDuringOnlineLoad is the independent check of issue 10's
// "disk full during an online load leaves the server answering": the
// production binary passes its free-space check, then another process
// fills the disk at a different moment of each round's build (from
// right at the start to well into it). Every round must end with the
// load refused RESOURCE_EXHAUSTED NO_SPACE (or, when the build won the
// race, loaded) and the server answering from the version it serves;
// never a crash. Run with ROBINSCREEN_FULLDISK_ROUNDS=1 (it takes a
// minute).
func TestFullDiskDuringOnlineLoad(t *testing.T) {
	if os.Getenv("ROBINSCREEN_FULLDISK_ROUNDS") == "" || testing.Short() {
		t.Skip("set ROBINSCREEN_FULLDISK_ROUNDS=1 to fill a tmpfs during online loads")
	}
	src := t.TempDir()
	oldFile, newFile, _, _ := versionFiles(t, src, 150000)
	fi, err := os.Stat(newFile)
	if err != nil {
		t.Fatal(err)
	}
	// Room for the old version, the space check's estimate and some.
	size := fi.Size()*5/4 + 32<<20 + 24<<20
	mnt, ctl := t.TempDir(), t.TempDir()
	addr := freeAddr(t)
	cmd := tmpfsCommand(t, fillRoundsScript, mnt, binary(t), addr, src, oldFile, strconv.FormatInt(size, 10), ctl)
	p := startProc(t, cmd, addr)
	signal := func(name, done string) {
		t.Helper()
		os.Remove(filepath.Join(ctl, done))
		if err := os.WriteFile(filepath.Join(ctl, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			if _, err := os.Stat(filepath.Join(ctl, done)); err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the fill helper did not answer %s", name)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	want := "old"
	refused, loaded := 0, 0
	for _, delay := range []time.Duration{0, 50 * time.Millisecond, 150 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1200 * time.Millisecond, 2 * time.Second, 3 * time.Second} {
		t.Run(delay.String(), func(t *testing.T) {
			signal("empty", "emptied")
			done := make(chan error, 1)
			go func() {
				_, err := uploadDataset(p.admin, &pb.LoadDatasetStart{Kind: pb.DatasetKind_DATASET_KIND_ROBINSON}, filepath.Base(newFile), true, newProgressBar(io.Discard))
				done <- err
			}()
			time.Sleep(delay)
			signal("fill", "filled")
			err := <-done
			switch {
			case err == nil:
				loaded++
				want = "new"
				t.Logf("the load finished before the disk was full")
			case status.Code(err) == codes.ResourceExhausted && reason(err) == "NO_SPACE":
				refused++
				t.Logf("refused: %s", status.Convert(err).Message())
			default:
				t.Errorf("load on a disk filled after %v: %v (reason %q), want RESOURCE_EXHAUSTED NO_SPACE", delay, err, reason(err))
			}
			if p.cmd.ProcessState != nil {
				t.Fatalf("the server exited:\n%s", lastLines(p.stderr.String(), 20))
			}
			if h := p.health(t); h != healthpb.HealthCheckResponse_SERVING {
				t.Errorf("health %v after the load", h)
			}
			if got := p.which(t); got != want {
				t.Errorf("answers: %s, want the %s version's", got, want)
			}
		})
	}
	log := p.stderr.String()
	// The build process's crash report is summed up in a JSON line; the
	// server's own log holds nothing else.
	if lines := errorLines(log); len(lines) > 0 {
		t.Errorf("the server printed lines that are not its log (a crash?):\n%s", strings.Join(lines, "\n"))
	}
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, `"level":"ERROR"`) || strings.Contains(l, `"level":"WARN"`) {
			t.Log(l)
		}
	}
	t.Logf("%d loads refused NO_SPACE, %d finished before the disk filled; server log tail:\n%s", refused, loaded, lastLines(log, 4))
	if refused == 0 {
		t.Errorf("no round filled the disk during the build: the test proved nothing")
	}
}
