package robinson

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// ErrName is the sentinel wrapped by every error of ParseListName and
// ParseContactName; test with errors.Is. The errors never echo the name
// (names are personal data).
var ErrName = errors.New("robinson: invalid name")

// The errors are of type error, so that returning one does not convert
// (and allocate) each time.
var (
	errNameEmpty     error = nameError("empty name")
	errNameNoComma   error = nameError("list name has no comma between surname and given names")
	errNameNoSurname error = nameError("no surname")
)

// nameError is a static error wrapping ErrName.
type nameError string

func (e nameError) Error() string { return ErrName.Error() + ": " + string(e) }
func (e nameError) Unwrap() error { return ErrName }

// ParseListName parses a Robinson list name, "Efternavn,Fornavn
// Mellemnavn" (blanks around the comma are tolerated). The part before the
// first comma gives Surnames, the rest gives Given; both are normalised
// (see Normalize) and split into words at blanks, hyphens, dots and further
// commas, so dots are removed from names ("Chr." -> "chr"). A given word
// that is a single letter (normalised "ae", "oe" and "aa" count as the
// single letters æ, ø, å) is an Initial; "H.P." gives the initials h and p.
//
// The error wraps ErrName when s has no comma or the surname part holds no
// word.
func ParseListName(s string) (Name, error) {
	i := strings.IndexByte(s, ',')
	if i < 0 {
		if nameCountWords(Normalize(s)) == 0 {
			return Name{}, errNameEmpty
		}
		return Name{}, errNameNoComma
	}
	sur, giv := nameNormalizePair(s[:i], s[i+1:], nil)
	return nameBuild(sur, giv, nil)
}

// ParseContactName parses a contact's name as CRM systems write it. With a
// comma it is "Surname, Given ..." (words before the first comma are
// surnames). Without a comma it is "Given ... Surname": the last word is
// the surname, the words before it are given names; a hyphenated last word
// gives several surname words ("Mette Hansen-Jensen" -> surnames hansen
// and jensen). A single word is a surname without given names. Words are
// normalised and split as in ParseListName, with the same Initial rule
// ("H.", "h", "Ø." are initials; "H.P." is two initials; "Hans-Peter" is
// hans and peter).
//
// The error wraps ErrName when s holds no word, or, in the comma form,
// when the part before the comma holds no word.
func ParseContactName(s string) (Name, error) { return parseContactName(s, nil) }

// parseContactName is ParseContactName, with the buffers of p (nil:
// allocate).
func parseContactName(s string, p *ContactParser) (Name, error) {
	if i := strings.IndexByte(s, ','); i >= 0 {
		sur, giv := nameNormalizePair(s[:i], s[i+1:], p)
		n, err := nameBuild(sur, giv, p)
		if err != nil && nameCountWords(giv) == 0 {
			return Name{}, errNameEmpty
		}
		return n, err
	}
	t := nameTrimRight(s)
	k := len(t)
	for k > 0 {
		r, size := utf8.DecodeLastRuneInString(t[:k])
		if nameIsSep(r) {
			break
		}
		k -= size
	}
	sur, giv := nameNormalizePair(t[k:], t[:k], p)
	if nameCountWords(sur) == 0 {
		// The last word vanished in normalisation (e.g. only marks):
		// fall back to the last normalised word.
		all := Normalize(s)
		all = strings.TrimRight(all, " .")
		if nameCountWords(all) == 0 {
			return Name{}, errNameEmpty
		}
		j := strings.LastIndexAny(all, " .,")
		sur, giv = all[j+1:], ""
		if j >= 0 {
			giv = all[:j]
		}
	}
	return nameBuild(sur, giv, p)
}

// nameIsSep reports a rune that separates raw name words (a hyphen joins).
func nameIsSep(r rune) bool {
	return r == '.' || unicode.IsSpace(r) || unicode.IsControl(r)
}

// nameTrimRight trims trailing separators, hyphens and format characters.
func nameTrimRight(s string) string {
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if r < utf8.RuneSelf {
			if r == '-' || r == '.' || r <= ' ' || r == 0x7f {
				s = s[:len(s)-size]
				continue
			}
			return s
		}
		if nameIsSep(r) || r == 0x2212 || unicode.Is(unicode.Pd, r) || unicode.Is(unicode.Cf, r) ||
			unicode.Is(unicode.M, r) || r == utf8.RuneError {
			s = s[:len(s)-size]
			continue
		}
		return s
	}
	return s
}

// nameNormalizePair normalises a and b into one allocation, or into p's
// name buffer (nil: allocate).
func nameNormalizePair(a, b string, p *ContactParser) (string, string) {
	var buf []byte
	if p != nil {
		buf = p.name[:0]
	} else {
		buf = make([]byte, 0, len(a)+len(b))
	}
	buf = AppendNormalized(buf, a)
	k := len(buf)
	buf = AppendNormalized(buf, b)
	if p != nil {
		p.name = buf
	}
	if len(buf) == 0 {
		return "", ""
	}
	all := unsafe.String(unsafe.SliceData(buf), len(buf))
	return all[:k], all[k:]
}

// nameIsWordSep reports a byte separating words of a normalised name.
func nameIsWordSep(c byte) bool { return c == ' ' || c == '.' || c == ',' }

// nameNextWord returns the next word of the normalised s at or after i and
// the index after it; word is "" at the end.
func nameNextWord(s string, i int) (word string, next int) {
	for i < len(s) && nameIsWordSep(s[i]) {
		i++
	}
	j := i
	for j < len(s) && !nameIsWordSep(s[j]) {
		j++
	}
	return s[i:j], j
}

func nameCountWords(s string) int {
	n := 0
	for i := 0; ; {
		w, next := nameNextWord(s, i)
		if w == "" {
			return n
		}
		n++
		i = next
	}
}

// nameIsInitial reports whether a normalised given-name word is an initial:
// one letter, or the normal form of æ, ø or å.
func nameIsInitial(w string) bool {
	switch w {
	case "ae", "oe", "aa":
		return true
	}
	r, size := utf8.DecodeRuneInString(w)
	return size == len(w) && unicode.IsLetter(r)
}

// nameStore backs the slices of a typical name with one allocation.
type nameStore struct {
	s [2]string
	g [4]Given
}

// nameBuild splits normalised surname and given parts into a Name, whose
// slices use p's store when they fit (nil: allocate).
func nameBuild(sur, giv string, p *ContactParser) (Name, error) {
	ns, ng := nameCountWords(sur), nameCountWords(giv)
	if ns == 0 {
		return Name{}, errNameNoSurname
	}
	var n Name
	if ns <= 2 && ng <= 4 {
		var st *nameStore
		if p != nil {
			st = &p.store
		} else {
			st = new(nameStore)
		}
		n.Surnames = st.s[:0:ns]
		if ng > 0 {
			n.Given = st.g[:0:ng]
		}
	} else {
		n.Surnames = make([]string, 0, ns)
		if ng > 0 {
			n.Given = make([]Given, 0, ng)
		}
	}
	for i := 0; ; {
		w, next := nameNextWord(sur, i)
		if w == "" {
			break
		}
		if w = stripPunct(w); w != "" {
			n.Surnames = append(n.Surnames, w)
		}
		i = next
	}
	for i := 0; ; {
		w, next := nameNextWord(giv, i)
		if w == "" {
			break
		}
		if w = stripPunct(w); w != "" {
			n.Given = append(n.Given, Given{Word: w, Initial: nameIsInitial(w)})
		}
		i = next
	}
	if len(n.Surnames) == 0 {
		// Every surname word was punctuation only.
		return Name{}, errNameNoSurname
	}
	return n, nil
}

// stripPunct removes punctuation and symbols from a name word
// (screening-rules.md section 3.1: "IX's" = "IXs"); it returns w itself
// when it holds none.
func stripPunct(w string) string {
	clean := true
	for _, r := range w {
		if r != '.' && canonPunct(r) {
			clean = false
			break
		}
	}
	if clean {
		return w
	}
	b := make([]byte, 0, len(w))
	ascii := true
	for _, r := range w {
		if r == '.' || !canonPunct(r) {
			b = utf8.AppendRune(b, r)
			ascii = ascii && r < utf8.RuneSelf
		}
	}
	if !ascii {
		// Dropping a character can leave runes side by side that NFC
		// composes (Hangul jamo): normalise again.
		return Normalize(string(b))
	}
	return string(b)
}
