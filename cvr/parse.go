package cvr

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/robinscreen/robinscreen/ingest"
)

// MaxLineBytes is the longest line Parse reads: one JSON document (the
// largest companies' documents, with every name, address and relation
// they ever had, run to a few MB) or one search response. A longer line
// is a reject and is never held in memory whole; the read buffer is at
// most this size, whatever the file's size.
const MaxLineBytes = 32 << 20

// Layout names reported in Stats.Layout.
const (
	LayoutJSON = "json" // one JSON document (or search response) per line
	LayoutCSV  = "csv"  // number;reklamebeskyttet
)

// Kind tells what an Entry describes.
type Kind uint8

// Entry kinds; the zero Kind is not used.
const (
	KindCompany Kind = iota + 1 // a company (Vrvirksomhed, or a CSV row with a CVR number)
	KindUnit                    // a production unit (VrproduktionsEnhed, or a CSV row with a P-number)
)

// Entry is one accepted company or production unit.
type Entry struct {
	Line int // 1-based line number in the file
	Kind Kind
	// CVR is a company's number; zero for a production unit.
	CVR Number
	// P is a production unit's number; zero for a company.
	P PNumber
	// Protected is the reklamebeskyttet flag.
	Protected bool
	// Owners are the valid CVR numbers of a production unit's company
	// relations (virksomhedsrelation[].cvrNummer; a CSV row's cvr column
	// next to its pnummer column). Empty when the file does not say.
	Owners []Number
}

// Options controls Parse.
type Options struct {
	// MaxRejectRatio is the largest accepted share of rejected documents
	// (or CSV rows). Zero means ingest.DefaultMaxRejectRatio (0.1 %); a
	// negative value refuses a file with any reject.
	MaxRejectRatio float64
	// Progress, when not nil, is called every 65536 lines and at the end
	// with the number of lines read so far.
	Progress func(lines int)
}

// Stats describes a parsed file. Every line is counted in exactly one of
// Blank, Headers, Skipped, Documents (a line of JSON documents or one CSV
// row) and TooLong; the documents of those lines are counted in
// Companies, Units, Rejected (and OtherDocuments).
type Stats struct {
	// Encoding is the file's encoding as ingest decided it.
	Encoding string
	// Layout is LayoutJSON or LayoutCSV ("" for a file without a
	// non-blank line).
	Layout string
	Lines  int
	Blank  int
	// Headers counts a CSV header line.
	Headers int
	// Skipped counts JSON lines without documents (a search response
	// with no hits).
	Skipped int
	// DocumentLines counts the lines holding documents or CSV rows,
	// TooLong the lines over MaxLineBytes (each also a reject).
	DocumentLines, TooLong int
	// OtherDocuments counts documents of another CVR document type
	// (a top-level key starting "Vr", e.g. Vrdeltagerperson): skipped.
	OtherDocuments int
	// Companies and Units count the accepted entries; Protected how many
	// of them carry advertising protection.
	Companies, Units, Protected int
	// Rejected counts rejected documents and rows; Rejects holds the
	// first 100.
	Rejected int
	Rejects  []*LineError
	// Newest is the newest sidstOpdateret or sidstIndlaest timestamp at
	// the top level of an accepted document (UTC); zero when none (a CSV
	// file, or documents without them).
	Newest time.Time
}

// LineError is a rejected line: its number and why, never its content.
// It is the shared ingest.LineError.
type LineError = ingest.LineError

// RejectError refuses a file whose share of rejected documents is above
// the threshold: the shared ingest.RejectError, Considered counting the
// documents and rows judged.
type RejectError = ingest.RejectError

// Reasons for a rejected document or row, found with errors.Is. None
// carries text from the file.
var (
	ErrLineTooLong  = fmt.Errorf("line longer than %d bytes", MaxLineBytes)
	ErrNotJSON      = errors.New("not a JSON document")
	ErrNoDocument   = errors.New("neither a Vrvirksomhed nor a VrproduktionsEnhed document")
	ErrBoth         = errors.New("both a Vrvirksomhed and a VrproduktionsEnhed in one document")
	ErrNoCVR        = errors.New("company document (Vrvirksomhed) without cvrNummer")
	ErrBadCVR       = errors.New("cvrNummer is not a valid CVR number (8 digits, modulus 11)")
	ErrNoPNumber    = errors.New("production-unit document (VrproduktionsEnhed) without pNummer")
	ErrBadPNumber   = errors.New("pNummer is not a 10-digit P-number")
	ErrNoProtection = errors.New("no reklamebeskyttet true or false")
	ErrColumns      = errors.New("fewer columns than the header names")
	ErrCSVNumber    = errors.New("number is neither a valid CVR number (8 digits) nor a P-number (10 digits)")
	ErrCSVFlag      = errors.New("reklamebeskyttet is not ja/nej, true/false or 1/0")
)

// File-level refusals of Parse.
var (
	// ErrNoRecords: not a single company or production unit was accepted.
	ErrNoRecords = errors.New("cvr: no company or production unit in the file")
	// ErrCSVHeader: a CSV header that names no number column (cvr or
	// pnummer) or no reklamebeskyttet column.
	ErrCSVHeader = errors.New("cvr: the CSV header names no cvr or pnummer column, or no reklamebeskyttet column")
)

// Parse reads CVR advertising-protection data from r's current offset and
// calls fn for every accepted company and production unit, in file order
// (the Entry is valid only during the call). The layout is decided once,
// from the first non-blank line: a line starting with "{" or "[" makes
// the file JSON documents, anything else a CSV. Reading goes through
// ingest: the encoding is decided for the whole file, lines are bounded
// by MaxLineBytes, so memory does not grow with the file.
//
// JSON: each line holds one document, bare ({"Vrvirksomhed": {...}}) or
// as a search hit ({"_source": {...}}), or a search response whose
// hits.hits holds such hits, or a JSON array of them. Unknown fields are
// ignored. A company needs cvrNummer (a number or a string of digits)
// and reklamebeskyttet (true or false), a production unit pNummer and
// reklamebeskyttet; otherwise the document is a counted reject naming its
// line (and, inside a response or array, its position).
//
// CSV: separator ";", "," or tab; a header naming a number column (cvr,
// cvrnummer, cvr-nummer; pnummer, p-nummer, pnr) and reklamebeskyttet (or
// reklamebeskyttelse), other columns ignored; or no header and two
// columns, the number (8 digits: a CVR number, 10: a P-number) and the
// flag. Flags: ja/nej, true/false, 1/0, any case.
//
// It returns Stats (filled as far as it got) and nil or: fn's error; an
// *ingest.EncodingError; ErrCSVHeader; ErrNoRecords; a *RejectError when
// the rejects exceed the threshold; a read or seek error of r, wrapped.
func Parse(r io.ReadSeeker, opt Options, fn func(*Entry) error) (Stats, error) {
	var st Stats
	lines, err := ingest.OpenLayout("cvr", r, MaxLineBytes, opt.Progress)
	if err != nil {
		return st, err
	}
	st.Encoding = lines.Encoding().String()
	p := parser{st: &st, fn: fn}
	for lines.Next() {
		st.Lines = lines.Number()
		if lines.TooLong() {
			st.TooLong++
			p.rejects.Add(st.Lines, ErrLineTooLong)
			continue
		}
		line := bytes.TrimSpace(lines.Bytes())
		if len(line) == 0 {
			st.Blank++
			continue
		}
		if st.Layout == "" {
			st.Layout = LayoutCSV
			if line[0] == '{' || line[0] == '[' {
				st.Layout = LayoutJSON
			}
		}
		if st.Layout == LayoutJSON {
			err = p.jsonLine(st.Lines, line)
		} else {
			err = p.csvLine(st.Lines, line)
		}
		if err != nil {
			return st, err
		}
	}
	st.Rejected, st.Rejects = p.rejects.Count(), p.rejects.First()
	if err := lines.Err(); err != nil {
		return st, fmt.Errorf("cvr: %w", err)
	}
	if st.Companies+st.Units == 0 {
		return st, ErrNoRecords
	}
	if err := p.rejects.Check(st.Companies+st.Units+st.Rejected, opt.MaxRejectRatio); err != nil {
		return st, err
	}
	return st, nil
}

// parser is the state of one Parse.
type parser struct {
	st      *Stats
	fn      func(*Entry) error
	rejects ingest.Rejects
	entry   Entry
	owners  []Number
	json    fastjson.Parser

	// CSV layout, decided by the first row.
	csvReady             bool
	sep                  byte
	numCol, pCol, cvrCol int // -1: no such column
	flagCol, cols        int
}

// emit hands an accepted entry to fn and counts it.
func (p *parser) emit(e *Entry) error {
	if e.Kind == KindCompany {
		p.st.Companies++
	} else {
		p.st.Units++
	}
	if e.Protected {
		p.st.Protected++
	}
	return p.fn(e)
}

// jsonLine parses one JSON line (fastjson: validated whole, its values
// reused from line to line); only fn's error is returned.
func (p *parser) jsonLine(n int, line []byte) error {
	p.st.DocumentLines++
	v, err := p.json.ParseBytes(line)
	if err != nil {
		p.rejects.Add(n, ErrNotJSON)
		return nil
	}
	var docs []*fastjson.Value
	switch {
	case v.Type() == fastjson.TypeArray:
		docs, _ = v.Array()
	case v.Type() != fastjson.TypeObject:
		p.rejects.Add(n, ErrNotJSON)
		return nil
	case isResponse(v):
		// A search response: its hits are the documents.
		docs = v.GetArray("hits", "hits")
	default:
		return p.jsonDocument(n, 0, v)
	}
	if len(docs) == 0 {
		p.st.DocumentLines--
		p.st.Skipped++
	}
	for i, d := range docs {
		if err := p.jsonDocument(n, i+1, d); err != nil {
			return err
		}
	}
	return nil
}

// isResponse reports a search response: an object with hits.hits an array
// and no document of its own.
func isResponse(v *fastjson.Value) bool {
	return present(v.Get("hits", "hits")) && v.Get("hits", "hits").Type() == fastjson.TypeArray &&
		!present(v.Get("_source")) && !present(v.Get("Vrvirksomhed")) && !present(v.Get("VrproduktionsEnhed"))
}

// present reports a value that is there and not null.
func present(v *fastjson.Value) bool { return v != nil && v.Type() != fastjson.TypeNull }

// reject records a rejected document: at line n, and when pos > 0 as the
// pos-th of the line's documents.
func (p *parser) reject(n, pos int, reason error) {
	if pos > 0 {
		reason = &posError{pos: pos, err: reason}
	}
	p.rejects.Add(n, reason)
}

// posError names a document's position in its line.
type posError struct {
	pos int
	err error
}

func (e *posError) Error() string { return fmt.Sprintf("document %d: %v", e.pos, e.err) }
func (e *posError) Unwrap() error { return e.err }

// jsonDocument judges one document — bare, or a search hit whose _source
// holds it — and emits its entry.
func (p *parser) jsonDocument(n, pos int, d *fastjson.Value) error {
	if d.Type() != fastjson.TypeObject {
		p.reject(n, pos, ErrNotJSON)
		return nil
	}
	if src := d.Get("_source"); present(src) {
		if src.Type() != fastjson.TypeObject {
			p.reject(n, pos, ErrNotJSON)
			return nil
		}
		d = src
	}
	company, unit := d.Get("Vrvirksomhed"), d.Get("VrproduktionsEnhed")
	hasCompany := present(company) && company.Type() == fastjson.TypeObject
	hasUnit := present(unit) && unit.Type() == fastjson.TypeObject
	switch {
	case hasCompany && hasUnit:
		p.reject(n, pos, ErrBoth)
		return nil
	case !hasCompany && !hasUnit:
		if otherDocument(d) {
			p.st.OtherDocuments++
			return nil
		}
		p.reject(n, pos, ErrNoDocument)
		return nil
	}
	e := &p.entry
	*e = Entry{Line: n}
	ent := company
	if hasCompany {
		e.Kind = KindCompany
		v, ok, there := jsonUint(ent.Get("cvrNummer"))
		if !ok {
			p.reject(n, pos, pick(there, ErrBadCVR, ErrNoCVR))
			return nil
		}
		num, err := NumberOf(v)
		if err != nil {
			p.reject(n, pos, ErrBadCVR)
			return nil
		}
		e.CVR = num
	} else {
		ent, e.Kind = unit, KindUnit
		v, ok, there := jsonUint(ent.Get("pNummer"))
		if !ok {
			p.reject(n, pos, pick(there, ErrBadPNumber, ErrNoPNumber))
			return nil
		}
		pn, err := PNumberOf(v)
		if err != nil {
			p.reject(n, pos, ErrBadPNumber)
			return nil
		}
		e.P = pn
		e.Owners = p.relations(ent.Get("virksomhedsrelation"))
	}
	switch flag := ent.Get("reklamebeskyttet"); {
	case flag == nil:
		p.reject(n, pos, ErrNoProtection)
		return nil
	case flag.Type() == fastjson.TypeTrue:
		e.Protected = true
	case flag.Type() == fastjson.TypeFalse:
	default:
		p.reject(n, pos, ErrNoProtection)
		return nil
	}
	p.newest(ent.Get("sidstOpdateret"))
	p.newest(ent.Get("sidstIndlaest"))
	return p.emit(e)
}

// pick returns bad when the value was there, else absent.
func pick(there bool, bad, absent error) error {
	if there {
		return bad
	}
	return absent
}

// otherDocument reports a document with a top-level key starting with
// "Vr": another CVR document type (Vrdeltagerperson).
func otherDocument(d *fastjson.Value) bool {
	o, err := d.Object()
	if err != nil {
		return false
	}
	other := false
	o.Visit(func(key []byte, _ *fastjson.Value) {
		other = other || bytes.HasPrefix(key, []byte("Vr"))
	})
	return other
}

// relations returns the valid CVR numbers of virksomhedsrelation; a
// relation field of another shape gives none.
func (p *parser) relations(rels *fastjson.Value) []Number {
	p.owners = p.owners[:0]
	if !present(rels) || rels.Type() != fastjson.TypeArray {
		return nil
	}
	arr, _ := rels.Array()
	for _, r := range arr {
		v, ok, _ := jsonUint(r.Get("cvrNummer"))
		if !ok {
			continue
		}
		if num, err := NumberOf(v); err == nil && !containsNumber(p.owners, num) {
			p.owners = append(p.owners, num)
		}
	}
	return p.owners
}

func containsNumber(ns []Number, n Number) bool {
	for _, x := range ns {
		if x == n {
			return true
		}
	}
	return false
}

// jsonUint reads a JSON number written as digits, or a JSON string of
// digits (blanks around allowed). there is false for a missing or null
// value.
func jsonUint(v *fastjson.Value) (n uint64, ok, there bool) {
	if !present(v) {
		return 0, false, false
	}
	var b []byte
	switch v.Type() {
	case fastjson.TypeNumber:
		var buf [24]byte
		b = v.MarshalTo(buf[:0])
	case fastjson.TypeString:
		b = bytes.TrimSpace(v.GetStringBytes())
	default:
		return 0, false, true
	}
	n, ok = parseUint(b)
	return n, ok, true
}

// timestampLayouts are the forms of sidstOpdateret and sidstIndlaest.
var timestampLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.000-0700",
	"2006-01-02T15:04:05-0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05",
	time.DateOnly,
}

// newest keeps the newest timestamp; a value that is no timestamp is
// ignored.
func (p *parser) newest(v *fastjson.Value) {
	if !present(v) || v.Type() != fastjson.TypeString {
		return
	}
	ts := string(v.GetStringBytes())
	for _, l := range timestampLayouts {
		if t, err := time.Parse(l, ts); err == nil {
			t = t.UTC()
			if t.After(p.st.Newest) {
				p.st.Newest = t
			}
			return
		}
	}
}

// Column names of a CSV header (compared in lower case, blanks and
// quotes trimmed).
var (
	cvrColumns  = []string{"cvr", "cvrnummer", "cvr-nummer", "cvr_nummer", "cvrnr"}
	pColumns    = []string{"pnummer", "p-nummer", "p_nummer", "pnr", "p-nr"}
	flagColumns = []string{"reklamebeskyttet", "reklamebeskyttelse"}
)

// csvLine parses one CSV line; only fn's error is returned.
func (p *parser) csvLine(n int, line []byte) error {
	if !p.csvReady {
		p.csvReady = true
		p.sep = ';'
		if bytes.IndexByte(line, ';') < 0 {
			if bytes.IndexByte(line, '\t') >= 0 {
				p.sep = '\t'
			} else {
				p.sep = ','
			}
		}
		first, _, _ := bytes.Cut(line, []byte{p.sep})
		if _, ok := parseUint(csvValue(first)); !ok {
			return p.csvHeader(line)
		}
		// No header: the number, then the flag.
		p.numCol, p.pCol, p.cvrCol, p.flagCol, p.cols = 0, -1, -1, 1, 2
	}
	p.st.DocumentLines++
	var fields [8][]byte
	cells := fields[:0]
	for rest := line; ; {
		cell, after, found := bytes.Cut(rest, []byte{p.sep})
		if len(cells) < len(fields) {
			cells = append(cells, csvValue(cell))
		}
		if !found {
			break
		}
		rest = after
	}
	if len(cells) < p.cols {
		p.rejects.Add(n, ErrColumns)
		return nil
	}
	e := &p.entry
	*e = Entry{Line: n}
	flag, ok := csvFlag(cells[p.flagCol])
	if !ok {
		p.rejects.Add(n, ErrCSVFlag)
		return nil
	}
	e.Protected = flag
	switch {
	case p.numCol >= 0:
		// Headerless: the length tells the kind.
		cell := cells[p.numCol]
		v, ok := parseUint(cell)
		switch {
		case ok && len(cell) == 8:
			num, err := NumberOf(v)
			if err != nil {
				p.rejects.Add(n, ErrCSVNumber)
				return nil
			}
			e.Kind, e.CVR = KindCompany, num
		case ok && len(cell) == 10:
			pn, err := PNumberOf(v)
			if err != nil {
				p.rejects.Add(n, ErrCSVNumber)
				return nil
			}
			e.Kind, e.P = KindUnit, pn
		default:
			p.rejects.Add(n, ErrCSVNumber)
			return nil
		}
	case p.pCol >= 0 && len(cells[p.pCol]) > 0:
		pn, err := ParsePNumber(string(cells[p.pCol]))
		if err != nil {
			p.rejects.Add(n, ErrCSVNumber)
			return nil
		}
		e.Kind, e.P = KindUnit, pn
		if p.cvrCol >= 0 && len(cells[p.cvrCol]) > 0 {
			num, err := ParseNumber(string(cells[p.cvrCol]))
			if err != nil {
				p.rejects.Add(n, ErrCSVNumber)
				return nil
			}
			p.owners = append(p.owners[:0], num)
			e.Owners = p.owners
		}
	case p.cvrCol >= 0:
		num, err := ParseNumber(string(cells[p.cvrCol]))
		if err != nil {
			p.rejects.Add(n, ErrCSVNumber)
			return nil
		}
		e.Kind, e.CVR = KindCompany, num
	default:
		p.rejects.Add(n, ErrCSVNumber)
		return nil
	}
	return p.emit(e)
}

// csvHeader reads the header line; it returns ErrCSVHeader when it lacks
// a number or the flag column.
func (p *parser) csvHeader(line []byte) error {
	p.st.Headers++
	p.numCol, p.pCol, p.cvrCol, p.flagCol = -1, -1, -1, -1
	i := 0
	for rest := line; ; i++ {
		cell, after, found := bytes.Cut(rest, []byte{p.sep})
		name := strings.ToLower(string(csvValue(cell)))
		switch {
		case p.cvrCol < 0 && contains(cvrColumns, name):
			p.cvrCol = i
		case p.pCol < 0 && contains(pColumns, name):
			p.pCol = i
		case p.flagCol < 0 && contains(flagColumns, name):
			p.flagCol = i
		}
		if !found || i == 7 {
			break
		}
		rest = after
	}
	if p.flagCol < 0 || p.cvrCol < 0 && p.pCol < 0 {
		return ErrCSVHeader
	}
	p.cols = max(p.flagCol, p.cvrCol, p.pCol) + 1
	return nil
}

func contains(names []string, s string) bool {
	for _, n := range names {
		if n == s {
			return true
		}
	}
	return false
}

// csvValue trims blanks and one pair of double quotes (and a BOM left by
// an editor) from a cell.
func csvValue(b []byte) []byte {
	b = bytes.TrimPrefix(bytes.TrimSpace(b), []byte("\uFEFF"))
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = bytes.TrimSpace(b[1 : len(b)-1])
	}
	return b
}

// csvFlag reads ja/nej, true/false, 1/0 in any case.
func csvFlag(b []byte) (protected, ok bool) {
	switch strings.ToLower(string(b)) {
	case "ja", "true", "1":
		return true, true
	case "nej", "false", "0":
		return false, true
	}
	return false, false
}
