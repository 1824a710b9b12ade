package suppress

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"eight digits", "12345678", "+4512345678"},
		{"pairs", "12 34 56 78", "+4512345678"},
		{"plus45 pairs", "+45 12 34 56 78", "+4512345678"},
		{"plus45 joined", "+4512345678", "+4512345678"},
		{"0045 joined", "004512345678", "+4512345678"},
		{"0045 space", "0045 12345678", "+4512345678"},
		{"0045 pairs", "0045 12 34 56 78", "+4512345678"},
		{"45 without plus", "45 12345678", "+4512345678"},
		{"4512345678 joined", "4512345678", "+4512345678"},
		{"dashes", "12-34-56-78", "+4512345678"},
		{"plus45 dash", "+45-12345678", "+4512345678"},
		{"dots", "12.34.56.78", "+4512345678"},
		{"parentheses around country code", "(+45) 12 34 56 78", "+4512345678"},
		{"parentheses around 0045", "(0045) 1234 5678", "+4512345678"},
		{"fours", "1234 5678", "+4512345678"},
		{"no-break space", "12\u00a034\u00a056\u00a078", "+4512345678"},
		{"blanks around", "  +45 1234 5678 \t", "+4512345678"},
		{"en dash", "12–34–56–78", "+4512345678"},
		{"slash", "+45 12/34 56 78", "+4512345678"},
		{"sweden e164", "+46 8 123 456 78", "+46812345678"},
		{"sweden 0046", "0046 8 12345678", "+46812345678"},
		{"germany", "+49 (30) 1234-5678", "+493012345678"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizePhone(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("NormalizePhone(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestNormalizePhoneInvalid(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"seven digits", "1234567"},
		{"nine digits", "123456789"},
		{"letters", "12 34 AB 78"},
		{"plus45 with nine digits", "+45 123456789"},
		{"plus in the middle", "12+345678"},
		{"two plus", "++4512345678"},
		{"too long", "+1234567890123456"},
		{"international too short", "+461234"},
		{"extension", "12345678 ext 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizePhone(tc.in)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("NormalizePhone(%q) = %q, %v; want ErrInvalid", tc.in, got, err)
			}
		})
	}
}

func TestNormalizeOthers(t *testing.T) {
	tests := []struct {
		name    string
		kind    Kind
		in      string
		want    string
		wantErr bool
	}{
		{"email lower", KindEmail, "Jens.Hansen@Example.DK", "jens.hansen@example.dk", false},
		{"email trimmed", KindEmail, "  jens@example.dk \n", "jens@example.dk", false},
		{"email unicode upper", KindEmail, "SØREN@EKSEMPEL.DK", "søren@eksempel.dk", false},
		{"email no at", KindEmail, "jens.example.dk", "", true},
		{"email no domain", KindEmail, "jens@", "", true},
		{"email no local", KindEmail, "@example.dk", "", true},
		{"email inner blank", KindEmail, "jens hansen@example.dk", "", true},
		{"cpr plain", KindCPR, "0101901234", "0101901234", false},
		{"cpr dash", KindCPR, "010190-1234", "0101901234", false},
		{"cpr blanks around", KindCPR, " 010190-1234 ", "0101901234", false},
		{"cpr bad date", KindCPR, "3102901234", "", true},
		{"cpr short", KindCPR, "01019012", "", true},
		{"cvr plain", KindCVR, "12345678", "12345678", false},
		{"cvr DK prefix", KindCVR, "DK12345678", "12345678", false},
		{"cvr DK- prefix", KindCVR, "dk-12345678", "12345678", false},
		{"cvr blanks", KindCVR, "12 34 56 78", "12345678", false},
		{"cvr seven digits", KindCVR, "1234567", "", true},
		{"cvr letter", KindCVR, "1234567X", "", true},
		{"unknown kind", KindUnspecified, "12345678", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Normalize(tc.kind, tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("Normalize(%v, %q) = %q, %v; want %q (error %v)", tc.kind, tc.in, got, err, tc.want, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), strings.TrimSpace(tc.in)) && strings.TrimSpace(tc.in) != "" {
				t.Fatalf("error %q repeats the value", err)
			}
		})
	}
}

func testHasher(t testing.TB) *Hasher {
	h, err := NewHasher([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// writingGroups are the writings of one value each that section 6 says
// must find one another.
var writingGroups = []struct {
	name     string
	kind     Kind
	writings []string
	values   func(string) Values
}{
	{"danish phone", KindPhone, []string{"12345678", "+45 12 34 56 78", "0045 12345678", "004512345678", "+4512345678", "12 34 56 78", "12-34-56-78", "12.34.56.78", "(+45) 1234 5678", "45 12 34 56 78"},
		func(s string) Values { return Values{Phone: s} }},
	{"foreign phone", KindPhone, []string{"+46 8 123 456 78", "0046812345678", "+46-8-12345678"},
		func(s string) Values { return Values{Phone: s} }},
	{"email", KindEmail, []string{"jens@example.dk", "JENS@EXAMPLE.DK", " Jens@Example.dk "},
		func(s string) Values { return Values{Email: s} }},
	{"cpr", KindCPR, []string{"0101901234", "010190-1234", " 0101901234 "},
		func(s string) Values { return Values{CPR: s} }},
	{"cvr", KindCVR, []string{"12345678", "DK12345678", "DK 12345678", "12 34 56 78"},
		func(s string) Values { return Values{CVR: s} }},
}

// TestMatchEveryWriting adds each value in one writing and screens every
// other writing of section 6 against it.
func TestMatchEveryWriting(t *testing.T) {
	h := testHasher(t)
	for _, g := range writingGroups {
		for _, added := range g.writings {
			set := NewSet(h)
			k, err := h.Key(g.kind, added)
			if err != nil {
				t.Fatalf("%s: add %q: %v", g.name, added, err)
			}
			set.Insert(Entry{Key: k, Reason: ReasonRequested})
			for _, screened := range g.writings {
				v := g.values(screened)
				if _, ok := set.Match(&v, ""); !ok {
					t.Errorf("%s: added as %q, screened as %q: not suppressed", g.name, added, screened)
				}
			}
		}
	}
}

func TestMatchOtherValuesAndKinds(t *testing.T) {
	h := testHasher(t)
	set := NewSet(h)
	k, _ := h.Key(KindPhone, "12345678")
	set.Insert(Entry{Key: k, Reason: ReasonRequested})
	for _, tc := range []struct {
		name string
		v    Values
	}{
		{"other number", Values{Phone: "12345679"}},
		{"same digits as cvr", Values{CVR: "12345678"}},
		{"foreign number with same digits", Values{Phone: "+46 12345678"}},
		{"unreadable phone", Values{Phone: "call me"}},
		{"nothing", Values{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if e, ok := set.Match(&tc.v, ""); ok {
				t.Fatalf("matched %+v", e)
			}
		})
	}
}

func TestScopes(t *testing.T) {
	h := testHasher(t)
	set := NewSet(h)
	phone, _ := h.Key(KindPhone, "11111111")
	email, _ := h.Key(KindEmail, "a@b.dk")
	set.Insert(Entry{Key: phone, Scope: "brand-a", Reason: ReasonRequested})
	set.Insert(Entry{Key: email, Reason: ReasonBounce})
	tests := []struct {
		name  string
		v     Values
		scope string
		want  bool
	}{
		{"scoped entry, same scope", Values{Phone: "11111111"}, "brand-a", true},
		{"scoped entry, other scope", Values{Phone: "11111111"}, "brand-b", false},
		{"scoped entry, scope in other case and blanks", Values{Phone: "11111111"}, " Brand-A ", true},
		{"scoped entry, request without scope", Values{Phone: "11111111"}, "", true},
		{"unscoped entry, any scope", Values{Email: "A@B.dk"}, "brand-b", true},
		{"unscoped entry, no scope", Values{Email: "A@B.dk"}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := set.Match(&tc.v, tc.scope); ok != tc.want {
				t.Fatalf("Match = %v, want %v", ok, tc.want)
			}
		})
	}
}

func TestSetInsertDelete(t *testing.T) {
	h := testHasher(t)
	set := NewSet(h)
	k, _ := h.Key(KindPhone, "12345678")
	first := Entry{Key: k, Reason: ReasonComplaint, Source: "agent 7"}
	if !set.Insert(first) {
		t.Fatal("first insert not new")
	}
	if set.Insert(Entry{Key: k, Reason: ReasonOther, Source: "import"}) {
		t.Fatal("second insert of the same key and scope counted as new")
	}
	if got := set.Entries(k); len(got) != 1 || got[0].Reason != ReasonComplaint || got[0].Source != "agent 7" {
		t.Fatalf("entry changed by a second add: %+v", got)
	}
	if !set.Insert(Entry{Key: k, Scope: "x", Reason: ReasonOther}) || set.Len() != 2 {
		t.Fatalf("scoped insert: len %d", set.Len())
	}
	if !set.Delete(k, "") || set.Delete(k, "") {
		t.Fatal("delete of the unscoped entry")
	}
	v := Values{Phone: "12345678"}
	if _, ok := set.Match(&v, "y"); ok {
		t.Fatal("deleted unscoped entry still applies to scope y")
	}
	if _, ok := set.Match(&v, "x"); !ok {
		t.Fatal("scoped entry lost by deleting its sibling")
	}
	if set.Len() != 1 {
		t.Fatalf("len %d, want 1", set.Len())
	}
}

func TestHasherKeys(t *testing.T) {
	h := testHasher(t)
	other, _ := NewHasher([]byte(strings.Repeat("x", 32)))
	a, _ := h.Key(KindPhone, "12345678")
	b, _ := other.Key(KindPhone, "12345678")
	c, _ := h.Key(KindCVR, "12345678")
	if a == b || a.Pseudonym == c.Pseudonym {
		t.Fatal("pseudonyms do not depend on key and kind")
	}
	if h.Fingerprint() == other.Fingerprint() {
		t.Fatal("fingerprints equal for different keys")
	}
	if _, err := NewHasher(make([]byte, 31)); err == nil {
		t.Fatal("short key accepted")
	}
}

// TestSetGrowAndDelete fills a set past several filter rebuilds, deletes
// every other entry and checks each key's presence.
func TestSetGrowAndDelete(t *testing.T) {
	h := testHasher(t)
	set := NewSet(h)
	keys := make([]Key, 5000)
	for i := range keys {
		k, err := h.Key(KindCVR, fmt.Sprintf("%08d", 10000000+i))
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
		set.Insert(Entry{Key: k, Reason: ReasonOther})
	}
	for i := 0; i < len(keys); i += 2 {
		if !set.Delete(keys[i], "") {
			t.Fatalf("delete %d", i)
		}
	}
	// More inserts rebuild the filter without the deleted keys.
	for i := 0; i < 3000; i++ {
		k, _ := h.Key(KindCVR, fmt.Sprintf("%08d", 20000000+i))
		set.Insert(Entry{Key: k, Reason: ReasonOther})
	}
	for i, k := range keys {
		_, ok := set.Lookup(k, "")
		if ok != (i%2 == 1) {
			t.Fatalf("key %d: found %v", i, ok)
		}
	}
	if set.Len() != 2500+3000 {
		t.Fatalf("len %d", set.Len())
	}
}
