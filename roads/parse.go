package roads

import (
	"errors"
	"fmt"
	"io"

	"github.com/robinscreen/robinscreen/ingest"
)

// DefaultMaxRejectRatio is the reject threshold when
// Options.MaxRejectRatio is zero: 0.1 % of the non-blank lines.
const DefaultMaxRejectRatio = ingest.DefaultMaxRejectRatio

// MaxLineBytes is the longest line Parse reads; a longer one is a reject
// and is never held in memory whole.
const MaxLineBytes = ingest.DefaultMaxLineBytes

// Encoding names reported in Stats.Encoding.
const (
	EncodingLatin1 = "ISO-8859-1" // ingest.Latin1.String()
	EncodingUTF8   = "UTF-8"      // ingest.UTF8.String()
)

// ErrNoRoads refuses a file without a single 001, 004 or 016 record: it
// is not a road register (or is empty).
var ErrNoRoads = errors.New("roads: no active-road (001), postal-district (004) or earlier-name (016) records in the file")

// ErrLineTooLong is the reason for a line longer than MaxLineBytes.
var ErrLineTooLong = fmt.Errorf("line longer than %d bytes", MaxLineBytes)

// LineError is a rejected line: its number and the reason, never its
// content. It is the shared ingest.LineError.
type LineError = ingest.LineError

// RejectError refuses a file whose share of rejected lines is above the
// threshold. It is the shared refusal of every dataset,
// ingest.RejectError: Considered counts the non-blank lines.
type RejectError = ingest.RejectError

// Options controls Parse.
type Options struct {
	// MaxRejectRatio is the largest accepted share of rejected lines among
	// the non-blank ones. Zero means DefaultMaxRejectRatio; a negative
	// value refuses a file with any rejected line.
	MaxRejectRatio float64
	// Progress, when not nil, is called every 65536 lines and at the end
	// with the number of lines read so far.
	Progress func(lines int)
}

// Stats describes a parsed file. Every line is counted in exactly one of
// Blank, Headers, Trailers, Skipped, Roads, Districts, Earlier and
// Rejected.
type Stats struct {
	// Encoding is EncodingLatin1 or EncodingUTF8 (decided for the whole
	// file).
	Encoding string
	Lines    int
	Blank    int
	// Headers and Trailers count 000 and 999 records.
	Headers, Trailers int
	// Skipped counts records of the types the register does not use.
	Skipped int
	// Roads, Districts and Earlier count the 001, 004 and 016 records.
	Roads, Districts, Earlier int
	// Rejected counts malformed lines; Rejects holds the first 100.
	Rejected int
	Rejects  []*LineError
	// Date is the first date found in a 000 header, zero if none.
	Date Date
}

// Parse reads a whole road register from r's current offset and returns
// it. Reading goes through ingest: the encoding is decided for the whole
// file (UTF-8 when all of it is valid UTF-8, a BOM stripped; ISO 8859-1
// when it holds no UTF-8; a file holding both is refused), then every line
// is parsed with ParseLine. Blank lines are counted; 000, 999 and record
// types the register does not use are counted and skipped; malformed and
// too long lines are counted, numbered rejects.
//
// It returns the Register and Stats, or Stats filled as far as it got and
// one of: ErrNoRoads; an *ingest.EncodingError (errors.Is
// ingest.ErrDamagedEncoding); a *RejectError when the rejects exceed the
// threshold; a read or seek error of r, wrapped.
func Parse(r io.ReadSeeker, opt Options) (*Register, Stats, error) {
	var st Stats
	lines, err := ingest.OpenLayout("roads", r, MaxLineBytes, opt.Progress)
	if err != nil {
		return nil, st, err
	}
	st.Encoding = lines.Encoding().String()
	var b Builder
	var rejects ingest.Rejects
	for lines.Next() {
		st.Lines = lines.Number()
		if lines.TooLong() {
			rejects.Add(st.Lines, ErrLineTooLong)
			continue
		}
		line := lines.Bytes()
		if isBlank(line) {
			st.Blank++
			continue
		}
		e, err := ParseLine(line)
		if err != nil {
			rejects.Add(st.Lines, err)
			continue
		}
		st.count(&e)
		b.Add(&e)
	}
	st.Rejected, st.Rejects = rejects.Count(), rejects.First()
	if err := lines.Err(); err != nil {
		return nil, st, fmt.Errorf("roads: %w", err)
	}
	if st.Roads+st.Districts+st.Earlier == 0 {
		return nil, st, ErrNoRoads
	}
	if err := rejects.Check(st.Lines-st.Blank, opt.MaxRejectRatio); err != nil {
		return nil, st, err
	}
	return b.Build(), st, nil
}

func isBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// count counts an accepted line by its kind.
func (st *Stats) count(e *Entry) {
	switch e.Kind {
	case KindHeader:
		st.Headers++
		if st.Date.IsZero() {
			st.Date = e.Date
		}
	case KindTrailer:
		st.Trailers++
	case KindSkipped:
		st.Skipped++
	case KindRoad:
		st.Roads++
	case KindDistrict:
		st.Districts++
	case KindEarlier:
		st.Earlier++
	}
}
