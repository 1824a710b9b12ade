package intake

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"testing"
)

// stage writes plain into a new sealed Upload in random-sized pieces.
func stage(t *testing.T, plain []byte) *Upload {
	t.Helper()
	u, err := NewUpload(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Remove() })
	rng := rand.New(rand.NewPCG(1, 2))
	for rest := plain; len(rest) > 0; {
		n := min(len(rest), 1+rng.IntN(3*ChunkSize/2))
		if _, err := u.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := u.Seal(); err != nil {
		t.Fatal(err)
	}
	return u
}

// readAll reads u from off to its end in reads of chunk bytes.
func readAll(u *Upload, off int64, chunk int) ([]byte, error) {
	if _, err := u.Seek(off, io.SeekStart); err != nil {
		return nil, err
	}
	var got bytes.Buffer
	buf := make([]byte, chunk)
	for {
		n, err := u.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			return got.Bytes(), nil
		}
		if err != nil {
			return got.Bytes(), err
		}
	}
}

func TestUploadRoundTrip(t *testing.T) {
	line := []byte("Testesen,Søren#Fiktivvej 12, 2. tv#0101801230\r\n")
	sizes := []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"one byte", 1},
		{"one chunk less one", ChunkSize - 1},
		{"exactly one chunk", ChunkSize},
		{"exactly three chunks", 3 * ChunkSize},
		{"several chunks and a tail", 5*ChunkSize + 12345},
	}
	reads := []struct {
		name  string
		seek  int64
		chunk int
	}{
		{"whole, large reads", 0, 1 << 20},
		{"odd small reads", 0, 7},
		{"from an unaligned offset", 12345, 999},
		{"from a chunk boundary", ChunkSize, 333},
	}
	for _, sz := range sizes {
		t.Run(sz.name, func(t *testing.T) {
			plain := bytes.Repeat(line, sz.size/len(line)+1)[:sz.size]
			u := stage(t, plain)
			if u.Size() != int64(sz.size) {
				t.Fatalf("Size = %d, want %d", u.Size(), sz.size)
			}
			sum := sha256.Sum256(plain)
			if u.SHA256() != hex.EncodeToString(sum[:]) {
				t.Errorf("SHA256 = %s, want the received bytes' %x", u.SHA256(), sum)
			}
			disk, err := os.ReadFile(u.Name())
			if err != nil {
				t.Fatal(err)
			}
			if sz.size > 0 && (bytes.Contains(disk, []byte("Testesen")) || bytes.Contains(disk, []byte("0101801230"))) {
				t.Fatal("the staged file holds plain text")
			}
			for _, rd := range reads {
				got, err := readAll(u, rd.seek, rd.chunk)
				if err != nil {
					t.Fatalf("%s: %v", rd.name, err)
				}
				want := plain[min(int(rd.seek), len(plain)):]
				if !bytes.Equal(got, want) {
					t.Errorf("%s: read %d bytes that differ from the %d written", rd.name, len(got), len(want))
				}
			}
		})
	}
}

func TestUploadOrder(t *testing.T) {
	u, err := NewUpload(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Remove()
	if _, err := u.Read(make([]byte, 1)); !errors.Is(err, ErrNotSealed) {
		t.Errorf("Read before Seal: %v, want ErrNotSealed", err)
	}
	if err := u.Seal(); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write([]byte("x")); !errors.Is(err, ErrSealed) {
		t.Errorf("Write after Seal: %v, want ErrSealed", err)
	}
	if err := u.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(u.Name()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("staged file not removed: %v", err)
	}
}

// TestUploadTampered: every change to the staged file on disk is refused
// when read, never read back as other plain bytes.
func TestUploadTampered(t *testing.T) {
	const size = 4*ChunkSize + 1000
	plain := make([]byte, size)
	for i := range plain {
		plain[i] = byte('a' + i%26)
	}
	sealed := int64(ChunkSize + 16) // a full chunk on disk
	tests := []struct {
		name   string
		change func(t *testing.T, path string)
	}{
		{"one bit flipped in the first chunk", func(t *testing.T, path string) { flip(t, path, 10) }},
		{"one bit flipped in the last chunk's tag", func(t *testing.T, path string) { flip(t, path, 4*sealed+1000+15) }},
		{"truncated inside the last chunk", func(t *testing.T, path string) { truncate(t, path, 4*sealed+500) }},
		{"truncated at a chunk boundary", func(t *testing.T, path string) { truncate(t, path, 3*sealed) }},
		{"truncated to nothing", func(t *testing.T, path string) { truncate(t, path, 0) }},
		{"two chunks swapped", func(t *testing.T, path string) {
			b := readFile(t, path)
			c1 := append([]byte(nil), b[sealed:2*sealed]...)
			copy(b[sealed:], b[2*sealed:3*sealed])
			copy(b[2*sealed:], c1)
			writeFile(t, path, b)
		}},
		{"a full chunk moved to the end and the last cut", func(t *testing.T, path string) {
			b := readFile(t, path)
			writeFile(t, path, append(b[:4*sealed:4*sealed], b[3*sealed:4*sealed]...))
		}},
		{"replaced by another upload of the same size", func(t *testing.T, path string) {
			other := stage(t, plain)
			writeFile(t, path, readFile(t, other.Name()))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := stage(t, plain)
			tt.change(t, u.Name())
			got, err := readAll(u, 0, 1<<20)
			if !errors.Is(err, ErrTampered) {
				t.Fatalf("read %d bytes, err = %v; want ErrTampered", len(got), err)
			}
			if !bytes.Equal(got, plain[:len(got)]) {
				t.Error("bytes read before the refusal differ from those written")
			}
		})
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func flip(t *testing.T, path string, off int64) {
	b := readFile(t, path)
	b[off] ^= 1
	writeFile(t, path, b)
}

func truncate(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkUpload measures staging and reading back a 16 MiB upload in the
// 64 KiB pieces a client streams.
func BenchmarkUpload(b *testing.B) {
	plain := bytes.Repeat([]byte("Testesen,Søren#Fiktivvej 12, 2. tv#0101801230\r\n"), (16<<20)/48)
	piece := make([]byte, 64<<10)
	dir := b.TempDir()
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		u, err := NewUpload(dir)
		if err != nil {
			b.Fatal(err)
		}
		for rest := plain; len(rest) > 0; {
			n := min(len(rest), len(piece))
			if _, err := u.Write(rest[:n]); err != nil {
				b.Fatal(err)
			}
			rest = rest[n:]
		}
		if err := u.Seal(); err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, u, piece); err != nil {
			b.Fatal(err)
		}
		u.Remove()
	}
}
