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
	h.pool.New = func() any { return hmac.New(sha256.New, k) }
	fp := hmac.New(sha256.New, k)
	fp.Write([]byte("robinscreen suppression key fingerprint v1"))
	h.fingerprint = hex.EncodeToString(fp.Sum(nil)[:8])
	return h, nil
}

// Fingerprint identifies the key without revealing it. Stores keep it, so
// that a server started with another key is refused (ErrKeyMismatch)
// instead of missing every entry.
func (h *Hasher) Fingerprint() string { return h.fingerprint }

// Sum returns the pseudonym of a normalised value of kind k.
func (h *Hasher) Sum(k Kind, normalized string) Pseudonym {
	m := h.pool.Get().(hash.Hash)
	m.Reset()
	var pre [len(hashDomain) + 1]byte
	copy(pre[:], hashDomain)
	pre[len(hashDomain)] = byte(k)
	m.Write(pre[:])
	var buf [64]byte
	if len(normalized) <= len(buf) {
		m.Write(append(buf[:0], normalized...))
	} else {
		m.Write([]byte(normalized))
	}
	var out Pseudonym
	m.Sum(out[:0])
	h.pool.Put(m)
	return out
}

// Key normalises raw as kind k and returns its key. It returns the errors
// of Normalize.
func (h *Hasher) Key(k Kind, raw string) (Key, error) {
	n, err := Normalize(k, raw)
	if err != nil {
		return Key{}, err
	}
	return Key{Kind: k, Pseudonym: h.Sum(k, n)}, nil
}
