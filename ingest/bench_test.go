package ingest

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// benchList is about 8 MB of list-like lines, a third with Danish letters.
func benchList(b *testing.B, latin bool) []byte {
	var s strings.Builder
	for i := 0; s.Len() < 8<<20; i++ {
		name := "Hansen,Mette                      "
		if i%3 == 0 {
			name = "Testesen,Søren                    "
		}
		s.WriteString(name + "#Vestergade 12, 2. tv              #                                  #8000 Aarhus C            #   #0751#1234#012 #02#tv  #    \r\n")
	}
	if latin {
		return []byte(latin1(b, s.String()))
	}
	return []byte(s.String())
}

func BenchmarkDetectEncoding(b *testing.B) {
	for _, tc := range []struct {
		name  string
		latin bool
	}{{"UTF8", false}, {"Latin1", true}} {
		data := benchList(b, tc.latin)
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := DetectEncoding(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
		if tc.latin {
			continue // utf8.Valid stops at the first Latin-1 byte
		}
		// The lower bound: utf8.Valid over the same bytes.
		b.Run(tc.name+"/utf8.Valid", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				utf8.Valid(data)
			}
		})
	}
}

func BenchmarkLines(b *testing.B) {
	for _, tc := range []struct {
		name  string
		latin bool
	}{{"UTF8", false}, {"Latin1", true}} {
		data := benchList(b, tc.latin)
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				l, err := Open(bytes.NewReader(data), Options{})
				if err != nil {
					b.Fatal(err)
				}
				for l.Next() {
				}
			}
		})
	}
}
