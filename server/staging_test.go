package server

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"testing"
)

func TestStagedFileRoundTripAndCiphertext(t *testing.T) {
	plain := bytes.Repeat([]byte("Testesen,Søren#Fiktivvej 12, 2. tv#0101801230\r\n"), 5000)
	dir := t.TempDir()
	sf, err := newStagedFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer sf.Remove()
	rng := rand.New(rand.NewPCG(1, 2))
	for rest := plain; len(rest) > 0; {
		n := min(len(rest), 1+rng.IntN(40000))
		if _, err := sf.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	disk, err := os.ReadFile(sf.f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if len(disk) != len(plain) || bytes.Contains(disk, []byte("Testesen")) || bytes.Contains(disk, []byte("0101801230")) {
		t.Fatal("the staged file holds plain text")
	}
	tests := []struct {
		name  string
		seek  int64
		chunk int
	}{
		{"whole, large reads", 0, 1 << 20},
		{"odd small reads", 0, 7},
		{"from an unaligned offset", 12345, 999},
		{"from a block boundary", 4096, 333},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := sf.Seek(tt.seek, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			buf := make([]byte, tt.chunk)
			for {
				n, err := sf.Read(buf)
				got.Write(buf[:n])
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got.Bytes(), plain[tt.seek:]) {
				t.Errorf("decrypted %d bytes differ from the plain text", got.Len())
			}
		})
	}
	sf.Remove()
	if _, err := os.Stat(sf.f.Name()); !os.IsNotExist(err) {
		t.Errorf("staged file not removed: %v", err)
	}
}
