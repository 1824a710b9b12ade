package receipt

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// A receipt key file holds the Ed25519 private key's 32-byte seed,
// hex-encoded on one line, like the service's other key files; it is
// created with mode 0600 in a directory of mode 0700.

// ErrKeyFileOpen means a receipt key file may be read by other users than
// its owner (group or other permission bits set).
var ErrKeyFileOpen = errors.New("receipt: the key file may be read by others than its owner (chmod 600)")

// ReadKeyFile reads the private key from a receipt key file. It returns
// ErrKeyFileOpen for a file others may read, an error for a file that does
// not hold 32 hex-encoded bytes, and the file system's errors
// (errors.Is(err, fs.ErrNotExist) for a missing file).
func ReadKeyFile(path string) (ed25519.PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s", ErrKeyFileOpen, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	seed, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("receipt: key file %s does not hold 32 hex-encoded bytes (create one with: robinscreen receipt-key --out FILE)", path)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// CreateKeyFile generates a new key and writes it to path, which must not
// exist (it is never overwritten: a replaced key would make every receipt
// signed so far unverifiable with the key on file). It returns the new
// key, os.ErrExist when path exists, and the file system's errors.
func CreateKeyFile(path string) (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, ".receipt-key-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(hex.EncodeToString(key.Seed()) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	// Link fails when path exists: never a replaced key.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("receipt: key file %s: %w", path, os.ErrExist)
		}
		return nil, err
	}
	// The key signs receipts from now on: it is returned only once its
	// directory entry is on disk, so that a crash cannot bring back a
	// directory without it (and a new key that cannot verify them).
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("receipt: key file %s: sync its directory: %w", path, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("receipt: key file %s: sync its directory: %w", path, err)
	}
	return key, nil
}

// LoadOrCreateKeyFile reads the key at path or, when the file does not
// exist, creates it (CreateKeyFile); created tells which. Its errors are
// those of ReadKeyFile and CreateKeyFile.
func LoadOrCreateKeyFile(path string) (key ed25519.PrivateKey, created bool, err error) {
	key, err = ReadKeyFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key, err = CreateKeyFile(path)
		if errors.Is(err, os.ErrExist) { // created meanwhile by another process
			key, err = ReadKeyFile(path)
			return key, false, err
		}
		return key, err == nil, err
	}
	return key, false, err
}

// MarshalPublicKey returns pub as a PEM "PUBLIC KEY" block (PKIX, as
// openssl writes it).
func MarshalPublicKey(pub ed25519.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err) // an ed25519.PublicKey always marshals
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// ParsePublicKey reads an Ed25519 public key given as a PEM "PUBLIC KEY"
// block, or as its 32 bytes hex- or base64-encoded. It returns an error
// for anything else.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	if blk, _ := pem.Decode(b); blk != nil {
		if blk.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("receipt: a PEM %q block, want PUBLIC KEY", blk.Type)
		}
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("receipt: public key: %w", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, errors.New("receipt: the public key is not an Ed25519 key")
		}
		return pub, nil
	}
	s := strings.TrimSpace(string(b))
	if raw, err := hex.DecodeString(s); err == nil && len(raw) == ed25519.PublicKeySize {
		return ed25519.PublicKey(raw), nil
	}
	if raw, err := base64.StdEncoding.DecodeString(s); err == nil && len(raw) == ed25519.PublicKeySize {
		return ed25519.PublicKey(raw), nil
	}
	return nil, errors.New("receipt: not an Ed25519 public key (want a PEM PUBLIC KEY block, or 32 bytes in hex or base64)")
}
