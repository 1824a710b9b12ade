package robinson

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// canonWords rewrites a Normalize'd name or street into words as
// screening-rules.md section 3.1 compares them: a dot directly followed by
// a letter or digit ends a word ("b.thriges" -> "b. thriges"), other ASCII
// punctuation inside a word is removed ("ix's" -> "ixs"), a word's
// trailing dot is kept (it marks an abbreviation), and a word left with no
// letter or digit is dropped. Words are separated by single blanks. It
// returns s itself, without allocating, when nothing changes.
func canonWords(s string) string { return (*ContactParser)(nil).canonWords(s) }

// canonWords is canonWords (the function) that, when p is not nil,
// writes a changed street into p's address buffer.
func (p *ContactParser) canonWords(s string) string {
	if canonIsCanonical(s) {
		return s
	}
	var b []byte
	start := 0
	if p != nil {
		b, start = p.addr, len(p.addr)
	} else {
		b = make([]byte, 0, len(s)+4)
	}
	word := 0 // bytes of the current word (letters, digits, non-ASCII)
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		switch {
		case r == ' ':
			word = 0
		case r == '.':
			// A dot ends the word; it is kept when the word has content.
			if word > 0 {
				b = append(b, '.')
			}
			word = 0
		case canonPunct(r):
			// dropped
		default:
			if word == 0 && len(b) > start {
				b = append(b, ' ')
			}
			b = append(b, s[i:i+size]...)
			word += size
		}
		i += size
	}
	for _, c := range b[start:] {
		if c >= utf8.RuneSelf {
			// Dropping a character can leave runes side by side that NFC
			// composes (Hangul jamo): normalise again. Normalize keeps
			// dots and blanks, so the words stay as they are.
			return Normalize(string(b[start:]))
		}
	}
	if p != nil {
		p.addr = b
		return p.str(start)
	}
	return string(b)
}

// canonPunct reports punctuation and symbols that are removed from words:
// every ASCII rune that is not a letter, digit, blank or dot, and every
// other rune of Unicode's punctuation or symbol classes.
func canonPunct(r rune) bool {
	switch {
	case r >= utf8.RuneSelf:
		return unicode.IsPunct(r) || unicode.IsSymbol(r)
	case r == ' ', r == '.':
		return false
	case 'a' <= r && r <= 'z', '0' <= r && r <= '9', 'A' <= r && r <= 'Z':
		return false
	}
	return true
}

// canonIsCanonical reports whether canonWords(s) == s.
func canonIsCanonical(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[0] == '.' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[i:])
			if canonPunct(r) {
				return false
			}
			i += size - 1
		case c == ' ':
			if s[i+1] == ' ' || s[i+1] == '.' {
				return false
			}
		case c == '.':
			if i+1 < len(s) && s[i+1] != ' ' {
				return false
			}
		case canonPunct(rune(c)):
			return false
		}
	}
	return true
}

// abbreviations is the table of addressing abbreviations of
// screening-rules.md section 3.3, normalised (Normalize): each written form
// and the words it stands for. Both sides of a match may use either form,
// with or without the dot.
var abbreviations = map[string][]string{
	"gl":    {"gammel", "gamle"},
	"ll":    {"lille"},
	"ndr":   {"nordre"},
	"nr":    {"noerre"},
	"sdr":   {"soender", "soendre"},
	"skt":   {"sankt"},
	"sct":   {"sankt"},
	"st":    {"sankt", "store"},
	"v":     {"vester", "vestre", "vej"},
	"oe":    {"oester", "oestre"},
	"kgs":   {"kongens"},
	"blvd":  {"boulevard"},
	"boul":  {"boulevard"},
	"chr":   {"christian", "christians"},
	"fr":    {"frederik", "frederiks"},
	"frs":   {"frederik", "frederiks"},
	"dr":    {"dronning", "dronningens", "doktor"},
	"dronn": {"dronning", "dronningens", "doktor"},
	"vilh":  {"vilhelm"},
	"pl":    {"plads"},
	"gd":    {"gade"},
}

// abbrevMaxLen is the length of the table's longest written form, and
// abbrevFirst holds the first bytes of its written forms.
var abbrevMaxLen, abbrevFirst = func() (int, [256]bool) {
	n, first := 0, [256]bool{}
	for k, v := range abbreviations {
		n = max(n, len(k))
		first[k[0]] = true
		for _, w := range v {
			if len(w) <= len(k) {
				panic("robinson: the abbreviation " + k + " is not shorter than " + w)
			}
		}
	}
	return n, first
}()

// AbbreviationPairs returns the table of addressing abbreviations as
// written form -> the normalised words it stands for. The map is a copy.
func AbbreviationPairs() map[string][]string {
	out := make(map[string][]string, len(abbreviations))
	for k, v := range abbreviations {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// tableAbbreviates reports whether short (without its dot) is a written
// form in the table that stands for long (without its dot).
func tableAbbreviates(short, long string) bool {
	// Most word pairs are no pair of the table: rule them out before
	// hashing (every written form is shorter than its words).
	if len(short) == 0 || len(short) > abbrevMaxLen || len(short) >= len(long) || !abbrevFirst[short[0]] {
		return false
	}
	for _, w := range abbreviations[short] {
		if w == long {
			return true
		}
	}
	return false
}

// StreetsCompatible reports how the normalised streets a and b agree
// without the road register: StreetEqual (equal after removing all blanks
// and punctuation), StreetAbbreviated (word by word, see
// streetWordsAgree), or StreetNone. Both must come from ParseAddress or
// NormalizeStreet. An empty street is compatible with nothing.
func StreetsCompatible(a, b string) StreetAgreement {
	if a == "" || b == "" {
		return StreetNone
	}
	if a == b || streetCompactEqual(a, b) {
		return StreetEqual
	}
	if streetAbbreviated(a, b) {
		return StreetAbbreviated
	}
	return StreetNone
}

// streetSkip reports bytes dropped by the compact comparison: blanks and
// ASCII punctuation. Non-ASCII bytes (letters of other scripts) are kept.
func streetSkip(c byte) bool {
	switch {
	case c >= utf8.RuneSelf:
		return false
	case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c >= 'A' && c <= 'Z':
		return false
	}
	return true
}

// streetCompactEqual compares a and b ignoring blanks and punctuation; an
// all-punctuation string equals nothing.
func streetCompactEqual(a, b string) bool {
	i, j, n := 0, 0, 0
	for {
		for i < len(a) && streetSkip(a[i]) {
			i++
		}
		for j < len(b) && streetSkip(b[j]) {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b) && n > 0
		}
		if a[i] != b[j] {
			return false
		}
		i++
		j++
		n++
	}
}

// streetAbbreviated implements the word-by-word abbreviation rule.
func streetAbbreviated(a, b string) bool {
	for {
		var wa, wb string
		wa, a, _ = strings.Cut(a, " ")
		wb, b, _ = strings.Cut(b, " ")
		if wa == "" || wb == "" {
			return wa == "" && wb == ""
		}
		if !streetWordsAgree(wa, wb) {
			return false
		}
	}
}

// streetWordsAgree reports whether two street words are equal (ignoring a
// trailing dot), or one abbreviates the other: a word written with a
// trailing dot whose stem is a prefix of the other word, or a pair of the
// abbreviation table, with or without the dot.
func streetWordsAgree(wa, wb string) bool {
	if wa == wb {
		return true
	}
	sa, abbrA := strings.CutSuffix(wa, ".")
	sb, abbrB := strings.CutSuffix(wb, ".")
	if sa == "" || sb == "" {
		return false
	}
	if sa == sb {
		return true
	}
	if abbrA && strings.HasPrefix(sb, sa) || abbrB && strings.HasPrefix(sa, sb) {
		return true
	}
	return tableAbbreviates(sa, sb) || tableAbbreviates(sb, sa)
}

// definiteEndings are the Danish definite endings a NEAR street's last
// word may add ("ringvej" / "ringvejen", "torv" / "torvet").
var definiteEndings = [...]string{"en", "et", "n", "t"}

// streetNear reports whether the normalised streets a and b are NEAR
// (screening-rules.md section 3.3): the same number of words, all word
// pairs the same word (with or without a trailing dot) but one, and that pair either differs by a definite ending
// on the last word or is one edit apart with the shorter word at least 5
// letters long. Words with a trailing dot (abbreviations) are never
// edited: an edit is never combined with an abbreviation.
func streetNear(a, b string) bool {
	if a == "" || b == "" || a == b {
		return false
	}
	diff := 0
	for {
		var wa, wb string
		wa, a, _ = strings.Cut(a, " ")
		wb, b, _ = strings.Cut(b, " ")
		if wa == "" || wb == "" {
			return wa == "" && wb == "" && diff == 1
		}
		if wa == wb || strings.TrimSuffix(wa, ".") == strings.TrimSuffix(wb, ".") {
			continue // the same word, with or without its dot
		}
		diff++
		if diff > 1 {
			return false
		}
		last := a == "" && b == ""
		if !wordsNear(wa, wb, last) {
			return false
		}
	}
}

// wordsNear reports a NEAR word pair: one edit apart with the shorter at
// least 5 letters, or (when last) one is the other plus a definite ending.
func wordsNear(wa, wb string, last bool) bool {
	if strings.HasSuffix(wa, ".") || strings.HasSuffix(wb, ".") {
		return false
	}
	if last {
		long, short := wa, wb
		if len(long) < len(short) {
			long, short = short, long
		}
		if rest, ok := strings.CutPrefix(long, short); ok && short != "" {
			for _, e := range definiteEndings {
				if rest == e {
					return true
				}
			}
		}
	}
	return OneEdit(wa, wb)
}

// MinEditLetters is the length in letters the shorter of two words must
// have for a one-edit difference to count as NEAR.
const MinEditLetters = 5

// OneEdit reports whether the normalised words a and b are exactly one
// edit apart (a character inserted, deleted or replaced, or two
// neighbouring characters swapped) and the one with fewer letters has at
// least MinEditLetters letters (digits are not letters: "10234" is never
// one edit from "10235").
// Equal words are not one edit apart. a and b are normalised words, valid
// UTF-8 (for other input it only promises not to panic). It does not
// allocate for valid UTF-8.
func OneEdit(a, b string) bool {
	la, lb := len(a), len(b)
	if a == b || la-lb > utf8.UTFMax || lb-la > utf8.UTFMax || la == 0 || lb == 0 {
		return false
	}
	// One edit of words of at least MinEditLetters characters leaves the
	// first or the last character alike: rule out most pairs before
	// looking further (bytes below utf8.RuneSelf are whole characters).
	if a[0] != b[0] && a[0] < utf8.RuneSelf && b[0] < utf8.RuneSelf &&
		a[la-1] != b[lb-1] && a[la-1] < utf8.RuneSelf && b[lb-1] < utf8.RuneSelf {
		return false
	}
	if !isASCII(a) || !isASCII(b) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			return oneEditRunes([]rune(a), []rune(b))
		}
	}
	// What is left between the longest common prefix and suffix (cut at
	// characters, and not overlapping) must be one character replaced,
	// inserted or deleted, or two swapped.
	p := 0
	for p < la && p < lb && a[p] == b[p] {
		p++
	}
	for p > 0 && (p < la && !utf8.RuneStart(a[p]) || p < lb && !utf8.RuneStart(b[p])) {
		p--
	}
	n := 0
	for m := min(la, lb) - p; n < m && a[la-1-n] == b[lb-1-n]; n++ {
	}
	for n > 0 && !utf8.RuneStart(a[la-n]) {
		n--
	}
	ma, mb := a[p:la-n], b[p:lb-n]
	ra, rb := utf8.RuneCountInString(ma), utf8.RuneCountInString(mb)
	switch {
	case ra+rb == 1, ra == 1 && rb == 1:
	case ra == 2 && rb == 2:
		x1, w := utf8.DecodeRuneInString(ma)
		x2, _ := utf8.DecodeRuneInString(ma[w:])
		y1, w := utf8.DecodeRuneInString(mb)
		y2, _ := utf8.DecodeRuneInString(mb[w:])
		if x1 != y2 || x2 != y1 {
			return false
		}
	default:
		return false
	}
	return min(letters(a), letters(b)) >= MinEditLetters
}

func oneEditRunes(a, b []rune) bool {
	la, lb := len(a), len(b)
	if la-lb > 1 || lb-la > 1 || min(letters(string(a)), letters(string(b))) < MinEditLetters {
		return false
	}
	i := 0
	for i < la && i < lb && a[i] == b[i] {
		i++
	}
	eq := func(x, y []rune) bool {
		if len(x) != len(y) {
			return false
		}
		for k := range x {
			if x[k] != y[k] {
				return false
			}
		}
		return true
	}
	switch {
	case la == lb:
		if i == la {
			return false
		}
		if eq(a[i+1:], b[i+1:]) {
			return true
		}
		return i+1 < la && a[i] == b[i+1] && a[i+1] == b[i] && eq(a[i+2:], b[i+2:])
	case la > lb:
		return eq(a[i+1:], b[i:])
	default:
		return eq(b[i+1:], a[i:])
	}
}

// letters counts the letters of s (digits and other characters are not
// letters).
func letters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
