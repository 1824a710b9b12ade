package suppress

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// ImportRow is one data row of an import file: the values it names, each
// with the row's reason, scope, source and date.
type ImportRow struct {
	// Line is the row's line number in the file (the header is line 1).
	Line int
	// Values maps each kind to the value the row gives, as written; only
	// kinds with a non-empty cell appear.
	Values map[Kind]string
	Reason Reason
	Scope  string
	Source string
	// Added is the row's date, zero when the file has no date column or
	// the cell is empty.
	Added time.Time
}

// RowError is a row that is refused: it has no usable value, or a reason
// or date that cannot be read. It names the line and the column, never a
// value.
type RowError struct {
	Line int
	Msg  string
}

func (e *RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// ErrImportHeader means the first row names none of the value columns.
var ErrImportHeader = errors.New("suppress: the header row names none of phone/telefon, email/e-mail, cpr, cvr")

// column names (lower case, trimmed) of docs/data-formats.md section 7.
var importColumns = map[string]string{
	"phone": "phone", "telefon": "phone", "telefonnummer": "phone", "tlf": "phone", "mobil": "phone", "mobile": "phone",
	"email": "email", "e-mail": "email", "mail": "email", "e-mailadresse": "email",
	"cpr": "cpr", "cpr-nr": "cpr", "cprnr": "cpr", "cpr-nummer": "cpr", "personnummer": "cpr",
	"cvr": "cvr", "cvr-nr": "cvr", "cvrnr": "cvr", "cvr-nummer": "cvr",
	"reason": "reason", "aarsag": "reason", "årsag": "reason",
	"scope":  "scope",
	"source": "source", "kilde": "source",
	"added": "added", "dato": "added", "date": "added",
}

var kindOfColumn = map[string]Kind{"phone": KindPhone, "email": KindEmail, "cpr": KindCPR, "cvr": KindCVR}

// ImportReader reads the suppression-list import CSV of
// docs/data-formats.md section 7: UTF-8 with or without BOM, or
// Windows-1252 (decided per line: a line that is not valid UTF-8 is read
// as Windows-1252), separator ';', ',' or tab (the one the header uses
// most), a header row naming at least one value column. It streams.
type ImportReader struct {
	r    *csv.Reader
	cols []string // column role per field, "" for unknown columns
	line int
}

// NewImportReader reads the header. It returns ErrImportHeader when the
// header names no value column and the read errors.
func NewImportReader(r io.Reader) (*ImportReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.ReadString('\n')
	if err != nil && (err != io.EOF || head == "") {
		if err == io.EOF {
			return nil, ErrImportHeader
		}
		return nil, err
	}
	head = toUTF8(strings.TrimPrefix(head, "\ufeff"))
	comma := ';'
	best := strings.Count(head, ";")
	if n := strings.Count(head, "\t"); n > best {
		comma, best = '\t', n
	}
	if n := strings.Count(head, ","); n > best {
		comma = ','
	}
	ir := &ImportReader{}
	hr := csv.NewReader(strings.NewReader(head))
	hr.Comma = comma
	fields, err := hr.Read()
	if err != nil {
		return nil, ErrImportHeader
	}
	values := 0
	for _, f := range fields {
		role := importColumns[strings.ToLower(strings.TrimSpace(f))]
		ir.cols = append(ir.cols, role)
		if _, ok := kindOfColumn[role]; ok {
			values++
		}
	}
	if values == 0 {
		return nil, ErrImportHeader
	}
	ir.r = csv.NewReader(&lineDecoder{br: br})
	ir.r.Comma = comma
	ir.r.FieldsPerRecord = -1
	ir.r.LazyQuotes = true
	ir.r.ReuseRecord = true
	ir.line = 1
	return ir, nil
}

// Next returns the next row. A refused row is a *RowError (read on with
// the next call); the end is io.EOF; other errors are the reader's.
func (ir *ImportReader) Next() (ImportRow, error) {
	for {
		rec, err := ir.r.Read()
		if err == io.EOF {
			return ImportRow{}, io.EOF
		}
		line, _ := ir.r.FieldPos(0)
		ir.line = line + 1 // the header was read before the csv.Reader
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return ImportRow{}, &RowError{Line: ir.line, Msg: "the row cannot be read as CSV"}
			}
			return ImportRow{}, err
		}
		blank := true
		for _, f := range rec {
			if strings.TrimSpace(f) != "" {
				blank = false
			}
		}
		if blank {
			continue // an empty line is not a row
		}
		return ir.row(rec)
	}
}

func (ir *ImportReader) row(rec []string) (ImportRow, error) {
	row := ImportRow{Line: ir.line, Values: map[Kind]string{}, Reason: ReasonRequested}
	for i, f := range rec {
		if i >= len(ir.cols) {
			break
		}
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		switch role := ir.cols[i]; role {
		case "reason":
			r, err := ParseReason(f)
			if err != nil {
				return ImportRow{}, &RowError{Line: ir.line, Msg: "reason is not one of REQUESTED, COMPLAINT, BOUNCE, OTHER"}
			}
			row.Reason = r
		case "scope":
			row.Scope = f
		case "source":
			row.Source = f
		case "added":
			t, ok := parseDate(f)
			if !ok {
				return ImportRow{}, &RowError{Line: ir.line, Msg: "date is not YYYY-MM-DD, DD-MM-YYYY or DD.MM.YYYY"}
			}
			row.Added = t
		default:
			if k, ok := kindOfColumn[role]; ok {
				row.Values[k] = f
			}
		}
	}
	if len(row.Values) == 0 {
		return ImportRow{}, &RowError{Line: ir.line, Msg: "no phone, e-mail, personal number or CVR number"}
	}
	return row, nil
}

func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02", time.RFC3339, "2006-01-02 15:04:05", "02-01-2006", "02.01.2006", "2/1/2006", "02/01/2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// toUTF8 returns s, read as Windows-1252 when it is not valid UTF-8.
func toUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	out, err := charmap.Windows1252.NewDecoder().String(s)
	if err != nil {
		return strings.ToValidUTF8(s, "\ufffd")
	}
	return out
}

// lineDecoder hands the csv.Reader one line at a time in UTF-8.
type lineDecoder struct {
	br  *bufio.Reader
	buf bytes.Buffer
}

func (d *lineDecoder) Read(p []byte) (int, error) {
	for d.buf.Len() == 0 {
		line, err := d.br.ReadString('\n')
		if line != "" {
			d.buf.WriteString(toUTF8(line))
		}
		if err != nil {
			if d.buf.Len() > 0 {
				break
			}
			return 0, err
		}
	}
	return d.buf.Read(p)
}
