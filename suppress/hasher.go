package suppress

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"sync"
)

// Hasher turns normalised values into keyed HMAC-SHA256 pseudonyms. The
// kind is part of the hashed message, so a phone number and a CVR number
// with the same digits get different pseudonyms. It is safe for concurrent
// use.
type Hasher struct {
	pool        sync.Pool
	fingerprint string
}

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

// Key normalises raw as kind k and returns its key. It returns the errors
// of Normalize.
func (h *Hasher) Key(k Kind, raw string) (Key, error) {
	st := h.pool.Get().(*state)
	defer h.pool.Put(st)
	b := append(append(st.buf[:0], hashDomain...), byte(k))
	b, err := AppendNormalized(b, k, raw)
	if err != nil {
		return Key{}, err
	}
	return Key{Kind: k, Pseudonym: h.sum(st, b)}, nil
}
