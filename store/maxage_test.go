package store

import (
	"bytes"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMaxAgeRule checks screening rule 2.7 at Open: a maximum age may be
// shorter than its default; a longer one needs the explicit override and
// is then logged; a negative one is refused.
func TestMaxAgeRule(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
		wantLog string // in the log when non-empty
	}{
		{"defaults", Options{}, false, ""},
		{"Robinson shortened", Options{RobinsonMaxAge: 30 * day}, false, ""},
		{"CPR at its default", Options{CPRMaxAge: 100 * day}, false, ""},
		{"Robinson one day longer, no override", Options{RobinsonMaxAge: 101 * day}, true, ""},
		{"Robinson one hour longer, no override", Options{RobinsonMaxAge: 100*day + time.Hour}, true, ""},
		{"CPR longer, no override", Options{CPRMaxAge: 365 * day}, true, ""},
		{"streets longer, no override", Options{StreetsMaxAge: 200 * day}, true, ""},
		{"Robinson longer with override, logged", Options{RobinsonMaxAge: 365 * day, AllowLongerMaxAge: true}, false, `"kind":"robinson","max_age_days":365,"default_days":100`},
		{"CPR longer with override, logged", Options{CPRMaxAge: 120 * day, AllowLongerMaxAge: true}, false, `"kind":"cpr","max_age_days":120,"default_days":100`},
		{"Robinson negative", Options{RobinsonMaxAge: -day}, true, ""},
		{"negative with override", Options{StreetsMaxAge: -day, AllowLongerMaxAge: true}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			opts := tt.opts
			opts.Logger = slog.New(slog.NewJSONHandler(&log, nil))
			opts.KeyFile = filepath.Join(t.TempDir(), "pseudonym.key")
			s, err := Open(t.TempDir(), opts)
			if tt.wantErr {
				if !errors.Is(err, ErrMaxAge) {
					t.Fatalf("Open: %v, want ErrMaxAge", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			logged := strings.Contains(log.String(), "maximum age longer than its default")
			if logged != (tt.wantLog != "") || !strings.Contains(log.String(), tt.wantLog) {
				t.Errorf("log %q, want the override warning: %v (%s)", log.String(), tt.wantLog != "", tt.wantLog)
			}
			for _, kind := range Kinds {
				want := opts.maxAge(kind)
				if got := s.maxAge(kind); got != want {
					t.Errorf("%s maximum age %v, want %v", kind, got, want)
				}
			}
		})
	}
}
