package progress_test

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/internal/progress"
)

// syncBuffer is a bytes.Buffer safe for a spinner's redraw goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Len() int { return len(s.String()) }

func TestParseMode(t *testing.T) {
	tests := []struct {
		in      string
		want    progress.Mode
		wantErr bool
	}{
		{"auto", progress.ModeAuto, false},
		{"always", progress.ModeAlways, false},
		{"never", progress.ModeNever, false},
		{"", "", true},
		{"yes", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := progress.ParseMode(tc.in)
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Fatalf("ParseMode(%q) = %q, %v", tc.in, got, err)
			}
		})
	}
}

func TestEnabled(t *testing.T) {
	f, err := os.Create(t.TempDir() + "/log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tests := []struct {
		name string
		w    any
		mode progress.Mode
		want bool
	}{
		{"buffer auto", &bytes.Buffer{}, progress.ModeAuto, false},
		{"regular file auto", f, progress.ModeAuto, false},
		{"buffer always", &bytes.Buffer{}, progress.ModeAlways, true},
		{"regular file never", f, progress.ModeNever, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.w.(interface{ Write([]byte) (int, error) })
			if got := progress.Enabled(w, tc.mode); got != tc.want {
				t.Fatalf("Enabled = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestBar: a Bar that is off writes nothing; one that is on draws the
// description and counts, and erases its line when done.
func TestBar(t *testing.T) {
	tests := []struct {
		name    string
		mode    progress.Mode
		total   int64
		unit    progress.Unit
		set     int64
		want    []string
		wantNil bool
	}{
		{name: "off", mode: progress.ModeAuto, total: 100, unit: "rows", set: 50, wantNil: true},
		{name: "rows of a total", mode: progress.ModeAlways, total: 200, unit: "rows", set: 100, want: []string{"screening", "50%", "100/200", "rows"}},
		{name: "bytes of a total", mode: progress.ModeAlways, total: 4 << 20, unit: progress.Bytes, set: 1 << 20, want: []string{"screening", "25%", "MB"}},
		{name: "count without a total", mode: progress.ModeAlways, total: 0, unit: "lines", set: 12345, want: []string{"screening", "12345", "lines"}},
		{name: "past the total is clamped", mode: progress.ModeAlways, total: 10, unit: "rows", set: 20, want: []string{"screening"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf syncBuffer
			b := progress.New(&buf, tc.mode)
			b.Start("screening", tc.total, tc.unit)
			// Redraws are throttled (and a spinner redraws on its own
			// clock): the count is on the line once the throttle interval
			// has passed after it was set.
			time.Sleep(150 * time.Millisecond)
			b.Set(tc.set)
			time.Sleep(150 * time.Millisecond)
			b.Describe("screening")
			drawn := buf.String()
			b.Done()
			if tc.wantNil {
				if buf.Len() != 0 {
					t.Fatalf("an off bar wrote %q", buf.String())
				}
				return
			}
			for _, s := range tc.want {
				if !strings.Contains(drawn, s) {
					t.Errorf("drawn %q lacks %q", drawn, s)
				}
			}
			if after := buf.String()[len(drawn):]; !strings.Contains(after, "\r") {
				t.Errorf("Done did not erase the line: %q", after)
			}
		})
	}
}
