package eval

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/internal/synth"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/store"
)

// Thresholds of the acceptance check.
const (
	minRecall     = 0.995 // listed people come back BLOCK or REVIEW
	maxWrongBlock = 0.005 // non-listed people BLOCKed
)

// knownBugs maps a variant tag to the implementation bug that makes the
// service disagree with the rules on contacts carrying it (see the report
// in the commit message). Disagreements on such contacts are reported and
// counted but do not fail the test; every other disagreement does.
var knownBugs = map[string]string{}

// TestMessyListRecall screens a realistic messy CRM list (half of it
// listed people written the ways Danish CRM exports write them) through
// the real store and engine, with the road register loaded, and compares
// every decision with the outcome section 3 prescribes (synth's
// independent derivation, not robinson.Matcher).
func TestMessyListRecall(t *testing.T) {
	records, contacts := 20000, 20000
	if testing.Short() {
		records, contacts = 5000, 4000
	}
	start := time.Now()
	published := time.Now().UTC().Truncate(24 * time.Hour)
	gen := synth.NewGenerator(synth.Config{Seed: 7, Records: records, Published: published, Messy: true})
	dir := t.TempDir()
	write := func(name string, fn func(f *os.File) error) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := fn(f); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	list := write("robinson.txt", func(f *os.File) error { _, err := gen.WriteRobinson(f); return err })
	roads := write("vejregister.txt", func(f *os.File) error { _, err := gen.WriteStreets(f); return err })
	s, err := store.Open(filepath.Join(dir, "data"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.LoadRobinson(ctx, list, store.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadStreets(ctx, roads, store.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	snap, release := s.Acquire()
	defer release()
	if snap.Streets == nil {
		t.Fatal("no road register serving")
	}
	t.Logf("generated and loaded %d records + road register in %v", records, time.Since(start).Round(time.Millisecond))

	var (
		eng                                screening.Engine
		listed, listedHit, unlisted, wrong int
		agree                              int
		byClass                            = map[string][2]int{} // class -> {agree, total}
		disagreements                      []string
		knownDis                           = map[string]int{}
		unknownDis                         int
		disTags                            = map[string]int{}
	)
	err = gen.MessyContacts(contacts, 11, func(mc synth.MessyContact) error {
		c := screening.Contact{Ref: mc.Ref, Name: mc.Name, Address: mc.Address, PostalCode: mc.PostalCode}
		res, err := eng.Screen(snap, screening.ChannelPost, screening.PurposeUnspecified, &c)
		if err != nil {
			return err
		}
		got := res.Decision
		if mc.Listed {
			listed++
			if got == screening.Block || got == screening.Review {
				listedHit++
			}
		} else {
			unlisted++
			if got == screening.Block {
				wrong++
			}
		}
		want := map[synth.Expect]screening.Decision{synth.ExpectAllow: screening.Allow, synth.ExpectReview: screening.Review, synth.ExpectBlock: screening.Block}[mc.Expect]
		bc := byClass[mc.Class()]
		bc[1]++
		if got == want {
			agree++
			bc[0]++
		} else {
			bug := ""
			for tag, b := range knownBugs {
				if strings.Contains("+"+mc.Variant+"+", "+"+tag+"+") {
					bug = b
				}
			}
			if bug != "" {
				knownDis[bug]++
			} else {
				unknownDis++
			}
			for _, tag := range strings.Split(mc.Variant, "+") {
				disTags[tag]++
			}
			if len(disagreements) < 25 {
				detail := ""
				for _, f := range res.Findings {
					if f.Source == screening.SourceRobinson {
						detail = f.Detail
					}
				}
				disagreements = append(disagreements, fmt.Sprintf("%s [%s] %q / %q / %q: rules %v, service %v (%s)",
					mc.Ref, mc.Variant, mc.Name, mc.Address, mc.PostalCode, want, got, detail))
			}
		}
		byClass[mc.Class()] = bc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	recall := float64(listedHit) / float64(listed)
	wrongBlock := float64(wrong) / float64(unlisted)
	agreement := float64(agree) / float64(contacts)
	t.Logf("%d contacts (%d listed) in %v", contacts, listed, time.Since(start).Round(time.Millisecond))
	t.Logf("recall %.3f %% (%d/%d listed came back BLOCK or REVIEW)", 100*recall, listedHit, listed)
	t.Logf("wrong BLOCK %.3f %% (%d/%d non-listed BLOCKed)", 100*wrongBlock, wrong, unlisted)
	t.Logf("agreement with section 3 %.3f %% (%d/%d)", 100*agreement, agree, contacts)
	classes := make([]string, 0, len(byClass))
	for k := range byClass {
		classes = append(classes, k)
	}
	sort.Strings(classes)
	for _, k := range classes {
		t.Logf("  %-16s %5d contacts, %5d agree", k, byClass[k][1], byClass[k][0])
	}
	if len(disagreements) > 0 {
		tags := make([]string, 0, len(disTags))
		for k, n := range disTags {
			tags = append(tags, fmt.Sprintf("%s:%d", k, n))
		}
		sort.Strings(tags)
		t.Logf("variant tags of the disagreements: %s", strings.Join(tags, " "))
		for _, d := range disagreements {
			t.Logf("  disagreement: %s", d)
		}
	}
	if recall < minRecall {
		t.Errorf("recall %.3f %% < %.1f %%", 100*recall, 100*minRecall)
	}
	if wrongBlock > maxWrongBlock {
		t.Errorf("wrong BLOCK %.3f %% > %.1f %%", 100*wrongBlock, 100*maxWrongBlock)
	}
	if unknownDis > 0 {
		t.Errorf("%d decisions disagree with screening-rules.md section 3", unknownDis)
	}
	for bug, n := range knownDis {
		t.Logf("%d disagreements explained by a known bug: %s", n, bug)
	}
}
