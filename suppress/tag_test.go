package suppress

import (
	"fmt"
	"strings"
	"testing"
)

// valuesOf returns Values holding raw under kind k.
func valuesOf(k Kind, raw string) Values {
	switch k {
	case KindPhone:
		return Values{Phone: raw}
	case KindEmail:
		return Values{Email: raw}
	case KindCPR:
		return Values{CPR: raw}
	}
	return Values{CVR: raw}
}

// fillOthers adds n tagged entries of every kind that are not the test's
// values, so that the tag table holds more than one cell's worth; when
// untaggedKind is valid, its entries carry no tag.
func fillOthers(t testing.TB, set *Set, n int, untaggedKind Kind) {
	h := set.Hasher()
	for i := 0; i < n; i++ {
		for _, k := range Kinds {
			var raw string
			switch k {
			case KindPhone:
				raw = fmt.Sprintf("7%07d", i)
			case KindEmail:
				raw = fmt.Sprintf("other%d@example.test", i)
			case KindCPR:
				raw = fmt.Sprintf("0101%02d%04d", 50+i%40, i%10000)
			case KindCVR:
				raw = fmt.Sprintf("6%07d", i)
			}
			key, tag, err := h.KeyTag(k, raw)
			if err != nil {
				t.Fatalf("other %s %d: %v", k, i, err)
			}
			if k == untaggedKind {
				tag = 0
			}
			set.Insert(Entry{Key: key, Reason: ReasonOther, Tag: tag})
		}
	}
}

// TestMatchTaggedEveryWriting adds each value of section 6 in every
// writing, with its tag as the server adds it, among other entries (all
// tagged, or some kind's untagged), and screens every writing: each must
// be found, and a value not on the list must not.
func TestMatchTaggedEveryWriting(t *testing.T) {
	h := testHasher(t)
	for _, mode := range []struct {
		name       string
		untagged   Kind // the other entries of this kind carry no tag
		entryNoTag bool // the entry itself carries no tag
	}{
		{"all tagged", KindUnspecified, false},
		{"others of the kind untagged", KindPhone, false},
		{"the entry untagged", KindUnspecified, true},
	} {
		t.Run(mode.name, func(t *testing.T) {
			for _, g := range writingGroups {
				for _, added := range g.writings {
					set := NewSet(h)
					fillOthers(t, set, 2000, mode.untagged)
					key, tag, err := h.KeyTag(g.kind, added)
					if err != nil {
						t.Fatalf("%s: add %q: %v", g.name, added, err)
					}
					if mode.entryNoTag {
						tag = 0
					}
					set.Insert(Entry{Key: key, Reason: ReasonRequested, Tag: tag})
					for _, screened := range g.writings {
						v := g.values(screened)
						if _, ok := set.Match(&v, ""); !ok {
							t.Errorf("%s: added as %q, screened as %q: not suppressed", g.name, added, screened)
						}
					}
					v := valuesOf(g.kind, "")
					switch g.kind {
					case KindPhone:
						v.Phone = "+45 99 88 77 66"
					case KindEmail:
						v.Email = "nobody@example.dk"
					case KindCPR:
						v.CPR = "0202021234"
					case KindCVR:
						v.CVR = "55555555"
					}
					if _, ok := set.Match(&v, ""); ok {
						t.Errorf("%s: a value not on the list is suppressed", g.name)
					}
				}
			}
		})
	}
}

// TestTagDeleteAndRebuild fills a set with tagged and untagged entries past
// several rebuilds of the tag table, deletes every other one, adds more and
// checks through Match that exactly the live ones are found, and that the
// untagged count comes back to zero (the fast path) once the untagged
// entries are gone.
func TestTagDeleteAndRebuild(t *testing.T) {
	h := testHasher(t)
	set := NewSet(h)
	type rec struct {
		raw string
		key Key
	}
	var recs []rec
	add := func(i int, tagged bool) {
		raw := fmt.Sprintf("%08d", 20000000+i)
		key, tag, err := h.KeyTag(KindPhone, raw)
		if err != nil {
			t.Fatal(err)
		}
		if !tagged {
			tag = 0
		}
		set.Insert(Entry{Key: key, Reason: ReasonRequested, Tag: tag})
		recs = append(recs, rec{raw, key})
	}
	for i := 0; i < 6000; i++ {
		add(i, i%10 != 3)
	}
	for i := 0; i < len(recs); i += 2 {
		if !set.Delete(recs[i].key, "") {
			t.Fatalf("delete %d", i)
		}
	}
	// Delete the remaining untagged ones too.
	for i := 3; i < 6000; i += 10 {
		if !set.Delete(recs[i].key, "") {
			t.Fatalf("delete untagged %d", i)
		}
	}
	set.mu.RLock()
	untagged := set.untagged[KindPhone]
	set.mu.RUnlock()
	if untagged != 0 {
		t.Fatalf("untagged phone entries: %d, want 0", untagged)
	}
	for i := 6000; i < 12000; i++ { // rebuilds the tag table
		add(i, true)
	}
	for i, r := range recs {
		want := !(i < 6000 && (i%2 == 0 || i%10 == 3))
		v := Values{Phone: "+45 " + r.raw}
		if _, ok := set.Match(&v, ""); ok != want {
			t.Fatalf("entry %d: found %v, want %v", i, ok, want)
		}
	}
}

// TestTagPrefilterRejects checks that the pre-filter answers "no" for
// nearly every value not on the list (otherwise it saves nothing), and
// that tags depend on the key and the kind.
func TestTagPrefilterRejects(t *testing.T) {
	h := testHasher(t)
	set := NewSet(h)
	fillOthers(t, set, 20000, KindUnspecified)
	maybe := 0
	const n = 20000
	for i := 0; i < n; i++ {
		if set.tagMaybe(h.Tag(KindPhone, fmt.Sprintf("+453%07d", i))) {
			maybe++
		}
	}
	if maybe > n/100 {
		t.Errorf("pre-filter says maybe for %d of %d values not on the list", maybe, n)
	}
	other, err := NewHasher([]byte(strings.Repeat("x", 32)))
	if err != nil {
		t.Fatal(err)
	}
	if h.Tag(KindPhone, "+4512345678") == other.Tag(KindPhone, "+4512345678") {
		t.Error("the tag does not depend on the key")
	}
	if h.Tag(KindPhone, "12345678") == h.Tag(KindCVR, "12345678") {
		t.Error("the tag does not depend on the kind")
	}
	_, tag, err := h.KeyTag(KindPhone, "+45 12 34 56 78")
	if err != nil || tag != h.Tag(KindPhone, "+4512345678") || tag == 0 {
		t.Errorf("KeyTag and Tag disagree: %v", err)
	}
}

// FuzzMatchTagged adds a value with its tag next to another value
// (tagged or not) and checks that Match finds the value whenever it can be
// normalised, and answers for the other value exactly as a lookup of its
// HMAC pseudonym does.
func FuzzMatchTagged(f *testing.F) {
	for _, g := range writingGroups {
		for _, w := range g.writings {
			f.Add(uint8(g.kind), w, g.writings[0], false)
			f.Add(uint8(g.kind), w, "+45 11 22 33 44", true)
		}
	}
	h := testHasher(f)
	f.Fuzz(func(t *testing.T, kind uint8, value, other string, otherTagged bool) {
		k := Kind(kind%4 + 1)
		set := NewSet(h)
		fillOthers(t, set, 50, KindUnspecified)
		if key, tag, err := h.KeyTag(k, other); err == nil {
			if !otherTagged {
				tag = 0
			}
			set.Insert(Entry{Key: key, Reason: ReasonOther, Scope: "campaign", Tag: tag})
		}
		key, tag, err := h.KeyTag(k, value)
		if err != nil {
			return
		}
		set.Insert(Entry{Key: key, Reason: ReasonRequested, Tag: tag})
		v := valuesOf(k, value)
		if _, ok := set.Match(&v, ""); !ok {
			t.Fatalf("kind %s: an added value is not found", k)
		}
		ov := valuesOf(k, other)
		_, got := set.Match(&ov, "")
		want := false
		if okey, err := h.Key(k, other); err == nil {
			_, want = set.Lookup(okey, "")
		}
		if got != want {
			t.Fatalf("kind %s: Match says %v, the HMAC lookup %v", k, got, want)
		}
	})
}

// TestDamagedTagStillMatches inserts entries whose tags came back from the
// store damaged (the lowest bit, which every tag has, cleared; or another
// value's tag with it cleared) among tagged entries: each is still found,
// through the HMAC, never hidden behind a tag no value has.
func TestDamagedTagStillMatches(t *testing.T) {
	h := testHasher(t)
	set := NewSet(h)
	fillOthers(t, set, 300, Kind(255))
	tests := []struct {
		name   string
		raw    string
		damage func(Tag) Tag
	}{
		{"lowest bit cleared", "20304050", func(tg Tag) Tag { return tg &^ 1 }},
		{"bits of the source read as a tag", "21304050", func(Tag) Tag { return Tag(0x6d616e75616c2d78) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, tag, err := h.KeyTag(KindPhone, tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			set.Insert(Entry{Key: key, Reason: ReasonRequested, Tag: tc.damage(tag)})
			v := Values{Phone: "+45 " + tc.raw}
			if _, ok := set.Match(&v, ""); !ok {
				t.Fatalf("an entry with a damaged tag was not found")
			}
		})
	}
}
