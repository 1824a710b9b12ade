package suppress

import (
	"encoding/binary"
	"strings"
	"sync"
	"time"
)

// Set is the list in memory, as screening reads it: a map from pseudonym
// to the entries under it. It is safe for concurrent use: lookups take a
// read lock, changes a write lock.
type Set struct {
	h *Hasher

	mu  sync.RWMutex
	idx map[uint64]int32 // first 8 bytes of the pseudonym -> first slot
	// filter is an open-addressing table of the idx keys (each with its
	// lowest bit set, so that 0 marks a free cell), at most half full. A
	// contact's value that is not on the list, the usual case, costs one
	// probe here, about one cache miss, instead of a map lookup. Deleted
	// keys stay until the table is rebuilt: a stale key only sends the
	// lookup on to idx.
	filter   []uint64
	inFilter int
	// tags is the pre-filter in front of the HMAC (see Match): an
	// open-addressing table of 15-bit fingerprints of the entries' tags
	// (bit 15 of each cell set, so that 0 marks a free cell), at most half
	// full, indexed by the tag's low bits. A value whose tag is not in it
	// is on the list under no tagged entry. Deleted tags stay until the
	// table is rebuilt (a false "maybe" only costs an HMAC).
	tags     []uint16
	inTags   int
	tagged   int              // live entries with a tag
	untagged [KindCVR + 1]int // live entries without a tag, per kind
	slots    []slot
	free     []int32
	strs     []string          // interned scopes and sources; 0 is ""
	strIx    map[string]uint32 // string -> index in strs
	kinds    [KindCVR + 1]int  // live entries per kind
	n        int
}

// slot is one entry in compact form; entries whose pseudonyms share their
// first 8 bytes (one pseudonym under several scopes, almost always) are
// chained through next (-1 ends the chain). The index holds 8 bytes per
// entry instead of 32: a smaller map, fewer cache misses per lookup.
type slot struct {
	pseud  Pseudonym
	next   int32
	kind   Kind
	reason Reason
	scope  uint32
	source uint32
	added  int64 // Unix seconds
	tag    Tag   // 0: none (and in a free slot)
}

// NewSet returns an empty Set whose Match pseudonymises with h.
func NewSet(h *Hasher) *Set {
	return &Set{h: h, idx: map[uint64]int32{}, strs: []string{""}, strIx: map[string]uint32{"": 0}}
}

// Hasher returns the Hasher the set was made with.
func (s *Set) Hasher() *Hasher { return s.h }

// Len returns the number of entries.
func (s *Set) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.n
}

func (s *Set) intern(v string) uint32 {
	if i, ok := s.strIx[v]; ok {
		return i
	}
	i := uint32(len(s.strs))
	s.strs = append(s.strs, strings.Clone(v))
	s.strIx[v] = i
	return i
}

func short(p *Pseudonym) uint64 { return binary.LittleEndian.Uint64(p[:8]) }

func (s *Set) entry(sl *slot) Entry {
	return Entry{Key: Key{Kind: sl.kind, Pseudonym: sl.pseud}, Scope: s.strs[sl.scope], Reason: sl.reason, Source: s.strs[sl.source], Added: time.Unix(sl.added, 0).UTC(), Tag: sl.tag}
}

// find returns the slot of key and scope, or -1.
func (s *Set) find(k Key, scope string) int32 {
	i, ok := s.idx[short(&k.Pseudonym)]
	if !ok {
		return -1
	}
	for ; i >= 0; i = s.slots[i].next {
		sl := &s.slots[i]
		if sl.kind == k.Kind && sl.pseud == k.Pseudonym && s.strs[sl.scope] == scope {
			return i
		}
	}
	return -1
}

// Insert adds e unless an entry with its key and scope is present; it
// reports whether it added it. A present entry is never changed.
func (s *Set) Insert(e Entry) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.insertLocked(e)
}

func (s *Set) insertLocked(e Entry) bool {
	if s.find(e.Key, e.Scope) >= 0 {
		return false
	}
	sl := slot{pseud: e.Key.Pseudonym, next: -1, kind: e.Key.Kind, reason: e.Reason, scope: s.intern(e.Scope), source: s.intern(e.Source), added: e.Added.Unix(), tag: e.Tag}
	sh := short(&e.Key.Pseudonym)
	if head, ok := s.idx[sh]; ok {
		sl.next = head
	}
	var i int32
	if n := len(s.free); n > 0 {
		i, s.free = s.free[n-1], s.free[:n-1]
		s.slots[i] = sl
	} else {
		i = int32(len(s.slots))
		s.slots = append(s.slots, sl)
	}
	if _, ok := s.idx[sh]; !ok {
		s.addFilter(sh)
	}
	s.idx[sh] = i
	if e.Tag != 0 {
		s.tagged++
		s.addTag(e.Tag)
	} else {
		s.untagged[e.Key.Kind]++
	}
	s.kinds[e.Key.Kind]++
	s.n++
	return true
}

// addFilter puts sh in the filter, doubling it (and dropping deleted
// keys) when it would be more than half full.
func (s *Set) addFilter(sh uint64) {
	if 2*(s.inFilter+1) > len(s.filter) {
		n := 1 << 10
		for n < 4*(len(s.idx)+1) {
			n <<= 1
		}
		s.filter, s.inFilter = make([]uint64, n), 0
		for k := range s.idx {
			s.putFilter(k)
		}
	}
	s.putFilter(sh)
}

func (s *Set) putFilter(sh uint64) {
	f := sh | 1
	mask := uint64(len(s.filter) - 1)
	// The pseudonym is an HMAC: its bits are uniform, so they index the
	// table as they are.
	for i := (sh >> 1) & mask; ; i = (i + 1) & mask {
		switch s.filter[i] {
		case 0:
			s.filter[i] = f
			s.inFilter++
			return
		case f:
			return
		}
	}
}

// addTag puts t in the tag table, rebuilding it from the live entries'
// tags (twice the size, or more) when it would be more than half full.
func (s *Set) addTag(t Tag) {
	if 2*(s.inTags+1) > len(s.tags) {
		n := 1 << 10
		for n < 4*(s.tagged+1) {
			n <<= 1
		}
		s.tags, s.inTags = make([]uint16, n), 0
		for i := range s.slots {
			if s.slots[i].tag != 0 {
				s.putTag(s.slots[i].tag)
			}
		}
	}
	s.putTag(t)
}

// tagCell returns t's fingerprint and first cell in a table of mask+1
// cells: the two come from different bits of the tag.
func tagCell(t Tag, mask uint64) (uint16, uint64) {
	return uint16(t>>48) | 0x8000, (uint64(t) >> 1) & mask
}

func (s *Set) putTag(t Tag) {
	mask := uint64(len(s.tags) - 1)
	f, i := tagCell(t, mask)
	for ; ; i = (i + 1) & mask {
		switch s.tags[i] {
		case 0:
			s.tags[i] = f
			s.inTags++
			return
		case f:
			return
		}
	}
}

// tagMaybe reports whether an entry may carry tag t (false: certainly
// none does).
func (s *Set) tagMaybe(t Tag) bool {
	if len(s.tags) == 0 {
		return false
	}
	mask := uint64(len(s.tags) - 1)
	f, i := tagCell(t, mask)
	for ; ; i = (i + 1) & mask {
		switch s.tags[i] {
		case 0:
			return false
		case f:
			return true
		}
	}
}

// maybe reports whether sh may be in idx (false: certainly not).
func (s *Set) maybe(sh uint64) bool {
	if len(s.filter) == 0 {
		return false
	}
	f := sh | 1
	mask := uint64(len(s.filter) - 1)
	for i := (sh >> 1) & mask; ; i = (i + 1) & mask {
		switch s.filter[i] {
		case 0:
			return false
		case f:
			return true
		}
	}
}

// Contains reports whether an entry with key k and exactly scope is
// present.
func (s *Set) Contains(k Key, scope string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.find(k, scope) >= 0
}

// Delete removes the entry with key k and scope; it reports whether there
// was one.
func (s *Set) Delete(k Key, scope string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := short(&k.Pseudonym)
	i, ok := s.idx[sh]
	if !ok {
		return false
	}
	prev := int32(-1)
	for ; i >= 0; prev, i = i, s.slots[i].next {
		sl := &s.slots[i]
		if sl.kind != k.Kind || sl.pseud != k.Pseudonym || s.strs[sl.scope] != scope {
			continue
		}
		switch {
		case prev >= 0:
			s.slots[prev].next = sl.next
		case sl.next >= 0:
			s.idx[sh] = sl.next
		default:
			delete(s.idx, sh)
		}
		if sl.tag == 0 {
			s.untagged[k.Kind]--
		} else {
			s.tagged--
			sl.tag = 0
		}
		s.kinds[k.Kind]--
		s.n--
		s.free = append(s.free, i)
		return true
	}
	return false
}

// applies reports whether an entry of entryScope is in force for a
// screening in scope: an entry without scope applies to every scope, and a
// screening that names no scope is held to every entry (fail closed).
// Scopes compare without regard to case or surrounding blanks, so that a
// differently written campaign name cannot escape an entry.
func applies(entryScope, scope string) bool {
	if entryScope == "" || scope == "" || entryScope == scope {
		return true
	}
	return strings.EqualFold(strings.TrimSpace(entryScope), strings.TrimSpace(scope))
}

// Lookup returns an entry with key k that applies in scope (see Match).
func (s *Set) Lookup(k Key, scope string) (Entry, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.lookupLocked(k, scope)
}

func (s *Set) lookupLocked(k Key, scope string) (Entry, bool) {
	sh := short(&k.Pseudonym)
	if !s.maybe(sh) {
		return Entry{}, false
	}
	i, ok := s.idx[sh]
	if !ok {
		return Entry{}, false
	}
	for ; i >= 0; i = s.slots[i].next {
		sl := &s.slots[i]
		if sl.kind == k.Kind && sl.pseud == k.Pseudonym && applies(s.strs[sl.scope], scope) {
			return s.entry(sl), true
		}
	}
	return Entry{}, false
}

// Entries returns every entry with key k, whatever its scope.
func (s *Set) Entries(k Key) []Entry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Entry
	i, ok := s.idx[short(&k.Pseudonym)]
	if !ok {
		return nil
	}
	for ; i >= 0; i = s.slots[i].next {
		if sl := &s.slots[i]; sl.kind == k.Kind && sl.pseud == k.Pseudonym {
			out = append(out, s.entry(sl))
		}
	}
	return out
}

// Range calls fn for every entry until fn returns false. It holds the read
// lock meanwhile: fn must not change the set.
func (s *Set) Range(fn func(Entry) bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, i := range s.idx {
		for ; i >= 0; i = s.slots[i].next {
			if !fn(s.entry(&s.slots[i])) {
				return
			}
		}
	}
}

// Values are a contact's values as the request wrote them.
type Values struct {
	Phone, Email, CPR, CVR string
}

// Match returns an entry in force for one of the contact's values in
// scope: the values are normalised and pseudonymised, and an entry applies
// when it has no scope, when scope is empty, or when the two are equal. A
// value that cannot be normalised matches nothing (it cannot have been
// added). Kinds with no entry are not hashed.
//
// The HMAC is computed only when the tag pre-filter says "maybe": when an
// entry's tag shares the value's tag fingerprint, or when some entry of the
// kind has no tag (then always). An entry is only ever found through its
// HMAC pseudonym, and an entry with a tag always passes the pre-filter for
// its own value, so the result is the same as hashing every value.
func (s *Set) Match(v *Values, scope string) (Entry, bool) {
	// One read lock for the whole contact (hashing included, which takes
	// well under a microsecond): a lock operation is a write to a shared
	// cache line, which costs more than the lookups when several
	// goroutines screen at once.
	s.mu.RLock()
	defer s.mu.RUnlock()
	var st *state
	defer func() {
		if st != nil {
			s.h.pool.Put(st)
		}
	}()
	for _, k := range Kinds {
		if s.kinds[k] == 0 {
			continue
		}
		var raw string
		switch k {
		case KindPhone:
			raw = v.Phone
		case KindEmail:
			raw = v.Email
		case KindCPR:
			raw = v.CPR
		case KindCVR:
			raw = v.CVR
		}
		if raw == "" {
			continue
		}
		if st == nil {
			st = s.h.pool.Get().(*state)
		}
		msg, err := st.message(k, raw)
		if err != nil {
			continue
		}
		if s.untagged[k] == 0 && !s.tagMaybe(s.h.tag(msg)) {
			continue
		}
		key := Key{Kind: k, Pseudonym: s.h.sum(st, msg)}
		if e, ok := s.lookupLocked(key, scope); ok {
			return e, true
		}
	}
	return Entry{}, false
}
