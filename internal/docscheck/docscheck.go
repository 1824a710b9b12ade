// Package docscheck checks the repository's Markdown: every relative link
// (and its #anchor) resolves inside a clone of the repository alone, and no
// file cites documents that live outside it. Its test, TestDocsLinks, runs
// with go test ./...; the package has no other use.
package docscheck

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Link is one link found in a Markdown file.
type Link struct {
	Line   int
	Target string // as written, without a title
}

var (
	// inlineLink matches [text](target) and ![alt](target), an optional
	// title after the target, and targets in angle brackets.
	inlineLink = regexp.MustCompile(`!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)`)
	// refDef matches a link reference definition: [label]: target.
	refDef = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)`)
	// fence opens or closes a fenced code block.
	fence = regexp.MustCompile("^ {0,3}(```+|~~~+)")
	// atxHeading matches "# Heading" with an optional closing run of #.
	atxHeading = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)
	// setextUnderline underlines the previous line as a heading.
	setextUnderline = regexp.MustCompile(`^ {0,3}(=+|-+)[ \t]*$`)
	// htmlAnchor finds id="x" and name="x" attributes in inline HTML.
	htmlAnchor = regexp.MustCompile(`<[a-zA-Z][^>]*\s(?:id|name)=["']([^"']+)["']`)
	// htmlTag strips inline HTML from heading text.
	htmlTag = regexp.MustCompile(`<[^>]+>`)
	// textLink keeps the text of a link or image inside heading text.
	textLink = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
)

// Doc is what the checker needs from one Markdown file.
type Doc struct {
	Links   []Link
	Anchors map[string]bool
}

// Parse reads a Markdown file's links (outside code) and the anchors its
// headings and HTML ids define.
func Parse(text string) Doc {
	d := Doc{Anchors: map[string]bool{}}
	seen := map[string]int{}
	addHeading := func(h string) {
		slug := Slug(h)
		if n, ok := seen[slug]; ok {
			seen[slug] = n + 1
			slug += "-" + strconv.Itoa(n+1)
		} else {
			seen[slug] = 0
		}
		d.Anchors[slug] = true
	}
	var (
		inFence   string
		prev      string // previous line, a candidate setext heading
		prevPlain bool   // prev is a paragraph line that may be a setext heading
	)
	var (
		para     []string // lines of the current paragraph
		paraLine int      // line number of its first line
	)
	flush := func() {
		if len(para) == 0 {
			return
		}
		plain := stripCodeSpans(strings.Join(para, "\n"))
		for _, m := range inlineLink.FindAllStringSubmatchIndex(plain, -1) {
			d.Links = append(d.Links, Link{
				Line:   paraLine + strings.Count(plain[:m[0]], "\n"),
				Target: strings.Trim(plain[m[2]:m[3]], "<>"),
			})
		}
		para = para[:0]
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if m := fence.FindStringSubmatch(line); m != nil {
			flush()
			switch {
			case inFence == "":
				inFence = m[1]
			case m[1][0] == inFence[0] && len(m[1]) >= len(inFence) && strings.TrimSpace(line[strings.Index(line, m[1])+len(m[1]):]) == "":
				inFence = ""
			}
			prevPlain = false
			continue
		}
		if inFence != "" {
			continue
		}
		for _, m := range htmlAnchor.FindAllStringSubmatch(line, -1) {
			d.Anchors[m[1]] = true
		}
		if m := atxHeading.FindStringSubmatch(line); m != nil {
			addHeading(m[2])
			prevPlain = false
		} else if setextUnderline.MatchString(line) && prevPlain {
			addHeading(prev)
			prevPlain = false
		} else {
			trimmed := strings.TrimSpace(line)
			prev, prevPlain = trimmed, trimmed != "" && !strings.HasPrefix(trimmed, "|") &&
				!strings.HasPrefix(trimmed, "- ") && !strings.HasPrefix(trimmed, "* ") && !strings.HasPrefix(trimmed, ">")
		}
		if m := refDef.FindStringSubmatch(stripCodeSpans(line)); m != nil {
			d.Links = append(d.Links, Link{Line: n, Target: strings.Trim(m[1], "<>")})
		}
		// Link text may run over several lines: links are looked for in
		// whole paragraphs.
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		if len(para) == 0 {
			paraLine = n
		}
		para = append(para, line)
	}
	flush()
	return d
}

// Slug is GitHub's anchor for a heading: the heading's text as rendered
// (code spans, emphasis, links and HTML reduced to their text), lower case,
// every character removed that is not a letter, a mark, a digit, a
// connector (_), a hyphen or a blank, and each blank turned into a hyphen.
// Repeated headings get -1, -2, … (Parse adds those).
func Slug(heading string) string {
	h := textLink.ReplaceAllString(heading, "$1")
	h = htmlTag.ReplaceAllString(h, "")
	h = strings.ReplaceAll(h, "`", "")
	h = strings.ReplaceAll(h, "*", "")
	h = strings.TrimSpace(h)
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-', r == '_', unicode.IsLetter(r), unicode.IsDigit(r), unicode.IsMark(r), unicode.Is(unicode.Pc, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// External reports whether a link target leaves the repository on purpose:
// a URL with a scheme (https:, mailto:, …) or a protocol-relative one.
func External(target string) bool {
	if strings.HasPrefix(target, "//") {
		return true
	}
	u, err := url.Parse(target)
	return err == nil && u.Scheme != ""
}

// Resolver checks link targets against a repository checked out at Root.
type Resolver struct {
	Root string
	docs map[string]Doc // parsed Markdown files, by absolute path
}

// Check returns the problems of one link in the Markdown file at from
// (absolute); nil when the target exists inside Root, with its anchor.
func (r *Resolver) Check(from string, l Link) error {
	target := l.Target
	if target == "" {
		return fmt.Errorf("empty link target")
	}
	if External(target) {
		return nil
	}
	path, frag, _ := strings.Cut(target, "#")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	p, err := url.PathUnescape(path)
	if err != nil {
		return fmt.Errorf("%s: bad escape: %v", target, err)
	}
	var abs string
	switch {
	case p == "":
		abs = from
	case strings.HasPrefix(p, "/"):
		// GitHub resolves a leading slash from the repository root.
		abs = filepath.Join(r.Root, filepath.FromSlash(p))
	default:
		abs = filepath.Join(filepath.Dir(from), filepath.FromSlash(p))
	}
	rel, err := filepath.Rel(r.Root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("%s: points outside the repository", target)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return fmt.Errorf("%s: %s does not exist", target, filepath.ToSlash(rel))
	}
	if frag == "" {
		return nil
	}
	if fi.IsDir() || !strings.EqualFold(filepath.Ext(abs), ".md") {
		return fmt.Errorf("%s: anchor on a file that is not Markdown", target)
	}
	doc, err := r.doc(abs)
	if err != nil {
		return err
	}
	anchor, err := url.PathUnescape(frag)
	if err != nil {
		return fmt.Errorf("%s: bad escape in anchor: %v", target, err)
	}
	if !doc.Anchors[strings.ToLower(anchor)] && !doc.Anchors[anchor] {
		return fmt.Errorf("%s: no heading with anchor #%s in %s", target, anchor, filepath.ToSlash(rel))
	}
	return nil
}

func (r *Resolver) doc(abs string) (Doc, error) {
	if d, ok := r.docs[abs]; ok {
		return d, nil
	}
	b, err := os.ReadFile(abs)
	if err != nil {
		return Doc{}, err
	}
	d := Parse(string(b))
	if r.docs == nil {
		r.docs = map[string]Doc{}
	}
	r.docs[abs] = d
	return d, nil
}

// Doc returns the parsed Markdown file at abs, reading it once.
func (r *Resolver) Doc(abs string) (Doc, error) { return r.doc(abs) }

// stripCodeSpans removes inline code spans from a line: a run of backticks
// up to the next run of the same length. An unclosed run is kept as text.
func stripCodeSpans(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		if line[i] != '`' {
			b.WriteByte(line[i])
			i++
			continue
		}
		j := i
		for j < len(line) && line[j] == '`' {
			j++
		}
		run := line[i:j]
		end := -1
		for k := j; k < len(line); {
			if line[k] != '`' {
				k++
				continue
			}
			m := k
			for m < len(line) && line[m] == '`' {
				m++
			}
			if m-k == len(run) {
				end = m
				break
			}
			k = m
		}
		if end < 0 {
			b.WriteString(run)
			i = j
			continue
		}
		b.WriteString(strings.Repeat("\n", strings.Count(line[i:end], "\n")))
		i = end
	}
	return b.String()
}
