package cprcheck

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// dumpExtract parses an extract and renders everything observable as text.
// testdata holds synthetic, obviously fake numbers, so digits are shown.
func dumpExtract(data []byte, opt ExtractOptions) string {
	var b strings.Builder
	persons := map[Number]*Person{}
	var order []Number
	st, err := ParseExtract(bytes.NewReader(data), opt, func(e Entry) error {
		fmt.Fprintln(&b, entryString(e))
		p := persons[e.Number]
		if p == nil {
			p = &Person{}
			persons[e.Number] = p
			order = append(order, e.Number)
		}
		p.Add(e)
		return nil
	})
	day := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Format(time.DateOnly)
	}
	fmt.Fprintf(&b, "stats: production=%s lines=%d persons=%d protections=%d skipped=%d blank=%d rejected=%d\n",
		day(st.ProductionDate), st.Lines, st.Persons, st.Protections, st.Skipped, st.Blank, st.Rejected)
	for _, r := range st.Rejects {
		fmt.Fprintf(&b, "reject: %v\n", r)
	}
	fmt.Fprintf(&b, "error: %v\n", err)
	for _, n := range order {
		p := persons[n]
		var on []string
		for _, d := range []time.Time{st.ProductionDate.AddDate(0, 0, -1), st.ProductionDate, st.ProductionDate.AddDate(0, 0, 1)} {
			on = append(on, fmt.Sprintf("%s=%v", day(d), p.MarketingProtectedOn(d)))
		}
		fmt.Fprintf(&b, "person %s born=%s mod11=%v status=%q deceased=%v marketing: %s\n",
			n.Digits(), day(n.BirthDate()), n.Mod11(), p.Status, p.Deceased(), strings.Join(on, " "))
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	tests := []struct {
		Name string
		Opt  ExtractOptions
	}{
		{Name: "extract", Opt: ExtractOptions{MaxRejectRatio: 0.5}},
		{Name: "extract_default_threshold"},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "extract.txt"))
			if err != nil {
				t.Fatal(err)
			}
			got := dumpExtract(data, tt.Opt)
			golden := filepath.Join("testdata", tt.Name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update)", err)
			}
			if got != string(want) {
				t.Errorf("dump differs from %s (run go test -run TestGolden -update):\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}
