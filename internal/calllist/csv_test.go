package calllist

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// encodeAs writes s in an encoding (with a byte order mark when bom).
func encodeAs(t testing.TB, s, enc string, bom bool) string {
	t.Helper()
	var e encoding.Encoding
	var mark string
	switch enc {
	case EncodingUTF8:
		mark = "\uFEFF"
	case EncodingWindows1252:
		e = charmap.Windows1252
	case EncodingUTF16LE:
		e, mark = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "\xFF\xFE"
	case EncodingUTF16BE:
		e, mark = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "\xFE\xFF"
	}
	out := s
	if e != nil {
		b, err := e.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		out = string(b)
	}
	if bom {
		out = mark + out
	}
	return out
}

// asciiRows is n rows of a plain-ASCII call list, without a header.
func asciiRows(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "Kunde %06d;Testvej %d;2100 Koebenhavn OE\r\n", i, i%200+1)
	}
	return b.String()
}

func TestCSVReader(t *testing.T) {
	cp1252 := func(s string) string { return encodeAs(t, s, EncodingWindows1252, false) }
	// More than a MiB of ASCII before the first non-ASCII byte.
	big := asciiRows(25000)
	bigLines := strings.Count(big, "\n")
	tests := []struct {
		name        string
		in          string
		enc         string
		wantDialect Dialect
		wantHeader  []string
		wantRows    []string // "line:field|field", "line:(blank)" for a blank row
		wantLast    string   // the last row, when wantRows would be too long
		wantErrs    []int    // lines reported broken
		wantErr     string   // OpenCSV's error
	}{
		{
			name: "excel csv semikolon: windows-1252 crlf", in: cp1252("navn;by\r\nSøren;København Ø\r\nÅse;Århus\r\n"),
			wantDialect: Dialect{Encoding: EncodingWindows1252, Comma: ';', CRLF: true},
			wantRows:    []string{"2:Søren|København Ø", "3:Åse|Århus"},
		},
		{
			name: "windows-1252 whose first MiB is plain ASCII", in: cp1252("navn;adresse;by\r\n" + big + "Søren Testesen;Fiktivvej 12;København Ø\r\n"),
			wantDialect: Dialect{Encoding: EncodingWindows1252, Comma: ';', CRLF: true},
			wantLast:    fmt.Sprintf("%d:Søren Testesen|Fiktivvej 12|København Ø", bigLines+2),
		},
		{
			name: "utf-8 whose first MiB is plain ASCII", in: "navn;adresse;by\r\n" + big + "Søren Testesen;Fiktivvej 12;København Ø\r\n",
			wantDialect: Dialect{Encoding: EncodingUTF8, Comma: ';', CRLF: true},
			wantLast:    fmt.Sprintf("%d:Søren Testesen|Fiktivvej 12|København Ø", bigLines+2),
		},
		{
			name: "iso-8859-1 asked for", in: cp1252("navn;by\nSøren;Kø\n"), enc: EncodingISO88591,
			wantDialect: Dialect{Encoding: EncodingISO88591, Comma: ';'},
			wantRows:    []string{"2:Søren|Kø"},
		},
		{
			name: "excel csv utf-8: bom and comma", in: "\uFEFFname,city\r\nSøren,\"Kbh, Ø\"\r\n",
			wantDialect: Dialect{Encoding: EncodingUTF8, BOM: true, Comma: ',', CRLF: true},
			wantRows:    []string{"2:Søren|Kbh, Ø"},
		},
		{
			name: "excel unicode text: utf-16le bom tab crlf", in: encodeAs(t, "Navn\tBy\r\nSøren Testesen\tKøbenhavn Ø\r\n\r\nÅse\tÅrhus\r\n", EncodingUTF16LE, true),
			wantDialect: Dialect{Encoding: EncodingUTF16LE, BOM: true, Comma: '\t', CRLF: true},
			wantHeader:  []string{"Navn", "By"},
			wantRows:    []string{"2:Søren Testesen|København Ø", "3:(blank)", "4:Åse|Århus"},
		},
		{
			name: "utf-16le without bom", in: encodeAs(t, "Navn;By\r\nSøren;Kø\r\n", EncodingUTF16LE, false),
			wantDialect: Dialect{Encoding: EncodingUTF16LE, Comma: ';', CRLF: true},
			wantHeader:  []string{"Navn", "By"},
			wantRows:    []string{"2:Søren|Kø"},
		},
		{
			name: "utf-16be with bom", in: encodeAs(t, "Navn\tBy\nSøren\tKø\n", EncodingUTF16BE, true),
			wantDialect: Dialect{Encoding: EncodingUTF16BE, BOM: true, Comma: '\t'},
			wantHeader:  []string{"Navn", "By"},
			wantRows:    []string{"2:Søren|Kø"},
		},
		{
			name: "utf-16be without bom", in: encodeAs(t, "Navn,By\nÆble,Ø\n", EncodingUTF16BE, false),
			wantDialect: Dialect{Encoding: EncodingUTF16BE, Comma: ','},
			wantHeader:  []string{"Navn", "By"},
			wantRows:    []string{"2:Æble|Ø"},
		},
		{
			name: "sep line decides over sniffing", in: "sep=,\r\nnavn;x,by\r\nA;B,C\r\n",
			wantDialect: Dialect{Encoding: EncodingUTF8, Comma: ',', CRLF: true, Sep: true},
			wantHeader:  []string{"navn;x", "by"},
			wantRows:    []string{"3:A;B|C"},
		},
		{
			name: "quoted sep line with trailing delimiters, windows-1252", in: cp1252("\"sep=;\";;\r\nnavn;by\r\nSøren;Kø\r\n"),
			wantDialect: Dialect{Encoding: EncodingWindows1252, Comma: ';', CRLF: true, Sep: true},
			wantHeader:  []string{"navn", "by"},
			wantRows:    []string{"3:Søren|Kø"},
		},
		{
			name: "sep line naming a tab", in: "sep=\t\r\nnavn;x\tby\r\nA;B\tC\r\n",
			wantDialect: Dialect{Encoding: EncodingUTF8, Comma: '\t', CRLF: true, Sep: true},
			wantHeader:  []string{"navn;x", "by"},
			wantRows:    []string{"3:A;B|C"},
		},
		{
			name: "sep= naming a letter is the header", in: "sep=x;by\nA;B\n",
			wantDialect: Dialect{Encoding: EncodingUTF8, Comma: ';'},
			wantHeader:  []string{"sep=x", "by"},
			wantRows:    []string{"2:A|B"},
		},
		{
			name: "sep line after a utf-8 bom", in: "\uFEFFsep=;\nnavn;by\nSøren;Kø\n",
			wantDialect: Dialect{Encoding: EncodingUTF8, BOM: true, Comma: ';', Sep: true},
			wantRows:    []string{"3:Søren|Kø"},
		},
		{
			name: "quoted fields with crlf newlines and doubled quotes", in: "a;b\r\n\"x\r\ny\";\"say \"\"hi\"\"\"\r\nz;w\r\n",
			wantDialect: Dialect{Encoding: EncodingUTF8, Comma: ';', CRLF: true},
			wantRows:    []string{"2:x\ny|say \"hi\"", "4:z|w"},
		},
		{
			name: "a stray carriage return before a line break inside quotes is part of the break", in: "a;b\r\n\"x\r\r\ny\";z\r\n",
			wantDialect: Dialect{Encoding: EncodingUTF8, Comma: ';', CRLF: true},
			wantRows:    []string{"2:x\ny|z"},
		},
		{
			name: "excel text fields =\"...\" keep leading zeros", in: "navn;cpr;postnr\r\nSøren;=\"0101801234\";=\"0800\"\r\n",
			wantDialect: Dialect{Encoding: EncodingUTF8, Comma: ';', CRLF: true},
			wantRows:    []string{"2:Søren|0101801234|0800"},
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
			name: "blank lines and delimiter-only lines are blank rows", in: "\na;b\n\n1;x\n;\n \n2;y",
			wantDialect: Dialect{Encoding: EncodingUTF8, Comma: ';'},
			wantRows:    []string{"3:(blank)", "4:1|x", "5:(blank)", "6:(blank)", "7:2|y"},
		},
		{
			name: "mixed encodings refused", in: "navn;by\nSøren;Kø\n" + cp1252("Åse;Århus\n"),
			wantErr: "the file mixes encodings: line 2 is UTF-8 but line 3 is not",
		},
		{
			name: "utf-8 asked for, windows-1252 given", in: "navn;by\n" + asciiRows(3) + cp1252("Åse;Århus\n"), enc: EncodingUTF8,
			wantErr: "line 5: not valid UTF-8",
		},
		{
			name: "xls workbook renamed .csv", in: "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00\x00\x00navn;by\n",
			wantErr: "holds NUL bytes",
		},
		{
			name: "xlsx workbook renamed .csv", in: "PK\x03\x04\x14\x00\x06\x00",
			wantErr: "zip archive",
		},
		{
			name: "utf-32 refused", in: "\xFF\xFE\x00\x00n\x00\x00\x00",
			wantErr: "UTF-32",
		},
		{
			name: "utf-16 with a NUL character refused", in: "\xFF\xFEn\x00\x00\x00;\x00b\x00\n\x00",
			wantErr: "NUL characters",
		},
		{
			name: "utf-16 without bom with a NUL character refused", in: "n\x00a\x00\x00\x00;\x00b\x00\n\x00x\x00;\x00y\x00\n\x00",
			wantErr: "NUL bytes",
		},
		{
			name: "bom contradicting --encoding", in: encodeAs(t, "navn;by\n", EncodingUTF16LE, true), enc: EncodingUTF8,
			wantErr: "--encoding utf-8, but the file starts with a utf-16le byte order mark",
		},
		{
			name: "empty file", in: "", wantErr: "the file is empty",
		},
		{
			name: "macintosh csv: lines ending in a carriage return alone", in: cp1252("navn;by\rSøren;Kø\rÅse;Århus\r"),
			wantErr: "carriage return alone",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc := tc.enc
			if enc == "" {
				enc = EncodingAuto
			}
			r, err := OpenCSV(strings.NewReader(tc.in), enc, 0)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantHeader != nil && fmt.Sprintf("%q", r.Header()) != fmt.Sprintf("%q", tc.wantHeader) {
				t.Errorf("header %q, want %q", r.Header(), tc.wantHeader)
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
				for _, f := range rec.Fields {
					if !utf8.ValidString(f) {
						t.Fatalf("line %d: field %q is not UTF-8", rec.Line, f)
					}
				}
				if rec.Blank {
					rows = append(rows, fmt.Sprintf("%d:(blank)", rec.Line))
					continue
				}
				rows = append(rows, fmt.Sprintf("%d:%s", rec.Line, strings.Join(rec.Fields, "|")))
			}
			if r.Dialect() != tc.wantDialect {
				t.Errorf("dialect %+v, want %+v", r.Dialect(), tc.wantDialect)
			}
			if tc.wantLast != "" {
				if len(rows) == 0 || rows[len(rows)-1] != tc.wantLast {
					t.Errorf("%d rows, last %q; want last %q", len(rows), rows[len(rows)-1:], tc.wantLast)
				}
			} else if fmt.Sprintf("%q", rows) != fmt.Sprintf("%q", tc.wantRows) {
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
		{Encoding: EncodingUTF16BE, BOM: true, Comma: ';', CRLF: true},
		{Encoding: EncodingWindows1252, Comma: ';', CRLF: true, Sep: true},
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
			r, err := OpenCSV(bytes.NewReader(buf.Bytes()), EncodingAuto, 0)
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
		{name: "business", header: []string{"Firma", "CVR-nummer", "P-nummer", "Telefon"}, want: `phone="Telefon" cvr="CVR-nummer" p_number="P-nummer"`},
		{name: "first and last", header: []string{"Fornavn", "Efternavn", "Gade"}, want: `first_name="Fornavn" last_name="Efternavn" address="Gade"`},
		{name: "override by name and number", header: []string{"Kundenavn", "Sted", "navn"}, overrides: map[string]string{"name": "kundenavn", "address": "2"},
			want: `name="Kundenavn" address=column 2`}, // "Sted" is no known header name: shown by position
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

// headerlessRow is the first line of a call list without a header row: the
// reader takes it for the header.
var headerlessRow = []string{"Karen Ukendtsen", "Nyvej 3, 2100 København Ø", "0101801234", "22334455", "karen@example.invalid", "ja"}

// TestMapColumnsHeaderless checks that the errors and the log line for a
// file without a header name column positions and counts, never the first
// contact's values.
func TestMapColumnsHeaderless(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string]string
		wantErr   string // substring of the error; "" for success
		want      string // Describe on success
	}{
		{name: "nothing recognised", wantErr: "none of the header's 6 columns names a contact"},
		{name: "override by a name not in the header", overrides: map[string]string{"name": "navn"}, wantErr: "--col name=navn: no such column (give a header name or a column number 1-6)"},
		{name: "override by a number past the end", overrides: map[string]string{"phone": "7"}, wantErr: "no such column"},
		{name: "override by a cell value", overrides: map[string]string{"cpr": "3", "name": "Karen Ukendtsen"}, want: "name=column 1 cpr=column 3"},
		{name: "override by numbers", overrides: map[string]string{"name": "1", "address": "2", "phone": "4", "email": "5", "consent": "6"},
			want: "name=column 1 address=column 2 phone=column 4 email=column 5 consent=column 6"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := MapColumns(headerlessRow, tc.overrides)
			var msg string
			switch {
			case tc.wantErr != "":
				if err == nil {
					t.Fatalf("no error; mapped %s", m.Describe())
				}
				msg = err.Error()
				if !strings.Contains(msg, tc.wantErr) {
					t.Errorf("error %q does not say %q", msg, tc.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			default:
				msg = m.Describe()
				if msg != tc.want {
					t.Errorf("Describe %q, want %q", msg, tc.want)
				}
			}
			for _, v := range headerlessRow {
				// An override's own text is the user's; the row's values
				// must not come from the header.
				if strings.Contains(msg, v) && !strings.Contains(fmt.Sprint(tc.overrides), v) {
					t.Errorf("%q contains the cell value %q", msg, v)
				}
			}
			for _, v := range []string{"Ukendtsen", "Nyvej", "0101801234", "22334455", "karen@"} {
				if strings.Contains(msg, v) && !strings.Contains(fmt.Sprint(tc.overrides), v) {
					t.Errorf("%q contains part of a cell value, %q", msg, v)
				}
			}
		})
	}
}

// TestContactErrorsOmitValues checks that an unreadable value is reported
// by field and column, not by value: a shifted row can put a phone or CPR
// number in any column, and the error goes to the errors file.
func TestContactErrorsOmitValues(t *testing.T) {
	header := []string{"navn", "telefon", "samtykke", "kanal", "formål"}
	tests := []struct {
		name    string
		row     []string
		wantErr string
	}{
		{name: "readable", row: []string{"Karen Ukendtsen", "22334455", "ja", "telefon", "forsikring"}},
		{name: "phone in the consent column", row: []string{"Karen Ukendtsen", "", "22334455", "telefon", ""}, wantErr: "consent (column 3): not yes/no"},
		{name: "cpr in the channel column", row: []string{"Karen Ukendtsen", "", "", "0101801234", ""}, wantErr: "channel (column 4): unknown channel"},
		{name: "email in the purpose column", row: []string{"Karen Ukendtsen", "", "", "sms", "karen@example.invalid"}, wantErr: "purpose (column 5): unknown purpose"},
		{name: "a byte the encoding leaves undefined in the name", row: []string{"S\uFFFDren Testesen", "22334455", "", "telefon", ""}, wantErr: "name (column 1): characters that could not be decoded"},
		{name: "bytes that are not UTF-8 in the phone", row: []string{"Karen Ukendtsen", "2233\xF84455", "", "telefon", ""}, wantErr: "phone (column 2): characters that could not be decoded"},
	}
	m, err := MapColumns(header, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := m.Contact(tc.row, "1")
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			for _, v := range tc.row {
				if v != "" && strings.Contains(err.Error(), v) {
					t.Errorf("error %q contains the value %q", err, v)
				}
			}
		})
	}
}

func TestIdentifiesPerson(t *testing.T) {
	tests := []struct {
		name    string
		header  []string
		want    bool
		wantWhy string
	}{
		{name: "name and address", header: []string{"Navn", "Adresse"}, want: true},
		{name: "first and last name with address", header: []string{"Fornavn", "Efternavn", "Vejnavn"}, want: true},
		{name: "cpr alone", header: []string{"CPR-nr", "Telefon"}, want: true},
		{name: "cvr alone (a business)", header: []string{"CVR", "Telefon"}, want: true},
		{name: "phone and consent only", header: []string{"Telefon", "Samtykke"}, wantWhy: "no column holds a name, an address"},
		{name: "e-mail only", header: []string{"E-mail"}, wantWhy: "no column holds a name, an address"},
		{name: "name without address", header: []string{"Navn", "Telefon"}, wantWhy: "no address column"},
		{name: "address without name", header: []string{"Adresse", "Postnr"}, wantWhy: "no name column"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := MapColumns(tc.header, nil)
			if err != nil {
				t.Fatal(err)
			}
			ok, why := m.IdentifiesPerson()
			if ok != tc.want || !strings.Contains(why, tc.wantWhy) || (ok && why != "") {
				t.Errorf("IdentifiesPerson() = %v, %q; want %v, %q", ok, why, tc.want, tc.wantWhy)
			}
		})
	}
}

func TestResultColumns(t *testing.T) {
	robinson := &pb.Finding{Reason: pb.Reason_REASON_ROBINSON_LIST, Decision: pb.Decision_DECISION_BLOCK, Detail: "on the Robinson list (current address)"}
	consent := &pb.Finding{Reason: pb.Reason_REASON_CONSENT, Decision: pb.Decision_DECISION_ALLOW, Detail: "explicit consent to this sender"}
	invalid := &pb.Finding{Reason: pb.Reason_REASON_INVALID_CPR, Decision: pb.Decision_DECISION_REVIEW, Detail: "personal number is not valid"}
	tests := []struct {
		name string
		res  *pb.ScreeningResult
		want [3]string
	}{
		{
			name: "under consent the Robinson finding is listed, marked",
			res: &pb.ScreeningResult{Decision: pb.Decision_DECISION_ALLOW, Reasons: []pb.Reason{pb.Reason_REASON_CONSENT},
				Findings: []*pb.Finding{robinson, consent}},
			want: [3]string{"ALLOW", "CONSENT", "explicit consent to this sender; [alone: BLOCK] on the Robinson list (current address)"},
		},
		{
			name: "a block lists the weaker findings after its own",
			res: &pb.ScreeningResult{Decision: pb.Decision_DECISION_BLOCK, Reasons: []pb.Reason{pb.Reason_REASON_ROBINSON_LIST, pb.Reason_REASON_INVALID_CPR},
				Findings: []*pb.Finding{invalid, robinson, {Decision: pb.Decision_DECISION_ALLOW, Detail: "no active CPR marketing protection"}}},
			want: [3]string{"BLOCK", "ROBINSON_LIST|INVALID_CPR", "on the Robinson list (current address); [alone: REVIEW] personal number is not valid; no active CPR marketing protection"},
		},
		{
			name: "a finding without a detail is named by its reason, duplicates once",
			res: &pb.ScreeningResult{Decision: pb.Decision_DECISION_REVIEW, Reasons: []pb.Reason{pb.Reason_REASON_STALE_DATA},
				Findings: []*pb.Finding{{Reason: pb.Reason_REASON_STALE_DATA, Decision: pb.Decision_DECISION_REVIEW}, {Reason: pb.Reason_REASON_STALE_DATA, Decision: pb.Decision_DECISION_REVIEW}}},
			want: [3]string{"REVIEW", "STALE_DATA", "STALE_DATA"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ResultColumns(tc.res); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestContactPNumber: a P-number column reaches Contact.p_number.
func TestContactPNumber(t *testing.T) {
	m, err := MapColumns([]string{"CVR", "P-nummer"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Channel = pb.Channel_CHANNEL_PHONE
	c, _, _, err := m.Contact([]string{"20000007", " 1000000001 "}, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if c.GetCvr() != "20000007" || c.GetPNumber() != "1000000001" {
		t.Fatalf("contact %v", c)
	}
}
