package server

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"os"
)

// stagedFile is an upload staged on disk encrypted with AES-CTR under a
// random key that exists only in this process's memory: the plain file
// never reaches the disk, and what a crash leaves behind (removed at the
// next start) cannot be read. It is written sequentially, then read and
// seeked like a file, which the list parser's two passes need.
type stagedFile struct {
	f     *os.File
	block cipher.Block
	iv    [aes.BlockSize]byte
	size  int64 // bytes written
	off   int64 // read offset
}

// newStagedFile creates a staged file in dir. It returns I/O errors.
func newStagedFile(dir string) (*stagedFile, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	s := &stagedFile{block: block}
	if _, err := rand.Read(s.iv[:]); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s.f, err = os.CreateTemp(dir, "upload-*.enc")
	if err != nil {
		return nil, err
	}
	return s, nil
}

// xorAt XORs p with the key stream at byte offset off.
func (s *stagedFile) xorAt(dst, src []byte, off int64) {
	var ctr [aes.BlockSize]byte
	copy(ctr[:], s.iv[:])
	// Add the block index to the 128-bit big-endian counter.
	lo := binary.BigEndian.Uint64(ctr[8:])
	n := uint64(off / aes.BlockSize)
	sum := lo + n
	binary.BigEndian.PutUint64(ctr[8:], sum)
	if sum < lo {
		binary.BigEndian.PutUint64(ctr[:8], binary.BigEndian.Uint64(ctr[:8])+1)
	}
	stream := cipher.NewCTR(s.block, ctr[:])
	if skip := int(off % aes.BlockSize); skip > 0 {
		var waste [aes.BlockSize]byte
		stream.XORKeyStream(waste[:skip], waste[:skip])
	}
	stream.XORKeyStream(dst, src)
}

// Write appends p, encrypted.
func (s *stagedFile) Write(p []byte) (int, error) {
	buf := make([]byte, len(p))
	s.xorAt(buf, p, s.size)
	n, err := s.f.WriteAt(buf, s.size)
	s.size += int64(n)
	return n, err
}

// Read reads and decrypts from the read offset.
func (s *stagedFile) Read(p []byte) (int, error) {
	if s.off >= s.size {
		return 0, io.EOF
	}
	if rem := s.size - s.off; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := s.f.ReadAt(p, s.off)
	s.xorAt(p[:n], p[:n], s.off)
	s.off += int64(n)
	if errors.Is(err, io.EOF) && n > 0 {
		err = nil
	}
	return n, err
}

// Seek sets the read offset.
func (s *stagedFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += s.off
	case io.SeekEnd:
		offset += s.size
	default:
		return 0, errors.New("stagedFile: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("stagedFile: negative offset")
	}
	s.off = offset
	return offset, nil
}

// Sync makes the ciphertext durable.
func (s *stagedFile) Sync() error { return s.f.Sync() }

// Remove closes and deletes the staged file.
func (s *stagedFile) Remove() {
	s.f.Close()
	os.Remove(s.f.Name())
}
