package calllist

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	gounicode "unicode"
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
	EncodingUTF16BE     = "utf-16be"
)

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
	// Sep tells whether the file starts with a "sep=;" line (which
	// exporters write so that Excel picks the delimiter).
	Sep bool
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
	case "utf-16le", "utf16le", "utf-16", "utf16", "unicode":
		return EncodingUTF16LE, nil
	case "utf-16be", "utf16be":
		return EncodingUTF16BE, nil
	}
	return "", fmt.Errorf("unknown encoding %q (auto, utf-8, windows-1252, iso-8859-1, utf-16le, utf-16be)", s)
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

func textEncoding(name string) encoding.Encoding {
	switch name {
	case EncodingWindows1252:
		return charmap.Windows1252
	case EncodingISO88591:
		return charmap.ISO8859_1
	case EncodingUTF16LE:
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	case EncodingUTF16BE:
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
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
	// Msg says what is wrong; it names columns, never cell values.
	Msg string
	// Raw is the line's text (the first line of the failed record).
	Raw string
	// Fields is Raw split at every delimiter, quotes removed: the cells as
	// well as they can be told apart, for an output row that keeps the
	// line's text.
	Fields []string
}

func (e *RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// UnreadCell is a cell whose value could not be read.
type UnreadCell struct {
	// Col is the 0-based column.
	Col int
	// Why says what is wrong, without the cell's content.
	Why string
	// Formula is the cell's formula (without "="), when it has one.
	Formula string
	// Merged tells that the cell lies in a range of merged cells without
	// being its top-left cell (which alone holds the range's value).
	Merged bool
}

// Record is one row of a call list.
type Record struct {
	// Line is the 1-based line (CSV: where the record starts) or row number.
	Line int
	// End is the last physical line of the record (CSV; a quoted field
	// may span lines) or its row (XLSX).
	End int
	// Fields are the row's cells.
	Fields []string
	// Blank tells that every cell is empty (or blank space): an empty
	// line, a line of delimiters only, an empty worksheet row.
	Blank bool
	// Unread lists the cells whose value could not be read (XLSX: a
	// formula without a saved value, whose field is "", an error value
	// such as #REF!, whose field is the error code, or an empty cell under
	// merged cells).
	Unread []UnreadCell
}

// CSVReader reads records from a CSV file with RFC 4180 quoting (quoted
// fields may hold delimiters, doubled quotes and newlines). A field written
// ="TEXT" (which exporters write so that Excel keeps leading zeros) reads
// as TEXT.
//
// Every physical line after the header comes back exactly once, in order:
// as part of a Record (a blank line is a Record with Blank set), or as a
// *RowError. A malformed record (a quote inside an unquoted field, text
// after a closing quote, a quoted field still open after MaxRecordLines
// lines or at the end of the file, a field count different from the
// header's) is returned as a *RowError naming the line the record started
// on, and reading resumes at the physical line after it: the lines the
// broken record swallowed are read again as records of their own. So one
// broken quote costs exactly its own line, never the rest of the file.
type CSVReader struct {
	// MaxRecordLines bounds how many physical lines one record may span
	// (default 100).
	MaxRecordLines int

	br         *bufio.Reader
	dialect    Dialect
	header     []string
	headerLine int
	headerEnd  int // the header's last physical line
	warnings   []string
	line       int        // physical lines read from br
	back       []physLine // lines to read again after a broken record
	eof        bool
	crlfSet    bool
	// Blank counts the blank rows read after the header.
	Blank int
}

type physLine struct {
	n    int
	text string
}

// sepLine matches Excel's delimiter line: `sep=;`, possibly quoted or
// followed by delimiters (a sheet exported with the line in cell A1).
// The line is matched with its line end and leading spaces removed, but
// not its other white space: `sep=` and a tab is a tab-delimited file.
var sepLine = regexp.MustCompile(`^(?i)"?sep=([^"\r\n])"?[;,\t|]* *$`)

// sepOf reads a delimiter line: the delimiter it names, or false when the
// line is not one. A letter, digit, quote, control character (other than
// tab) or an undecodable byte cannot be a delimiter: such a line is the
// header.
func sepOf(line string) (rune, bool) {
	m := sepLine.FindStringSubmatch(strings.TrimLeft(strings.TrimRight(line, "\r\n"), " "))
	if m == nil {
		return 0, false
	}
	sep, _ := utf8.DecodeRuneInString(m[1])
	if sep != '\t' && (sep == utf8.RuneError || !gounicode.IsPrint(sep) || gounicode.IsLetter(sep) || gounicode.IsDigit(sep)) {
		return 0, false
	}
	return sep, true
}

// OpenCSV prepares r for reading. With enc EncodingAuto it reads the whole
// file once to decide the encoding (a byte order mark; UTF-16 without one,
// from its NUL bytes; UTF-8 when every line is valid UTF-8; else
// Windows-1252), so a non-UTF-8 byte on the millionth line is seen before
// any row is read; a given enc is checked the same way. It then skips the
// byte order mark, honours a first line `sep=X`, sniffs (or takes) the
// delimiter from the header line and reads the header. comma is 0 for
// auto; a given comma wins over a sep line.
//
// It returns an *EncodingError for a file that mixes encodings, holds NUL
// bytes (a binary file), is a zip archive (an XLSX file) or is not valid in
// the encoding asked for; an error when the file is empty; and I/O errors.
func OpenCSV(r io.ReadSeeker, enc string, comma rune) (*CSVReader, error) {
	sc, err := scanFile(r)
	if err != nil {
		return nil, err
	}
	enc, bom, warnings, err := sc.decide(enc)
	if err != nil {
		return nil, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	raw := bufio.NewReaderSize(r, 64<<10)
	if bom {
		n := 3
		if enc == EncodingUTF16LE || enc == EncodingUTF16BE {
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
	cr := &CSVReader{MaxRecordLines: 100, br: bufio.NewReaderSize(text, 64<<10), dialect: Dialect{Encoding: enc, BOM: bom}, warnings: warnings}
	var first physLine
	for {
		l, ok, err := cr.nextLine()
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errors.New("the file is empty: no header line")
		}
		if l.n == 1 {
			if sep, ok := sepOf(l.text); ok {
				cr.dialect.Sep = true
				if comma == 0 {
					comma = sep
				} else if comma != sep {
					cr.warnings = append(cr.warnings, fmt.Sprintf("line 1 says sep=%q, --delimiter %q wins", sep, comma))
				}
				continue
			}
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
	if allBlank(hdr.Fields) {
		return nil, fmt.Errorf("line %d: the header line has no column names", hdr.Line)
	}
	cr.header = hdr.Fields
	cr.headerLine, cr.headerEnd = hdr.Line, hdr.End
	return cr, nil
}

// Header returns the header row's fields.
func (r *CSVReader) Header() []string { return r.header }

// HeaderLine is the 1-based line the header starts on (after a sep line
// and blank lines).
func (r *CSVReader) HeaderLine() int { return r.headerLine }

// Warnings are doubts about the file found while opening it (an encoding
// asked for that the file does not look like, a sep line overridden).
func (r *CSVReader) Warnings() []string { return r.warnings }

// Dialect returns the detected (or given) encoding, delimiter and line
// ending.
func (r *CSVReader) Dialect() Dialect { return r.dialect }

// Read returns the next record (blank ones included), or a *RowError for a
// broken one (reading may go on), or io.EOF, or an I/O error.
func (r *CSVReader) Read() (Record, *RowError, error) {
	rec, rerr, err := r.readRecord(len(r.header))
	if rec.Blank {
		r.Blank++
	}
	return rec, rerr, err
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

// lenientSplit splits a broken line at every delimiter and drops quote
// characters, so that its text can still be shown in an output row.
func lenientSplit(line string, comma rune) []string {
	parts := strings.Split(line, string(comma))
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(p, `"`, "")
	}
	return parts
}

func allBlank(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// readRecord parses one record; want is the expected field count (-1: any).
func (r *CSVReader) readRecord(want int) (Record, *RowError, error) {
	first, ok, err := r.nextLine()
	if err != nil {
		return Record{}, nil, err
	}
	if !ok {
		return Record{}, nil, io.EOF
	}
	if strings.TrimSpace(first.text) == "" {
		return Record{Line: first.n, End: first.n, Fields: []string{}, Blank: true}, nil, nil
	}
	consumed := []physLine{first}
	comma := r.dialect.Comma
	fail := func(msg string) (Record, *RowError, error) {
		// Resynchronise: read the swallowed lines again.
		r.back = append(append([]physLine(nil), consumed[1:]...), r.back...)
		return Record{}, &RowError{Line: first.n, Msg: msg, Raw: first.text, Fields: lenientSplit(first.text, comma)}, nil
	}
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
		if j+1 < len(line) && line[j] == '=' && line[j+1] == '"' {
			// ="0101801234": how exporters keep Excel from reading a
			// number into text with leading zeros. The text is the value.
			j++
		}
		if j < len(line) && line[j] == '"' {
			// Quoted field.
			i = j + 1
			for {
				k := strings.IndexByte(line[i:], '"')
				if k < 0 {
					// A line break inside the field is one "\n": carriage
					// returns left before it ("\r\r\n" from a doubled
					// conversion) belong to the break, not to the text, or
					// the field could not be written back as read.
					field.WriteString(strings.TrimRight(line[i:], "\r"))
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
	last := consumed[len(consumed)-1].n
	if allBlank(fields) {
		return Record{Line: first.n, End: last, Fields: fields, Blank: true}, nil, nil
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
	return Record{Line: first.n, End: last, Fields: fields}, nil, nil
}

// CSVWriter writes records in a dialect.
type CSVWriter struct {
	bw   *bufio.Writer
	enc  io.WriteCloser
	dst  io.Writer
	comm rune
	crlf bool
	buf  []byte
	// wrote tells that a line was written (a sep line included).
	wrote bool
}

// NewCSVWriter writes CSV to w in dialect d (encoding, BOM, a "sep=" first
// line, delimiter, line ending). Characters the encoding cannot hold are
// written as its replacement character (SUB, 0x1A, in Windows-1252). It
// returns write errors.
func NewCSVWriter(w io.Writer, d Dialect) (*CSVWriter, error) {
	cw := &CSVWriter{dst: w, comm: d.Comma, crlf: d.CRLF}
	if d.BOM {
		bom := []byte{0xEF, 0xBB, 0xBF}
		switch d.Encoding {
		case EncodingUTF16LE:
			bom = []byte{0xFF, 0xFE}
		case EncodingUTF16BE:
			bom = []byte{0xFE, 0xFF}
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
	if d.Sep {
		if _, err := cw.bw.WriteString("sep=" + string(cw.comm) + cw.eol()); err != nil {
			return nil, err
		}
		cw.wrote = true
	}
	return cw, nil
}

// hasFoldPrefix reports whether s starts with prefix, ignoring case.
func hasFoldPrefix(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// startsLikeMagic tells whether a file starting with f (unquoted) could
// be taken for a byte order mark or a zip archive.
func startsLikeMagic(f string) bool {
	r, _ := utf8.DecodeRuneInString(f)
	switch r {
	case '\uFEFF', '\uFFFE', 'þ', 'ÿ', 'ï':
		// U+FFFE in UTF-16 is the other byte order's mark.
		return true
	}
	return strings.HasPrefix(f, "PK\x03\x04")
}

func (w *CSVWriter) eol() string {
	if w.crlf {
		return "\r\n"
	}
	return "\n"
}

// Skip writes n empty lines (to keep the output's line numbers those of
// the input). It returns write errors.
func (w *CSVWriter) Skip(n int) error {
	for i := 0; i < n; i++ {
		if _, err := w.bw.WriteString(w.eol()); err != nil {
			return err
		}
		w.wrote = true
	}
	return nil
}

// Write writes one record, quoting fields that need it. It returns write
// errors.
func (w *CSVWriter) Write(fields []string) error {
	b := w.buf[:0]
	// A first line starting sep= (quoted or not) would read back as a
	// delimiter line: a delimiter line goes first, so it reads back as
	// the header it is.
	if !w.wrote && len(fields) > 0 && hasFoldPrefix(strings.TrimLeft(fields[0], " \""), "sep=") {
		b = append(b, "sep="...)
		b = utf8.AppendRune(b, w.comm)
		b = append(b, w.eol()...)
	}
	// A file's first bytes that read back as a byte order mark (U+FEFF;
	// þÿ, ÿþ, ï»¿ in an 8-bit encoding) or a zip archive would change how
	// the file is read: quoted, the field starts with a quote instead.
	bomLike := !w.wrote && len(fields) > 0 && startsLikeMagic(fields[0])
	w.wrote = true
	for i, f := range fields {
		if i > 0 {
			b = utf8.AppendRune(b, w.comm)
		}
		if f == "" || !(i == 0 && bomLike) && !strings.ContainsAny(f, "\"\r\n"+string(w.comm)) && f[0] != ' ' && f[len(f)-1] != ' ' {
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
