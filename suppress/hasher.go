package suppress

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"sync"

	"github.com/dchest/siphash"
)

// Hasher turns normalised values into keyed HMAC-SHA256 pseudonyms. The
// kind is part of the hashed message, so a phone number and a CVR number
// with the same digits get different pseudonyms. It is safe for concurrent
// use.
type Hasher struct {
	pool        sync.Pool
	fingerprint string
	// tk0, tk1 are the SipHash key of the tags (see Tag), derived from the
	// pseudonym key.
	tk0, tk1 uint64
}

// Tag is a second keyed pseudonym of a normalised value: SipHash-2-4 of the
// kind (one byte) and the normalised value, under a 128-bit key derived
// from the pseudonym key (HMAC-SHA256 of a fixed label), with its lowest
// bit set.
// Zero means "no tag". Like the HMAC it reveals nothing without the key;
// it is short (64 bits, collisions are expected among millions) and serves
// only as an in-memory pre-filter in front of the HMAC (see Set.Match): a
// contact's value whose tag no entry carries is not on the list, and its
// HMAC is never computed. A tag never makes a match: a match is always
// confirmed by the HMAC pseudonym. It can hide one, so a stored tag must be
// the value's: every tag has its lowest bit set, and Set treats a stored
// tag without it as damaged and screens that entry by HMAC alone.
type Tag uint64

// hashDomain separates these pseudonyms from the CPR dataset's, which use
// the same key.
const hashDomain = "robinscreen suppression v1\x00"

// NewHasher returns a Hasher for key, which must hold at least 32 bytes
// (the data directory's pseudonym key); otherwise it returns an error.
func NewHasher(key []byte) (*Hasher, error) {
	if len(key) < 32 {
		return nil, errors.New("suppress: pseudonym key shorter than 32 bytes")
	}
	k := append([]byte(nil), key...)
	h := &Hasher{}
	h.pool.New = func() any { return &state{mac: hmac.New(sha256.New, k)} }
	fp := hmac.New(sha256.New, k)
	fp.Write([]byte("robinscreen suppression key fingerprint v1"))
	h.fingerprint = hex.EncodeToString(fp.Sum(nil)[:8])
	tk := hmac.New(sha256.New, k)
	tk.Write([]byte("robinscreen suppression tag key v1"))
	sum := tk.Sum(nil)
	h.tk0, h.tk1 = binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16])
	return h, nil
}

// Fingerprint identifies the key without revealing it. Stores keep it, so
// that a server started with another key is refused (ErrKeyMismatch)
// instead of missing every entry.
func (h *Hasher) Fingerprint() string { return h.fingerprint }

// state is a pooled HMAC with a scratch buffer for the message, so that
// hashing allocates nothing.
type state struct {
	mac hash.Hash
	buf [96]byte
	out [PseudonymSize]byte
}

// Sum returns the pseudonym of a normalised value of kind k.
func (h *Hasher) Sum(k Kind, normalized string) Pseudonym {
	st := h.pool.Get().(*state)
	b := append(append(st.buf[:0], hashDomain...), byte(k))
	b = append(b, normalized...)
	p := h.sum(st, b)
	h.pool.Put(st)
	return p
}

func (h *Hasher) sum(st *state, msg []byte) Pseudonym {
	st.mac.Reset()
	st.mac.Write(msg)
	st.mac.Sum(st.out[:0])
	return Pseudonym(st.out)
}

// tag returns the Tag of a message (hashDomain, kind, normalised value):
// the SipHash of the kind and the value (the key is already the tags' own,
// so the domain string would only cost time).
func (h *Hasher) tag(msg []byte) Tag {
	return Tag(siphash.Hash(h.tk0, h.tk1, msg[len(hashDomain):]) | 1)
}

// Tag returns the tag of a normalised value of kind k (see Tag).
func (h *Hasher) Tag(k Kind, normalized string) Tag {
	st := h.pool.Get().(*state)
	b := append(append(st.buf[:0], hashDomain...), byte(k))
	b = append(b, normalized...)
	t := h.tag(b)
	h.pool.Put(st)
	return t
}

// message appends the hashed message of raw as kind k to st's buffer. It
// returns the errors of Normalize.
func (st *state) message(k Kind, raw string) ([]byte, error) {
	b := append(append(st.buf[:0], hashDomain...), byte(k))
	return AppendNormalized(b, k, raw)
}

// Key normalises raw as kind k and returns its key. It returns the errors
// of Normalize.
func (h *Hasher) Key(k Kind, raw string) (Key, error) {
	st := h.pool.Get().(*state)
	defer h.pool.Put(st)
	b, err := st.message(k, raw)
	if err != nil {
		return Key{}, err
	}
	return Key{Kind: k, Pseudonym: h.sum(st, b)}, nil
}

// KeyTag normalises raw as kind k and returns its key and its tag, as a
// new entry should carry them. It returns the errors of Normalize.
func (h *Hasher) KeyTag(k Kind, raw string) (Key, Tag, error) {
	st := h.pool.Get().(*state)
	defer h.pool.Put(st)
	b, err := st.message(k, raw)
	if err != nil {
		return Key{}, 0, err
	}
	return Key{Kind: k, Pseudonym: h.sum(st, b)}, h.tag(b), nil
}
