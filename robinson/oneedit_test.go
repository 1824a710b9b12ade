package robinson

import (
	"testing"
	"unicode/utf8"
)

// oneEditReference is OneEdit as first written, on runes: the definition
// the faster OneEdit must keep.
func oneEditReference(a, b string) bool {
	if a == b {
		return false
	}
	ra, rb := []rune(a), []rune(b)
	la, lb := len(ra), len(rb)
	if la-lb > 1 || lb-la > 1 || min(letters(a), letters(b)) < MinEditLetters {
		return false
	}
	i := 0
	for i < la && i < lb && ra[i] == rb[i] {
		i++
	}
	eq := func(x, y []rune) bool { return string(x) == string(y) }
	switch {
	case la == lb:
		if i == la {
			return false // equal runes from distinct invalid bytes
		}
		if eq(ra[i+1:], rb[i+1:]) {
			return true
		}
		return i+1 < la && ra[i] == rb[i+1] && ra[i+1] == rb[i] && eq(ra[i+2:], rb[i+2:])
	case la > lb:
		return eq(ra[i+1:], rb[i:])
	default:
		return eq(rb[i+1:], ra[i:])
	}
}

// FuzzOneEdit checks OneEdit against oneEditReference on valid UTF-8, both
// ways round:
// the lookups rely on OneEdit being symmetric (NearPairs, near lists).
func FuzzOneEdit(f *testing.F) {
	for _, p := range [][2]string{
		{"hansen", "hanssen"}, {"sørensen", "sorensen"}, {"jørgensen", "jørgnesen"}, {"møller", "mølelr"},
		{"ærø", "æro"}, {"abcde", "bacde"}, {"abcdé", "abcde"}, {"10234", "10235"}, {"\xff\xfeabcde", "\xfeabcde"},
		{"straße", "strasse"}, {"åbenrå", "åbenraa"}, {"aaaaa", "aaaaaa"},
	} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			// Normalised words are valid UTF-8; other input must only
			// not crash (a byte-length bound may then answer false where
			// the runes, each invalid byte one U+FFFD, are one edit
			// apart).
			OneEdit(a, b)
			return
		}
		want := oneEditReference(a, b)
		if got := OneEdit(a, b); got != want {
			t.Fatalf("OneEdit(%q, %q) = %v, want %v", a, b, got, want)
		}
		if got := OneEdit(b, a); got != want {
			t.Fatalf("OneEdit(%q, %q) = %v, not symmetric", b, a, got)
		}
	})
}
