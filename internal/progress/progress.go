package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Mode says when a Bar draws: ModeAuto only when its writer is a terminal,
// ModeAlways always (tests, a terminal behind a pipe), ModeNever not at all.
type Mode string

// The modes of a Bar, as the tools' --progress flag names them.
const (
	ModeAuto   Mode = "auto"
	ModeAlways Mode = "always"
	ModeNever  Mode = "never"
)

// ParseMode returns the Mode named s. It returns an error for any other
// name.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeAuto, ModeAlways, ModeNever:
		return m, nil
	}
	return "", fmt.Errorf("progress %q: want auto, always or never", s)
}

// Enabled reports whether a Bar on w draws under mode: in ModeAuto only
// when w is an *os.File on a terminal (golang.org/x/term).
func Enabled(w io.Writer, mode Mode) bool {
	switch mode {
	case ModeAlways:
		return true
	case ModeAuto:
		f, ok := w.(*os.File)
		return ok && term.IsTerminal(int(f.Fd()))
	}
	return false
}

// Unit is what a stage counts. Bytes are shown as sizes (kB, MB) and
// byte rates; any other unit as a count with that name and a rate per
// second.
type Unit string

// Bytes is the unit of uploads and files read.
const Bytes Unit = "bytes"

// throttle is the least time between two redraws.
const throttle = 100 * time.Millisecond

// Bar draws the progress of one stage at a time on one line of its writer.
// All methods are safe for concurrent use and do nothing when the Bar is
// off.
type Bar struct {
	w  io.Writer
	on bool

	mu    sync.Mutex
	cur   *progressbar.ProgressBar
	total int64
}

// New returns a Bar drawing on w when Enabled(w, mode).
func New(w io.Writer, mode Mode) *Bar { return &Bar{w: w, on: Enabled(w, mode)} }

// On reports whether the Bar draws.
func (b *Bar) On() bool { return b != nil && b.on }

// Start ends the current stage (erasing its line) and begins a new one
// labelled desc: with total > 0 a bar filling up to total units with a
// percentage and the time left, otherwise a spinner with the count so far.
func (b *Bar) Start(desc string, total int64, unit Unit) {
	if !b.On() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.endLocked()
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(b.w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(throttle),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionSpinnerType(14),
	}
	if unit == Bytes {
		opts = append(opts, progressbar.OptionShowBytes(true))
	} else {
		opts = append(opts, progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString(string(unit)))
	}
	if total <= 0 {
		total = -1
	}
	b.total = total
	b.cur = progressbar.NewOptions64(total, opts...)
}

// Set moves the current stage to n units done (at most its total).
func (b *Bar) Set(n int64) {
	if !b.On() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur == nil {
		return
	}
	if b.total > 0 {
		n = min(n, b.total)
	}
	_ = b.cur.Set64(n) // an error only says n passed the total, clamped above
}

// Describe changes the current stage's label.
func (b *Bar) Describe(desc string) {
	if !b.On() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur != nil {
		b.cur.Describe(desc)
	}
}

// Done ends the current stage and erases its line, so that what the tool
// prints next starts on a clean line.
func (b *Bar) Done() {
	if !b.On() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.endLocked()
}

func (b *Bar) endLocked() {
	if b.cur == nil {
		return
	}
	_ = b.cur.Finish() // stops a spinner's redraw goroutine; the line is cleared
	_ = b.cur.Clear()
	b.cur = nil
}
