package robinson

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		Name  string
		Input string
		Want  string
	}{
		{Name: "Empty", Input: "", Want: ""},
		{Name: "OnlyBlanks", Input: " \t\u00a0 ", Want: ""},
		{Name: "AlreadyNormal", Input: "hans jensen", Want: "hans jensen"},
		{Name: "UpperCase", Input: "HANS JENSEN", Want: "hans jensen"},
		{Name: "MixedCase", Input: "Hans Peter Jensen", Want: "hans peter jensen"},
		{Name: "TrimAndCollapse", Input: "  Hans   Jensen  ", Want: "hans jensen"},
		{Name: "Tabs", Input: "Hans\t\tJensen", Want: "hans jensen"},
		{Name: "LineEnds", Input: "Hans\r\nJensen\n", Want: "hans jensen"},
		{Name: "NBSP", Input: "Hans\u00a0Jensen", Want: "hans jensen"},
		{Name: "NarrowNBSP", Input: "Hans\u202fJensen", Want: "hans jensen"},
		{Name: "Hyphen", Input: "Hans-Peter", Want: "hans peter"},
		{Name: "HyphenWithBlanks", Input: "Hans - Peter", Want: "hans peter"},
		{Name: "LeadingTrailingHyphen", Input: "-Hans-", Want: "hans"},
		{Name: "EnDash", Input: "Hans\u2013Peter", Want: "hans peter"},
		{Name: "EmDash", Input: "Hans\u2014Peter", Want: "hans peter"},
		{Name: "UnicodeHyphen", Input: "Hans\u2010Peter", Want: "hans peter"},
		{Name: "MinusSign", Input: "Hans\u2212Peter", Want: "hans peter"},
		{Name: "DotsAndCommasKept", Input: "Dronn. Louises V. 15, 1. th", Want: "dronn. louises v. 15, 1. th"},
		{Name: "ApostropheKept", Input: "O'Brien", Want: "o'brien"},
		{Name: "ControlIsBlank", Input: "a\x00b\x1fc\x7fd", Want: "a b c d"},
		{Name: "AELower", Input: "æble", Want: "aeble"},
		{Name: "AEUpper", Input: "ÆBLE", Want: "aeble"},
		{Name: "OSlashLower", Input: "Søren", Want: "soeren"},
		{Name: "OSlashUpper", Input: "SØREN", Want: "soeren"},
		{Name: "ARingLower", Input: "Ålborg", Want: "aalborg"},
		{Name: "ARingUpper", Input: "ÅLBORG", Want: "aalborg"},
		{Name: "ARingDecomposed", Input: "A\u030alborg", Want: "aalborg"},
		{Name: "AngstromSign", Input: "\u212Blborg", Want: "aalborg"},
		{Name: "ADiaeresis", Input: "Jäger", Want: "jaeger"},
		{Name: "ODiaeresis", Input: "Björk", Want: "bjoerk"},
		{Name: "ODiaeresisDecomposed", Input: "Bjo\u0308rk", Want: "bjoerk"},
		{Name: "AcuteE", Input: "Allé", Want: "alle"},
		{Name: "AcuteEUpper", Input: "ALLÉ", Want: "alle"},
		{Name: "AcuteDecomposed", Input: "Alle\u0301", Want: "alle"},
		{Name: "UDiaeresis", Input: "Müller", Want: "muller"},
		{Name: "Tilde", Input: "Muñoz", Want: "munoz"},
		{Name: "Cedilla", Input: "François", Want: "francois"},
		{Name: "Caron", Input: "Dvořák", Want: "dvorak"},
		{Name: "LatinExtendedStroke", Input: "Łukasz", Want: "łukasz"},
		{Name: "OSlashAcute", Input: "\u01fe", Want: "oe"},
		{Name: "SharpS", Input: "Straße", Want: "strasse"},
		{Name: "SoftHyphenDropped", Input: "Nør\u00adregade", Want: "noerregade"},
		{Name: "ZeroWidthSpaceDropped", Input: "Nørre\u200bgade", Want: "noerregade"},
		{Name: "BOMDropped", Input: "\ufeffHans", Want: "hans"},
		{Name: "InvalidUTF8Dropped", Input: "Han\xffs", Want: "hans"},
		{Name: "Latin1ByteDropped", Input: "S\xf8ren", Want: "sren"},
		{Name: "Greek", Input: "ΣΩΚΡΆΤΗΣ", Want: "σωκρατησ"},
		{Name: "NonASCIIThenHyphen", Input: "Søren-Ole  Jørgensen", Want: "soeren ole joergensen"},
		{Name: "KelvinSign", Input: "\u212Aaj", Want: "kaj"},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			if got := Normalize(tt.Input); got != tt.Want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.Input, got, tt.Want)
			}
			if got := string(AppendNormalized([]byte("x|"), tt.Input)); got != "x|"+tt.Want {
				t.Errorf("AppendNormalized(\"x|\", %q) = %q, want %q", tt.Input, got, "x|"+tt.Want)
			}
		})
	}
}

// TestNormalizeEquivalent checks the writing variants of section 3 that
// must compare equal, in both directions.
func TestNormalizeEquivalent(t *testing.T) {
	tests := []struct {
		Name string
		A, B string
	}{
		{Name: "SoerenOE", A: "Søren", B: "Soeren"},
		{Name: "AalborgAA", A: "Aalborg", B: "Ålborg"},
		{Name: "AebleAE", A: "Æble", B: "aeble"},
		{Name: "AlleAccent", A: "Allé", B: "Alle"},
		{Name: "HyphenBlank", A: "Hansen-Jensen", B: "Hansen Jensen"},
		{Name: "Blanks", A: "Hansen   Jensen", B: " Hansen Jensen "},
		{Name: "Case", A: "NØRREGADE", B: "nørregade"},
		{Name: "NFCvsNFD", A: "Allé", B: "Alle\u0301"},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			a, b := Normalize(tt.A), Normalize(tt.B)
			if a != b {
				t.Errorf("Normalize(%q) = %q, Normalize(%q) = %q; want equal", tt.A, a, tt.B, b)
			}
			if a2, b2 := Normalize(tt.B), Normalize(tt.A); a2 != b2 {
				t.Errorf("reverse: %q != %q", a2, b2)
			}
		})
	}
}

func TestNormalizeIdempotent(t *testing.T) {
	for _, s := range []string{"", "Søren-Ole", "A\u030a", "ǻ", "\u1100\u1161", "가", "ǅ", "İ", "Ǟ", "\u0958", "ﬁ"} {
		n := Normalize(s)
		if nn := Normalize(n); nn != n {
			t.Errorf("Normalize(Normalize(%q)) = %q, want %q", s, nn, n)
		}
		if !utf8.ValidString(n) {
			t.Errorf("Normalize(%q) = %q is not valid UTF-8", s, n)
		}
	}
}

// TestNormalizeBelowU0300IsNFC backs the shortcut in normAppendSlow that
// skips NFC for strings of runes below U+0300.
func TestNormalizeBelowU0300IsNFC(t *testing.T) {
	for r := rune(0); r < 0x300; r++ {
		s := string(r)
		if !norm.NFC.IsNormalString(s) {
			t.Fatalf("U+%04X is not NFC", r)
		}
		for q := rune(0x80); q < 0x300; q += 7 {
			if p := s + string(q); !norm.NFC.IsNormalString(p) {
				t.Fatalf("U+%04X U+%04X is not NFC", r, q)
			}
		}
	}
}

func TestNormalizeAllocs(t *testing.T) {
	tests := []struct {
		Name  string
		Input string
		Max   float64
	}{
		{Name: "AlreadyNormal", Input: "strandvejen 123a, st. tv, 2900 hellerup", Max: 0},
		{Name: "ASCIIUpper", Input: "STRANDVEJEN 123A, ST. TV, 2900 HELLERUP", Max: 1},
		{Name: "ASCIIHyphen", Input: "Hans-Peter  Jensen", Max: 1},
		{Name: "Latin1", Input: "Søren Jørgensen", Max: 1},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			got := testing.AllocsPerRun(100, func() { _ = Normalize(tt.Input) })
			if got > tt.Max {
				t.Errorf("Normalize(%q): %v allocs, want <= %v", tt.Input, got, tt.Max)
			}
		})
	}
	buf := make([]byte, 0, 128)
	s := "STRANDVEJEN 123A, ST. TV, 2900 HELLERUP"
	if got := testing.AllocsPerRun(100, func() { buf = AppendNormalized(buf[:0], s) }); got != 0 {
		t.Errorf("AppendNormalized ASCII with capacity: %v allocs, want 0", got)
	}
	if got, want := string(buf), strings.ToLower(s); got != want {
		t.Errorf("AppendNormalized = %q, want %q", got, want)
	}
}
