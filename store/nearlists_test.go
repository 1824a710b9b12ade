package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/robinscreen/robinscreen/internal/cprfmt"
	"github.com/robinscreen/robinscreen/internal/synth"
	"github.com/robinscreen/robinscreen/robinson"
	"github.com/robinscreen/robinscreen/screening"
)

// nearLookup screens a contact's name and address the way the engine
// does (robinson.Probe, then Candidates for each surname word when
// exact, then NearCandidates) and returns the lines of the records
// NearCandidates hands over and the reads NearCandidates made.
func nearLookup(t *testing.T, s *Store, name, address string, exact bool) (lines []int, reads int64) {
	t.Helper()
	c := newContactProbe(t, s, name, address)
	defer c.release()
	if exact {
		for _, sn := range c.name.Surnames {
			if err := c.snap.Robinson.Candidates(robinson.AppendKey(nil, c.addr.Postcode, c.addr.HouseNumber, sn), &c.probe, func(*robinson.Record) {}); err != nil {
				t.Fatal(err)
			}
		}
	}
	d := s.serving[screening.KindRobinson]
	before := d.reads.Load()
	if err := c.snap.Robinson.NearCandidates(&c.probe, func(r *robinson.Record) { lines = append(lines, r.Line) }); err != nil {
		t.Fatal(err)
	}
	return lines, d.reads.Load() - before
}

// TestNearLists: the read of a contact's own blocking key brings the list
// words one edit from its surname word at the address (format 5), so the
// NEAR-surname lookup that follows hands over exactly the records the
// address summary would have led to, without reading the summary; a
// contact with a surname word the address does not hold still reads the
// summary.
func TestNearLists(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	s := openStore(t, dir)
	at := func(name, street, house string) cprfmt.RobinsonEntry {
		return cprfmt.RobinsonEntry{Name: name, Address: street + " " + house, PostDist: "2900 Hellerup", HouseNumber: fmt.Sprintf("%03s", house)}
	}
	es := append([]cprfmt.RobinsonEntry{
		at("Hanssen,Peter", "Strandvejen", "7"),
		at("Hansen,Karen", "Strandvejen", "7"),
		at("Hansen,Poul", "Strandvejen", "7"),
		at("Bech,Peter", "Strandvejen", "7"),
		at("Hanskov,Per", "Strandvejen", "7"),
		at("Sørensen,Pia", "Strandvejen", "9"),
		at("Sorensen,Pia", "Strandvejen", "9"),
		at("Petersen,Per", "Strandvejen", "9"),
		at("Jensen Mortensen,Per", "Strandvejen", "11"),
		at("Mortensen,Pia", "Strandvejen", "11"),
		at("Mortenson,Per", "Strandvejen", "11"),
	}, entries...)
	if _, err := s.LoadRobinson(context.Background(), robinsonFile(t, src, es), LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, contact, address string
		lists                  bool // the summary is not read
	}{
		{"own word stored, a neighbour one edit away", "Poul Hansen", "Strandvejen 7, 2900 Hellerup", true},
		{"own word stored, the neighbour's given name differs", "Karen Hansen", "Strandvejen 7, 2900 Hellerup", true},
		{"own word stored under another given initial", "Ole Hansen", "Strandvejen 7, 2900 Hellerup", false},
		{"own word not stored", "Peter Hanssem", "Strandvejen 7, 2900 Hellerup", false},
		{"own word stored, nothing one edit away", "Per Hanskov", "Strandvejen 7, 2900 Hellerup", true},
		{"non-ASCII word one edit away", "Pia Sørensen", "Strandvejen 9, 2900 Hellerup", true},
		{"ASCII spelling of it", "Pia Sorensen", "Strandvejen 9, 2900 Hellerup", true},
		{"two surname words, both stored", "Per Jensen-Mortensen", "Strandvejen 11, 2900 Hellerup", true},
		{"two surname words, one not stored", "Per Hansen-Mortensen", "Strandvejen 11, 2900 Hellerup", false},
		{"short surname word not stored", "Per Li-Mortensen", "Strandvejen 11, 2900 Hellerup", true},
	}
	found := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, summaryReads := nearLookup(t, s, tt.contact, tt.address, false)
			if len(want) > 0 {
				found++
			}
			got, reads := nearLookup(t, s, tt.contact, tt.address, true)
			if !slices.Equal(got, want) {
				t.Errorf("after the exact lookups NEAR candidates are lines %v; through the summary %v", got, want)
			}
			switch {
			case tt.lists && reads >= summaryReads:
				t.Errorf("%d reads after the exact lookups, %d through the summary: the summary was read", reads, summaryReads)
			case !tt.lists && reads != summaryReads:
				t.Errorf("%d reads after the exact lookups, %d through the summary: want the summary read", reads, summaryReads)
			}
		})
	}
	if found < len(tests)/2 {
		t.Errorf("only %d of %d cases have NEAR candidates: the comparison tests little", found, len(tests))
	}
}

// TestNearListsSameResults: screening a generated list's contacts gives
// the same results, finding for finding, against a version with near
// lists (format 5) and one built without them (format 4), with fewer
// reads.
func TestNearListsSameResults(t *testing.T) {
	n, contacts := 60000, 20000
	if testing.Short() {
		n, contacts = 15000, 5000
	}
	src := t.TempDir()
	path := synthList(t, src, n)
	open := func(format int) *Store {
		buildFormat(t, format)
		s := openStore(t, filepath.Join(t.TempDir(), "data"))
		man, err := s.LoadRobinson(context.Background(), path, LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if man.Format != format {
			t.Fatalf("built format %d, want %d", man.Format, format)
		}
		return s
	}
	old, lists := open(formatSignaturesV3), open(formatNearLists)
	g := synth.NewGenerator(synth.Config{Seed: 7, Records: n, Published: published})
	var eng screening.Engine
	screen := func(s *Store, c *screening.Contact) screening.Result {
		snap, release := s.Acquire()
		defer release()
		res, err := eng.Screen(snap, screening.ChannelPost, screening.PurposeUnspecified, c)
		if err != nil {
			t.Fatal(err)
		}
		res.Datasets = nil // the versions' names differ
		for i := range res.Findings {
			res.Findings[i].Dataset = ""
		}
		return res
	}
	blocks, reviews := 0, 0
	err := g.Contacts(contacts, 0.3, 11, func(sc synth.Contact) error {
		c := screening.Contact{Ref: sc.Ref, Name: sc.Name, Address: sc.Address, PostalCode: sc.PostalCode}
		want, got := screen(old, &c), screen(lists, &c)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: with near lists %v, without %v", sc.Ref, got, want)
		}
		switch want.Decision {
		case screening.Block:
			blocks++
		case screening.Review:
			reviews++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ro := old.serving[screening.KindRobinson].reads.Load()
	rl := lists.serving[screening.KindRobinson].reads.Load()
	t.Logf("%d contacts: %d BLOCK, %d REVIEW; reads %d without near lists, %d with", contacts, blocks, reviews, ro, rl)
	if blocks == 0 || reviews == 0 {
		t.Errorf("the contacts test little: %d BLOCK, %d REVIEW", blocks, reviews)
	}
	if rl >= ro {
		t.Errorf("%d reads with near lists, %d without: the lists spare none", rl, ro)
	}
}

// TestPipeFilterKeysEveryPair: the filter is built, and checked at
// commit, from every stored pair, read in two spans of the key space:
// each pair is seen exactly once, with one database table or several.
func TestPipeFilterKeysEveryPair(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a 70,000-record list")
	}
	for _, tc := range []struct {
		name  string
		n     int
		spans int
	}{
		{"one table", 2000, 1},
		{"several tables", 70000, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dir := t.TempDir(), t.TempDir()
			s := openStore(t, dir)
			if _, err := s.LoadRobinson(context.Background(), synthList(t, src, tc.n), LoadOptions{}); err != nil {
				t.Fatal(err)
			}
			db := s.serving[screening.KindRobinson].db
			if got := len(keySpans(db)); got != tc.spans {
				t.Fatalf("%d key spans, want %d", got, tc.spans)
			}
			want := map[string]int{}
			err := db.View(func(txn *badger.Txn) error {
				it := txn.NewIterator(badger.DefaultIteratorOptions)
				defer it.Close()
				for it.Rewind(); it.Valid(); it.Next() {
					want[string(it.Item().Key())]++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// Both readers: the one that builds the filter and the one
			// that checks it at commit, whose consumer runs on each
			// span's goroutine.
			for _, read := range []struct {
				name string
				fn   func(*badger.DB, func() filterKeysFunc, filterAdd) error
			}{{"build", pipeFilterKeys}, {"check", testFilterKeys}} {
				var mu sync.Mutex
				got := map[string]int{}
				if err := read.fn(db, plainFilterKeys, func(_, k []byte, _ int) {
					mu.Lock()
					got[string(k)]++
					mu.Unlock()
				}); err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) {
					t.Errorf("%s: %d distinct keys seen, the database holds %d", read.name, len(got), len(want))
				}
				for k, n := range got {
					if n != 1 || want[k] != 1 {
						t.Fatalf("%s: key %q seen %d times, stored %d times", read.name, k, n, want[k])
					}
				}
			}
		})
	}
}

// TestNearListsWriterAgreement: the writer puts each near list in front
// of its own key, and a build whose scan and writing disagree (a key
// written without the list worked out for it) fails instead of writing
// keys without their near words.
func TestNearListsWriterAgreement(t *testing.T) {
	key := func(w string) []byte { return robinson.AppendKey([]byte{'r'}, "2900", "7", w) }
	keys := [][]byte{key("hansen"), key("hanssen"), key("jensen")}
	tests := []struct {
		name    string
		written int // keys handed to head
		wantErr bool
	}{
		{"every key written", 3, false},
		{"the last key not written", 2, true},
		{"no key written", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &addressSummary{nearLists: true, found: make(chan nearList, 4)}
			stop := make(chan struct{})
			defer close(stop)
			i := 0
			go a.scan(func() []byte {
				if i == len(keys) {
					return nil
				}
				i++
				return keys[i-1]
			}, stop)
			var heads [][]byte
			for _, k := range keys[:tt.written] {
				heads = append(heads, a.head(nil, k))
			}
			err := a.finish()
			if (err != nil) != tt.wantErr {
				t.Fatalf("finish: %v, want error %v", err, tt.wantErr)
			}
			if tt.written < 2 {
				return
			}
			for j, want := range []string{"hanssen", "hansen"} {
				near, _, err := splitNearList(heads[j])
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				eachWord(near, func(w []byte) { got = append(got, string(w)) })
				if !slices.Equal(got, []string{want}) {
					t.Errorf("near list of %q: %q, want [%q]", keys[j], got, want)
				}
			}
		})
	}
}
