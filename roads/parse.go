package roads

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// DefaultMaxRejectRatio is the reject threshold when
// Options.MaxRejectRatio is zero: 0.1 % of the non-blank lines.
const DefaultMaxRejectRatio = 0.001

// MaxLineBytes is the longest physical line Parse reads; a longer one is a
// reject and is never held in memory whole.
const MaxLineBytes = 16 << 10

const (
	maxRejectsKept  = 100
	rejectsInError  = 5
	progressEvery   = 1 << 16
	readBufferBytes = 256 << 10
)

// Encoding names reported in Stats.Encoding.
const (
	EncodingLatin1 = "ISO-8859-1"
	EncodingUTF8   = "UTF-8"
)

// ErrNoRoads refuses a file without a single 001, 004 or 016 record: it
// is not a road register (or is empty).
var ErrNoRoads = errors.New("roads: no active-road (001), postal-district (004) or earlier-name (016) records in the file")

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

// Stats describes a parsed file. Every physical line is counted in exactly
// one of Blank, Headers, Trailers, Skipped, Roads, Districts, Earlier and
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

// LineError is a rejected line. Err never contains text from the line.
type LineError struct {
	Line int
	Err  error
}

// Error returns "line N: reason".
func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Unwrap returns the reason.
func (e *LineError) Unwrap() error { return e.Err }

// RejectError refuses a file whose share of rejected lines is above the
// threshold.
type RejectError struct {
	Rejected, Considered int
	Ratio, Threshold     float64
	First                []*LineError
}

// Error names the count, the ratio, the threshold and the first lines.
func (e *RejectError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "roads: %d of %d lines rejected (%.4f %%), above the threshold of %.4f %%",
		e.Rejected, e.Considered, 100*e.Ratio, 100*max(e.Threshold, 0))
	for i, le := range e.First {
		if i == rejectsInError {
			b.WriteString(", ...")
			break
		}
		if i == 0 {
			b.WriteString("; first at lines")
		} else {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %d", le.Line)
	}
	if len(e.First) > 0 {
		fmt.Fprintf(&b, " (%v)", e.First[0].Err)
	}
	return b.String()
}

// Parse reads a whole road register from r's current offset and returns
// it. The encoding is decided for the whole file first (UTF-8 when all of
// it is valid UTF-8, a BOM stripped; otherwise ISO 8859-1), then r is
// sought back and read line by line (ParseLine). Blank lines are counted;
// 000, 999 and record types the register does not use are counted and
// skipped; malformed lines are counted rejects.
//
// It returns the Register and Stats, or Stats filled as far as it got and
// ErrNoRoads, a *RejectError (above the threshold), or a read or seek
// error of r (wrapped).
func Parse(r io.ReadSeeker, opt Options) (*Register, Stats, error) {
	var st Stats
	start, err := r.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, st, fmt.Errorf("roads: seek: %w", err)
	}
	isUTF8, err := validUTF8(r)
	if err != nil {
		return nil, st, fmt.Errorf("roads: reading (encoding pass): %w", err)
	}
	if _, err := r.Seek(start, io.SeekStart); err != nil {
		return nil, st, fmt.Errorf("roads: seek: %w", err)
	}
	st.Encoding = EncodingLatin1
	if isUTF8 {
		st.Encoding = EncodingUTF8
	}
	var b Builder
	var runes []rune
	var dec []byte
	lr := lineReader{br: bufio.NewReaderSize(r, readBufferBytes)}
	reject := func(line int, err error) {
		st.Rejected++
		if len(st.Rejects) < maxRejectsKept {
			st.Rejects = append(st.Rejects, &LineError{Line: line, Err: err})
		}
	}
	for {
		raw, tooLong, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, st, fmt.Errorf("roads: reading line %d: %w", st.Lines+1, err)
		}
		st.Lines++
		if opt.Progress != nil && st.Lines%progressEvery == 0 {
			opt.Progress(st.Lines)
		}
		if tooLong {
			reject(st.Lines, errLineLength)
			continue
		}
		raw = bytes.TrimSuffix(raw, []byte{'\r'})
		if st.Lines == 1 && isUTF8 {
			raw = bytes.TrimPrefix(raw, []byte{0xEF, 0xBB, 0xBF})
		}
		var line string
		if isUTF8 {
			line = string(raw)
		} else {
			dec = decodeLatin1(dec[:0], raw)
			line = string(dec)
		}
		if strings.TrimSpace(line) == "" {
			st.Blank++
			continue
		}
		e, err := parseLine(line, runes[:0])
		if err != nil {
			reject(st.Lines, err)
			continue
		}
		st.count(&e)
		b.Add(&e)
	}
	if opt.Progress != nil {
		opt.Progress(st.Lines)
	}
	if st.Roads+st.Districts+st.Earlier == 0 {
		return nil, st, ErrNoRoads
	}
	if err := checkRejects(&st, opt.MaxRejectRatio); err != nil {
		return nil, st, err
	}
	return b.Build(), st, nil
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

func checkRejects(st *Stats, maxRatio float64) error {
	if st.Rejected == 0 {
		return nil
	}
	threshold := maxRatio
	if threshold == 0 {
		threshold = DefaultMaxRejectRatio
	}
	considered := st.Lines - st.Blank
	ratio := float64(st.Rejected) / float64(considered)
	if ratio <= threshold && threshold >= 0 {
		return nil
	}
	return &RejectError{Rejected: st.Rejected, Considered: considered, Ratio: ratio, Threshold: threshold, First: st.Rejects}
}

// lineReader returns lines without "\n"; a line longer than MaxLineBytes
// is reported as too long and skipped without holding it.
type lineReader struct{ br *bufio.Reader }

func (l *lineReader) next() (line []byte, tooLong bool, err error) {
	line, err = l.br.ReadSlice('\n')
	switch {
	case err == nil:
		line = line[:len(line)-1]
	case errors.Is(err, bufio.ErrBufferFull):
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = l.br.ReadSlice('\n')
		}
		if err != nil && err != io.EOF {
			return nil, false, err
		}
		return nil, true, nil
	case err == io.EOF:
		if len(line) == 0 {
			return nil, false, io.EOF
		}
	default:
		return nil, false, err
	}
	if len(line) > MaxLineBytes {
		return nil, true, nil
	}
	return line, false, nil
}

// validUTF8 reads r to its end and reports whether all of it is UTF-8.
func validUTF8(r io.Reader) (bool, error) {
	buf := make([]byte, readBufferBytes)
	carry := 0
	valid := true
	for {
		n, err := r.Read(buf[carry:])
		data := buf[:carry+n]
		if err != nil && err != io.EOF {
			return false, err
		}
		if err == io.EOF {
			return valid && utf8.Valid(data), nil
		}
		cut := len(data)
		for i := len(data) - 1; i >= 0 && i > len(data)-utf8.UTFMax; i-- {
			if utf8.RuneStart(data[i]) {
				if !utf8.FullRune(data[i:]) {
					cut = i
				}
				break
			}
		}
		if valid && !utf8.Valid(data[:cut]) {
			valid = false
		}
		carry = copy(buf, data[cut:])
	}
}

// decodeLatin1 appends raw, read as ISO 8859-1, to dst as UTF-8.
func decodeLatin1(dst, raw []byte) []byte {
	for _, c := range raw {
		if c < utf8.RuneSelf {
			dst = append(dst, c)
		} else {
			dst = utf8.AppendRune(dst, rune(c))
		}
	}
	return dst
}
