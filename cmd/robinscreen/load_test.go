package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/internal/cprfmt"
	"github.com/robinscreen/robinscreen/internal/demo"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/store"
)

// builtBinary is robinscreen built once per test process with one set of
// build tags.
type builtBinary struct {
	once sync.Once
	path string
	err  error
}

var (
	prodBinary      builtBinary // no build tags: the production binary
	failpointBinary builtBinary // -tags failpoints: for the crash tests
)

// binary builds robinscreen, as it ships, once per test process.
func binary(t *testing.T) string {
	t.Helper()
	return prodBinary.build(t)
}

// binaryWithFailpoints builds robinscreen with -tags failpoints (see
// store/failpoint.go) once per test process.
func binaryWithFailpoints(t *testing.T) string {
	t.Helper()
	return failpointBinary.build(t, "-tags", "failpoints")
}

func (b *builtBinary) build(t *testing.T, flags ...string) string {
	t.Helper()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "robinscreen-bin-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, "robinscreen")
		args := append(append([]string{"build"}, flags...), "-o", b.path, ".")
		out, err := exec.Command("go", args...).CombinedOutput()
		if err != nil {
			b.err = err
			t.Logf("%s", out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), o.String(), e.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, o.String(), e.String()
}

func TestLoadRefusesBadFiles(t *testing.T) {
	src, data := t.TempDir(), filepath.Join(t.TempDir(), "data")
	today := time.Now().UTC().Truncate(24 * time.Hour)
	rob, cpr, err := demo.Files(today)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string { return writeSource(t, src, name, b) }
	goodR, goodC := write("robinson.txt", rob), write("cpr.txt", cpr)
	if code, out, errOut := runCLI(t, "load", "--data", data, "--robinson", goodR, "--cpr", goodC); code != 0 {
		t.Fatalf("good load: exit %d\n%s\n%s", code, out, errOut)
	}
	before := servingVersions(t, data)

	// A list whose two last lines (after two header lines and the demo
	// records) are malformed: far beyond 0.1 %.
	malformed := append(append([]byte(nil), rob...), []byte("Ikke en linje\r\n#####\r\n")...)
	noEnd := bytes.Replace(cpr, []byte(cprfmt.CPREnd(5)+"\r\n"), nil, 1)
	if bytes.Equal(noEnd, cpr) {
		t.Fatal("test setup: 999 record not removed")
	}
	tests := []struct {
		name  string
		args  []string
		file  string
		want  []string // in stderr
		lines []string // line numbers that must be named
	}{
		{"empty robinson file", []string{"--robinson"}, write("empty.txt", nil), []string{"empty"}, nil},
		{"malformed lines beyond threshold", []string{"--robinson"}, write("malformed.txt", malformed), []string{"rejected"}, []string{strconv.Itoa(len(demo.Robinson) + 3), strconv.Itoa(len(demo.Robinson) + 4)}},
		{"cpr extract without 999", []string{"--cpr"}, write("noend.txt", noEnd), []string{"999"}, []string{"6"}},
		{"header only", []string{"--robinson"}, write("header.txt", rob[:bytes.Index(rob, []byte("\r\nDemosen"))+2]), []string{"no"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"load", "--data", data}, append(tt.args, tt.file)...)
			code, _, errOut := runCLI(t, args...)
			if code == 0 {
				t.Fatal("load of a bad file exited 0")
			}
			if !strings.Contains(errOut, tt.file) {
				t.Errorf("stderr does not name the file %s:\n%s", tt.file, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(strings.ToLower(errOut), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			for _, l := range tt.lines {
				if !regexp.MustCompile(`line ` + l + `\b`).MatchString(errOut) {
					t.Errorf("stderr does not name line %s:\n%s", l, errOut)
				}
			}
			if strings.Contains(errOut, "Testesen") || strings.Contains(errOut, demo.DemoProtected) {
				t.Errorf("stderr leaks personal data:\n%s", errOut)
			}
			if after := servingVersions(t, data); after != before {
				t.Errorf("serving datasets changed:\nbefore %s\nafter  %s", before, after)
			}
			// And the previous dataset still answers.
			st, err := store.Open(data, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			snap, release := st.Acquire()
			defer release()
			res, err := (&screening.Engine{}).Screen(snap, screening.ChannelPost, 0, &screening.Contact{Name: "Søren Testesen", Address: "Fiktivvej 12, 2. tv, 2100 København Ø"})
			if err != nil || res.Decision != screening.Block {
				t.Errorf("previous dataset does not answer: %v %v", res.Decision, err)
			}
		})
	}
}

// servingVersions summarises the serving versions of a data directory.
func servingVersions(t *testing.T, data string) string {
	t.Helper()
	st, err := store.Open(data, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var b strings.Builder
	for _, s := range st.Status(time.Now()) {
		b.WriteString(s.Kind + "=" + s.Version + " ")
	}
	return b.String()
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"no command", nil, 2},
		{"unknown command", []string{"frobnicate"}, 2},
		{"load without files", []string{"load", "--data", t.TempDir()}, 2},
		{"load without data", []string{"load", "--robinson", "x"}, 2},
		{"help", []string{"help"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o, e bytes.Buffer
			if code := run(tt.args, &o, &e); code != tt.code {
				t.Errorf("exit %d, want %d; stderr %s", code, tt.code, e.String())
			}
		})
	}
}

// writeSource writes a data file for a test into dir and returns its path.
func writeSource(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
