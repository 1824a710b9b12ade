// Package calllist reads and writes call lists (CSV and XLSX) for the
// robinscreen-screen command: encoding and delimiter detection, a CSV
// record reader that reports broken lines by number and carries on, column
// mapping from Danish and English headers, and writers in the input's own
// format.
package calllist

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Encoding names accepted by OpenCSV and NewCSVWriter.
const (
	EncodingAuto        = "auto"
	EncodingUTF8        = "utf-8"
	EncodingWindows1252 = "windows-1252"
	EncodingISO88591    = "iso-8859-1"
	EncodingUTF16LE     = "utf-16le"
)

// sniffBytes is how much of a file encoding detection looks at.
const sniffBytes = 1 << 20

// Dialect is how a CSV file is written.
type Dialect struct {
	// Encoding is one of the Encoding* names (never "auto").
	Encoding string
	// BOM tells whether the file starts with a byte order mark.
	BOM bool
	// Comma is the field delimiter: ';', ',' or '\t'.
	Comma rune
	// CRLF tells whether lines end in "\r\n".
	CRLF bool
}

// ParseEncoding normalises an encoding name; it returns an error for names
// it does not know.
func ParseEncoding(s string) (string, error) {
	switch strings.ToLower(strings.NewReplacer("_", "-", " ", "").Replace(s)) {
	case "", "auto":
		return EncodingAuto, nil
	case "utf-8", "utf8":
		return EncodingUTF8, nil
	case "windows-1252", "cp1252", "win1252", "ansi":
		return EncodingWindows1252, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "iso-latin-1":
		return EncodingISO88591, nil
	case "utf-16le", "utf-16", "utf16":
		return EncodingUTF16LE, nil
	}
	return "", fmt.Errorf("unknown encoding %q (auto, utf-8, windows-1252, iso-8859-1, utf-16le)", s)
}

// ParseDelimiter turns "auto", ";", ",", "tab" (or "\t") into a delimiter
// (0 for auto).
func ParseDelimiter(s string) (rune, error) {
	switch s {
	case "", "auto":
		return 0, nil
	case ";", "semicolon":
		return ';', nil
	case ",", "comma":
		return ',', nil
	case "\t", "tab", `\t`:
		return '\t', nil
	}
	return 0, fmt.Errorf("unknown delimiter %q (auto, ';', ',', tab)", s)
}

// detectEncoding looks at the start of a file: a UTF-8 or UTF-16LE byte
// order mark decides; otherwise valid UTF-8 is UTF-8 and anything else is
// Windows-1252 (a superset of ISO 8859-1's printable characters).
func detectEncoding(sample []byte) (enc string, bom bool) {
	switch {
	case bytes.HasPrefix(sample, []byte{0xEF, 0xBB, 0xBF}):
		return EncodingUTF8, true
	case bytes.HasPrefix(sample, []byte{0xFF, 0xFE}):
		return EncodingUTF16LE, true
	}
	// Ignore a rune cut off at the end of the sample.
	for i := 0; i < utf8.UTFMax && len(sample) > 0; i++ {
		if r, _ := utf8.DecodeLastRune(sample); r != utf8.RuneError || utf8.Valid(sample) {
			break
		}
		sample = sample[:len(sample)-1]
	}
	if utf8.Valid(sample) {
		return EncodingUTF8, false
	}
	return EncodingWindows1252, false
}

func textEncoding(name string) encoding.Encoding {
	switch name {
	case EncodingWindows1252:
		return charmap.Windows1252
	case EncodingISO88591:
		return charmap.ISO8859_1
	case EncodingUTF16LE:
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	}
	return nil
}

// sniffComma picks the delimiter occurring most often outside quotes in the
// header line; ties prefer ';', then tab, then ','.
func sniffComma(line string) rune {
	counts := map[rune]int{}
	inQuote := false
	for _, r := range line {
		switch {
		case r == '"':
			inQuote = !inQuote
		case !inQuote && (r == ';' || r == ',' || r == '\t'):
			counts[r]++
		}
	}
	best, n := ',', 0
	for _, r := range []rune{';', '\t', ','} {
		if counts[r] > n {
			best, n = r, counts[r]
		}
	}
	return best
}

// RowError is a line that could not be read as a record.
type RowError struct {
	// Line is the 1-based physical line (CSV) or row (XLSX) number.
	Line int
	// Msg says what is wrong.
	Msg string
	// Raw is the line's text (the first line of the failed record).
	Raw string
}

func (e *RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Record is one data row.
type Record struct {
	// Line is the 1-based line (CSV: where the record starts) or row number.
	Line int
	// Fields are the row's cells.
	Fields []string
}

// CSVReader reads records from a CSV file with RFC 4180 quoting (quoted
// fields may hold delimiters, doubled quotes and newlines).
//
// A malformed record (a quote inside an unquoted field, text after a
// closing quote, a quoted field still open after MaxRecordLines lines or at
// the end of the file, a field count different from the header's) is
// returned as a *RowError naming the line the record started on, and
// reading resumes at the physical line after it: the lines the broken
// record swallowed are read again as records of their own. So one broken
// quote costs exactly its own line, never the rest of the file.
type CSVReader struct {
	// MaxRecordLines bounds how many physical lines one record may span
	// (default 100).
	MaxRecordLines int

	br      *bufio.Reader
	dialect Dialect
	header  []string
	line    int        // physical lines read from br
	back    []physLine // lines to read again after a broken record
	eof     bool
	crlfSet bool
	// Blank counts blank lines skipped.
	Blank int
}

type physLine struct {
	n    int
	text string
}

// OpenCSV prepares r for reading: detects (or takes) the encoding, skips a
// byte order mark, sniffs (or takes) the delimiter from the header line and
// reads the header. enc is an Encoding* name or "auto"; comma is 0 for auto.
// It returns an error when the file is empty or cannot be decoded.
func OpenCSV(r io.Reader, enc string, comma rune) (*CSVReader, error) {
	raw := bufio.NewReaderSize(r, sniffBytes)
	sample, err := raw.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	detected, bom := detectEncoding(sample)
	if enc == EncodingAuto || enc == "" {
		enc = detected
	} else {
		bom = enc == EncodingUTF8 && bytes.HasPrefix(sample, []byte{0xEF, 0xBB, 0xBF}) ||
			enc == EncodingUTF16LE && bytes.HasPrefix(sample, []byte{0xFF, 0xFE})
	}
	if bom {
		n := 3
		if enc == EncodingUTF16LE {
			n = 2
		}
		if _, err := raw.Discard(n); err != nil {
			return nil, err
		}
	}
	var text io.Reader = raw
	if e := textEncoding(enc); e != nil {
		text = transform.NewReader(raw, e.NewDecoder())
	}
	cr := &CSVReader{MaxRecordLines: 100, br: bufio.NewReaderSize(text, 64<<10), dialect: Dialect{Encoding: enc, BOM: bom}}
	var first physLine
	for {
		l, ok, err := cr.nextLine()
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errors.New("the file is empty: no header line")
		}
		if strings.TrimSpace(l.text) != "" {
			first = l
			break
		}
	}
	if comma == 0 {
		comma = sniffComma(first.text)
	}
	cr.dialect.Comma = comma
	cr.back = append(cr.back, first)
	hdr, rerr, err := cr.readRecord(-1)
	if err != nil {
		return nil, err
	}
	if rerr != nil {
		return nil, fmt.Errorf("header: %v", rerr)
	}
	cr.header = hdr.Fields
	return cr, nil
}

// Header returns the header row's fields.
func (r *CSVReader) Header() []string { return r.header }

// Dialect returns the detected (or given) encoding, delimiter and line
// ending.
func (r *CSVReader) Dialect() Dialect { return r.dialect }

// Read returns the next record, or a *RowError for a broken one (reading
// may go on), or io.EOF, or an I/O or decoding error.
func (r *CSVReader) Read() (Record, *RowError, error) {
	return r.readRecord(len(r.header))
}

func (r *CSVReader) nextLine() (physLine, bool, error) {
	if len(r.back) > 0 {
		l := r.back[0]
		r.back = r.back[1:]
		return l, true, nil
	}
	if r.eof {
		return physLine{}, false, nil
	}
	s, err := r.br.ReadString('\n')
	if err != nil {
		if !errors.Is(err, io.EOF) {
			return physLine{}, false, err
		}
		r.eof = true
		if s == "" {
			return physLine{}, false, nil
		}
	}
	r.line++
	if strings.HasSuffix(s, "\n") {
		s = s[:len(s)-1]
		if strings.HasSuffix(s, "\r") {
			s = s[:len(s)-1]
			if !r.crlfSet {
				r.dialect.CRLF = true
			}
		}
		r.crlfSet = true
	}
	return physLine{n: r.line, text: s}, true, nil
}

// readRecord parses one record; want is the expected field count (-1: any).
func (r *CSVReader) readRecord(want int) (Record, *RowError, error) {
	var first physLine
	for {
		l, ok, err := r.nextLine()
		if err != nil {
			return Record{}, nil, err
		}
		if !ok {
			return Record{}, nil, io.EOF
		}
		if l.text != "" {
			first = l
			break
		}
		r.Blank++
	}
	consumed := []physLine{first}
	fail := func(msg string) (Record, *RowError, error) {
		// Resynchronise: read the swallowed lines again.
		r.back = append(append([]physLine(nil), consumed[1:]...), r.back...)
		return Record{}, &RowError{Line: first.n, Msg: msg, Raw: first.text}, nil
	}
	comma := r.dialect.Comma
	var (
		fields []string
		field  strings.Builder
		line   = first.text
		i      = 0
	)
	for {
		// At the start of a field.
		j := i
		for j < len(line) && (line[j] == ' ' || (line[j] == '\t' && comma != '\t')) {
			j++
		}
		if j < len(line) && line[j] == '"' {
			// Quoted field.
			i = j + 1
			for {
				k := strings.IndexByte(line[i:], '"')
				if k < 0 {
					field.WriteString(line[i:])
					if len(consumed) >= r.MaxRecordLines {
						return fail(fmt.Sprintf("quoted field not closed within %d lines", r.MaxRecordLines))
					}
					l, ok, err := r.nextLine()
					if err != nil {
						return Record{}, nil, err
					}
					if !ok {
						return fail("quoted field not closed before the end of the file")
					}
					consumed = append(consumed, l)
					field.WriteByte('\n')
					line, i = l.text, 0
					continue
				}
				field.WriteString(line[i : i+k])
				i += k + 1
				if i < len(line) && line[i] == '"' {
					field.WriteByte('"')
					i++
					continue
				}
				break
			}
			// After the closing quote: delimiter or end of line.
			for i < len(line) && (line[i] == ' ' || (line[i] == '\t' && comma != '\t')) {
				i++
			}
			fields = append(fields, field.String())
			field.Reset()
			if i == len(line) {
				break
			}
			c, size := utf8.DecodeRuneInString(line[i:])
			if c != comma {
				return fail(fmt.Sprintf("unexpected %q after a closing quote (column %d)", c, len(fields)))
			}
			i += size
			if i == len(line) {
				fields = append(fields, "")
				break
			}
			continue
		}
		// Unquoted field.
		k := strings.IndexRune(line[i:], comma)
		end := len(line)
		if k >= 0 {
			end = i + k
		}
		v := line[i:end]
		if strings.IndexByte(v, '"') >= 0 {
			return fail(fmt.Sprintf("quote inside an unquoted field (column %d)", len(fields)+1))
		}
		fields = append(fields, v)
		if k < 0 {
			break
		}
		i = end + utf8.RuneLen(comma)
		if i == len(line) {
			fields = append(fields, "")
			break
		}
	}
	if want >= 0 && len(fields) != want {
		// Trailing empty fields beyond the header are harmless.
		for len(fields) > want && fields[len(fields)-1] == "" {
			fields = fields[:len(fields)-1]
		}
		if len(fields) != want {
			return fail(fmt.Sprintf("%d fields, the header has %d", len(fields), want))
		}
	}
	return Record{Line: first.n, Fields: fields}, nil, nil
}

// CSVWriter writes records in a dialect.
type CSVWriter struct {
	bw   *bufio.Writer
	enc  io.WriteCloser
	dst  io.Writer
	comm rune
	crlf bool
	buf  []byte
}

// NewCSVWriter writes CSV to w in dialect d (encoding, BOM, delimiter, line
// ending). Characters the encoding cannot hold are written as '?'.
func NewCSVWriter(w io.Writer, d Dialect) (*CSVWriter, error) {
	cw := &CSVWriter{dst: w, comm: d.Comma, crlf: d.CRLF}
	if d.BOM {
		bom := []byte{0xEF, 0xBB, 0xBF}
		if d.Encoding == EncodingUTF16LE {
			bom = []byte{0xFF, 0xFE}
		}
		if _, err := w.Write(bom); err != nil {
			return nil, err
		}
	}
	if e := textEncoding(d.Encoding); e != nil {
		cw.enc = transform.NewWriter(w, encoding.ReplaceUnsupported(e.NewEncoder()))
		cw.bw = bufio.NewWriterSize(cw.enc, 64<<10)
	} else {
		cw.bw = bufio.NewWriterSize(w, 64<<10)
	}
	if cw.comm == 0 {
		cw.comm = ','
	}
	return cw, nil
}

// Write writes one record, quoting fields that need it. It returns write
// errors.
func (w *CSVWriter) Write(fields []string) error {
	b := w.buf[:0]
	for i, f := range fields {
		if i > 0 {
			b = utf8.AppendRune(b, w.comm)
		}
		if f == "" || !strings.ContainsAny(f, "\"\r\n"+string(w.comm)) && f[0] != ' ' && f[len(f)-1] != ' ' {
			b = append(b, f...)
			continue
		}
		b = append(b, '"')
		for j := 0; j < len(f); j++ {
			c := f[j]
			switch {
			case c == '"':
				b = append(b, '"', '"')
			case c == '\n' && w.crlf:
				b = append(b, '\r', '\n')
			case c == '\r' && w.crlf && j+1 < len(f) && f[j+1] == '\n':
			default:
				b = append(b, c)
			}
		}
		b = append(b, '"')
	}
	if w.crlf {
		b = append(b, '\r', '\n')
	} else {
		b = append(b, '\n')
	}
	w.buf = b
	_, err := w.bw.Write(b)
	return err
}

// Close flushes buffered output (it does not close the underlying writer).
func (w *CSVWriter) Close() error {
	if err := w.bw.Flush(); err != nil {
		return err
	}
	if w.enc != nil {
		return w.enc.Close()
	}
	return nil
}
