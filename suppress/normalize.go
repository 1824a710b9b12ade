package suppress

import (
	"strings"
	"unicode"

	"github.com/robinscreen/robinscreen/cprcheck"
	"github.com/robinscreen/robinscreen/cvr"
)

// Normalize returns the canonical form of a value of kind k, the form that
// is pseudonymised (screening-rules.md section 6):
//
//   - phone: E.164. A Danish subscriber number in any common writing
//     ("12345678", "12 34 56 78", "+45 12 34 56 78", "0045 12345678",
//     "45 12345678", "(+45) 12-34-56-78", "12.34.56.78") becomes
//     "+4512345678"; another country's number must carry its country code
//     ("+46 8 123 456 78" or "0046 8 12345678") and becomes "+46812345678".
//   - email: trimmed and lower-cased; it must have a local part and a
//     domain around one "@" and no blank inside.
//   - cpr: the 10 digits of a valid DDMMYYSSSS or DDMMYY-SSSS number
//     (screening-rules.md section 4).
//   - cvr: 8 digits, optionally written with a "DK" prefix and blanks.
//
// It returns ErrInvalid when the value cannot be read as its kind and
// ErrKind for an unknown kind; the errors never contain the value.
func Normalize(k Kind, s string) (string, error) {
	var buf [64]byte
	b, err := AppendNormalized(buf[:0], k, s)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// AppendNormalized appends the canonical form of s (see Normalize) to dst;
// it returns the errors of Normalize, and dst unchanged with them.
func AppendNormalized(dst []byte, k Kind, s string) ([]byte, error) {
	switch k {
	case KindPhone:
		return appendPhone(dst, s)
	case KindEmail:
		return appendEmail(dst, s)
	case KindCPR:
		return appendCPR(dst, s)
	case KindCVR:
		return appendCVR(dst, s)
	}
	return dst, ErrKind
}

// phoneSeparator reports the characters that phone numbers are written
// with between digits.
func phoneSeparator(r rune) bool {
	switch r {
	case ' ', '-', '.', '(', ')', '/', '\u00a0', '\u2009', '\u202f', '\u2010', '\u2011', '\u2012', '\u2013', '\t':
		return true
	}
	return false
}

// NormalizePhone returns the E.164 form of a phone number (see Normalize).
// It returns ErrInvalid when s is not a phone number.
func NormalizePhone(s string) (string, error) {
	var buf [20]byte
	b, err := appendPhone(buf[:0], s)
	return string(b), err
}

// appendPhone appends the E.164 form of s to dst.
func appendPhone(dst []byte, s string) ([]byte, error) {
	var b [32]byte
	n, plus := 0, false
	s = strings.TrimSpace(s)
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			if n == len(b) {
				return dst, ErrInvalid
			}
			b[n] = byte(r)
			n++
		case r == '+' && n == 0 && !plus && strings.TrimLeftFunc(s[:i], phoneSeparator) == "":
			plus = true
		case phoneSeparator(r):
		default:
			return dst, ErrInvalid
		}
	}
	d := b[:n]
	if !plus && n >= 2 && d[0] == '0' && d[1] == '0' {
		plus, d = true, d[2:]
	}
	danish := len(d) >= 2 && d[0] == '4' && d[1] == '5'
	switch {
	case plus && danish, !plus && len(d) == 10 && danish:
		d = d[2:]
		if len(d) != 8 {
			return dst, ErrInvalid
		}
		return append(append(dst, "+45"...), d...), nil
	case plus:
		// E.164: a country code (not starting with 0) and at most 15
		// digits in all; 7 is the shortest plausible international number.
		if len(d) < 7 || len(d) > 15 || d[0] == '0' {
			return dst, ErrInvalid
		}
		return append(append(dst, '+'), d...), nil
	case len(d) == 8:
		return append(append(dst, "+45"...), d...), nil
	}
	return dst, ErrInvalid
}

// NormalizeEmail trims s and lower-cases it (see Normalize). It returns
// ErrInvalid when s is not an e-mail address.
func NormalizeEmail(s string) (string, error) {
	var buf [64]byte
	b, err := appendEmail(buf[:0], s)
	return string(b), err
}

// appendEmail appends the normalised e-mail address to dst.
func appendEmail(dst []byte, s string) ([]byte, error) {
	if n := len(s); n == 0 || s[0] <= ' ' || s[0] >= utf8RuneSelf || s[n-1] <= ' ' || s[n-1] >= utf8RuneSelf {
		// Only then can there be blanks to trim (a value that starts and
		// ends with printable ASCII has none).
		s = strings.TrimFunc(s, unicode.IsSpace)
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || len(s) > 320 {
		return dst, ErrInvalid
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8RuneSelf:
			if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
				return dst, ErrInvalid
			}
			return append(dst, strings.ToLower(s)...), nil
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			return dst, ErrInvalid
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst, nil
}

const utf8RuneSelf = 0x80

// NormalizeCPR returns the 10 digits of a valid personal number. It
// returns ErrInvalid otherwise.
func NormalizeCPR(s string) (string, error) {
	var buf [10]byte
	b, err := appendCPR(buf[:0], s)
	return string(b), err
}

func appendCPR(dst []byte, s string) ([]byte, error) {
	n, err := cprcheck.Parse(s)
	if err != nil {
		return dst, ErrInvalid
	}
	return append(dst, n[:]...), nil
}

// NormalizeCVR returns the 8 digits of a CVR number (see Normalize). It
// returns ErrInvalid otherwise. The modulus-11 check digit is not
// required: an entry is honoured as written.
func NormalizeCVR(s string) (string, error) {
	var buf [8]byte
	b, err := appendCVR(buf[:0], s)
	return string(b), err
}

func appendCVR(dst []byte, s string) ([]byte, error) {
	d, err := cvr.Digits(strings.TrimSpace(s))
	if err != nil {
		return dst, ErrInvalid
	}
	return append(dst, d[:]...), nil
}
