package robinson

import (
	"unicode/utf8"
	"unsafe"
)

// ContactParser parses contacts' names and addresses like
// ParseContactName and ParseAddress, into buffers it keeps from one
// contact to the next, so that screening many contacts does not allocate
// per contact. The strings of a Name that ParseName returns are valid
// until its next call of ParseName, those of an Address until its next
// call of ParseAddress; a caller that keeps them longer must copy them.
// The zero value is ready to use; a ContactParser must not be used by two
// goroutines at once.
type ContactParser struct {
	name  []byte
	store nameStore
	addr  []byte
}

// ParseName is ParseContactName, into p's buffers. It returns the errors
// of ParseContactName.
func (p *ContactParser) ParseName(s string) (Name, error) { return parseContactName(s, p) }

// ParseAddress is ParseAddress, into p's buffers. It returns the errors of
// ParseAddress.
func (p *ContactParser) ParseAddress(line string) (Address, error) { return parseAddress(line, p) }

// normalize returns Normalize(s): s itself when it is in normal form, or
// its normal form appended to p.addr.
func (p *ContactParser) normalize(s string) string {
	if asciiNormal(s) {
		return s
	}
	start := len(p.addr)
	p.addr = AppendNormalized(p.addr, s)
	return p.str(start)
}

// asciiNormal reports whether s is ASCII and in normal form: Normalize(s)
// == s without a copy.
func asciiNormal(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return false
		}
		switch normASCII[c] {
		case normKeep:
		case normBlank:
			if c != ' ' || i == 0 || i == len(s)-1 || s[i-1] == ' ' {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// concat appends digits and the byte c to p.addr and returns them.
func (p *ContactParser) concat(digits string, c byte) string {
	start := len(p.addr)
	p.addr = append(append(p.addr, digits...), c)
	return p.str(start)
}

// str returns p.addr[start:] as a string, without a copy: p.addr is only
// ever appended to until the next ParseAddress, so the bytes stay.
func (p *ContactParser) str(start int) string {
	if len(p.addr) == start {
		return ""
	}
	return unsafe.String(&p.addr[start], len(p.addr)-start)
}
