package cprcheck

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/robinscreen/robinscreen/ingest"
)

// ProtectionType is the 4-digit protection type of a 015 record.
type ProtectionType string

// Protection types of a 015 record. Other 4-digit values are accepted and
// kept as they are.
const (
	ProtectionNameAddress    ProtectionType = "0001" // name-and-address protection
	ProtectionLocalDirectory ProtectionType = "0002" // local-directory protection
	ProtectionMarketing      ProtectionType = "0003" // marketing protection (the Robinson marking)
	ProtectionResearch       ProtectionType = "0004" // research protection
)

// Status is the two-digit person status of a 001 record. Any two digits are
// accepted; the known values are 01/03/05/07 (active), 20, 30 (annulled),
// 50 (deleted), 60 (changed personal number), 70 (disappeared),
// 80 (emigrated) and 90 (deceased).
type Status string

// StatusDeceased is the status of a deceased person.
const StatusDeceased Status = "90"

// Deceased reports whether s is [StatusDeceased].
func (s Status) Deceased() bool { return s == StatusDeceased }

// Protection is one 015 protection record.
type Protection struct {
	Type       ProtectionType
	Authority  string    // authority code (4 bytes, blanks trimmed)
	Registered time.Time // registration timestamp (UTC); zero when blank
	Start      time.Time // start date, midnight UTC
	End        time.Time // end date, midnight UTC; zero = open-ended
}

// ActiveOn reports whether p is active on the calendar date of d (taken in
// d's own location): Start <= date and (End is zero or date < End). The end
// date itself is not active. Times of day are ignored.
func (p Protection) ActiveOn(d time.Time) bool {
	day := dayKey(d)
	if day < dayKey(p.Start) {
		return false
	}
	return p.End.IsZero() || day < dayKey(p.End)
}

func dayKey(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

// EntryKind tells which record an [Entry] comes from.
type EntryKind uint8

// Entry kinds. The zero EntryKind is not used.
const (
	EntryPerson     EntryKind = iota + 1 // a 001 person record; Entry.Status is set
	EntryProtection                      // a 015 protection record; Entry.Protection is set
)

// String returns "person", "protection" or "EntryKind(n)".
func (k EntryKind) String() string {
	switch k {
	case EntryPerson:
		return "person"
	case EntryProtection:
		return "protection"
	}
	return fmt.Sprintf("EntryKind(%d)", uint8(k))
}

// Entry is one accepted person or protection line of an extract.
type Entry struct {
	Line       int // 1-based line number in the extract
	Kind       EntryKind
	Number     Number
	Status     Status     // EntryPerson only
	Protection Protection // EntryProtection only
}

// RecordKind classifies an extract line, as returned by [ParseExtractLine].
type RecordKind uint8

// Record kinds.
const (
	RecordBlank      RecordKind = iota // empty or only blanks
	RecordStart                        // 000 start record
	RecordPerson                       // 001 person record
	RecordProtection                   // 015 protection record
	RecordEnd                          // 999 end record
	RecordOther                        // any other 3-digit record type: skipped
	RecordInvalid                      // does not begin with a 3-digit record type
)

// String returns the record kind's name.
func (k RecordKind) String() string {
	switch k {
	case RecordBlank:
		return "blank"
	case RecordStart:
		return "start"
	case RecordPerson:
		return "person"
	case RecordProtection:
		return "protection"
	case RecordEnd:
		return "end"
	case RecordOther:
		return "other"
	case RecordInvalid:
		return "invalid"
	}
	return fmt.Sprintf("RecordKind(%d)", uint8(k))
}

// Record is one classified extract line.
type Record struct {
	Kind           RecordKind
	Entry          Entry     // RecordPerson, RecordProtection
	ProductionDate time.Time // RecordStart: production date, midnight UTC
}

// Line-level reasons, found with errors.Is in [LineError.Err]. Their text
// never contains line content.
var (
	ErrRecordType     = errors.New("line does not begin with a 3-digit record type")
	ErrShortLine      = errors.New("line too short for its record type")
	ErrNumber         = errors.New("invalid personal number")
	ErrStatus         = errors.New("status not 2 digits")
	ErrProtectionType = errors.New("protection type not 4 digits")
	ErrBadDate        = errors.New("not a real date in 1900-9999")
	ErrDuplicateStart = errors.New("second 000 start record")
	ErrAfterEnd       = errors.New("data after the 999 end record")
	ErrLineTooLong    = fmt.Errorf("line longer than %d bytes", ingest.DefaultMaxLineBytes)
)

// Field-specific wrappers, preallocated.
var (
	errProductionDate = fmt.Errorf("production date (yyyymmdd at position 10): %w", ErrBadDate)
	errRegistered     = fmt.Errorf("registration timestamp (yyyymmddHHMM at position 22): %w", ErrBadDate)
	errStartDate      = fmt.Errorf("start date (yyyy-mm-dd at position 34): %w", ErrBadDate)
	errEndDate        = fmt.Errorf("end date (yyyy-mm-dd or blank at position 47): %w", ErrBadDate)
	errNumberFormat   = fmt.Errorf("%w (position 4): %w", ErrNumber, ErrFormat)
	errNumberDate     = fmt.Errorf("%w (position 4): %w", ErrNumber, ErrDate)
)

// LineError is a rejected extract line: its 1-based number and the reason.
// It never contains the line's content. It is the shared ingest.LineError.
type LineError = ingest.LineError

// File-level errors of [ParseExtract]. They are wrapped with %w together with
// line numbers.
var (
	ErrEmpty          = errors.New("cprcheck: empty extract")
	ErrTruncated      = errors.New("cprcheck: truncated extract (no 999 end record)")
	ErrNoStart        = errors.New("cprcheck: no production date (no valid 000 start record and no override)")
	ErrTooManyRejects = ingest.ErrTooManyRejects
	// ErrCounter: the 999 record's counter does not match the records in
	// the extract (a *CounterError).
	ErrCounter = errors.New("cprcheck: 999 record counter does not match the extract")
)

// CounterError refuses an extract whose 999 end record holds a counter
// (Tæller, position 27, length 8) that is not a number or does not equal
// the records in the extract: lines were lost or added. It never holds
// line content. errors.Is(err, ErrCounter) holds.
type CounterError struct {
	Line      int  // the 999 record's line number
	NotNumber bool // the counter field is neither blank nor digits
	Counter   int  // the counter's value (when NotNumber is false)
	// Between counts the records (non-blank lines) between the 000 and the
	// 999 record; WithEnds counts those two as well. The counter must equal
	// one of them.
	Between, WithEnds int
}

func (e *CounterError) Error() string {
	if e.NotNumber {
		return fmt.Sprintf("cprcheck: the 999 record counter (line %d, position 27, length 8) is neither blank nor a number; the extract holds %d records between 000 and 999 (%d with them)",
			e.Line, e.Between, e.WithEnds)
	}
	return fmt.Sprintf("cprcheck: the 999 record counter (line %d, position 27) says %d records, but the extract holds %d records between 000 and 999 (%d with them): lines were lost or added",
		e.Line, e.Counter, e.Between, e.WithEnds)
}

// Is makes errors.Is(err, ErrCounter) hold.
func (e *CounterError) Is(target error) bool { return target == ErrCounter }

// Position of the 999 record's counter (Tæller): 1-based position 27,
// length 8.
const (
	counterPos = 27
	counterLen = 8
)

// endCounter reads the counter field of a 999 line (without its line end).
// A field that is missing (the line ends before it) or blank is not set;
// digits, possibly padded with blanks, give the value; anything else is
// bad.
func endCounter(line []byte) (n int, set, bad bool) {
	if len(line) < counterPos {
		return 0, false, false
	}
	f := bytes.Trim(line[counterPos-1:min(len(line), counterPos-1+counterLen)], " \t")
	if len(f) == 0 {
		return 0, false, false
	}
	if !allDigits(f) {
		return 0, false, true
	}
	for _, c := range f {
		n = n*10 + int(c-'0')
	}
	return n, true, false
}

// RejectError refuses an extract whose rejected lines exceed the threshold.
// It is the shared refusal of every dataset, ingest.RejectError: Considered
// counts the accepted person and protection lines plus the rejected lines,
// Threshold is the effective ExtractOptions.MaxRejectRatio, and
// errors.Is(err, ErrTooManyRejects) holds.
type RejectError = ingest.RejectError

// DefaultMaxRejectRatio is the reject threshold used when
// ExtractOptions.MaxRejectRatio is 0.
const DefaultMaxRejectRatio = ingest.DefaultMaxRejectRatio

// MaxRecordedRejects is how many rejected lines ExtractStats.Rejects keeps.
const MaxRecordedRejects = ingest.DefaultKeepRejects

// ProgressInterval is how often (in lines) ExtractOptions.Progress is called.
const ProgressInterval = ingest.DefaultProgressEvery

// ExtractOptions configures [ParseExtract].
type ExtractOptions struct {
	// MaxRejectRatio is the largest accepted share of rejected lines among
	// person, protection and rejected lines. 0 means DefaultMaxRejectRatio
	// (0.1 %); a negative value means no rejected line is tolerated.
	MaxRejectRatio float64
	// ProductionDate overrides the 000 record's production date when not
	// zero. With an override, a missing or malformed 000 record is not an
	// error and not a rejected line.
	ProductionDate time.Time
	// Progress, when set, is called with the number of lines read every
	// ProgressInterval lines and once at the end of input (unless that
	// count was just reported).
	Progress func(lines int)
}

// ExtractStats describes a parsed extract.
type ExtractStats struct {
	ProductionDate time.Time    // the override, or the 000 record's date
	Lines          int          // all lines read, including blank ones
	Persons        int          // accepted 001 lines
	Protections    int          // accepted 015 lines
	Skipped        int          // lines of other record types
	Blank          int          // empty or all-blank lines
	Rejected       int          // rejected lines (including lines after 999)
	Rejects        []*LineError // the first MaxRecordedRejects rejected lines
}

// ParseExtract reads a CPR extract from r and calls emit (which may be nil)
// for every accepted person (001) and protection (015) line, in file order.
// Other record types are skipped; malformed person/protection lines, a
// malformed or second 000 line, lines not starting with a 3-digit record
// type, lines longer than ingest.DefaultMaxLineBytes and non-blank lines
// after 999 are rejected (counted and listed in ExtractStats.Rejects, never
// emitted).
//
// Like every CPR file, the extract is ISO 8859-1, or UTF-8 when all of it
// is valid UTF-8 (a BOM is stripped): r is read once to decide that for
// the whole file (ingest.Open), then sought back to where it was and
// parsed. Positions count characters, so a line re-saved as UTF-8 keeps
// its fields in place.
//
// The stats are returned in every case. The error is
//   - an *ingest.EncodingError (errors.Is ingest.ErrDamagedEncoding) when
//     the extract is partly UTF-8 and partly not, before any line is parsed;
//   - a read or seek error of r, wrapped (with the line number while
//     parsing);
//   - an error returned by emit, wrapped with the line number (reading stops);
//   - [ErrEmpty] when the input holds no non-blank line;
//   - [ErrTruncated] when there is no 999 end record (wrapped with the last
//     line number);
//   - a [*CounterError] (errors.Is [ErrCounter]) when the 999 record's
//     counter (position 27, length 8) holds digits that equal neither the
//     records between 000 and 999 nor those plus the two, or holds
//     something else than digits or blanks (a blank counter is not checked);
//   - [ErrNoStart] when there is no valid 000 record and no override;
//   - a [*RejectError] when the reject ratio exceeds the threshold.
//
// The last three are decided after the whole input was read, so emit has
// already seen the entries: stage them and discard them on error.
func ParseExtract(r io.ReadSeeker, opt ExtractOptions, emit func(Entry) error) (ExtractStats, error) {
	var st ExtractStats
	override := !opt.ProductionDate.IsZero()
	if override {
		st.ProductionDate = opt.ProductionDate
	}
	lines, err := ingest.OpenLayout("cprcheck", r, 0, opt.Progress)
	if err != nil {
		return st, err
	}

	var (
		rejects  ingest.Rejects
		pos      []byte // a non-ASCII line, one byte per character
		nonBlank int
		sawStart bool
		sawEnd   bool
		in       = make(interner)
		// For the 999 counter: non-blank lines before the 999 record,
		// whether a 000 record was among them, and the counter.
		records  int
		startRec bool
		counter  *CounterError
	)
	reject := func(le *LineError) {
		rejects.Add(le.Line, le)
		st.Rejected, st.Rejects = rejects.Count(), rejects.First()
	}
	for lines.Next() {
		lineNo := lines.Number()
		st.Lines = lineNo
		var (
			rec  Record
			lerr *LineError
			line []byte
		)
		if lines.TooLong() {
			rec, lerr = Record{Kind: RecordInvalid}, &LineError{Line: lineNo, Err: ErrLineTooLong}
		} else {
			line = lines.Bytes()
			if !lines.ASCII() {
				pos = positional(pos[:0], line)
				line = pos
			}
			rec, lerr = parseLine(line, lineNo, in)
		}
		if rec.Kind == RecordBlank {
			st.Blank++
			continue
		}
		nonBlank++
		if !sawEnd && rec.Kind != RecordEnd {
			records++
			if rec.Kind == RecordStart && !startRec {
				startRec = true
			}
		}
		switch {
		case sawEnd:
			reject(&LineError{Line: lineNo, Err: ErrAfterEnd})
		case rec.Kind == RecordStart && override:
			sawStart = true // operator override wins; the record is not checked
		case lerr != nil:
			reject(lerr)
		default:
			switch rec.Kind {
			case RecordStart:
				if sawStart {
					reject(&LineError{Line: lineNo, Err: ErrDuplicateStart})
					break
				}
				sawStart = true
				st.ProductionDate = rec.ProductionDate
			case RecordEnd:
				sawEnd = true
				if n, set, bad := endCounter(trimEOL(line)); set || bad {
					counter = &CounterError{Line: lineNo, NotNumber: bad, Counter: n}
				}
			case RecordOther:
				st.Skipped++
			case RecordPerson, RecordProtection:
				if rec.Kind == RecordPerson {
					st.Persons++
				} else {
					st.Protections++
				}
				if emit != nil {
					if eerr := emit(rec.Entry); eerr != nil {
						return st, fmt.Errorf("cprcheck: line %d: %w", lineNo, eerr)
					}
				}
			}
		}
	}
	if err := lines.Err(); err != nil {
		return st, fmt.Errorf("cprcheck: %w", err)
	}

	switch {
	case nonBlank == 0:
		return st, ErrEmpty
	case !sawEnd:
		return st, fmt.Errorf("%w: input ends after line %d", ErrTruncated, st.Lines)
	}
	if counter != nil {
		counter.Between = records
		if startRec {
			counter.Between--
		}
		counter.WithEnds = records + 1
		if counter.NotNumber || (counter.Counter != counter.Between && counter.Counter != counter.WithEnds) {
			return st, counter
		}
	}
	if !override && st.ProductionDate.IsZero() {
		return st, ErrNoStart
	}
	if err := rejects.Check(st.Persons+st.Protections+st.Rejected, opt.MaxRejectRatio); err != nil {
		return st, err
	}
	return st, nil
}

// positional appends line (valid UTF-8) to dst with every non-ASCII
// character replaced by one SUB byte (0x1A), so that byte offsets are the
// layout's character positions. The fields this layout reads are ASCII, so
// a replaced character in one makes it invalid, as the original did.
func positional(dst, line []byte) []byte {
	for i := 0; i < len(line); {
		if c := line[i]; c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		_, size := utf8.DecodeRune(line[i:])
		dst = append(dst, 0x1A)
		i += size
	}
	return dst
}

// ParseExtractLine classifies and parses one extract line (a trailing LF or
// CRLF is ignored). lineNo is stored in the Entry and in the error.
//
// Blank lines give RecordBlank; 999 gives RecordEnd; other unknown 3-digit
// types give RecordOther, all without error. For 000, 001 and 015 lines the
// fields are validated; on failure the Record still carries the Kind and the
// error is a *LineError whose Err wraps one of [ErrRecordType] (Kind
// RecordInvalid), [ErrShortLine], [ErrNumber] (and [ErrFormat] or [ErrDate]),
// [ErrStatus], [ErrProtectionType] or [ErrBadDate].
func ParseExtractLine(line []byte, lineNo int) (Record, error) {
	rec, lerr := parseLine(line, lineNo, nil)
	if lerr != nil {
		return rec, lerr
	}
	return rec, nil
}

// interner deduplicates short strings (authority codes) across lines.
type interner map[string]string

func (in interner) str(b []byte) string {
	if in == nil {
		return string(b)
	}
	if s, ok := in[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in) < 4096 {
		in[s] = s
	}
	return s
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// trimEOL drops a trailing LF or CRLF.
func trimEOL(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}

func parseLine(line []byte, lineNo int, in interner) (Record, *LineError) {
	line = trimEOL(line)
	if isBlank(line) {
		return Record{Kind: RecordBlank}, nil
	}
	fail := func(kind RecordKind, err error) (Record, *LineError) {
		return Record{Kind: kind}, &LineError{Line: lineNo, Err: err}
	}
	if len(line) < 3 || !allDigits(line[:3]) {
		return fail(RecordInvalid, ErrRecordType)
	}
	switch string(line[:3]) {
	case "000":
		if len(line) < 17 {
			return fail(RecordStart, ErrShortLine)
		}
		d, ok := parseYYYYMMDD(line[9:17])
		if !ok {
			return fail(RecordStart, errProductionDate)
		}
		return Record{Kind: RecordStart, ProductionDate: d}, nil
	case "999":
		return Record{Kind: RecordEnd}, nil
	case "001":
		if len(line) < 37 {
			return fail(RecordPerson, ErrShortLine)
		}
		num, err := numberField(line)
		if err != nil {
			return fail(RecordPerson, err)
		}
		st := line[35:37]
		if !allDigits(st) {
			return fail(RecordPerson, ErrStatus)
		}
		i := d2(st[0], st[1])
		return Record{Kind: RecordPerson, Entry: Entry{
			Line: lineNo, Kind: EntryPerson, Number: num,
			Status: Status(statusTable[2*i : 2*i+2]),
		}}, nil
	case "015":
		return parseProtection(line, lineNo, in)
	}
	return Record{Kind: RecordOther}, nil
}

// statusTable holds "00".."99" so statuses are substrings, not allocations.
var statusTable = func() string {
	b := make([]byte, 0, 200)
	for i := 0; i < 100; i++ {
		b = append(b, byte('0'+i/10), byte('0'+i%10))
	}
	return string(b)
}()

func numberField(line []byte) (Number, error) {
	num, err := parseField(line[3:13])
	switch err {
	case nil:
		return num, nil
	case errParseDate:
		return Number{}, errNumberDate
	default:
		return Number{}, errNumberFormat
	}
}

func parseProtection(line []byte, lineNo int, in interner) (Record, *LineError) {
	fail := func(err error) (Record, *LineError) {
		return Record{Kind: RecordProtection}, &LineError{Line: lineNo, Err: err}
	}
	if len(line) < 43 {
		return fail(ErrShortLine)
	}
	num, err := numberField(line)
	if err != nil {
		return fail(err)
	}
	var p Protection
	pt := line[13:17]
	if !allDigits(pt) {
		return fail(ErrProtectionType)
	}
	switch ProtectionType(pt) {
	case ProtectionNameAddress:
		p.Type = ProtectionNameAddress
	case ProtectionLocalDirectory:
		p.Type = ProtectionLocalDirectory
	case ProtectionMarketing:
		p.Type = ProtectionMarketing
	case ProtectionResearch:
		p.Type = ProtectionResearch
	default:
		p.Type = ProtectionType(pt)
	}
	if auth := bytes.Trim(line[17:21], " \t"); len(auth) > 0 {
		p.Authority = in.str(auth)
	}
	if reg := line[21:33]; !isBlank(reg) {
		t, ok := parseStamp(reg)
		if !ok {
			return fail(errRegistered)
		}
		p.Registered = t
	}
	var ok bool
	if p.Start, ok = parseISODate(line[33:43]); !ok {
		return fail(errStartDate)
	}
	if len(line) > 46 {
		end := line[46:min(len(line), 56)]
		if !isBlank(end) {
			if p.End, ok = parseISODate(end); !ok {
				return fail(errEndDate)
			}
		}
	}
	return Record{Kind: RecordProtection, Entry: Entry{
		Line: lineNo, Kind: EntryProtection, Number: num, Protection: p,
	}}, nil
}

func num4(b []byte) int {
	return int(b[0]-'0')*1000 + int(b[1]-'0')*100 + int(b[2]-'0')*10 + int(b[3]-'0')
}

// minYear is the earliest year accepted in extract dates. CPR dates from
// 1968; the floor also keeps a parsed date from being the zero time.Time,
// which would turn an end date into "open".
const minYear = 1900

func validYMD(y, m, d int) bool {
	return y >= minYear && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m)
}

// parseYYYYMMDD parses exactly 8 digits yyyymmdd.
func parseYYYYMMDD(b []byte) (time.Time, bool) {
	if len(b) != 8 || !allDigits(b) {
		return time.Time{}, false
	}
	y, m, d := num4(b), d2(b[4], b[5]), d2(b[6], b[7])
	if !validYMD(y, m, d) {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), true
}

// parseISODate parses exactly yyyy-mm-dd.
func parseISODate(b []byte) (time.Time, bool) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' ||
		!allDigits(b[:4]) || !allDigits(b[5:7]) || !allDigits(b[8:10]) {
		return time.Time{}, false
	}
	y, m, d := num4(b), d2(b[5], b[6]), d2(b[8], b[9])
	if !validYMD(y, m, d) {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), true
}

// parseStamp parses exactly yyyymmddHHMM.
func parseStamp(b []byte) (time.Time, bool) {
	if len(b) != 12 || !allDigits(b) {
		return time.Time{}, false
	}
	y, m, d := num4(b), d2(b[4], b[5]), d2(b[6], b[7])
	hh, mm := d2(b[8], b[9]), d2(b[10], b[11])
	if !validYMD(y, m, d) || hh > 23 || mm > 59 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(m), d, hh, mm, 0, 0, time.UTC), true
}
