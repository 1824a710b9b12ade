package intake

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
)

// ChunkSize is the number of plain bytes sealed per chunk of a staged
// upload. Every chunk but the last holds exactly ChunkSize bytes; the last
// holds fewer (possibly none), which is how a reader knows it is the last.
const ChunkSize = 64 << 10

// ErrTampered means a staged upload does not read back as it was written:
// a chunk fails authentication or is missing. The load must refuse it.
var ErrTampered = errors.New("intake: the staged upload was altered on disk")

// ErrNotSealed and ErrSealed mean an Upload was read before Seal, or written
// after it.
var (
	ErrNotSealed = errors.New("intake: the staged upload is read before it is sealed")
	ErrSealed    = errors.New("intake: the staged upload is written after it was sealed")
)

// Upload is a file received in pieces and staged on disk encrypted, then
// read and seeked like a file (the list parsers read it twice). Write it
// sequentially, Seal it, then read it; Remove it when done. An Upload is
// not safe for concurrent use.
type Upload struct {
	f      *os.File
	aead   cipher.AEAD
	sum    hash.Hash // SHA-256 of the bytes written
	buf    []byte    // plain bytes of the chunk being written
	chunks int64     // chunks sealed to the file
	size   int64     // plain bytes written
	sealed bool
	digest string

	// reading
	off   int64  // read offset
	cur   int64  // index of the chunk in plain, -1 for none
	plain []byte // the decrypted chunk cur
	ct    []byte // scratch for a sealed chunk
}

// NewUpload creates a staged upload in dir (created 0700 if missing), in a
// file readable by the owner only. It returns I/O errors.
func NewUpload(dir string) (*Upload, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "upload-*.enc")
	if err != nil {
		return nil, err
	}
	return &Upload{f: f, aead: aead, sum: sha256.New(), buf: make([]byte, 0, ChunkSize), cur: -1}, nil
}

// sealedSize is the size on disk of a chunk holding n plain bytes.
func (u *Upload) sealedSize(n int) int { return n + u.aead.Overhead() }

// nonce is the chunk's index and, in its last byte, whether it is the last
// chunk: a chunk is only accepted at the place and role it was sealed for.
func nonce(dst []byte, index int64, last bool) {
	clear(dst)
	binary.BigEndian.PutUint64(dst[:8], uint64(index))
	if last {
		dst[len(dst)-1] = 1
	}
}

// sealChunk encrypts p as chunk u.chunks and appends it to the file.
func (u *Upload) sealChunk(p []byte, last bool) error {
	var n [12]byte
	nonce(n[:u.aead.NonceSize()], u.chunks, last)
	u.ct = u.aead.Seal(u.ct[:0], n[:u.aead.NonceSize()], p, nil)
	if _, err := u.f.WriteAt(u.ct, u.chunks*int64(u.sealedSize(ChunkSize))); err != nil {
		return err
	}
	u.chunks++
	return nil
}

// Write appends p. It returns ErrSealed after Seal, and I/O errors.
func (u *Upload) Write(p []byte) (int, error) {
	if u.sealed {
		return 0, ErrSealed
	}
	written := 0
	for len(p) > 0 {
		n := min(len(p), ChunkSize-len(u.buf))
		u.buf = append(u.buf, p[:n]...)
		if len(u.buf) == ChunkSize {
			if err := u.sealChunk(u.buf, false); err != nil {
				return written, err
			}
			u.buf = u.buf[:0]
		}
		u.sum.Write(p[:n])
		u.size += int64(n)
		written += n
		p = p[n:]
	}
	return written, nil
}

// Seal writes the last chunk and makes the file durable; the Upload can be
// read from then on. It returns I/O errors.
func (u *Upload) Seal() error {
	if u.sealed {
		return nil
	}
	if err := u.sealChunk(u.buf, true); err != nil {
		return err
	}
	u.buf = nil
	if err := u.f.Sync(); err != nil {
		return err
	}
	u.sealed = true
	u.digest = hex.EncodeToString(u.sum.Sum(nil))
	return nil
}

// Size is the number of plain bytes written.
func (u *Upload) Size() int64 { return u.size }

// SHA256 is the hex SHA-256 of the bytes written, as received (before
// staging); "" before Seal.
func (u *Upload) SHA256() string { return u.digest }

// load decrypts chunk i into u.plain. It returns ErrTampered when the chunk
// is missing, short or fails authentication, and I/O errors.
func (u *Upload) load(i int64) error {
	lastIndex := u.size / ChunkSize
	n := ChunkSize
	if i == lastIndex {
		n = int(u.size % ChunkSize)
	}
	ct := u.ct[:0]
	if cap(ct) < u.sealedSize(ChunkSize) {
		ct = make([]byte, 0, u.sealedSize(ChunkSize))
	}
	ct = ct[:u.sealedSize(n)]
	got, err := u.f.ReadAt(ct, i*int64(u.sealedSize(ChunkSize)))
	if got < len(ct) {
		if err == nil || errors.Is(err, io.EOF) {
			return fmt.Errorf("%w (chunk %d is short)", ErrTampered, i)
		}
		return err
	}
	var nb [12]byte
	nonce(nb[:u.aead.NonceSize()], i, i == lastIndex)
	plain, err := u.aead.Open(u.plain[:0], nb[:u.aead.NonceSize()], ct, nil)
	u.ct = ct
	if err != nil {
		u.cur = -1
		return fmt.Errorf("%w (chunk %d fails authentication)", ErrTampered, i)
	}
	u.plain, u.cur = plain, i
	return nil
}

// Read reads and decrypts from the read offset. It returns ErrNotSealed
// before Seal, ErrTampered when the staged file was altered, and I/O
// errors.
func (u *Upload) Read(p []byte) (int, error) {
	if !u.sealed {
		return 0, ErrNotSealed
	}
	if u.off >= u.size {
		return 0, io.EOF
	}
	total := 0
	for len(p) > 0 && u.off < u.size {
		i := u.off / ChunkSize
		if i != u.cur {
			if err := u.load(i); err != nil {
				return total, err
			}
		}
		n := copy(p, u.plain[u.off%ChunkSize:])
		p = p[n:]
		u.off += int64(n)
		total += n
	}
	return total, nil
}

// Seek sets the read offset. It returns an error for a bad whence or a
// negative offset.
func (u *Upload) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += u.off
	case io.SeekEnd:
		offset += u.size
	default:
		return 0, errors.New("intake: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("intake: negative offset")
	}
	u.off = offset
	return offset, nil
}

// Name is the staged file's path (ciphertext only).
func (u *Upload) Name() string { return u.f.Name() }

// Remove closes and deletes the staged file. It returns the error of the
// removal.
func (u *Upload) Remove() error {
	u.f.Close()
	return os.Remove(u.f.Name())
}
