package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/robinscreen/robinscreen/internal/progress"
	"github.com/robinscreen/robinscreen/store"
)

// TestProgressBar: off a terminal a load draws nothing; on one (forced
// here) each stage is labelled with the dataset kind and its phase.
func TestProgressBar(t *testing.T) {
	tests := []struct {
		name string
		mode progress.Mode
		want []string
	}{
		{"not a terminal", progress.ModeAuto, nil},
		{"terminal", progress.ModeAlways, []string{"robinson: uploading", "robinson: parsing", "lines"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := &progressBar{bar: progress.New(&buf, tc.mode)}
			p.bytes("robinson", 1<<20, 4<<20)
			p.bytes("robinson", 4<<20, 4<<20)
			p.update("robinson")(store.Progress{Phase: "parsing", Lines: 1000})
			p.done()
			out := buf.String()
			if tc.want == nil && out != "" {
				t.Fatalf("drew %q off a terminal", out)
			}
			for _, s := range tc.want {
				if !strings.Contains(out, s) {
					t.Errorf("output %q lacks %q", out, s)
				}
			}
		})
	}
}
