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
	// tags is the pre-filter in front of the HMAC (see Match): a
	// split-block Bloom filter of the entries' tags, 10 to 20 bits per
	// tag (2 MB for 1 M entries, so that it mostly stays in the cache;
	// about 0.1 % false "maybe"s). A value whose tag is not in it is on
	// the list under no tagged entry. Deleted tags stay until the filter
	// is rebuilt (a false "maybe" only costs an HMAC).
	tags     []bloomBlock
	inTags   int              // tags added since the last rebuild
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
	if e.Tag&1 == 0 {
		// Every tag has its lowest bit set (Hasher.KeyTag): one without
		// it was damaged on its way from the store. The entry goes on the
		// slow path, where every value of its kind is compared by HMAC,
		// rather than behind a tag no value would ever have.
		e.Tag = 0
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

// bloomBlock is one block of the tag filter: a tag sets one bit in each
// of its 8 words (half a cache line, read at once).
type bloomBlock [8]uint32

// bloomSalts spread a tag's low 32 bits over the 8 words (the constants of
// the split-block Bloom filter of Apache Parquet).
var bloomSalts = [8]uint32{0x47b6137b, 0x44974d91, 0x8824ad5b, 0xa2b7289d, 0x705495c7, 0x2df1424b, 0x9efc4947, 0x5c6bfb31}

// bloomMask returns the bits tag t sets in a block.
func bloomMask(t Tag) (m bloomBlock) {
	h := uint32(t >> 1) // bit 0 of a tag is always set
	for i := range m {
		m[i] = 1 << ((h * bloomSalts[i]) >> 27)
	}
	return m
}

// addTag puts t in the tag filter, rebuilding it from the live entries'
// tags when it would hold fewer than 10 bits per tag.
func (s *Set) addTag(t Tag) {
	if 10*(s.inTags+1) > 256*len(s.tags) {
		n := 64
		for 256*n < 16*(s.tagged+1) {
			n <<= 1
		}
		s.tags, s.inTags = make([]bloomBlock, n), 0
		for i := range s.slots {
			if s.slots[i].tag != 0 {
				s.putTag(s.slots[i].tag)
			}
		}
	}
	s.putTag(t)
}

func (s *Set) putTag(t Tag) {
	b := &s.tags[(uint64(t)>>32)&uint64(len(s.tags)-1)]
	m := bloomMask(t)
	for i := range b {
		b[i] |= m[i]
	}
	s.inTags++
}

// tagMaybe reports whether an entry may carry tag t (false: certainly
// none does).
func (s *Set) tagMaybe(t Tag) bool {
	if len(s.tags) == 0 {
		return false
	}
	b := &s.tags[(uint64(t)>>32)&uint64(len(s.tags)-1)]
	m := bloomMask(t)
	var miss uint32
	for i := range b {
		miss |= m[i] &^ b[i]
	}
	return miss == 0
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

// Export calls fn for every entry, in no particular order, and returns
// fn's first error. The entries are copied first, so fn (which may wait on
// the network) does not hold writers back.
func (s *Set) Export(fn func(Entry) error) error {
	entries := make([]Entry, 0, s.Len())
	s.Range(func(e Entry) bool { entries = append(entries, e); return true })
	for _, e := range entries {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
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
	// First the tags of every value (no memory touched but the request's),
	// then the filter probes, independent of each other so that their
	// cache misses overlap, then the HMAC and the lookup of each value the
	// filter may hold, in the order of Kinds.
	var raws [len(Kinds)]string
	var tags [len(Kinds)]Tag
	var need [len(Kinds)]bool
	for j, k := range Kinds {
		if s.kinds[k] == 0 {
			continue
		}
		switch k {
		case KindPhone:
			raws[j] = v.Phone
		case KindEmail:
			raws[j] = v.Email
		case KindCPR:
			raws[j] = v.CPR
		case KindCVR:
			raws[j] = v.CVR
		}
		if raws[j] == "" {
			continue
		}
		if s.untagged[k] > 0 {
			need[j] = true
			continue
		}
		if st == nil {
			st = s.h.pool.Get().(*state)
		}
		msg, err := st.message(k, raws[j])
		if err != nil {
			continue
		}
		tags[j] = s.h.tag(msg)
	}
	for j := range tags {
		if tags[j] != 0 && s.tagMaybe(tags[j]) {
			need[j] = true
		}
	}
	for j, k := range Kinds {
		if !need[j] {
			continue
		}
		if st == nil {
			st = s.h.pool.Get().(*state)
		}
		msg, err := st.message(k, raws[j])
		if err != nil {
			continue
		}
		if e, ok := s.lookupLocked(Key{Kind: k, Pseudonym: s.h.sum(st, msg)}, scope); ok {
			return e, true
		}
	}
	return Entry{}, false
}
