package robinson

import (
	"slices"
	"strings"
)

// FamilyCounter counts, over the records of one list, how often each word
// is used as a surname word and as a given name, each record once
// (screening-rules.md section 3.4). The zero FamilyCounter is ready to use.
type FamilyCounter struct {
	counts map[string]*[2]uint32
	seen   []string
}

// Add counts rec: each distinct surname word once as a surname word, each
// distinct given-part word (initials too) once as a given name.
func (c *FamilyCounter) Add(rec *Record) {
	if c.counts == nil {
		c.counts = make(map[string]*[2]uint32)
	}
	c.seen = c.seen[:0]
	for _, w := range rec.Name.Surnames {
		c.count(w, 0)
	}
	c.seen = c.seen[:0]
	for _, g := range rec.Name.Given {
		c.count(g.Word, 1)
	}
}

func (c *FamilyCounter) count(w string, side int) {
	if slices.Contains(c.seen, w) {
		return
	}
	c.seen = append(c.seen, w)
	n := c.counts[w]
	if n == nil {
		n = new([2]uint32)
		c.counts[strings.Clone(w)] = n
	}
	n[side]++
}

// Set returns the family-type words: those used more often as a surname
// word than as a given name. A word used equally often both ways is not
// family-type. Words never used as a given name are included: a contact may
// carry them as a middle name.
func (c *FamilyCounter) Set() FamilySet {
	s := FamilySet{}
	for w, n := range c.counts {
		if n[0] > n[1] {
			s[w] = struct{}{}
		}
	}
	return s
}

// FamilySet is a set of family-type words; it implements FamilyTypes. A
// nil FamilySet holds no word.
type FamilySet map[string]struct{}

// FamilyType reports whether w is in the set.
func (s FamilySet) FamilyType(w string) bool {
	_, ok := s[w]
	return ok
}
