package store

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/robinscreen/robinscreen/cprcheck"
)

// PseudonymSize is the length of a pseudonym in bytes.
const PseudonymSize = sha256.Size

// Pseudonymizer turns personal numbers into keyed HMAC-SHA256 pseudonyms.
// It is safe for concurrent use.
type Pseudonymizer struct {
	pool        sync.Pool
	fingerprint string
}

// NewPseudonymizer returns a Pseudonymizer for key, which must hold at least
// 32 bytes; otherwise it returns an error.
func NewPseudonymizer(key []byte) (*Pseudonymizer, error) {
	if len(key) < 32 {
		return nil, errors.New("store: pseudonym key shorter than 32 bytes")
	}
	k := append([]byte(nil), key...)
	p := &Pseudonymizer{}
	p.pool.New = func() any { return hmac.New(sha256.New, k) }
	fp := hmac.New(sha256.New, k)
	fp.Write([]byte("robinscreen pseudonym key fingerprint v1"))
	p.fingerprint = hex.EncodeToString(fp.Sum(nil)[:8])
	return p, nil
}

// Fingerprint identifies the key without revealing it; it is stored in the
// CPR dataset's manifest so that a wrong key is detected at open.
func (p *Pseudonymizer) Fingerprint() string { return p.fingerprint }

// Pseudonym returns HMAC-SHA256(key, digits of n).
func (p *Pseudonymizer) Pseudonym(n cprcheck.Number) [PseudonymSize]byte {
	h := p.pool.Get().(hash.Hash)
	h.Reset()
	h.Write(n[:])
	var out [PseudonymSize]byte
	h.Sum(out[:0])
	p.pool.Put(h)
	return out
}

// LoadOrCreateKey reads the hex-encoded key at path, creating a new random
// 32-byte key (mode 0600, parent directories 0700) when the file does not
// exist and create is true. It returns an error when the file cannot be
// read or written or does not hold at least 32 hex-encoded bytes.
func LoadOrCreateKey(path string, create bool) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && create {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("store: create key directory: %w", err)
		}
		if err := writeFileAtomic(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("store: write pseudonym key: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: read pseudonym key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) < 32 {
		return nil, fmt.Errorf("store: pseudonym key file %s does not hold 32 hex-encoded bytes", path)
	}
	return key, nil
}

// ReadKey reads a hex-encoded key of at least 32 bytes (used for the
// encryption key, which is never created implicitly). It returns an error
// when the file cannot be read or holds no such key.
func ReadKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("store: read key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("store: key file %s does not hold 32 hex-encoded bytes (create one with: openssl rand -hex 32)", path)
	}
	return key, nil
}
