package robinson

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/robinscreen/robinscreen/ingest"
)

// Encoding names reported in Stats.Encoding.
const (
	EncodingLatin1 = "ISO-8859-1" // ingest.Latin1.String()
	EncodingUTF8   = "UTF-8"      // ingest.UTF8.String()
)

// DefaultMaxRejectRatio is the reject threshold used when
// Options.MaxRejectRatio is zero: 0.1 % of the data lines.
const DefaultMaxRejectRatio = ingest.DefaultMaxRejectRatio

// MaxLineBytes is the longest physical line Parse accepts. A published line
// is 162 bytes; a longer line than this is a reject (or a header line when
// it comes before the first data record) and is never held in memory whole.
const MaxLineBytes = ingest.DefaultMaxLineBytes

const (
	fileProgressEvery = ingest.DefaultProgressEvery // lines between Progress calls
	fileMinDateYear   = 1900
	fileMaxDateYear   = 2999
)

// Errors returned by Parse for a file that is refused as a whole.
var (
	// ErrEmpty is returned for a file with no bytes or only blank lines.
	ErrEmpty = errors.New("robinson: empty file")
	// ErrNoRecords is returned for a file whose non-blank lines are all
	// header lines: not a single line is a valid data record.
	ErrNoRecords = errors.New("robinson: no data records in the file")
	// ErrNoPublicationDate is returned when the header lines hold no date
	// and Options.Published is zero.
	ErrNoPublicationDate = errors.New("robinson: no publication date in the header and none given by the operator")
)

// Reasons for rejecting a data line. They never contain text from the line.
var (
	errLineTooFewFields  = errors.New("too few '#'-separated fields")
	errLineTooManyFields = errors.New("too many '#'-separated fields")
	errLineNameBlank     = errors.New("name is blank")
	errLineNameNoComma   = errors.New("name has no comma")
	errLineNameNoSurname = errors.New("name has no surname")
	errLinePostcode      = errors.New("postcode not 4 digits")
	errLineNoStreet      = errors.New("no street in Standardadresse")
	errLineNoHouseNumber = errors.New("no house number in Husnummer or Standardadresse")
	//lint:ignore ST1005 the message starts with the CPR field name, written as CPR writes it
	errLineBadHouseNumber = errors.New("Husnummer not a house number and none in Standardadresse")
	//lint:ignore ST1005 the message starts with the CPR field name, written as CPR writes it
	errLineKommunekode = errors.New("Kommunekode not 1-4 digits")
	//lint:ignore ST1005 the message starts with the CPR field name, written as CPR writes it
	errLineVejkode = errors.New("Vejkode not 1-4 digits")
	errLineTooLong = fmt.Errorf("line longer than %d bytes", MaxLineBytes)
)

// Options controls Parse.
type Options struct {
	// Published overrides the publication date found in the header. Zero
	// means: take it from the header.
	Published time.Time
	// MaxRejectRatio is the largest accepted share of rejected data lines,
	// rejected / (accepted + rejected). Zero means DefaultMaxRejectRatio
	// (0.1 %); a negative value refuses a file with any rejected line.
	MaxRejectRatio float64
	// Progress, when not nil, is called every 65536 lines and once at the
	// end of the file with the number of lines read so far.
	Progress func(lines int)
}

// Stats describes a parsed file. Every physical line is counted in exactly
// one of HeaderLines, Blank, Records and Rejected, except the line at which
// Parse stopped early (emit error, ErrNoPublicationDate).
type Stats struct {
	// Encoding is EncodingLatin1 or EncodingUTF8.
	Encoding string
	// Published is the publication date used: Options.Published when set,
	// else the first date in the header (midnight UTC of that day).
	Published time.Time
	// PublishedFromHeader reports that Published came from the header.
	PublishedFromHeader bool
	// HeaderPublished is the first date found in the header, zero if none,
	// also when Options.Published overrides it.
	HeaderPublished time.Time
	// HeaderLines counts the non-blank lines before the first data record.
	HeaderLines int
	// Lines counts the physical lines read.
	Lines int
	// Blank counts the lines that are empty after trimming blanks.
	Blank int
	// Records counts the accepted data records: Current + Previous.
	Records int
	// Current counts the records of a current address.
	Current int
	// Previous counts the records of a previous address ("*").
	Previous int
	// Rejected counts the data lines that failed to parse.
	Rejected int
	// Rejects holds the first 100 rejected lines in file order.
	Rejects []*LineError
}

// LineError reports a rejected line: its 1-based physical line number and
// the reason, which never contains text from the line. It is the shared
// ingest.LineError.
type LineError = ingest.LineError

// RejectError is returned by Parse when the share of rejected data lines is
// above the threshold; the file must then be refused as a whole. It is the
// shared refusal of every dataset, ingest.RejectError: Considered counts
// the data lines (accepted + rejected), First holds the first rejected
// lines (at most 100) in file order, and errors.Is(err,
// ingest.ErrTooManyRejects) holds.
type RejectError = ingest.RejectError

// fileHiddenError carries another error for errors.Is/As but prints only msg,
// so that text from the parsed line never reaches an error message.
type fileHiddenError struct {
	msg string
	err error
}

func (e *fileHiddenError) Error() string { return e.msg }
func (e *fileHiddenError) Unwrap() error { return e.err }

// Parse reads a Robinson list file and calls emit for every accepted data
// record, in file order. emit may be nil.
//
// The file is read twice (ingest.Open): a first pass decides the encoding
// for the whole file (UTF-8 when all of it is valid UTF-8, a leading BOM
// stripped; ISO 8859-1 when it holds no UTF-8 sequence; otherwise it is
// refused), then r is sought back to where it was and parsed line by line.
// Lines before the first valid data record are header lines; the first
// date in them (dd.mm.yyyy, dd-mm-yyyy, yyyy-mm-dd or ddmmyyyy) is the
// publication date unless opt.Published is set. After the first record
// every non-blank line that is not a valid record is rejected.
//
// Parse returns Stats filled as far as it got and one of:
//   - nil: the file is accepted;
//   - *ingest.EncodingError (errors.Is ingest.ErrDamagedEncoding) for a
//     file that is partly UTF-8 and partly not, before any line is parsed;
//   - ErrEmpty, ErrNoRecords, ErrNoPublicationDate (the latter wrapped, and
//     returned at the first data record before emit is called);
//   - *RejectError when the reject ratio exceeds the threshold, after the
//     whole file was read and all accepted records were emitted;
//   - an error wrapping the error of emit, naming the line;
//   - an error wrapping a read or seek error of r.
//
// Because records are emitted while the file streams, a caller must load
// them transactionally and discard them unless Parse returns nil.
func Parse(r io.ReadSeeker, opt Options, emit func(*Record) error) (Stats, error) {
	var st Stats
	lines, err := ingest.OpenLayout("robinson", r, MaxLineBytes, opt.Progress)
	if err != nil {
		return st, err
	}
	st.Encoding = lines.Encoding().String()

	// Reading, parsing and emitting overlap: this goroutine reads the
	// lines into batches, parseWorkers goroutines parse the batches, and
	// the records are taken in file order below, so that every count,
	// reject, header line and call of emit is exactly what a line-by-line
	// pass gives.
	p := startParsePipeline(lines)
	defer p.stop()

	var rejects ingest.Rejects
	started := false
	for b := range p.batches() {
		for i := range b.lines {
			pl := &b.lines[i]
			st.Lines++
			lineNo := pl.no
			rec, perr := pl.rec, pl.err
			if pl.blank {
				st.Blank++
				continue
			}
			if !started && perr != nil && !pl.tooLong && st.HeaderPublished.IsZero() {
				if d, ok := fileFindDate(pl.text); ok {
					st.HeaderPublished = d
				}
			}

			if !started {
				if perr != nil {
					st.HeaderLines++
					continue
				}
				started = true
				switch {
				case !opt.Published.IsZero():
					st.Published = opt.Published
				case !st.HeaderPublished.IsZero():
					st.Published = st.HeaderPublished
					st.PublishedFromHeader = true
				default:
					return st, fmt.Errorf("%w (%d header lines before the first data record at line %d)",
						ErrNoPublicationDate, st.HeaderLines, lineNo)
				}
			}

			if perr != nil {
				rejects.Add(lineNo, perr)
				st.Rejected, st.Rejects = rejects.Count(), rejects.First()
				continue
			}
			st.Records++
			if rec.Previous {
				st.Previous++
			} else {
				st.Current++
			}
			if emit != nil {
				if err := emit(rec); err != nil {
					return st, fmt.Errorf("robinson: line %d: emit: %w", lineNo, err)
				}
			}
		}
		p.release(b)
	}
	if err := p.err(); err != nil {
		return st, fmt.Errorf("robinson: %w", err)
	}

	if st.Lines == st.Blank {
		return st, ErrEmpty
	}
	if !started {
		return st, fmt.Errorf("%w (%d header lines)", ErrNoRecords, st.HeaderLines)
	}
	if err := rejects.Check(st.Records+st.Rejected, opt.MaxRejectRatio); err != nil {
		return st, err
	}
	return st, nil
}

// ParseLine parses one decoded (UTF-8) data line of the list. A trailing
// "\r" is tolerated. On failure it returns a *LineError naming lineNo and a
// reason that never contains text from the line.
//
// Fields are separated by '#' and mapped by order: Personnavn,
// Standardadresse, Bynavn, Postnr. og postdistrikt, Historikmarkering,
// Kommunekode, Vejkode, Husnummer, Etage, Sidedør, Bygningsnummer; each is
// trimmed. When the history field is longer than its 3 characters, the
// separator at position 135 was not a '#': the text after it is the
// Kommunekode (unless that would make too many fields and the text after
// the 3 characters is blank: then it is padding). Sidedør and
// Bygningsnummer may be missing.
func ParseLine(line string, lineNo int) (*Record, error) {
	rec, err := fileParseLine(line)
	if err != nil {
		return nil, &LineError{Line: lineNo, Err: err}
	}
	rec.Line = lineNo
	return rec, nil
}

// Column indexes after the history/Kommunekode split.
const (
	fileColName = iota
	fileColAddress
	fileColTown
	fileColPostal
	fileColHistory
	fileColKommune
	fileColVej
	fileColHouse
	fileColFloor
	fileColDoor
	fileColBuilding
	fileNumCols

	fileMinCols = fileColFloor + 1 // Sidedør and Bygningsnummer may be missing
)

func fileParseLine(line string) (*Record, error) {
	var cols [fileNumCols]string
	n := 0
	rawFields := strings.Count(line, "#") + 1
	for {
		i := strings.IndexByte(line, '#')
		field := line
		if i >= 0 {
			field = line[:i]
		}
		if n == fileColHistory {
			hist, rest, split := fileSplitHistory(field)
			if split && rawFields >= fileNumCols && strings.TrimSpace(field[len(hist):]) == "" {
				// A blank-padded history field wider than 3 characters
				// in a line that has a '#' before Kommunekode.
				split = false
			}
			cols[n] = field
			if split {
				cols[n] = hist
			}
			n++
			if split {
				cols[n] = rest
				n++
			}
		} else {
			if n == fileNumCols {
				return nil, errLineTooManyFields
			}
			cols[n] = field
			n++
		}
		if i < 0 {
			break
		}
		line = line[i+1:]
	}
	if n < fileMinCols {
		return nil, errLineTooFewFields
	}
	for i := range n {
		cols[i] = strings.TrimSpace(cols[i])
	}

	rec := new(Record)

	// Name.
	name := cols[fileColName]
	if name == "" {
		return nil, errLineNameBlank
	}
	if !strings.Contains(name, ",") {
		return nil, errLineNameNoComma
	}
	nm, err := ParseListName(name)
	if err != nil {
		return nil, &fileHiddenError{msg: "name not parsable", err: err}
	}
	if len(nm.Surnames) == 0 {
		return nil, errLineNameNoSurname
	}
	rec.Name = nm

	// Postcode: 4 digits at the start of "1620 København V".
	postal := cols[fileColPostal]
	if len(postal) < 4 || !fileAllDigits(postal[:4]) || (len(postal) > 4 && fileIsDigit(postal[4])) {
		return nil, errLinePostcode
	}
	rec.Address.Postcode = postal[:4]

	if !fileOptionalCode(cols[fileColKommune]) {
		return nil, errLineKommunekode
	}
	if !fileOptionalCode(cols[fileColVej]) {
		return nil, errLineVejkode
	}

	// Street and fallback units from the one-line Standardadresse. The
	// error is deliberately ignored: the parts found are used and a
	// missing part is judged below.
	sa, _ := ParseAddress(cols[fileColAddress])
	if sa.Street == "" {
		return nil, errLineNoStreet
	}
	rec.Address.Street = sa.Street

	house := cols[fileColHouse]
	if house != "" {
		if h, ok := NormalizeHouseNumber(house); ok {
			rec.Address.HouseNumber = h
		}
	}
	if rec.Address.HouseNumber == "" {
		rec.Address.HouseNumber = sa.HouseNumber
	}
	if rec.Address.HouseNumber == "" {
		if house != "" {
			return nil, errLineBadHouseNumber
		}
		return nil, errLineNoHouseNumber
	}

	rec.Address.Floor = sa.Floor
	if f := cols[fileColFloor]; f != "" {
		if v, ok := NormalizeFloor(f); ok {
			rec.Address.Floor = v
		}
	}
	rec.Address.Door = sa.Door
	if n > fileColDoor && cols[fileColDoor] != "" {
		if v, ok := NormalizeDoor(cols[fileColDoor]); ok {
			rec.Address.Door = v
		}
	}

	rec.Previous = strings.Contains(cols[fileColHistory], "*")
	rec.Road = RoadID{Kommune: uint16(fileAtoi(cols[fileColKommune])), Vej: uint16(fileAtoi(cols[fileColVej]))}
	return rec, nil
}

// fileSplitHistory splits the raw Historikmarkering field. The field is 3
// characters; when the raw text is longer, the 4th character is the
// separator at position 135 (not a '#') and the rest is the Kommunekode.
func fileSplitHistory(field string) (hist, rest string, split bool) {
	i, runes := 0, 0
	for i < len(field) && runes < 3 {
		_, size := utf8.DecodeRuneInString(field[i:])
		i += size
		runes++
	}
	if i == len(field) {
		return field, "", false
	}
	hist = field[:i]
	_, size := utf8.DecodeRuneInString(field[i:])
	return hist, field[i+size:], true
}

// fileOptionalCode reports whether s is blank or 1 to 4 ASCII digits.
func fileOptionalCode(s string) bool {
	return s == "" || (len(s) <= 4 && fileAllDigits(s))
}

func fileIsDigit(c byte) bool { return '0' <= c && c <= '9' }

func fileAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !fileIsDigit(s[i]) {
			return false
		}
	}
	return true
}

func fileIsBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\r', '\v', '\f':
		default:
			return strings.TrimSpace(s) == ""
		}
	}
	return true
}

// fileFindDate returns the first date in s, scanning left to right, written
// dd.mm.yyyy, dd-mm-yyyy, yyyy-mm-dd or ddmmyyyy (a run of exactly 8
// digits). A date must be a real calendar date with a year in 1900..2999
// and must not be part of a longer run of digits.
func fileFindDate(s string) (time.Time, bool) {
	for i := 0; i < len(s); i++ {
		if !fileIsDigit(s[i]) || (i > 0 && fileIsDigit(s[i-1])) {
			continue
		}
		j := i
		for j < len(s) && fileIsDigit(s[j]) {
			j++
		}
		var d, m, y string
		switch j - i {
		case 8: // ddmmyyyy
			d, m, y = s[i:i+2], s[i+2:i+4], s[i+4:i+8]
		case 2: // dd.mm.yyyy or dd-mm-yyyy
			if k := i + 10; k <= len(s) && (s[i+2] == '.' || s[i+2] == '-') && s[i+5] == s[i+2] &&
				fileAllDigits(s[i+3:i+5]) && fileAllDigits(s[i+6:k]) && (k == len(s) || !fileIsDigit(s[k])) {
				d, m, y = s[i:i+2], s[i+3:i+5], s[i+6:k]
			}
		case 4: // yyyy-mm-dd
			if k := i + 10; k <= len(s) && s[i+4] == '-' && s[i+7] == '-' &&
				fileAllDigits(s[i+5:i+7]) && fileAllDigits(s[i+8:k]) && (k == len(s) || !fileIsDigit(s[k])) {
				y, m, d = s[i:i+4], s[i+5:i+7], s[i+8:k]
			}
		}
		if y != "" {
			if t, ok := fileCalendarDate(y, m, d); ok {
				return t, true
			}
		}
		i = j - 1
	}
	return time.Time{}, false
}

func fileCalendarDate(ys, ms, ds string) (time.Time, bool) {
	y, m, d := fileAtoi(ys), fileAtoi(ms), fileAtoi(ds)
	if y < fileMinDateYear || y > fileMaxDateYear || m < 1 || m > 12 || d < 1 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || t.Month() != time.Month(m) {
		return time.Time{}, false
	}
	return t, true
}

// fileAtoi converts a short run of ASCII digits.
func fileAtoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
