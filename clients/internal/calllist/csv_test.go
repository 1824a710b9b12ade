package calllist

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
)

func TestCSVReader(t *testing.T) {
	cp1252 := func(s string) string {
		b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name        string
		in          string
		enc         string
		wantDialect Dialect
		wantRows    []string // "line:field|field"
		wantErrs    []int    // lines reported broken
	}{
		{
			name: "semicolon windows-1252 crlf", in: cp1252("navn;by\r\nSøren;København Ø\r\nÅse;Århus\r\n"),
			wantDialect: Dialect{Encoding: EncodingWindows1252, Comma: ';', CRLF: true},
			wantRows:    []string{"2:Søren|København Ø", "3:Åse|Århus"},
		},
		{
			name: "iso-8859-1 override", in: cp1252("navn;by\nSøren;Kø\n"), enc: EncodingISO88591,
			wantDialect: Dialect{Encoding: EncodingISO88591, Comma: ';'},
			wantRows:    []string{"2:Søren|Kø"},
		},
		{
			name: "utf-8 bom comma", in: "\uFEFFname,city\nSøren,\"Kbh, Ø\"\n",
			wantDialect: Dialect{Encoding: EncodingUTF8, BOM: true, Comma: ','},
			wantRows:    []string{"2:Søren|Kbh, Ø"},
		},
		{
			name: "tab", in: "name\tcity\nA\tB\n", wantDialect: Dialect{Encoding: EncodingUTF8, Comma: '\t'},
			wantRows: []string{"2:A|B"},
		},
		{
			name: "embedded newline and doubled quotes", in: "a;b\n\"x\ny\";\"say \"\"hi\"\"\"\nz;w\n",
			wantDialect: Dialect{Encoding: EncodingUTF8, Comma: ';'},
			wantRows:    []string{"2:x\ny|say \"hi\"", "4:z|w"},
		},
		{
			name: "unclosed quote swallowing lines is resynchronised", in: "a;b\n1;\"open\n2;x\n3;\"y\"\n4;z\n",
			wantDialect: Dialect{Encoding: EncodingUTF8, Comma: ';'},
			wantRows:    []string{"3:2|x", "4:3|y", "5:4|z"},
			wantErrs:    []int{2},
		},
		{
			name: "unclosed quote at end of file", in: "a;b\n1;x\n2;\"open\n3;z\n",
			wantDialect: Dialect{Encoding: EncodingUTF8, Comma: ';'},
			wantRows:    []string{"2:1|x", "4:3|z"},
			wantErrs:    []int{3},
		},
		{
			name: "bare quote and field count", in: "a;b\n1;x\"y\n2;q;r\n3;s;;\n4\n5;t\n",
			wantDialect: Dialect{Encoding: EncodingUTF8, Comma: ';'},
			wantRows:    []string{"4:3|s", "6:5|t"},
			wantErrs:    []int{2, 3, 5},
		},
		{
			name: "blank lines skipped", in: "a;b\n\n1;x\n\n\n2;y",
			wantDialect: Dialect{Encoding: EncodingUTF8, Comma: ';'},
			wantRows:    []string{"3:1|x", "6:2|y"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc := tc.enc
			if enc == "" {
				enc = EncodingAuto
			}
			r, err := OpenCSV(strings.NewReader(tc.in), enc, 0)
			if err != nil {
				t.Fatal(err)
			}
			var rows []string
			var errs []int
			for {
				rec, rerr, err := r.Read()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if rerr != nil {
					errs = append(errs, rerr.Line)
					continue
				}
				rows = append(rows, fmt.Sprintf("%d:%s", rec.Line, strings.Join(rec.Fields, "|")))
			}
			if r.Dialect() != tc.wantDialect {
				t.Errorf("dialect %+v, want %+v", r.Dialect(), tc.wantDialect)
			}
			if fmt.Sprintf("%q", rows) != fmt.Sprintf("%q", tc.wantRows) {
				t.Errorf("rows %q\nwant %q", rows, tc.wantRows)
			}
			if fmt.Sprint(errs) != fmt.Sprint(tc.wantErrs) {
				t.Errorf("broken lines %v, want %v", errs, tc.wantErrs)
			}
		})
	}
}

// TestCSVRoundTrip writes records in each dialect and reads them back.
func TestCSVRoundTrip(t *testing.T) {
	recs := [][]string{{"navn", "note"}, {"Søren Ø", "a;b,c\t\"d\"\nnext"}, {" lead", ""}}
	for _, d := range []Dialect{
		{Encoding: EncodingUTF8, Comma: ';'},
		{Encoding: EncodingUTF8, BOM: true, Comma: ',', CRLF: true},
		{Encoding: EncodingWindows1252, Comma: ';', CRLF: true},
		{Encoding: EncodingUTF16LE, BOM: true, Comma: '\t', CRLF: true},
	} {
		t.Run(fmt.Sprintf("%s-%q", d.Encoding, d.Comma), func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewCSVWriter(&buf, d)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if err := w.Write(r); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			r, err := OpenCSV(&buf, EncodingAuto, 0)
			if err != nil {
				t.Fatal(err)
			}
			got := [][]string{r.Header()}
			for {
				rec, rerr, err := r.Read()
				if err != nil {
					break
				}
				if rerr != nil {
					t.Fatal(rerr)
				}
				got = append(got, rec.Fields)
			}
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", recs) || r.Dialect() != d {
				t.Errorf("got %q %+v\nwant %q %+v", got, r.Dialect(), recs, d)
			}
		})
	}
}

func TestMapColumns(t *testing.T) {
	tests := []struct {
		name      string
		header    []string
		overrides map[string]string
		want      string
		wantErr   bool
	}{
		{name: "danish", header: []string{"Navn", "Adresse", "Post nr.", "By", "Mobil", "E-mail", "CPR-nr", "CVR", "Samtykke", "Kunde", "Kanal", "Formål"},
			want: `name="Navn" address="Adresse" postal_code="Post nr." city="By" phone="Mobil" email="E-mail" cpr="CPR-nr" cvr="CVR" consent="Samtykke" existing_customer="Kunde" channel="Kanal" purpose="Formål"`},
		{name: "english", header: []string{"Full name", "Street address", "ZIP", "Town", "Phone number", "Email", "Personnummer", "Existing customer", "Consent"},
			want: `name="Full name" address="Street address" postal_code="ZIP" city="Town" phone="Phone number" email="Email" cpr="Personnummer" consent="Consent" existing_customer="Existing customer"`},
		{name: "first and last", header: []string{"Fornavn", "Efternavn", "Gade"}, want: `first_name="Fornavn" last_name="Efternavn" address="Gade"`},
		{name: "override by name and number", header: []string{"Kundenavn", "Sted", "navn"}, overrides: map[string]string{"name": "kundenavn", "address": "2"},
			want: `name="Kundenavn" address="Sted"`},
		{name: "nothing recognised", header: []string{"foo", "bar"}, wantErr: true},
		{name: "unknown field", header: []string{"navn"}, overrides: map[string]string{"shoe": "navn"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := MapColumns(tc.header, tc.overrides)
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Describe(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
