package main

import (
	"bytes"
	"flag"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMaxAgeFlags checks the --*-max-age-days flags against screening rule
// 2.7: an operator may shorten a maximum age; lengthening it beyond its
// default needs --allow-longer-max-age, and the error otherwise names the
// flag.
func TestMaxAgeFlags(t *testing.T) {
	tests := []struct {
		name                   string
		args                   []string
		wantErr                string // prefix of the error; "" for none
		robinson, cpr, streets time.Duration
	}{
		{"defaults", nil, "", 100 * day, 100 * day, 100 * day},
		{"Robinson lowered", []string{"--robinson-max-age-days", "30"}, "", 30 * day, 100 * day, 100 * day},
		{"CPR lowered", []string{"--cpr-max-age-days", "7"}, "", 100 * day, 7 * day, 100 * day},
		{"streets lowered", []string{"--streets-max-age-days", "1"}, "", 100 * day, 100 * day, 1 * day},
		{"Robinson at its default", []string{"--robinson-max-age-days", "100"}, "", 100 * day, 100 * day, 100 * day},
		{"Robinson raised without override", []string{"--robinson-max-age-days", "101"}, "--robinson-max-age-days 101: longer than the default of 100 days", 0, 0, 0},
		{"CPR raised without override", []string{"--cpr-max-age-days", "365"}, "--cpr-max-age-days 365: longer than the default of 100 days", 0, 0, 0},
		{"streets raised without override", []string{"--streets-max-age-days", "1000"}, "--streets-max-age-days 1000: longer than the default of 100 days", 0, 0, 0},
		{"Robinson raised with override", []string{"--robinson-max-age-days", "365", "--allow-longer-max-age"}, "", 365 * day, 100 * day, 100 * day},
		{"override alone changes nothing", []string{"--allow-longer-max-age"}, "", 100 * day, 100 * day, 100 * day},
		{"zero", []string{"--robinson-max-age-days", "0"}, "--robinson-max-age-days 0: a maximum age must be at least 1 day", 0, 0, 0},
		{"negative", []string{"--cpr-max-age-days", "-5", "--allow-longer-max-age"}, "--cpr-max-age-days -5: a maximum age must be at least 1 day", 0, 0, 0},
		{"overflowing with override", []string{"--streets-max-age-days", "200000", "--allow-longer-max-age"}, "--streets-max-age-days 200000: too large", 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var sf storeFlags
			sf.register(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			o, err := sf.options(newLogger(io.Discard))
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q…", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.RobinsonMaxAge != tt.robinson || o.CPRMaxAge != tt.cpr || o.StreetsMaxAge != tt.streets {
				t.Errorf("maximum ages %v %v %v, want %v %v %v", o.RobinsonMaxAge, o.CPRMaxAge, o.StreetsMaxAge, tt.robinson, tt.cpr, tt.streets)
			}
		})
	}
}

// TestMaxAgeOverrideLogged opens the server in-process with a raised
// maximum age: without the override Open fails naming the flag; with it
// the server opens and its log records the override.
func TestMaxAgeOverrideLogged(t *testing.T) {
	tests := []struct {
		name    string
		extra   []string
		wantErr string
		wantLog string
	}{
		{"raised without override", nil, "--robinson-max-age-days 200: ", ""},
		{"raised with override", []string{"--allow-longer-max-age"}, "", `"kind":"robinson","max_age_days":200,"default_days":100`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			m := NewMain(&log)
			args := append([]string{"--data", filepath.Join(t.TempDir(), "data"), "--key-file", filepath.Join(t.TempDir(), "k"),
				"--listen", "127.0.0.1:0", "--robinson-max-age-days", "200"}, tt.extra...)
			if err := m.ParseFlags(args); err != nil {
				t.Fatal(err)
			}
			err := m.Open()
			defer m.Close()
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("Open: %v, want %q…", err, tt.wantErr)
				}
				if m.Store != nil {
					t.Error("the store was opened despite the refused flag")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(log.String(), tt.wantLog) {
				t.Errorf("log lacks %s:\n%s", tt.wantLog, log.String())
			}
		})
	}
}
