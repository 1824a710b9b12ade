package docscheck

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Outside documents nothing in the repository may cite: the repository
// must stand alone. Built from pieces so that this file does not cite them.
var forbidden = []string{".." + "/shared", "shared" + "/docs"}

// repoRoot is the directory holding the module's go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.HasPrefix(b, []byte("module github.com/robinscreen/robinscreen\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod of github.com/robinscreen/robinscreen above the test's directory")
		}
		dir = parent
	}
}

// repoFiles lists the repository's files, relative to root with slashes:
// the files git tracks, plus new files not yet added (so a check fails
// before the commit, not after); without git, every file under root but
// .git and node_modules.
func repoFiles(t *testing.T, root string) []string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(root, ".git")); err == nil {
		if git, err := exec.LookPath("git"); err == nil {
			cmd := exec.Command(git, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
			cmd.Dir = root
			out, err := cmd.Output()
			if err == nil {
				var files []string
				for _, f := range strings.Split(string(out), "\x00") {
					if f == "" || strings.Contains(f, "node_modules/") {
						continue
					}
					if _, err := os.Lstat(filepath.Join(root, filepath.FromSlash(f))); err == nil {
						files = append(files, f)
					}
				}
				return files
			}
			t.Logf("git ls-files: %v; walking the tree instead", err)
		}
	}
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == ".bin") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// textKind says whether a repository file is Go, Markdown or shell (by
// extension, or a shell shebang on an extensionless script such as
// .ci/run), and so is searched for citations of outside documents.
func textKind(root, f string) bool {
	switch strings.ToLower(filepath.Ext(f)) {
	case ".go", ".md", ".sh", ".bash", ".proto":
		return true
	case "":
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil || !bytes.HasPrefix(b, []byte("#!")) {
			return false
		}
		first, _, _ := bytes.Cut(b, []byte("\n"))
		return bytes.Contains(first, []byte("sh"))
	}
	return false
}

// TestDocsLinks checks that a clone of the repository alone resolves every
// relative link (file and #anchor, by GitHub's heading-anchor rules) in
// every Markdown file — README.md, docs/, clients/, testdata/ — and that no
// Go, Markdown or shell file cites documents outside the repository.
func TestDocsLinks(t *testing.T) {
	root := repoRoot(t)
	files := repoFiles(t, root)
	r := &Resolver{Root: root}
	markdown, links := 0, 0
	for _, f := range files {
		abs := filepath.Join(root, filepath.FromSlash(f))
		if strings.EqualFold(filepath.Ext(f), ".md") {
			markdown++
			doc, err := r.Doc(abs)
			if err != nil {
				t.Errorf("%s: %v", f, err)
				continue
			}
			for _, l := range doc.Links {
				links++
				if err := r.Check(abs, l); err != nil {
					t.Errorf("%s:%d: broken link: %v", f, l.Line, err)
				}
			}
		}
		if !textKind(root, f) {
			continue
		}
		b, err := os.ReadFile(abs)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, s := range forbidden {
				if strings.Contains(line, s) {
					t.Errorf("%s:%d: cites %q, outside the repository; cite docs/ instead", f, i+1, s)
				}
			}
		}
	}
	for _, want := range []string{"README.md", "docs/screening-rules.md", "docs/data-formats.md", "docs/api.md", "docs/rules-index.md"} {
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(want))); err != nil {
			t.Errorf("%s is missing", want)
		}
	}
	if markdown < 5 || links == 0 {
		t.Errorf("checked %d Markdown files and %d links: the file list looks wrong", markdown, links)
	}
	t.Logf("%d files, %d Markdown, %d links checked", len(files), markdown, links)
}

func TestSlug(t *testing.T) {
	for _, tt := range []struct{ heading, want string }{
		{"5. CPR road register (vejregister)", "5-cpr-road-register-vejregister"},
		{"3.2 Address parts", "32-address-parts"},
		{"6. The sender's suppression list", "6-the-senders-suppression-list"},
		{"Matching v2: before and after (issue 9)", "matching-v2-before-and-after-issue-9"},
		{"The `opted_out` flag", "the-opted_out-flag"},
		{"**Bold** and [a link](x.md)", "bold-and-a-link"},
		{"Æble, Øl & Å — søer", "æble-øl--å--søer"},
		{"TLS, tokens, audit log, metrics", "tls-tokens-audit-log-metrics"},
	} {
		if got := Slug(tt.heading); got != tt.want {
			t.Errorf("Slug(%q) = %q, want %q", tt.heading, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	text := "# Title\n\n" +
		"See [a](a.md#x), ![img](p.png \"title\") and [b](<b c.md>).\n" +
		"`[not](code.md)` but [yes](yes.md)\n" +
		"```\n[no](fenced.md)\n# Not a heading\n```\n" +
		"## Title\n" +
		"Setext heading\n" +
		"---------------\n" +
		"<a id=\"custom\"></a>\n" +
		"[ref]: ref.md\n" +
		"A [link over\ntwo lines](two.md) and `code over\n[a](line.md) break`.\n" +
		"[https](https://example.com/x) [mail](mailto:a@b.c) [here](#title-1)\n"
	d := Parse(text)
	var got []string
	for _, l := range d.Links {
		got = append(got, l.Target)
	}
	want := []string{"a.md#x", "p.png", "b c.md", "yes.md", "ref.md", "two.md", "https://example.com/x", "mailto:a@b.c", "#title-1"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("links = %q, want %q", got, want)
	}
	for _, a := range []string{"title", "title-1", "setext-heading", "custom"} {
		if !d.Anchors[a] {
			t.Errorf("anchor %q missing from %v", a, d.Anchors)
		}
	}
	if d.Anchors["not-a-heading"] {
		t.Error("a heading inside a code fence counted")
	}
}

func TestCheck(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "docs")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("README.md", "# Top\n")
	write("docs/a.md", "# A\n## 3.3 Streets\n")
	r := &Resolver{Root: root}
	from := filepath.Join(sub, "a.md")
	for _, tt := range []struct {
		target string
		ok     bool
	}{
		{"#33-streets", true},
		{"#a", true},
		{"#missing", false},
		{"../README.md", true},
		{"../README.md#top", true},
		{"../README.md#nope", false},
		{"/README.md", true},
		{"a.md", true},
		{"../docs", true},
		{"b.md", false},
		{"../../outside/x.md", false},
		{"https://example.com/", true},
	} {
		err := r.Check(from, Link{Target: tt.target})
		if (err == nil) != tt.ok {
			t.Errorf("Check(%q) = %v, want ok=%v", tt.target, err, tt.ok)
		}
	}
}
