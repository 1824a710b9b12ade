package ingest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// DefaultMaxRejectRatio is the reject threshold when a caller passes 0:
// 0.1 % of the considered lines.
const DefaultMaxRejectRatio = 0.001

// DefaultKeepRejects is how many rejects Rejects keeps in detail.
const DefaultKeepRejects = 100

// rejectsInError is how many rejected lines RejectError.Error names.
const rejectsInError = 5

// ErrTooManyRejects is matched (errors.Is) by every *RejectError.
var ErrTooManyRejects = errors.New("too many rejected lines")

// LineError is a rejected line: its 1-based number and the reason. The
// reason never contains text from the line.
type LineError struct {
	Line int
	Err  error
}

// Error returns "line N: reason".
func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Unwrap returns the reason.
func (e *LineError) Unwrap() error { return e.Err }

// Rejects counts rejected lines and keeps the first ones in detail. The
// zero value is ready to use and keeps DefaultKeepRejects.
type Rejects struct {
	// Keep is how many rejects First keeps; zero means DefaultKeepRejects.
	Keep  int
	count int
	first []*LineError
}

// Add records that line was rejected for reason. A reason that is already
// a *LineError is kept as it is.
func (r *Rejects) Add(line int, reason error) {
	r.count++
	keep := r.Keep
	if keep <= 0 {
		keep = DefaultKeepRejects
	}
	if len(r.first) >= keep {
		return
	}
	le, ok := reason.(*LineError)
	if !ok || le.Line != line {
		le = &LineError{Line: line, Err: reason}
	}
	r.first = append(r.first, le)
}

// Count returns the number of rejected lines.
func (r *Rejects) Count() int { return r.count }

// First returns the first rejected lines in the order added (at most Keep).
func (r *Rejects) First() []*LineError { return r.first }

// Threshold returns the effective reject threshold for a configured
// maximum ratio: DefaultMaxRejectRatio for 0, 0 (no reject tolerated) for a
// negative value, the ratio otherwise.
func Threshold(maxRatio float64) float64 {
	switch {
	case maxRatio == 0:
		return DefaultMaxRejectRatio
	case maxRatio < 0:
		return 0
	}
	return maxRatio
}

// Check refuses the input when the rejects are more than Threshold(maxRatio)
// of considered, the lines a layout judged (accepted + rejected; the count
// of rejects is used if considered is smaller). It returns nil or a
// *RejectError (errors.Is ErrTooManyRejects).
func (r *Rejects) Check(considered int, maxRatio float64) error {
	if r.count == 0 {
		return nil
	}
	considered = max(considered, r.count)
	ratio := float64(r.count) / float64(considered)
	threshold := Threshold(maxRatio)
	if ratio <= threshold {
		return nil
	}
	return &RejectError{
		Rejected:   r.count,
		Considered: considered,
		Ratio:      ratio,
		Threshold:  threshold,
		First:      append([]*LineError(nil), r.first...),
	}
}

// RejectError refuses a file whose rejected lines exceed the threshold. It
// is the one refusal format of every dataset; callers wrap it with the file
// and kind.
type RejectError struct {
	Rejected   int          // rejected lines
	Considered int          // accepted + rejected lines
	Ratio      float64      // Rejected / Considered
	Threshold  float64      // the threshold exceeded
	First      []*LineError // the first rejected lines, in file order
}

// Error returns e.g. "7 of 1000 lines rejected (0.70 %), over the 0.10 %
// limit; first: line 12: postcode not 4 digits; line 15: name is blank".
func (e *RejectError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d lines rejected (%s %%), over the %s %% limit",
		e.Rejected, e.Considered, percent(e.Ratio), percent(max(e.Threshold, 0)))
	for i, le := range e.First {
		if i == rejectsInError {
			b.WriteString("; ...")
			break
		}
		if i == 0 {
			b.WriteString("; first: ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(le.Error())
	}
	return b.String()
}

// Unwrap returns ErrTooManyRejects.
func (e *RejectError) Unwrap() error { return ErrTooManyRejects }

// percent formats a ratio as a percentage with two decimals, or two
// significant digits when it is smaller than 0.01 %.
func percent(ratio float64) string {
	p := 100 * ratio
	if p == 0 || p >= 0.01 {
		return strconv.FormatFloat(p, 'f', 2, 64)
	}
	return strconv.FormatFloat(p, 'g', 2, 64)
}
