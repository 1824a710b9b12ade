package cvr

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// benchFile returns n documents alike in size to the synthetic ones: a
// company with names and an address, every third a production unit, every
// second wrapped as a search hit.
func benchFile(n int) []byte {
	var b strings.Builder
	for i := range n {
		doc := fmt.Sprintf(`{"Vrvirksomhed":{"cvrNummer":12345674,"reklamebeskyttet":%v,"enhedstype":"VIRKSOMHED","navne":[{"navn":"Syntetisk Virksomhed %d ApS","periode":{"gyldigFra":"2001-01-01","gyldigTil":null}}],"beliggenhedsadresse":[{"vejkode":%d,"kommune":{"kommuneKode":101},"periode":{"gyldigFra":"2001-01-01","gyldigTil":null}}],"sidstOpdateret":"2026-11-20T03:12:34.000+02:00","sidstIndlaest":"2026-11-20T02:12:34.000+02:00"}}`, i%7 == 0, i, i%9999)
		if i%3 == 2 {
			doc = `{"VrproduktionsEnhed":{"pNummer":1003456789,"reklamebeskyttet":false,"navne":[{"navn":"Syntetisk"}],"virksomhedsrelation":[{"cvrNummer":12345674,"periode":{"gyldigFra":"2001-01-01","gyldigTil":null}}],"sidstOpdateret":"2026-11-20T03:12:34.000+02:00"}}`
		}
		if i%2 == 1 {
			doc = `{"_index":"cvr-permanent","_type":"_doc","_source":` + doc + `}`
		}
		b.WriteString(doc)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// BenchmarkParseJSON measures the JSON layout per MB of documents; its
// allocations per document are constant (nothing is kept across lines).
func BenchmarkParseJSON(b *testing.B) {
	data := benchFile(20000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if _, err := Parse(bytes.NewReader(data), Options{}, func(*Entry) error { n++; return nil }); err != nil || n != 20000 {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkParseCSV measures the CSV layout.
func BenchmarkParseCSV(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("cvr;reklamebeskyttet\n")
	for i := range 100000 {
		fmt.Fprintf(&sb, "12345674;%s\n", []string{"ja", "nej"}[i%2])
	}
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(data), Options{}, func(*Entry) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
