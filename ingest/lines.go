package ingest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// DefaultMaxLineBytes is the longest line (in bytes as read, without the
// line end) that Lines yields when Options.MaxLineBytes is zero. Every
// known layout is a few hundred bytes at most.
const DefaultMaxLineBytes = 64 << 10

// DefaultProgressEvery is how many lines pass between Progress calls when
// Options.ProgressEvery is zero.
const DefaultProgressEvery = 1 << 16

// maxBufferSize is the largest read buffer Lines allocates beyond what the
// longest line needs.
const maxBufferSize = 1 << 20

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Options controls Lines.
type Options struct {
	// MaxLineBytes bounds a line; a longer one is yielded with TooLong set
	// and never held in memory whole. Zero means DefaultMaxLineBytes.
	MaxLineBytes int
	// Progress, when not nil, is called with the lines and bytes read so
	// far every ProgressEvery lines, and once at the end of the input
	// unless the last call already reported it.
	Progress func(lines int, bytes int64)
	// ProgressEvery is the number of lines between Progress calls. Zero
	// means DefaultProgressEvery.
	ProgressEvery int
}

func (o Options) maxLine() int {
	if o.MaxLineBytes > 0 {
		return o.MaxLineBytes
	}
	return DefaultMaxLineBytes
}

// Lines reads the lines of an input whose encoding was decided, decoding
// each to UTF-8. Use it like bufio.Scanner:
//
//	for l.Next() {
//		n, b := l.Number(), l.Bytes()
//		...
//	}
//	if err := l.Err(); err != nil { ... }
//
// A line is the bytes up to "\n" (a final line without one counts too),
// without the "\n" and a trailing "\r"; a UTF-8 BOM at the start of a UTF8
// input is dropped.
type Lines struct {
	br      *bufio.Reader
	enc     Encoding
	opt     Options
	max     int
	every   int
	n       int   // lines yielded
	nbytes  int64 // bytes consumed
	line    []byte
	dec     []byte // Latin-1 decoding scratch
	tooLong bool
	ascii   bool
	err     error
	done    bool
	lastRep int // line count of the last Progress call; -1 none
}

// NewLines returns a Lines reading r, which is in enc (Latin1 or UTF8).
// With enc UTF8 the caller has established that r is valid UTF-8 (for
// example with DetectEncoding); an invalid byte is then passed on as it is.
func NewLines(r io.Reader, enc Encoding, opt Options) *Lines {
	return newLines(r, enc, opt, -1)
}

// newLines sizes the read buffer for an input of size bytes (negative:
// unknown): a buffer larger than the input never fills.
func newLines(r io.Reader, enc Encoding, opt Options, size int64) *Lines {
	l := &Lines{enc: enc, opt: opt, max: opt.maxLine(), every: opt.ProgressEvery, lastRep: -1}
	if l.every <= 0 {
		l.every = DefaultProgressEvery
	}
	bufSize := max(maxBufferSize, l.max+16)
	if size >= 0 && size+16 < int64(bufSize) {
		bufSize = int(size) + 16
	}
	l.br = bufio.NewReaderSize(r, bufSize)
	return l
}

// Open decides the encoding of r's input from its current offset to its
// end (DetectEncoding), seeks r back to that offset and returns a Lines
// reading it. r is read twice: the encoding is decided over the whole file
// before the first line is parsed, never per line.
//
// The error is an *EncodingError (errors.Is ErrDamagedEncoding) for a file
// to refuse, or a read or seek error of r, wrapped.
func Open(r io.ReadSeeker, opt Options) (*Lines, error) {
	start, err := r.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("seek: %w", err)
	}
	end, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("seek: %w", err)
	}
	if _, err := r.Seek(start, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seek: %w", err)
	}
	size := end - start
	bufSize := detectBufferSize
	if size >= 0 && size+16 < int64(bufSize) {
		bufSize = int(size) + 16
	}
	enc, err := detectEncoding(r, make([]byte, bufSize))
	if err != nil {
		var ee *EncodingError
		if errors.As(err, &ee) {
			return nil, err
		}
		return nil, fmt.Errorf("reading (encoding pass): %w", err)
	}
	if _, err := r.Seek(start, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seek: %w", err)
	}
	return newLines(r, enc, opt, size), nil
}

// Encoding returns the encoding the input is decoded from.
func (l *Lines) Encoding() Encoding { return l.enc }

// Next advances to the next line and reports whether there is one. At the
// end of the input or on a read error it returns false; Err tells which.
func (l *Lines) Next() bool {
	if l.done {
		return false
	}
	raw, tooLong, err := l.read()
	if err != nil {
		l.done = true
		l.line, l.tooLong = nil, false
		if err != io.EOF {
			l.err = fmt.Errorf("reading line %d: %w", l.n+1, err)
			return false
		}
		if l.opt.Progress != nil && l.lastRep != l.n {
			l.opt.Progress(l.n, l.nbytes)
			l.lastRep = l.n
		}
		return false
	}
	l.n++
	l.tooLong = tooLong
	l.line, l.ascii = nil, true
	if !tooLong {
		if n := len(raw); n > 0 && raw[n-1] == '\r' {
			raw = raw[:n-1]
		}
		if l.n == 1 && l.enc == UTF8 && len(raw) >= 3 && string(raw[:3]) == string(utf8BOM) {
			raw = raw[3:]
		}
		l.line, l.ascii = l.decode(raw)
	}
	if l.opt.Progress != nil && l.n%l.every == 0 {
		l.opt.Progress(l.n, l.nbytes)
		l.lastRep = l.n
	}
	return true
}

// read returns the next raw line without its "\n" (valid until the next
// call) and whether it is longer than the limit (then raw is nil).
func (l *Lines) read() (raw []byte, tooLong bool, err error) {
	raw, err = l.br.ReadSlice('\n')
	l.nbytes += int64(len(raw))
	switch {
	case err == nil:
		raw = raw[:len(raw)-1]
	case errors.Is(err, bufio.ErrBufferFull):
		for errors.Is(err, bufio.ErrBufferFull) {
			raw, err = l.br.ReadSlice('\n')
			l.nbytes += int64(len(raw))
		}
		if err != nil && err != io.EOF {
			return nil, false, err
		}
		return nil, true, nil
	case err == io.EOF:
		if len(raw) == 0 {
			return nil, false, io.EOF
		}
	default:
		return nil, false, err
	}
	if len(raw) > l.max {
		return nil, true, nil
	}
	return raw, false, nil
}

// decode returns raw as UTF-8 and whether it is all ASCII.
func (l *Lines) decode(raw []byte) ([]byte, bool) {
	i := 0
	for i < len(raw) && raw[i] < utf8.RuneSelf {
		i++
	}
	if i == len(raw) {
		return raw, true
	}
	if l.enc != Latin1 {
		return raw, false
	}
	out := append(l.dec[:0], raw[:i]...)
	for _, c := range raw[i:] {
		if c < utf8.RuneSelf {
			out = append(out, c)
		} else {
			out = append(out, 0xC0|c>>6, 0x80|c&0x3F) // ISO 8859-1 is U+0000..U+00FF
		}
	}
	l.dec = out
	return out, false
}

// Number returns the 1-based number of the current line.
func (l *Lines) Number() int { return l.n }

// Bytes returns the current line decoded to UTF-8, without its line end.
// It is valid until the next call to Next, and nil for a TooLong line.
func (l *Lines) Bytes() []byte { return l.line }

// Text returns the current line as a string (a copy of Bytes).
func (l *Lines) Text() string { return string(l.line) }

// TooLong reports that the current line is longer than the limit; its
// content was skipped. A caller counts it as a reject (or, before a
// layout's first record, a header line).
func (l *Lines) TooLong() bool { return l.tooLong }

// ASCII reports that the current line is all ASCII, so that byte offsets
// are character positions.
func (l *Lines) ASCII() bool { return l.ascii }

// Count returns the number of lines read so far.
func (l *Lines) Count() int { return l.n }

// BytesRead returns the number of input bytes consumed so far.
func (l *Lines) BytesRead() int64 { return l.nbytes }

// Err returns the read error that ended Next, wrapped with the line number,
// or nil at the end of the input.
func (l *Lines) Err() error { return l.err }

// Field returns the characters of a decoded line at the 1-based character
// positions pos .. pos+n-1: fewer at the end of the line, none past it.
// Fixed-width layouts give positions in characters of the ISO 8859-1
// original (one byte each); counting characters, not bytes, keeps the
// fields in place in a line that was decoded or re-saved as UTF-8. The
// result shares line's memory.
func Field(line []byte, pos, n int) []byte {
	if pos < 1 || n <= 0 {
		return nil
	}
	start := -1
	for i, c := 0, 0; i <= len(line); c++ {
		if c == pos-1 {
			start = i
		}
		if c == pos-1+n || i == len(line) {
			if start < 0 {
				return nil
			}
			return line[start:i:i]
		}
		if line[i] < utf8.RuneSelf {
			i++
		} else {
			_, size := utf8.DecodeRune(line[i:])
			i += size
		}
	}
	return nil
}

// OpenLayout is Open for the parser of one file layout, named name ("robinson",
// "cprcheck", "roads"): an encoding refusal (*EncodingError) is returned as
// it is, any other error wrapped as "name: ...". lineProgress, when not nil,
// is called with the lines read so far, as Options.Progress would be.
func OpenLayout(name string, r io.ReadSeeker, maxLineBytes int, lineProgress func(lines int)) (*Lines, error) {
	opt := Options{MaxLineBytes: maxLineBytes}
	if lineProgress != nil {
		opt.Progress = func(lines int, _ int64) { lineProgress(lines) }
	}
	l, err := Open(r, opt)
	if err != nil {
		var ee *EncodingError
		if errors.As(err, &ee) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return l, nil
}
