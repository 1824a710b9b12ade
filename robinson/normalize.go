package robinson

import (
	"unicode"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/unicode/norm"
)

// Normalize returns s in the comparison form of screening-rules.md
// section 3, used for names and addresses on both sides of a match:
//
//   - Unicode NFC, then lower case;
//   - "æ" -> "ae", "ø" -> "oe", "å" -> "aa" (upper case too), and, following
//     Danish collation, "ä" -> "ae" and "ö" -> "oe"; "ß" -> "ss";
//   - every other accent or combining mark is dropped ("é" -> "e",
//     "ü" -> "u", "ñ" -> "n");
//   - hyphens and dashes (Unicode category Pd, e.g. "-", en dash, em dash,
//     and the minus sign) become blanks;
//   - white space of any kind (blank, tab, NBSP, line ends, ...) and
//     control characters become blanks; format characters such as the soft
//     hyphen and zero-width space are dropped; invalid UTF-8 bytes are
//     dropped;
//   - runs of blanks collapse to one blank and the result is trimmed.
//
// All other punctuation (dots, commas, apostrophes, slashes) is kept:
// callers need dots to recognise abbreviations. The result is valid UTF-8
// and Normalize(Normalize(s)) == Normalize(s).
//
// Pure ASCII input never goes through golang.org/x/text; it allocates at
// most once, and not at all when s is already in normal form. Normalize
// never fails.
func Normalize(s string) string {
	normal := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			b := AppendNormalized(make([]byte, 0, len(s)), s)
			if len(b) == 0 {
				return ""
			}
			return unsafe.String(unsafe.SliceData(b), len(b))
		}
		switch normASCII[c] {
		case normKeep:
		case normBlank:
			if c != ' ' || i == 0 || i == len(s)-1 || s[i-1] == ' ' {
				normal = false
			}
		default:
			normal = false
		}
	}
	if normal {
		return s
	}
	b := AppendNormalized(make([]byte, 0, len(s)), s)
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// AppendNormalized appends Normalize(s) to dst and returns the extended
// slice. For pure ASCII input it does not allocate when dst has enough
// capacity (len(s) bytes always suffice for ASCII input).
func AppendNormalized(dst []byte, s string) []byte {
	start := len(dst)
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			// Restart on the general path: a combining mark may have to
			// compose with the ASCII letter before it ("a" + ring = "å").
			return normAppendSlow(dst[:start], s)
		}
		switch normASCII[c] {
		case normKeep:
			if space && len(dst) > start {
				dst = append(dst, ' ')
			}
			space = false
			dst = append(dst, c)
		case normUpper:
			if space && len(dst) > start {
				dst = append(dst, ' ')
			}
			space = false
			dst = append(dst, c+('a'-'A'))
		default:
			space = true
		}
	}
	return dst
}

const (
	normKeep = iota
	normUpper
	normBlank
)

// normASCII classifies ASCII bytes.
var normASCII = func() (t [utf8.RuneSelf]uint8) {
	for c := 0; c < utf8.RuneSelf; c++ {
		switch {
		case c <= ' ' || c == 0x7f || c == '-':
			t[c] = normBlank
		case 'A' <= c && c <= 'Z':
			t[c] = normUpper
		default:
			t[c] = normKeep
		}
	}
	return t
}()

// normLatin1 maps U+0080..U+00FF to its normal form: "" drops the rune,
// " " is a blank, anything else is emitted as is.
var normLatin1 = func() (t [0x80]string) {
	for r := rune(0x80); r < 0x100; r++ {
		t[r-0x80] = string(r)
	}
	for r := rune(0x80); r <= 0xa0; r++ { // C1 controls, NEL, NBSP
		t[r-0x80] = " "
	}
	t[0xad-0x80] = "" // soft hyphen
	set := func(s string, rs ...rune) {
		for _, r := range rs {
			t[r-0x80] = s
		}
	}
	set("a", 'À', 'Á', 'Â', 'Ã', 'à', 'á', 'â', 'ã')
	set("ae", 'Ä', 'Æ', 'ä', 'æ')
	set("aa", 'Å', 'å')
	set("c", 'Ç', 'ç')
	set("e", 'È', 'É', 'Ê', 'Ë', 'è', 'é', 'ê', 'ë')
	set("i", 'Ì', 'Í', 'Î', 'Ï', 'ì', 'í', 'î', 'ï')
	set("ð", 'Ð')
	set("n", 'Ñ', 'ñ')
	set("o", 'Ò', 'Ó', 'Ô', 'Õ', 'ò', 'ó', 'ô', 'õ')
	set("oe", 'Ö', 'Ø', 'ö', 'ø')
	set("u", 'Ù', 'Ú', 'Û', 'Ü', 'ù', 'ú', 'û', 'ü')
	set("y", 'Ý', 'ý', 'ÿ')
	set("þ", 'Þ')
	set("ss", 'ß')
	return t
}()

// normAppendSlow is the general (non-ASCII) path of AppendNormalized.
func normAppendSlow(dst []byte, s string) []byte {
	// Runes below U+0300 never compose with each other, so a string
	// without combining marks, Hangul or other scripts is already NFC.
	for i := 0; i < len(s); i++ {
		if s[i] >= 0xcc { // first byte of U+0300 and above
			s = norm.NFC.String(s)
			break
		}
	}
	w := normWriter{b: dst, start: len(dst)}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			w.ascii(c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		w.rune(r)
	}
	// Dropping a mark, format character or invalid byte can leave Hangul
	// jamo adjacent that NFC composes; compose them so that the result is
	// NFC and Normalize is idempotent.
	seg := w.b[w.start:]
	for _, c := range seg {
		if c >= 0xe1 {
			if !norm.NFC.IsNormal(seg) {
				tmp := norm.NFC.Append(nil, seg...)
				w.b = append(w.b[:w.start], tmp...)
			}
			break
		}
	}
	return w.b
}

// normWriter emits normalised text, collapsing and trimming blanks.
type normWriter struct {
	b     []byte
	start int
	space bool
}

func (w *normWriter) ascii(c byte) {
	switch normASCII[c] {
	case normKeep:
	case normUpper:
		c += 'a' - 'A'
	default:
		w.space = true
		return
	}
	if w.space && len(w.b) > w.start {
		w.b = append(w.b, ' ')
	}
	w.space = false
	w.b = append(w.b, c)
}

func (w *normWriter) str(s string) {
	switch s {
	case "":
		return
	case " ":
		w.space = true
		return
	}
	if w.space && len(w.b) > w.start {
		w.b = append(w.b, ' ')
	}
	w.space = false
	w.b = append(w.b, s...)
}

func (w *normWriter) rune(r rune) {
	if r < utf8.RuneSelf {
		w.ascii(byte(r))
		return
	}
	if r < 0x100 {
		w.str(normLatin1[r-0x80])
		return
	}
	switch {
	case r == utf8.RuneError:
		return // invalid UTF-8 (or U+FFFD itself)
	case unicode.IsSpace(r) || r == 0x2212 || unicode.Is(unicode.Pd, r) || unicode.IsControl(r):
		w.space = true
		return
	case unicode.Is(unicode.M, r) || unicode.Is(unicode.Cf, r):
		return
	}
	r = unicode.ToLower(r)
	if r < 0x100 {
		w.rune(r)
		return
	}
	if 0xac00 <= r && r <= 0xd7a3 { // Hangul syllables stay composed
		w.lit(r)
		return
	}
	var enc [utf8.UTFMax]byte
	n := utf8.EncodeRune(enc[:], r)
	d := norm.NFD.Properties(enc[:n]).Decomposition()
	if d == nil {
		w.lit(r)
		return
	}
	base, size := utf8.DecodeRune(d)
	if base == 'a' || base == 'o' {
		next, _ := utf8.DecodeRune(d[size:])
		switch {
		case base == 'a' && next == 0x030a: // ring above: å
			w.str("aa")
			return
		case next == 0x0308: // diaeresis: ä, ö
			if base == 'a' {
				w.str("ae")
			} else {
				w.str("oe")
			}
			return
		}
	}
	for len(d) > 0 {
		x, size := utf8.DecodeRune(d)
		d = d[size:]
		if unicode.Is(unicode.M, x) {
			continue
		}
		x = unicode.ToLower(x)
		if x < 0x100 {
			w.rune(x)
		} else {
			w.lit(x)
		}
	}
}

// lit emits r unchanged.
func (w *normWriter) lit(r rune) {
	if w.space && len(w.b) > w.start {
		w.b = append(w.b, ' ')
	}
	w.space = false
	w.b = utf8.AppendRune(w.b, r)
}

// NormalizeStreet returns a street name in the form ParseAddress gives
// Address.Street, for street names that come without a house number (the
// CPR road register's names): Normalize, then words as section 3.1
// compares them (a dot followed by a letter ends a word, other punctuation
// inside a word is removed, a word's trailing dot is kept).
func NormalizeStreet(s string) string { return canonWords(Normalize(s)) }
