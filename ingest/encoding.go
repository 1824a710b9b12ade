package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Encoding is the character encoding decided for a whole file.
type Encoding uint8

// Encodings. Pure ASCII input is reported as UTF8 (it is valid UTF-8 and
// reads the same either way).
const (
	// Latin1 is ISO 8859-1: the file is not valid UTF-8 and holds no
	// well-formed multi-byte UTF-8 sequence.
	Latin1 Encoding = iota + 1
	// UTF8 is valid UTF-8 throughout, maybe with a leading BOM.
	UTF8
)

// String returns "ISO-8859-1", "UTF-8" or "Encoding(n)".
func (e Encoding) String() string {
	switch e {
	case Latin1:
		return "ISO-8859-1"
	case UTF8:
		return "UTF-8"
	}
	return fmt.Sprintf("Encoding(%d)", uint8(e))
}

// ErrDamagedEncoding is matched (errors.Is) by every *EncodingError.
var ErrDamagedEncoding = errors.New("damaged encoding")

// MaxEncodingLines is how many line numbers of each kind an EncodingError
// keeps; its counts cover every line.
const MaxEncodingLines = 100

// encodingLinesInError is how many line numbers of each kind Error names.
const encodingLinesInError = 10

// EncodingError refuses a file that is neither valid UTF-8 nor ISO 8859-1
// without UTF-8 in it: part of it was re-saved as UTF-8 and part was not,
// and reading it either way would misspell names and addresses. A line can
// be of both kinds.
type EncodingError struct {
	// UTF8Lines holds the first MaxEncodingLines line numbers (1-based, in
	// file order) of lines holding a well-formed multi-byte UTF-8 sequence.
	UTF8Lines []int
	// UTF8Count counts all such lines.
	UTF8Count int
	// InvalidLines holds the first MaxEncodingLines line numbers of lines
	// holding bytes that are not valid UTF-8.
	InvalidLines []int
	// InvalidCount counts all such lines.
	InvalidCount int
}

// Error names the counts and the first line numbers of each kind, e.g.
// "damaged encoding: 1 line holds UTF-8 sequences (line 3) and 2 lines hold
// bytes that are not valid UTF-8 (lines 1, 2): part of the file was
// re-saved as UTF-8; neither reading is safe".
func (e *EncodingError) Error() string {
	var b strings.Builder
	b.WriteString("damaged encoding: ")
	writeLineSet(&b, e.UTF8Count, e.UTF8Lines, "holds UTF-8 sequences", "hold UTF-8 sequences")
	b.WriteString(" and ")
	writeLineSet(&b, e.InvalidCount, e.InvalidLines, "holds bytes that are not valid UTF-8", "hold bytes that are not valid UTF-8")
	b.WriteString(": part of the file was re-saved as UTF-8; neither reading is safe")
	return b.String()
}

// Unwrap returns ErrDamagedEncoding.
func (e *EncodingError) Unwrap() error { return ErrDamagedEncoding }

func writeLineSet(b *strings.Builder, count int, lines []int, one, many string) {
	if count == 1 {
		fmt.Fprintf(b, "1 line %s", one)
	} else {
		fmt.Fprintf(b, "%d lines %s", count, many)
	}
	if len(lines) == 0 {
		return
	}
	if len(lines) == 1 {
		fmt.Fprintf(b, " (line %d)", lines[0])
		return
	}
	b.WriteString(" (lines ")
	for i, n := range lines {
		if i == encodingLinesInError {
			b.WriteString(", ...")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(b, "%d", n)
	}
	if len(lines) < count && len(lines) <= encodingLinesInError {
		b.WriteString(", ...")
	}
	b.WriteString(")")
}

// detectBufferSize is DetectEncoding's read buffer.
const detectBufferSize = 256 << 10

// DetectEncoding reads r to its end and decides the encoding of the whole
// input: UTF8 when all of it is valid UTF-8 (a leading BOM included; pure
// ASCII is UTF8), Latin1 when it is not valid UTF-8 and no line holds a
// well-formed multi-byte UTF-8 sequence, otherwise an *EncodingError naming
// the lines of each kind. It never holds more than its read buffer, however
// long the lines.
//
// The error is an *EncodingError (errors.Is ErrDamagedEncoding), or a read
// error of r, returned as it is.
func DetectEncoding(r io.Reader) (Encoding, error) {
	return detectEncoding(r, make([]byte, detectBufferSize))
}

// detectEncoding is DetectEncoding with the read buffer (at least
// utf8.UTFMax bytes) given.
func detectEncoding(r io.Reader, buf []byte) (Encoding, error) {
	var d detector
	carry := 0
	for {
		n, err := r.Read(buf[carry:])
		data := buf[:carry+n]
		if err != nil && err != io.EOF {
			return 0, err
		}
		if err == io.EOF {
			d.scan(data)
			d.endLine()
			return d.result()
		}
		// Keep an incomplete sequence at the end for the next read.
		cut := len(data)
		for i := len(data) - 1; i >= 0 && i >= len(data)-utf8.UTFMax+1; i-- {
			if utf8.RuneStart(data[i]) {
				if !utf8.FullRune(data[i:]) {
					cut = i
				}
				break
			}
		}
		d.scan(data[:cut])
		carry = copy(buf, data[cut:])
	}
}

// detector classifies lines as they stream past.
type detector struct {
	line          int  // lines finished
	inLine        bool // bytes seen since the last newline
	hasUTF8, hasX bool // current line: a multi-byte sequence, an invalid byte
	err           EncodingError
}

// scan classifies data, which never ends inside a sequence that later
// bytes could complete.
func (d *detector) scan(data []byte) {
	for len(data) > 0 {
		seg := data
		nl := bytes.IndexByte(data, '\n')
		if nl >= 0 {
			seg = data[:nl]
			data = data[nl+1:]
		} else {
			data = nil
		}
		if len(seg) > 0 {
			d.inLine = true
			if !(d.hasUTF8 && d.hasX) {
				d.classify(seg)
			}
		}
		if nl >= 0 {
			d.inLine = true
			d.endLine()
		}
	}
}

func (d *detector) classify(seg []byte) {
	for i := 0; i < len(seg); {
		if seg[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(seg[i:])
		if r == utf8.RuneError && size == 1 {
			d.hasX = true
		} else {
			d.hasUTF8 = true
		}
		i += size
	}
}

func (d *detector) endLine() {
	if !d.inLine {
		return
	}
	d.line++
	if d.hasUTF8 {
		d.err.UTF8Count++
		if len(d.err.UTF8Lines) < MaxEncodingLines {
			d.err.UTF8Lines = append(d.err.UTF8Lines, d.line)
		}
	}
	if d.hasX {
		d.err.InvalidCount++
		if len(d.err.InvalidLines) < MaxEncodingLines {
			d.err.InvalidLines = append(d.err.InvalidLines, d.line)
		}
	}
	d.inLine, d.hasUTF8, d.hasX = false, false, false
}

func (d *detector) result() (Encoding, error) {
	switch {
	case d.err.InvalidCount == 0:
		return UTF8, nil
	case d.err.UTF8Count == 0:
		return Latin1, nil
	}
	e := d.err
	return 0, &e
}
