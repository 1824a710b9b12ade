package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/internal/cprfmt"
	"github.com/robinscreen/robinscreen/screening"
)

// testBuildProcessEnv makes the test binary a build process (ServeBuild),
// as `robinscreen build-version` is for the real one.
const testBuildProcessEnv = "ROBINSCREEN_STORE_TEST_BUILD_PROCESS"

func runTestBuildProcess() {
	if os.Getenv(testBuildProcessEnv) != "1" {
		return
	}
	err := ServeBuild(os.Stdin, os.Stdout, os.NewFile(3, "req"), os.NewFile(4, "resp"), nil, func() { os.Exit(3) })
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// openIsolated opens a store in dir whose loads build in a build process
// (this test binary).
func openIsolated(t *testing.T, dir string, o Options) *Store {
	t.Helper()
	t.Setenv(testBuildProcessEnv, "1")
	o.BuildCommand = []string{os.Args[0]}
	return openStoreWith(t, dir, o)
}

// rejectsFile is a Robinson list with more rejected lines than 0.1 %.
func rejectsFile(t *testing.T, dir string) string {
	es := append([]cprfmt.RobinsonEntry(nil), entries...)
	es = append(es, cprfmt.RobinsonEntry{Name: "Testesen,Søren", Address: "Fiktivvej 12", PostDist: "21 København Ø"})
	b, err := cprfmt.RobinsonFile(published, es)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, "rejects.txt", b)
}

// TestBuildProcess loads through a build process: the version it builds
// is the one an in-process build makes, refusals keep their meaning, and
// the serving version stays when the build is refused.
func TestBuildProcess(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	list := robinsonFile(t, src, entries)
	key := []byte("0123456789abcdef0123456789abcdef")
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"plain", Options{}},
		{"encrypted", Options{EncryptionKey: key}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := openStoreWith(t, t.TempDir(), tc.opts).LoadRobinson(ctx, list, LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			s := openIsolated(t, t.TempDir(), tc.opts)
			var phases []string
			man, err := s.LoadRobinson(ctx, list, LoadOptions{Progress: func(p Progress) { phases = append(phases, p.Phase) }})
			if err != nil {
				t.Fatal(err)
			}
			if man.Records != want.Records || man.Keys != want.Keys || man.BloomSHA256 != want.BloomSHA256 || man.SourceSHA256 != want.SourceSHA256 || man.Published != want.Published {
				t.Errorf("built in a process: %+v\nin this one: %+v", man, want)
			}
			if recs := lookup(t, s, "2100", "12", "testesen"); len(recs) != 1 {
				t.Errorf("the version built in a process finds %d records, want 1", len(recs))
			}
			if !strings.Contains(strings.Join(phases, " "), PhaseWriting+" "+PhaseVerify) {
				t.Errorf("progress phases %v: want writing, then verifying", phases)
			}
			// CPR needs the pseudonym key in the build process.
			cman, err := s.LoadCPR(ctx, cprFile(t, src, true), LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if cman.KeyFingerprint != s.pseud.Fingerprint() || cman.Persons != len(numbers) {
				t.Errorf("cpr built in a process: %+v", cman)
			}

			// Refusals keep their kind across the process boundary.
			for _, rc := range []struct {
				name, file string
				is         error
				lines      bool
			}{
				{"shrink", robinsonFile(t, src, entries[:1]), ErrShrink, false},
				{"rejects", rejectsFile(t, src), nil, true},
				{"empty", writeFile(t, src, "empty.txt", nil), nil, false},
			} {
				_, err := s.LoadRobinson(ctx, rc.file, LoadOptions{})
				var le *LoadError
				if !errors.As(err, &le) {
					t.Fatalf("%s: err = %v, want a *LoadError", rc.name, err)
				}
				if rc.is != nil && !errors.Is(err, rc.is) {
					t.Errorf("%s: errors.Is(%v, %v) = false", rc.name, err, rc.is)
				}
				if got := RejectedLines(err); rc.lines != (len(got) > 0) {
					t.Errorf("%s: rejected lines %q", rc.name, got)
				}
				if r := s.LastRefused(screening.KindRobinson); r == nil || r.SourceName != filepath.Base(rc.file) || r.Error != err.Error() {
					t.Errorf("%s: last refused %+v", rc.name, r)
				}
				if v := s.servingVersion(screening.KindRobinson); v != man.Version {
					t.Errorf("%s: serving %s after a refusal, want %s", rc.name, v, man.Version)
				}
			}
		})
	}
}

// TestBuildProcessDies covers build processes that end without a result:
// the load fails with an error saying how, as *NoSpaceError when the disk
// is full, and the serving version stays.
func TestBuildProcessDies(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	list := robinsonFile(t, src, entries)
	for _, tc := range []struct {
		name    string
		script  string
		noSpace bool
		want    string
	}{
		{"fault", `echo "unexpected fault address 0x7f00"; echo "fatal error: fault"; echo "[signal SIGBUS: bus error code=0x2]"; exit 2`, false, "exit status 2 (fatal error: fault [signal SIGBUS: bus error code=0x2])"},
		{"enospc", `echo "panic: write x: no space left on device"; exit 2`, true, "no space left on device"},
		{"killed", `kill -9 $$`, false, "signal: killed"},
		{"silent", `exit 0`, false, "ended without a result"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, t.TempDir())
			before, err := s.LoadRobinson(ctx, list, LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			s.opts.BuildCommand = []string{"/bin/sh", "-c", "read spec; { " + tc.script + "; } >&2"}
			// Another file: the serving version's own is not built again.
			_, err = s.LoadRobinson(ctx, robinsonFile(t, src, entries[:3]), LoadOptions{AllowShrink: true})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
			if got := errors.Is(err, ErrNoSpace); got != tc.noSpace {
				t.Errorf("errors.Is(err, ErrNoSpace) = %v, want %v", got, tc.noSpace)
			}
			var le *LoadError
			if errors.As(err, &le) {
				t.Errorf("a failed build is not a refused file: %v", err)
			}
			if v := s.servingVersion(screening.KindRobinson); v != before.Version {
				t.Errorf("serving %q, want %q", v, before.Version)
			}
			if builds, _ := filepath.Glob(filepath.Join(s.kindDir(screening.KindRobinson), ".build-*")); len(builds) > 0 {
				t.Errorf("build directories left: %v", builds)
			}
		})
	}
	t.Run("canceled", func(t *testing.T) {
		s := openStore(t, t.TempDir())
		s.opts.BuildCommand = []string{"/bin/sh", "-c", "read spec; exec sleep 30"}
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := s.LoadRobinson(cctx, list, LoadOptions{})
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
			t.Errorf("err = %v after %v, want the deadline, soon", err, time.Since(start))
		}
	})
}

// TestSpaceCheck refuses a load before its build when the file system has
// less free space than the estimate (fakeFree stands in for a small
// disk), naming the directory and both numbers.
func TestSpaceCheck(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	list := robinsonFile(t, src, entries)
	fi, err := os.Stat(list)
	if err != nil {
		t.Fatal(err)
	}
	need := spaceNeeded(fi.Size())
	for _, tc := range []struct {
		name  string
		free  uint64
		fails bool
	}{
		{"none free", 0, true},
		{"one byte short", need - 1, true},
		{"exactly enough", need, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, t.TempDir())
			saved := fakeFree
			fakeFree = func() (uint64, bool) { return tc.free, true }
			t.Cleanup(func() { fakeFree = saved })
			_, err := s.LoadRobinson(ctx, list, LoadOptions{})
			if !tc.fails {
				if err != nil {
					t.Fatalf("with %d bytes free: %v", tc.free, err)
				}
				return
			}
			var ne *NoSpaceError
			if !errors.As(err, &ne) || !errors.Is(err, ErrNoSpace) {
				t.Fatalf("err = %v, want a *NoSpaceError", err)
			}
			dir := s.kindDir(screening.KindRobinson)
			if ne.Dir != dir || ne.Needed != need || ne.Free != tc.free {
				t.Errorf("got %+v, want dir %s, needed %d, free %d", ne, dir, need, tc.free)
			}
			for _, w := range []string{dir, fmt.Sprint(need), fmt.Sprint(tc.free)} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not name %s", err, w)
				}
			}
			if s.Ready() || s.LastRefused(screening.KindRobinson) != nil {
				t.Errorf("a load refused for space serves or records a refused file")
			}
		})
	}
}

// TestIsNoSpace: a full disk is known also when Badger flattened the
// file system's error into its own text (its LOCK file's pid write at
// open: `Cannot write pid file "…" err: write …: no space left on
// device`), so that the build process reports it as no space and the
// load is refused NO_SPACE rather than failing as an internal error.
func TestIsNoSpace(t *testing.T) {
	enospc := &os.PathError{Op: "write", Path: "/data/robinson/.build-1/badger/LOCK", Err: syscall.ENOSPC}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"ENOSPC", enospc, true},
		{"ENOSPC wrapped", fmt.Errorf("store: build: %w", enospc), true},
		{"EDQUOT wrapped", fmt.Errorf("store: build: %w", &os.PathError{Op: "write", Path: "x", Err: syscall.EDQUOT}), true},
		{"Badger's pid file text", fmt.Errorf("Cannot write pid file %q err: %v", enospc.Path, enospc), true},
		{"Badger's text of a quota", fmt.Errorf("while opening memtables error: %v", &os.PathError{Op: "write", Path: "x", Err: syscall.EDQUOT}), true},
		{"permission", fmt.Errorf("Cannot write pid file: %v", &os.PathError{Op: "open", Path: "x", Err: syscall.EACCES}), false},
		{"other", errors.New("store: bloom filter misses 3 stored keys"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := isNoSpace(tc.err); got != tc.want {
				t.Errorf("isNoSpace(%v) = %v, want %v", tc.err, got, tc.want)
			}
			err := noSpace(t.TempDir(), tc.err)
			var ne *NoSpaceError
			if got := errors.As(err, &ne); got != tc.want {
				t.Errorf("noSpace(%v) = %v, a *NoSpaceError: %v, want %v", tc.err, err, got, tc.want)
			}
			if tc.want && !errors.Is(err, ErrNoSpace) {
				t.Errorf("errors.Is(%v, ErrNoSpace) = false", err)
			}
		})
	}
}
