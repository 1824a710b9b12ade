package cvrfmt

import (
	"bytes"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/cvr"
)

// TestFilesParse: what cvrfmt writes, cvr.Parse reads back entry by entry.
func TestFilesParse(t *testing.T) {
	extracted := time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)
	cs := []Company{{CVR: "10000009", Name: "Fiktiv \"Æble\" A/S", Protected: true, Kommune: 101, Vejkode: 4242}, {CVR: "12345674", Name: "Opdigtet ApS"}}
	us := []Unit{{P: "1003456789", Owner: "12345674", Protected: true}}
	for name, data := range map[string][]byte{"json": JSONFile(extracted, cs, us), "csv": CSVFile(cs, us)} {
		t.Run(name, func(t *testing.T) {
			var got []cvr.Entry
			st, err := cvr.Parse(bytes.NewReader(data), cvr.Options{MaxRejectRatio: -1}, func(e *cvr.Entry) error {
				got = append(got, *e)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 || got[0].CVR != 10000009 || !got[0].Protected || got[1].CVR != 12345674 || got[1].Protected ||
				got[2].P != 1003456789 || !got[2].Protected || len(got[2].Owners) != 1 || got[2].Owners[0] != 12345674 {
				t.Fatalf("entries %+v", got)
			}
			if name == "json" && !st.Newest.Equal(extracted) {
				t.Errorf("newest %v, want %v", st.Newest, extracted)
			}
		})
	}
}
