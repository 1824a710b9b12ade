package robinson

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	"",
	" ",
	"Strandvejen 123A, st. tv, 2900 Hellerup",
	"Strandvejen 123 a st th 2900 Hellerup",
	"STRANDVEJEN 123A ST. TV. 2900 HELLERUP",
	"Dronn. Louises V. 15, 1. th",
	"Vej 12 2 tv",
	"Vestergade 7, 2. sal t.v.",
	"Vestergade 7 2.tv",
	"Nørregade  12 , kælder",
	"H C Andersens Boulevard 12, 3. til venstre, 1553 København V",
	"H.C. Andersens Boulevard 012",
	"Allégade 5, 1620 København V",
	"Bredgade 20, 4. 3",
	"Christian 4. Gade 12 t v",
	"Hans Peter Jensen",
	"Jensen,Hans Peter",
	"Jensen, H.P.",
	"Ø. Hansen-Jensen",
	"S\xf8ren",
	"A\u030alborg",
	"\u212Blborg",
	"ǻ\u0301\u0308",
	"\u1100\u1161\u11a8",
	"Han\u2013s\u00a0\u00ad\u200b",
	"ΣΩΚΡΆΤΗΣ",
	"\ufeff,,..--",
}

// fuzzParser is reused across fuzz inputs, as the screening engine reuses
// one across contacts.
var fuzzParser ContactParser

func FuzzNormalize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q: invalid UTF-8", s, n)
		}
		if nn := Normalize(n); nn != n {
			t.Fatalf("not idempotent: Normalize(%q) = %q, Normalize(that) = %q", s, n, nn)
		}
		if strings.HasPrefix(n, " ") || strings.HasSuffix(n, " ") || strings.Contains(n, "  ") {
			t.Fatalf("Normalize(%q) = %q: blanks not collapsed", s, n)
		}
		if strings.ContainsAny(n, "-\t\n\u00a0æøåÆØÅ") {
			t.Fatalf("Normalize(%q) = %q: holds a character that must be mapped", s, n)
		}
		if got := string(AppendNormalized([]byte("p"), s)); got != "p"+n {
			t.Fatalf("AppendNormalized(%q) = %q, want %q", s, got, "p"+n)
		}
	})
}

func FuzzParseAddress(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddress(s)
		if err != nil {
			if !errors.Is(err, ErrAddress) {
				t.Fatalf("ParseAddress(%q) error %v does not wrap ErrAddress", s, err)
			}
			if a.HouseNumber != "" || a.Floor != "" || a.Door != "" {
				t.Fatalf("ParseAddress(%q) = %+v with error %v: unit parts set", s, a, err)
			}
		} else {
			if a.Street == "" || a.HouseNumber == "" {
				t.Fatalf("ParseAddress(%q) = %+v: no error but street or house number empty", s, a)
			}
			if h, ok := NormalizeHouseNumber(a.HouseNumber); !ok || h != a.HouseNumber {
				t.Fatalf("ParseAddress(%q) house number %q is not normal (%q, %v)", s, a.HouseNumber, h, ok)
			}
			if a.Floor != "" {
				if v, ok := NormalizeFloor(a.Floor); !ok || v != a.Floor {
					t.Fatalf("ParseAddress(%q) floor %q is not normal", s, a.Floor)
				}
			}
			if a.Door != "" {
				if v, ok := NormalizeDoor(a.Door); !ok || v != a.Door {
					t.Fatalf("ParseAddress(%q) door %q is not normal", s, a.Door)
				}
			}
			if Normalize(a.Street) != a.Street || strings.Contains(a.Street, ",") {
				t.Fatalf("ParseAddress(%q) street %q is not normal", s, a.Street)
			}
			if StreetsCompatible(a.Street, a.Street) != StreetEqual {
				t.Fatalf("street %q not equal to itself", a.Street)
			}
		}
		if a.Postcode != "" && !addrIsPostcode(a.Postcode) {
			t.Fatalf("ParseAddress(%q) postcode %q is not 4 digits", s, a.Postcode)
		}
		// Parsing the normalised line gives the same result.
		b, err2 := ParseAddress(Normalize(s))
		if b != a || (err == nil) != (err2 == nil) {
			t.Fatalf("ParseAddress(Normalize(%q)) = %+v, %v; want %+v, %v", s, b, err2, a, err)
		}
		// So does a ContactParser, whose buffers the fuzzer's earlier
		// inputs have used.
		c, err3 := fuzzParser.ParseAddress(s)
		if c != a || err3 != err {
			t.Fatalf("ContactParser.ParseAddress(%q) = %+v, %v; want %+v, %v", s, c, err3, a, err)
		}
	})
}

func fuzzCheckName(t *testing.T, fn string, s string, n Name, err error) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, ErrName) {
			t.Fatalf("%s(%q) error %v does not wrap ErrName", fn, s, err)
		}
		if n.Surnames != nil || n.Given != nil {
			t.Fatalf("%s(%q) = %+v with error", fn, s, n)
		}
		return
	}
	if len(n.Surnames) == 0 {
		t.Fatalf("%s(%q) = %+v: no surname without error", fn, s, n)
	}
	for _, w := range n.Surnames {
		if w == "" || strings.ContainsAny(w, " .,") || Normalize(w) != w {
			t.Fatalf("%s(%q): bad surname word %q", fn, s, w)
		}
	}
	for _, g := range n.Given {
		if g.Word == "" || strings.ContainsAny(g.Word, " .,") || Normalize(g.Word) != g.Word {
			t.Fatalf("%s(%q): bad given word %q", fn, s, g.Word)
		}
		if g.Initial != nameIsInitial(g.Word) {
			t.Fatalf("%s(%q): Initial flag wrong for %q", fn, s, g.Word)
		}
	}
	// A name agrees with itself when it has an initial or a given name of
	// two or more letters.
	comparable := false
	for _, g := range n.Given {
		comparable = comparable || g.Initial || nameHasTwoLetters(g.Word)
	}
	if comparable && NameAgreementOf(n, n) == NameNone {
		t.Fatalf("%s(%q) = %+v does not agree with itself", fn, s, n)
	}
}

func FuzzParseContactName(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseContactName(s)
		fuzzCheckName(t, "ParseContactName", s, n, err)
		// A ContactParser, whose buffers the fuzzer's earlier inputs have
		// used, gives the same name.
		if m, err2 := fuzzParser.ParseName(s); err2 != err || !reflect.DeepEqual(m, n) {
			t.Fatalf("ContactParser.ParseName(%q) = %+v, %v; want %+v, %v", s, m, err2, n, err)
		}
	})
}

func FuzzParseListName(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseListName(s)
		fuzzCheckName(t, "ParseListName", s, n, err)
		if err == nil && !strings.Contains(s, ",") {
			t.Fatalf("ParseListName(%q) accepted a name without comma", s)
		}
	})
}
