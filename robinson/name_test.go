package robinson

import (
	"errors"
	"reflect"
	"testing"
)

// g builds given names: "h." marks an initial, anything else a full word.
func g(words ...string) []Given {
	var out []Given
	for _, w := range words {
		if len(w) > 1 && w[len(w)-1] == '.' {
			out = append(out, Given{Word: w[:len(w)-1], Initial: true})
		} else {
			out = append(out, Given{Word: w})
		}
	}
	return out
}

func TestParseListName(t *testing.T) {
	tests := []struct {
		Name    string
		Input   string
		Want    Name
		WantErr error
	}{
		{Name: "Simple", Input: "Jensen,Hans", Want: Name{Surnames: []string{"jensen"}, Given: g("hans")}},
		{Name: "MiddleName", Input: "Jensen,Hans Peter", Want: Name{Surnames: []string{"jensen"}, Given: g("hans", "peter")}},
		{Name: "DoubleSurname", Input: "Hansen Jensen,Mette", Want: Name{Surnames: []string{"hansen", "jensen"}, Given: g("mette")}},
		{Name: "HyphenSurname", Input: "Hansen-Jensen,Mette", Want: Name{Surnames: []string{"hansen", "jensen"}, Given: g("mette")}},
		{Name: "BlanksAroundComma", Input: "  Jensen , Hans  ", Want: Name{Surnames: []string{"jensen"}, Given: g("hans")}},
		{Name: "DanishLetters", Input: "Sørensen,Åse Ærø", Want: Name{Surnames: []string{"soerensen"}, Given: g("aase", "aeroe")}},
		{Name: "Latin1Upper", Input: "JØRGENSEN,SØREN", Want: Name{Surnames: []string{"joergensen"}, Given: g("soeren")}},
		{Name: "Initial", Input: "Jensen,H.", Want: Name{Surnames: []string{"jensen"}, Given: g("h.")}},
		{Name: "InitialsDotted", Input: "Jensen,H.P.", Want: Name{Surnames: []string{"jensen"}, Given: g("h.", "p.")}},
		{Name: "HyphenGiven", Input: "Jensen,Hans-Peter", Want: Name{Surnames: []string{"jensen"}, Given: g("hans", "peter")}},
		{Name: "NoGiven", Input: "Jensen,", Want: Name{Surnames: []string{"jensen"}}},
		{Name: "ExtraComma", Input: "Jensen,Hans,Peter", Want: Name{Surnames: []string{"jensen"}, Given: g("hans", "peter")}},
		{Name: "ManyNames", Input: "Hansen Jensen Nielsen,Anna Bodil Carla Dorte Eva", Want: Name{Surnames: []string{"hansen", "jensen", "nielsen"}, Given: g("anna", "bodil", "carla", "dorte", "eva")}},
		{Name: "NoComma", Input: "Jensen Hans", WantErr: errNameNoComma},
		{Name: "Empty", Input: "", WantErr: errNameEmpty},
		{Name: "Blank", Input: "   ", WantErr: errNameEmpty},
		{Name: "EmptySurname", Input: ",Hans", WantErr: errNameNoSurname},
		{Name: "BlankSurname", Input: " - ,Hans", WantErr: errNameNoSurname},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			got, err := ParseListName(tt.Input)
			if tt.WantErr != nil {
				if !errors.Is(err, tt.WantErr) || !errors.Is(err, ErrName) {
					t.Fatalf("ParseListName(%q) error = %v, want %v wrapping ErrName", tt.Input, err, tt.WantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseListName(%q) unexpected error: %v", tt.Input, err)
			}
			if !reflect.DeepEqual(got, tt.Want) {
				t.Errorf("ParseListName(%q) = %+v, want %+v", tt.Input, got, tt.Want)
			}
		})
	}
}

func TestParseContactName(t *testing.T) {
	tests := []struct {
		Name    string
		Input   string
		Want    Name
		WantErr error
	}{
		{Name: "GivenSurname", Input: "Hans Jensen", Want: Name{Surnames: []string{"jensen"}, Given: g("hans")}},
		{Name: "MiddleName", Input: "Hans Peter Jensen", Want: Name{Surnames: []string{"jensen"}, Given: g("hans", "peter")}},
		{Name: "CommaForm", Input: "Jensen, Hans", Want: Name{Surnames: []string{"jensen"}, Given: g("hans")}},
		{Name: "CommaFormNoBlank", Input: "Jensen,Hans Peter", Want: Name{Surnames: []string{"jensen"}, Given: g("hans", "peter")}},
		{Name: "CommaFormDoubleSurname", Input: "Hansen Jensen, Mette", Want: Name{Surnames: []string{"hansen", "jensen"}, Given: g("mette")}},
		{Name: "LastWordOnly", Input: "Mette Hansen Jensen", Want: Name{Surnames: []string{"jensen"}, Given: g("mette", "hansen")}},
		{Name: "HyphenatedSurname", Input: "Mette Hansen-Jensen", Want: Name{Surnames: []string{"hansen", "jensen"}, Given: g("mette")}},
		{Name: "EnDashSurname", Input: "Mette Hansen\u2013Jensen", Want: Name{Surnames: []string{"hansen", "jensen"}, Given: g("mette")}},
		{Name: "HyphenatedGiven", Input: "Hans-Peter Jensen", Want: Name{Surnames: []string{"jensen"}, Given: g("hans", "peter")}},
		{Name: "SingleWord", Input: "Jensen", Want: Name{Surnames: []string{"jensen"}}},
		{Name: "InitialDot", Input: "H. Jensen", Want: Name{Surnames: []string{"jensen"}, Given: g("h.")}},
		{Name: "InitialNoDot", Input: "h Jensen", Want: Name{Surnames: []string{"jensen"}, Given: g("h.")}},
		{Name: "InitialDanishLetter", Input: "Ø. Hansen", Want: Name{Surnames: []string{"hansen"}, Given: g("oe.")}},
		{Name: "InitialAA", Input: "Å Hansen", Want: Name{Surnames: []string{"hansen"}, Given: g("aa.")}},
		{Name: "TwoInitialsDotted", Input: "H.P. Jensen", Want: Name{Surnames: []string{"jensen"}, Given: g("h.", "p.")}},
		{Name: "TwoInitialsBlank", Input: "H. P. Jensen", Want: Name{Surnames: []string{"jensen"}, Given: g("h.", "p.")}},
		{Name: "InitialAndName", Input: "Hans P. Jensen", Want: Name{Surnames: []string{"jensen"}, Given: g("hans", "p.")}},
		{Name: "AbbreviationDotRemoved", Input: "Chr. Jensen", Want: Name{Surnames: []string{"jensen"}, Given: g("chr")}},
		{Name: "TrailingDot", Input: "Hans Jensen.", Want: Name{Surnames: []string{"jensen"}, Given: g("hans")}},
		{Name: "UpperCaseDanish", Input: "SØREN JØRGENSEN", Want: Name{Surnames: []string{"joergensen"}, Given: g("soeren")}},
		{Name: "NBSP", Input: "Søren\u00a0Jørgensen", Want: Name{Surnames: []string{"joergensen"}, Given: g("soeren")}},
		{Name: "ExtraBlanks", Input: "  Hans   Jensen  ", Want: Name{Surnames: []string{"jensen"}, Given: g("hans")}},
		{Name: "TrailingHyphen", Input: "Hans Jensen-", Want: Name{Surnames: []string{"jensen"}, Given: g("hans")}},
		{Name: "CommaNoGiven", Input: "Jensen,", Want: Name{Surnames: []string{"jensen"}}},
		{Name: "Empty", Input: "", WantErr: errNameEmpty},
		{Name: "Blank", Input: " \t ", WantErr: errNameEmpty},
		{Name: "OnlyDots", Input: ". . .", WantErr: errNameEmpty},
		{Name: "OnlyComma", Input: " , ", WantErr: errNameEmpty},
		{Name: "CommaNoSurname", Input: ", Hans", WantErr: errNameNoSurname},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			got, err := ParseContactName(tt.Input)
			if tt.WantErr != nil {
				if !errors.Is(err, tt.WantErr) || !errors.Is(err, ErrName) {
					t.Fatalf("ParseContactName(%q) error = %v, want %v wrapping ErrName", tt.Input, err, tt.WantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseContactName(%q) unexpected error: %v", tt.Input, err)
			}
			if !reflect.DeepEqual(got, tt.Want) {
				t.Errorf("ParseContactName(%q) = %+v, want %+v", tt.Input, got, tt.Want)
			}
		})
	}
}

func TestNameErrorText(t *testing.T) {
	_, err := ParseListName("Jensen Hans")
	if err == nil || err.Error() != "robinson: invalid name: list name has no comma between surname and given names" {
		t.Errorf("error text = %v", err)
	}
}
