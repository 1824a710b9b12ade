package cvr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

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

// jsonDoc is what Parse reads of a JSON line: a document, a search hit or
// a search response. Everything else is ignored; values whose type may
// vary are kept raw and judged afterwards, so that one odd field rejects
// one document, not the line.
type jsonDoc struct {
	Source  *jsonDoc    `json:"_source"`
	Hits    *jsonHits   `json:"hits"`
	Company *jsonEntity `json:"Vrvirksomhed"`
	Unit    *jsonEntity `json:"VrproduktionsEnhed"`
}

type jsonHits struct {
	Hits []json.RawMessage `json:"hits"`
}

// jsonEntity holds the fields of a Vrvirksomhed or VrproduktionsEnhed.
type jsonEntity struct {
	CVR       json.RawMessage `json:"cvrNummer"`
	P         json.RawMessage `json:"pNummer"`
	Protected json.RawMessage `json:"reklamebeskyttet"`
	Updated   json.RawMessage `json:"sidstOpdateret"`
	Read      json.RawMessage `json:"sidstIndlaest"`
	Relations json.RawMessage `json:"virksomhedsrelation"`
}

// jsonLine parses one JSON line; only fn's error is returned.
func (p *parser) jsonLine(n int, line []byte) error {
	p.st.DocumentLines++
	if line[0] == '[' {
		var elems []json.RawMessage
		if err := json.Unmarshal(line, &elems); err != nil {
			p.rejects.Add(n, ErrNotJSON)
			return nil
		}
		if len(elems) == 0 {
			p.st.DocumentLines--
			p.st.Skipped++
		}
		for i, el := range elems {
			if err := p.jsonRaw(n, i+1, el); err != nil {
				return err
			}
		}
		return nil
	}
	var d jsonDoc
	if err := json.Unmarshal(line, &d); err != nil {
		p.rejects.Add(n, ErrNotJSON)
		return nil
	}
	if d.Hits != nil && d.Source == nil && d.Company == nil && d.Unit == nil {
		// A search response: its hits are the documents.
		if len(d.Hits.Hits) == 0 {
			p.st.DocumentLines--
			p.st.Skipped++
		}
		for i, h := range d.Hits.Hits {
			if err := p.jsonRaw(n, i+1, h); err != nil {
				return err
			}
		}
		return nil
	}
	return p.jsonDocument(n, 0, &d, line)
}

// jsonRaw parses the pos-th document of an array or a response's hits.
func (p *parser) jsonRaw(n, pos int, raw json.RawMessage) error {
	var d jsonDoc
	if err := json.Unmarshal(raw, &d); err != nil {
		p.reject(n, pos, ErrNotJSON)
		return nil
	}
	return p.jsonDocument(n, pos, &d, raw)
}

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

// jsonDocument judges one document (a hit's _source, or the document
// itself) and emits its entry.
func (p *parser) jsonDocument(n, pos int, d *jsonDoc, raw []byte) error {
	if d.Source != nil {
		d = d.Source
	}
	switch {
	case d.Company != nil && d.Unit != nil:
		p.reject(n, pos, ErrBoth)
		return nil
	case d.Company == nil && d.Unit == nil:
		if otherDocument(raw) {
			p.st.OtherDocuments++
			return nil
		}
		p.reject(n, pos, ErrNoDocument)
		return nil
	}
	e := &p.entry
	*e = Entry{Line: n}
	var ent *jsonEntity
	if d.Company != nil {
		ent, e.Kind = d.Company, KindCompany
		v, ok := rawUint(ent.CVR)
		if !ok {
			p.reject(n, pos, missing(ent.CVR, ErrNoCVR, ErrBadCVR))
			return nil
		}
		num, err := NumberOf(v)
		if err != nil {
			p.reject(n, pos, ErrBadCVR)
			return nil
		}
		e.CVR = num
	} else {
		ent, e.Kind = d.Unit, KindUnit
		v, ok := rawUint(ent.P)
		if !ok {
			p.reject(n, pos, missing(ent.P, ErrNoPNumber, ErrBadPNumber))
			return nil
		}
		pn, err := PNumberOf(v)
		if err != nil {
			p.reject(n, pos, ErrBadPNumber)
			return nil
		}
		e.P = pn
		e.Owners = p.relations(ent.Relations)
	}
	switch string(ent.Protected) {
	case "true":
		e.Protected = true
	case "false":
	default:
		p.reject(n, pos, ErrNoProtection)
		return nil
	}
	p.newest(ent.Updated)
	p.newest(ent.Read)
	return p.emit(e)
}

// missing returns absent when raw holds no value (missing or null), else
// bad.
func missing(raw json.RawMessage, absent, bad error) error {
	if len(raw) == 0 || string(raw) == "null" {
		return absent
	}
	return bad
}

// otherDocument reports whether the document raw (bare, or a hit with
// _source) has a top-level key starting with "Vr": another CVR document
// type. It decodes the keys again, which only documents that are neither
// a company nor a production unit pay for.
func otherDocument(raw []byte) bool {
	if raw == nil {
		return false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	if src, ok := m["_source"]; ok {
		m = nil
		if json.Unmarshal(src, &m) != nil {
			return false
		}
	}
	for k := range m {
		if strings.HasPrefix(k, "Vr") {
			return true
		}
	}
	return false
}

// relations returns the valid CVR numbers of virksomhedsrelation; a
// relation field of another shape gives none.
func (p *parser) relations(raw json.RawMessage) []Number {
	if len(raw) == 0 || raw[0] != '[' {
		return nil
	}
	var rels []struct {
		CVR json.RawMessage `json:"cvrNummer"`
	}
	if json.Unmarshal(raw, &rels) != nil {
		return nil
	}
	p.owners = p.owners[:0]
	for _, r := range rels {
		v, ok := rawUint(r.CVR)
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

// rawUint reads a JSON number or a JSON string of digits.
func rawUint(raw json.RawMessage) (uint64, bool) {
	b := []byte(raw)
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = bytes.TrimSpace(b[1 : len(b)-1])
	}
	return parseUint(b)
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
func (p *parser) newest(raw json.RawMessage) {
	var s string
	if len(raw) < 2 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return
	}
	for _, l := range timestampLayouts {
		if t, err := time.Parse(l, s); err == nil {
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
