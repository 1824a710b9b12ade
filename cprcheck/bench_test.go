package cprcheck

import (
	"bytes"
	"strings"
	"testing"
)

func BenchmarkParse(b *testing.B) {
	inputs := []string{"0707614285", " 070761-4285 ", "3104801234", "07076142AB"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, _ = Parse(inputs[i%len(inputs)])
	}
}

func BenchmarkParseValid(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("070761-4285"); err != nil {
			b.Fatal(err)
		}
	}
}

// benchExtract is a synthetic extract of about 100k lines mixing persons,
// protections and skipped record types.
func benchExtract() []byte {
	var buf bytes.Buffer
	buf.WriteString(startRec("20240301") + "\n")
	nums := []string{n1, n2, n3, "0707614285", "0404044004"}
	for i := 0; i < 25000; i++ {
		n := nums[i%len(nums)]
		buf.WriteString(personRec(n, "01") + "\n")
		buf.WriteString(mkLine("002", fld{4, n}, fld{14, "Testesen,S\xf8ren " + strings.Repeat("x", 30)}) + "\n")
		buf.WriteString(protRec(n, "0003", "2020-01-01", "") + "\n")
		buf.WriteString(protRec(n, "0001", "2020-01-01", "2030-01-01") + "\r\n")
	}
	buf.WriteString("999\n")
	return buf.Bytes()
}

func BenchmarkParseExtract(b *testing.B) {
	data := benchExtract()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		st, err := ParseExtract(bytes.NewReader(data), ExtractOptions{}, func(Entry) error { return nil })
		if err != nil || st.Persons != 25000 {
			b.Fatal(err, st.Persons)
		}
	}
}
