package robinson

import (
	"cmp"
	"slices"
)

// NearPairs finds the words of a set that are one edit apart, as the
// words stored at one address: it calls fn(i, j) once for every i and j
// with OneEdit(words[i], words[j]), for each i in increasing j. It
// compares only words that share a prefix signature (prefixSigs), which
// every two words one edit apart do, so that a set of many words costs
// about as many comparisons as it has words rather than their square. s
// is scratch space a caller may reuse from one set to the next (nil: none).
func NearPairs(words []string, s *NearScratch, fn func(i, j int)) {
	if len(words) < 2 {
		return
	}
	if s == nil {
		s = new(NearScratch)
	}
	if len(words) <= nearPairsDirect {
		nearPairsDirectly(words, s, fn)
		return
	}
	s.sigs = s.sigs[:0]
	for i, w := range words {
		if letters(w) < MinEditLetters {
			continue // OneEdit accepts no shorter word
		}
		sigs, n := prefixSigs(w)
		for _, p := range sigs[:n] {
			s.sigs = append(s.sigs, wordSig{sig: uint16(p[0])<<8 | uint16(p[1]), word: int32(i)})
		}
	}
	slices.SortFunc(s.sigs, func(a, b wordSig) int {
		return cmp.Or(cmp.Compare(a.sig, b.sig), cmp.Compare(a.word, b.word))
	})
	// Every ordered pair of words sharing a signature, once.
	s.pairs = s.pairs[:0]
	for lo := 0; lo < len(s.sigs); {
		hi := lo + 1
		for hi < len(s.sigs) && s.sigs[hi].sig == s.sigs[lo].sig {
			hi++
		}
		for a := lo; a < hi; a++ {
			for b := lo; b < hi; b++ {
				if a != b {
					s.pairs = append(s.pairs, [2]int32{s.sigs[a].word, s.sigs[b].word})
				}
			}
		}
		lo = hi
	}
	slices.SortFunc(s.pairs, func(a, b [2]int32) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	})
	s.pairs = slices.Compact(s.pairs)
	for _, p := range s.pairs {
		if OneEdit(words[p[0]], words[p[1]]) {
			fn(int(p[0]), int(p[1]))
		}
	}
}

// nearPairsDirect: NearPairs compares every two words of a set this
// small (most addresses hold a few words), which costs less than sorting
// their signatures.
const nearPairsDirect = 16

// nearPairsDirectly is NearPairs for a small set: every ordered pair of
// words long enough to be one edit apart.
func nearPairsDirectly(words []string, s *NearScratch, fn func(i, j int)) {
	s.long = s.long[:0]
	for _, w := range words {
		s.long = append(s.long, letters(w) >= MinEditLetters)
	}
	for i, w := range words {
		if !s.long[i] {
			continue
		}
		for j, v := range words {
			if j != i && s.long[j] && OneEdit(w, v) {
				fn(i, j)
			}
		}
	}
}

// NearScratch is NearPairs' scratch space.
type NearScratch struct {
	sigs  []wordSig
	pairs [][2]int32
	long  []bool // nearPairsDirectly: the word has MinEditLetters letters
}

// wordSig is one prefix signature of a word of a NearPairs set.
type wordSig struct {
	sig  uint16
	word int32
}
