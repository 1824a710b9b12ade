package robinson

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// nearPairsBrute is NearPairs by definition: every ordered pair.
func nearPairsBrute(words []string) [][2]int {
	var out [][2]int
	for i := range words {
		for j := range words {
			if i != j && OneEdit(words[i], words[j]) {
				out = append(out, [2]int{i, j})
			}
		}
	}
	return out
}

func nearPairsOf(words []string, s *NearScratch) [][2]int {
	var out [][2]int
	NearPairs(words, s, func(i, j int) { out = append(out, [2]int{i, j}) })
	return out
}

func TestNearPairs(t *testing.T) {
	many := []string{"hansen", "hanssen", "jensen", "jenssen", "nielsen", "nilsen", "pedersen", "petersen",
		"andersen", "andresen", "larsen", "larsén", "sørensen", "sorensen", "jørgensen", "jorgensen",
		"rasmussen", "rasmusen", "christensen", "kristensen", "madsen", "madsén", "olsen", "hansen-berg"}
	tests := []struct {
		name  string
		words []string
		want  [][2]int
	}{
		{"empty", nil, nil},
		{"one word", []string{"hansen"}, nil},
		{"replaced letter", []string{"hansen", "jansen"}, [][2]int{{0, 1}, {1, 0}}},
		{"inserted letter", []string{"hansen", "hanssen"}, [][2]int{{0, 1}, {1, 0}}},
		{"swapped letters", []string{"hansen", "hasnen"}, [][2]int{{0, 1}, {1, 0}}},
		{"first letter deleted", []string{"hansen", "ansen"}, [][2]int{{0, 1}, {1, 0}}},
		{"too short", []string{"hans", "hands"}, nil},
		{"two edits", []string{"hansen", "jenssen"}, nil},
		{"non-ASCII replaced", []string{"sørensen", "sorensen"}, [][2]int{{0, 1}, {1, 0}}},
		{"equal words", []string{"hansen", "hansen"}, nil},
		{"many words", many, nearPairsBrute(many)},
	}
	var s NearScratch // reused across cases
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nearPairsOf(tt.words, &s); !slices.Equal(got, tt.want) {
				t.Errorf("NearPairs(%q) = %v, want %v", tt.words, got, tt.want)
			}
		})
	}
	if len(many) <= nearPairsDirect || len(nearPairsBrute(many)) < 10 {
		t.Fatalf("the many-words case (%d words, %d pairs) does not test the signature path", len(many), len(nearPairsBrute(many)))
	}
}

// FuzzNearPairs checks NearPairs against every pair, for small sets
// (compared directly) and large ones (compared through signatures).
func FuzzNearPairs(f *testing.F) {
	f.Add("hansen hanssen jensen", 0)
	f.Add("sørensen sorensen søren", 30)
	f.Add("abcde abcdf bacde acde", 25)
	var s NearScratch
	f.Fuzz(func(t *testing.T, in string, pad int) {
		words := strings.Fields(in)
		// Pad with unrelated words to reach the signature path.
		for i := range pad % 40 {
			words = append(words, fmt.Sprintf("zz%dqq", i))
		}
		if len(words) > 200 {
			return
		}
		got, want := nearPairsOf(words, &s), nearPairsBrute(words)
		if !slices.Equal(got, want) {
			t.Fatalf("NearPairs(%q) = %v, want %v", words, got, want)
		}
	})
}
