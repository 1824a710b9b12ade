package robinson

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/goleak"
	"golang.org/x/text/encoding/charmap"

	"github.com/robinscreen/robinscreen/ingest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// listRow holds the fields of one data line in CPR's published layout.
type listRow struct {
	name, addr, town, post, hist string
	// sep is the character at position 135; "" means '#'.
	sep                                    string
	kom, vej, house, floor, door, building string
	noBuilding, noDoor, trimmed            bool
}

// Field widths from data-formats.md section 1.
const (
	listWName, listWAddr, listWTown, listWPost, listWHist = 34, 34, 34, 25, 3
	listWKom, listWVej, listWHouse, listWFloor, listWDoor = 4, 4, 4, 2, 4
	listWBuilding                                         = 4
)

func listPad(s string, w int) string {
	n := utf8.RuneCountInString(s)
	if n > w {
		panic(fmt.Sprintf("field %q longer than %d", s, w))
	}
	return s + strings.Repeat(" ", w-n)
}

// line renders r fixed-width, fields blank-padded, '#' between them.
func (r listRow) line() string {
	p := listPad
	if r.trimmed {
		p = func(s string, _ int) string { return s }
	}
	sep := r.sep
	if sep == "" {
		sep = "#"
	}
	hist := p(r.hist, listWHist)
	var b strings.Builder
	b.WriteString(p(r.name, listWName) + "#" + p(r.addr, listWAddr) + "#" + p(r.town, listWTown) + "#" +
		p(r.post, listWPost) + "#" + hist + sep + p(r.kom, listWKom) + "#" + p(r.vej, listWVej) + "#" +
		p(r.house, listWHouse) + "#" + p(r.floor, listWFloor))
	if !r.noDoor {
		b.WriteString("#" + p(r.door, listWDoor))
		if !r.noBuilding {
			b.WriteString("#" + p(r.building, listWBuilding))
		}
	}
	return b.String()
}

// listPerson returns a typical current-address listRow.
func listPerson(name, addr, post, house, floor, door string) listRow {
	return listRow{name: name, addr: addr, post: post, kom: "0101", vej: "1234",
		house: house, floor: floor, door: door}
}

func listLatin1(t testing.TB, s string) []byte {
	t.Helper()
	b, err := charmap.ISO8859_1.NewEncoder().String(s)
	if err != nil {
		t.Fatalf("encoding to Latin-1: %v", err)
	}
	return []byte(b)
}

// listFile joins lines with eol (and a final eol).
func listFile(eol string, lines ...string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, eol) + eol
}

// listDumpRecord renders a record compactly for comparisons and golden files.
func listDumpRecord(r *Record) string {
	kind := "cur"
	if r.Previous {
		kind = "prev"
	}
	given := make([]string, len(r.Name.Given))
	for i, g := range r.Name.Given {
		given[i] = g.Word
		if g.Initial {
			given[i] += "."
		}
	}
	a := r.Address
	return fmt.Sprintf("%s %s,%s|%s|%s|%s|%s|%s", kind,
		strings.Join(r.Name.Surnames, " "), strings.Join(given, " "),
		a.Postcode, a.Street, a.HouseNumber, a.Floor, a.Door)
}

var (
	listHdrDate = "Robinsonlisten pr. 01.03.2024"
	listHdrCols = "Personnavn#Standardadresse#Bynavn#Postnr. og postdistrikt#Historikmarkering#Kommunekode#Vejkode#Husnummer#Etage#Sidedør#Bygningsnummer"
	listPub     = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	listSoren   = listPerson("Hansen,Søren", "Åbenråvej 12, 2. tv", "6200 Aabenraa", "012", "02", "tv")
	listMette   = listPerson("Jensen,Mette", "Ærøgade 3", "1620 København V", "3", "", "")
	listOld     = listRow{name: "Nielsen,Hans Peter", addr: "Vestergade 12 2 tv", post: "8000 Aarhus C", hist: "*"}
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    string // listDumpRecord, when no error
		wantErr error  // reason, when an error is expected
	}{
		{
			name: "Latin1Letters",
			line: listSoren.line(),
			want: "cur hansen,soeren|6200|aabenraavej|12|2|tv",
		},
		{
			name: "ZeroPaddedHouseNumberWithLetter",
			line: listPerson("Hansen,Mette", "Vestergade 86B", "8000 Aarhus C", "086B", "", "").line(),
			want: "cur hansen,mette|8000|vestergade|86B||",
		},
		{
			name: "HistoryStar",
			line: listRow{name: "Hansen,Mette", addr: "Vestergade 86", post: "8000 Aarhus C", hist: "*",
				kom: "0751", vej: "1234", house: "086"}.line(),
			want: "prev hansen,mette|8000|vestergade|86||",
		},
		{
			name: "SeparatorBlankAt135",
			line: listRow{name: "Hansen,Mette", addr: "Vestergade 86", post: "8000 Aarhus C", hist: "*",
				sep: " ", kom: "0751", vej: "1234", house: "086", floor: "st", door: "th"}.line(),
			want: "prev hansen,mette|8000|vestergade|86|st|th",
		},
		{
			name: "SeparatorBlankAt135BlankKommunekode",
			line: listRow{name: "Hansen,Mette", addr: "Vestergade 86", post: "8000 Aarhus C",
				sep: " ", house: "086", floor: "1", door: "mf"}.line(),
			want: "cur hansen,mette|8000|vestergade|86|1|mf",
		},
		{
			name: "SeparatorOtherCharAt135",
			line: listRow{name: "Hansen,Mette", addr: "Vestergade 86", post: "8000 Aarhus C",
				sep: "|", kom: "0751", vej: "1234", house: "86"}.line(),
			want: "cur hansen,mette|8000|vestergade|86||",
		},
		{
			name: "WideBlankPaddedHistory",
			line: strings.Replace(listRow{name: "Hansen,Mette", addr: "Vestergade 86", post: "8000 Aarhus C", hist: "*",
				kom: "0751", vej: "1234", house: "086", door: "th"}.line(), "#*  #", "#*     #", 1),
			want: "prev hansen,mette|8000|vestergade|86||th",
		},
		{
			name: "MissingBygningsnummer",
			line: listRow{name: "Hansen,Mette", addr: "Vestergade 86", post: "8000 Aarhus C",
				house: "86", floor: "2", door: "3", noBuilding: true}.line(),
			want: "cur hansen,mette|8000|vestergade|86|2|3",
		},
		{
			name: "MissingSidedoerAndBygningsnummer",
			line: listRow{name: "Hansen,Mette", addr: "Vestergade 86, 2. tv", post: "8000 Aarhus C",
				house: "86", floor: "2", noDoor: true}.line(),
			want: "cur hansen,mette|8000|vestergade|86|2|tv",
		},
		{
			name: "MissingBygningsnummerSeparatorBlank",
			line: listRow{name: "Hansen,Mette", addr: "Vestergade 86", post: "8000 Aarhus C", hist: "*",
				sep: " ", kom: "0751", vej: "1234", house: "86", floor: "kl", noBuilding: true}.line(),
			want: "prev hansen,mette|8000|vestergade|86|kl|",
		},
		{
			name: "OldStyleStandardadresseFallback",
			line: listOld.line(),
			want: "prev nielsen,hans peter|8000|vestergade|12|2|tv",
		},
		{
			name: "NewStyleStandardadresseFallback",
			line: listRow{name: "Nielsen,Hans Peter", addr: "Vestergade 12, 2. tv", post: "8000 Aarhus C"}.line(),
			want: "cur nielsen,hans peter|8000|vestergade|12|2|tv",
		},
		{
			name: "StructuredFieldsWin",
			line: listPerson("Nielsen,Hans", "Vestergade 12, 2. tv", "8000 Aarhus C", "0014", "3", "th").line(),
			want: "cur nielsen,hans|8000|vestergade|14|3|th",
		},
		{
			name: "StructuredHouseNumberOnly",
			line: listPerson("Nielsen,Hans", "Vestergade 12, 2. tv", "8000 Aarhus C", "14", "", "").line(),
			want: "cur nielsen,hans|8000|vestergade|14|2|tv",
		},
		{
			name: "AbbreviatedStreet",
			line: listPerson("Holm,Anne", "Dronn. Louises V. 15, 1. th", "2100 København Ø", "15", "1", "th").line(),
			want: "cur holm,anne|2100|dronn. louises v.|15|1|th",
		},
		{
			name: "DoubleSurnameSeveralGiven",
			line: listPerson("Hansen Jensen,Anne Marie", "Vestergade 1", "8000 Aarhus C", "1", "", "").line(),
			want: "cur hansen jensen,anne marie|8000|vestergade|1||",
		},
		{
			name: "UnpaddedFields",
			line: listRow{name: "Hansen,Mette", addr: "Vestergade 86", post: "8000", kom: "751", vej: "12",
				house: "86", trimmed: true}.line(),
			want: "cur hansen,mette|8000|vestergade|86||",
		},
		{
			name: "TrailingCR",
			line: listMette.line() + "\r",
			want: "cur jensen,mette|1620|aeroegade|3||",
		},
		{
			name:    "NameNoComma",
			line:    listPerson("Hansen Mette", "Vestergade 1", "8000 Aarhus C", "1", "", "").line(),
			wantErr: errLineNameNoComma,
		},
		{
			name:    "NameBlank",
			line:    listPerson("", "Vestergade 1", "8000 Aarhus C", "1", "", "").line(),
			wantErr: errLineNameBlank,
		},
		{
			name:    "PostcodeShort",
			line:    listPerson("Hansen,Mette", "Vestergade 1", "800 Aarhus C", "1", "", "").line(),
			wantErr: errLinePostcode,
		},
		{
			name:    "PostcodeFiveDigits",
			line:    listPerson("Hansen,Mette", "Vestergade 1", "80001 Aarhus C", "1", "", "").line(),
			wantErr: errLinePostcode,
		},
		{
			name:    "PostcodeLetters",
			line:    listPerson("Hansen,Mette", "Vestergade 1", "Aarhus C", "1", "", "").line(),
			wantErr: errLinePostcode,
		},
		{
			name:    "NoHouseNumber",
			line:    listPerson("Hansen,Mette", "Vestergade", "8000 Aarhus C", "", "", "").line(),
			wantErr: errLineNoHouseNumber,
		},
		{
			name:    "BadStructuredHouseNumber",
			line:    listPerson("Hansen,Mette", "Vestergade", "8000 Aarhus C", "x?", "", "").line(),
			wantErr: errLineBadHouseNumber,
		},
		{
			name:    "NoStreet",
			line:    listPerson("Hansen,Mette", "", "8000 Aarhus C", "1", "", "").line(),
			wantErr: errLineNoStreet,
		},
		{
			name:    "KommunekodeNotDigits",
			line:    listRow{name: "Hansen,Mette", addr: "Vestergade 1", post: "8000", kom: "07A1", house: "1"}.line(),
			wantErr: errLineKommunekode,
		},
		{
			name:    "VejkodeNotDigits",
			line:    listRow{name: "Hansen,Mette", addr: "Vestergade 1", post: "8000", vej: "ab", house: "1"}.line(),
			wantErr: errLineVejkode,
		},
		{
			name:    "TooFewFields",
			line:    "Hansen,Mette#Vestergade 1#Bynavn#8000 Aarhus C#*",
			wantErr: errLineTooFewFields,
		},
		{
			name:    "TooManyFields",
			line:    listMette.line() + "#extra",
			wantErr: errLineTooManyFields,
		},
		{
			name:    "HashInName",
			line:    listPerson("Hansen#Ole,Mette", "Vestergade 1", "8000 Aarhus C", "1", "", "").line(),
			wantErr: errLineTooManyFields,
		},
		{
			name:    "ColumnNames",
			line:    listHdrCols, // "Historikmarkering" is split like a history field
			wantErr: errLineTooManyFields,
		},
		{
			name:    "ShortColumnNames",
			line:    "Navn#Adresse#By#Postnr#His#Komkode#Vejkode#Husnr#Etage#Sidedør#Bygnr",
			wantErr: errLineNameNoComma,
		},
		{
			name:    "Empty",
			line:    "",
			wantErr: errLineTooFewFields,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := ParseLine(tt.line, 42)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("ParseLine = %s, want error %v", listDumpRecord(rec), tt.wantErr)
				}
				var le *LineError
				if !errors.As(err, &le) || le.Line != 42 {
					t.Fatalf("error %v is not a *LineError for line 42", err)
				}
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				listAssertNoPersonalData(t, err, tt.line)
				return
			}
			if err != nil {
				t.Fatalf("ParseLine: %v", err)
			}
			if rec.Line != 42 {
				t.Errorf("Line = %d, want 42", rec.Line)
			}
			if got := listDumpRecord(rec); got != tt.want {
				t.Errorf("record\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// listAssertNoPersonalData fails when err's message contains a word of three
// or more letters taken from the line's name or address fields.
func listAssertNoPersonalData(t *testing.T, err error, line string) {
	t.Helper()
	fields := strings.Split(line, "#")
	if len(fields) > 2 {
		fields = fields[:2]
	}
	msg := strings.ToLower(err.Error())
	for _, f := range fields {
		for _, w := range strings.FieldsFunc(f, func(r rune) bool { return r == ' ' || r == ',' }) {
			if utf8.RuneCountInString(w) >= 3 && strings.Contains(msg, strings.ToLower(w)) {
				t.Errorf("error %q contains %q from the line", err, w)
			}
		}
	}
}

// listParseAll parses data and returns the stats, the dumped records and the
// error.
func listParseAll(t testing.TB, data []byte, opt Options) (Stats, []string, error) {
	t.Helper()
	var recs []string
	st, err := Parse(bytes.NewReader(data), opt, func(r *Record) error {
		recs = append(recs, fmt.Sprintf("%d %s", r.Line, listDumpRecord(r)))
		return nil
	})
	return st, recs, err
}

func TestParseFile(t *testing.T) {
	soren := "cur hansen,soeren|6200|aabenraavej|12|2|tv"
	mette := "cur jensen,mette|1620|aeroegade|3||"
	old := "prev nielsen,hans peter|8000|vestergade|12|2|tv"
	bad := listPerson("Hansen,Mette", "Vestergade 1", "800 Aarhus C", "1", "", "").line()

	tests := []struct {
		name     string
		data     []byte
		opt      Options
		want     []string // "line dump" per record
		wantErr  error
		encoding string
		headers  int
		pub      time.Time
		fromHdr  bool
		blank    int
		rejects  []int // line numbers
	}{
		{
			name:     "Latin1",
			data:     listLatin1(t, listFile("\n", listHdrDate, listHdrCols, listSoren.line(), listMette.line(), listOld.line())),
			want:     []string{"3 " + soren, "4 " + mette, "5 " + old},
			encoding: EncodingLatin1, headers: 2, pub: listPub, fromHdr: true,
		},
		{
			name:     "UTF8",
			data:     []byte(listFile("\n", listHdrDate, listHdrCols, listSoren.line(), listMette.line(), listOld.line())),
			want:     []string{"3 " + soren, "4 " + mette, "5 " + old},
			encoding: EncodingUTF8, headers: 2, pub: listPub, fromHdr: true,
		},
		{
			name:     "UTF8WithBOM",
			data:     []byte("\uFEFF" + listFile("\n", listHdrDate, listHdrCols, listSoren.line(), listMette.line(), listOld.line())),
			want:     []string{"3 " + soren, "4 " + mette, "5 " + old},
			encoding: EncodingUTF8, headers: 2, pub: listPub, fromHdr: true,
		},
		{
			name:     "UTF8WithBOMNoHeader",
			data:     []byte("\uFEFF" + listFile("\n", listSoren.line())),
			opt:      Options{Published: listPub},
			want:     []string{"1 " + soren},
			encoding: EncodingUTF8, pub: listPub,
		},
		{
			name:     "CRLF",
			data:     listLatin1(t, listFile("\r\n", listHdrDate, listHdrCols, listSoren.line(), listMette.line(), listOld.line())),
			want:     []string{"3 " + soren, "4 " + mette, "5 " + old},
			encoding: EncodingLatin1, headers: 2, pub: listPub, fromHdr: true,
		},
		{
			name:     "NoFinalNewline",
			data:     listLatin1(t, listHdrDate+"\r\n"+listSoren.line()+"\r\n"+listMette.line()),
			want:     []string{"2 " + soren, "3 " + mette},
			encoding: EncodingLatin1, headers: 1, pub: listPub, fromHdr: true,
		},
		{
			name:     "OneHeaderLineDotted",
			data:     listLatin1(t, listFile("\n", "Robinsonlisten 15.06.2023", listMette.line())),
			want:     []string{"2 " + mette},
			encoding: EncodingLatin1, headers: 1, pub: time.Date(2023, 6, 15, 0, 0, 0, 0, time.UTC), fromHdr: true,
		},
		{
			name:     "TwoHeaderLinesDashed",
			data:     listLatin1(t, listFile("\n", "ROBINSONLISTEN", "Dato: 15-06-2023", listSoren.line())),
			want:     []string{"3 " + soren},
			encoding: EncodingLatin1, headers: 2, pub: time.Date(2023, 6, 15, 0, 0, 0, 0, time.UTC), fromHdr: true,
		},
		{
			name:     "ThreeHeaderLinesISO",
			data:     listLatin1(t, listFile("\n", "CPR - Robinsonlisten", "Dannet 2023-06-15 kl. 04:00", listHdrCols, listSoren.line())),
			want:     []string{"4 " + soren},
			encoding: EncodingLatin1, headers: 3, pub: time.Date(2023, 6, 15, 0, 0, 0, 0, time.UTC), fromHdr: true,
		},
		{
			name:     "HeaderCompactDate",
			data:     listLatin1(t, listFile("\n", "ROBINSON15062023", listSoren.line())),
			want:     []string{"2 " + soren},
			encoding: EncodingLatin1, headers: 1, pub: time.Date(2023, 6, 15, 0, 0, 0, 0, time.UTC), fromHdr: true,
		},
		{
			name: "FirstDateWins",
			data: listLatin1(t, listFile("\n", "Robinsonlisten nr. 12345678 af 31.02.2023, gyldig fra 2023-06-15",
				"Dannet 01.07.2023", listSoren.line())),
			want:     []string{"3 " + soren},
			encoding: EncodingLatin1, headers: 2, pub: time.Date(2023, 6, 15, 0, 0, 0, 0, time.UTC), fromHdr: true,
		},
		{
			name:     "BlankLinesAnywhere",
			data:     listLatin1(t, listFile("\n", "", listHdrDate, "   ", listSoren.line(), "", "\t", listMette.line(), "")),
			want:     []string{"4 " + soren, "7 " + mette},
			encoding: EncodingLatin1, headers: 1, pub: listPub, fromHdr: true, blank: 5,
		},
		{
			name:     "OperatorOverride",
			data:     listLatin1(t, listFile("\n", listHdrDate, listSoren.line())),
			opt:      Options{Published: time.Date(2024, 2, 28, 0, 0, 0, 0, time.UTC)},
			want:     []string{"2 " + soren},
			encoding: EncodingLatin1, headers: 1, pub: time.Date(2024, 2, 28, 0, 0, 0, 0, time.UTC),
		},
		{
			name:     "OperatorOverrideNoHeaderDate",
			data:     listLatin1(t, listFile("\n", listHdrCols, listSoren.line())),
			opt:      Options{Published: listPub},
			want:     []string{"2 " + soren},
			encoding: EncodingLatin1, headers: 1, pub: listPub,
		},
		{
			name:     "NoDate",
			data:     listLatin1(t, listFile("\n", "Robinsonlisten", listHdrCols, listSoren.line())),
			wantErr:  ErrNoPublicationDate,
			encoding: EncodingLatin1, headers: 2,
		},
		{
			name:     "DateOnlyInDataIgnored",
			data:     listLatin1(t, listFile("\n", listHdrCols, listSoren.line(), "Dannet 01.03.2024")),
			wantErr:  ErrNoPublicationDate,
			encoding: EncodingLatin1, headers: 1,
		},
		{
			name:     "InvalidCalendarDate",
			data:     listLatin1(t, listFile("\n", "Robinsonlisten 30.02.2024", listSoren.line())),
			wantErr:  ErrNoPublicationDate,
			encoding: EncodingLatin1, headers: 1,
		},
		{
			name: "MalformedLinesCounted",
			data: listLatin1(t, listFile("\n", listHdrDate, listHdrCols, listSoren.line(), bad, "", listMette.line(),
				"Hansen,Mette#garbage", listOld.line(), "Antal poster: 3")),
			opt:      Options{MaxRejectRatio: 0.9},
			want:     []string{"3 " + soren, "6 " + mette, "8 " + old},
			encoding: EncodingLatin1, headers: 2, pub: listPub, fromHdr: true, blank: 1,
			rejects: []int{4, 7, 9},
		},
		{
			name:     "MalformedCRLFLineNumbers",
			data:     listLatin1(t, listFile("\r\n", listHdrDate, "", listSoren.line(), bad, listMette.line(), "SLUT")),
			opt:      Options{MaxRejectRatio: 0.9},
			want:     []string{"3 " + soren, "5 " + mette},
			encoding: EncodingLatin1, headers: 1, pub: listPub, fromHdr: true, blank: 1,
			rejects: []int{4, 6},
		},
		{
			name:     "GarbageBeforeFirstRecordIsHeader",
			data:     listLatin1(t, listFile("\n", listHdrDate, bad, "x#y#z", listSoren.line())),
			want:     []string{"4 " + soren},
			encoding: EncodingLatin1, headers: 3, pub: listPub, fromHdr: true,
		},
		{
			name:    "EmptyFile",
			data:    nil,
			wantErr: ErrEmpty, encoding: EncodingUTF8,
		},
		{
			name:    "OnlyBlankLines",
			data:    []byte("\r\n \n\t\n"),
			wantErr: ErrEmpty, encoding: EncodingUTF8, blank: 3,
		},
		{
			name:     "OnlyBOM",
			data:     []byte("\uFEFF"),
			wantErr:  ErrEmpty,
			encoding: EncodingUTF8, blank: 1,
		},
		{
			name:     "HeaderOnly",
			data:     listLatin1(t, listFile("\n", listHdrDate, listHdrCols)),
			wantErr:  ErrNoRecords,
			encoding: EncodingLatin1, headers: 2,
		},
		{
			name:     "HeaderOnlyNoDate",
			data:     listLatin1(t, listFile("\n", "Robinsonlisten", listHdrCols)),
			wantErr:  ErrNoRecords,
			encoding: EncodingLatin1, headers: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, recs, err := listParseAll(t, tt.data, tt.opt)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Parse error = %v, want %v", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got, want := strings.Join(recs, "\n"), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("records\n got:\n%s\nwant:\n%s", got, want)
			}
			if st.Encoding != tt.encoding {
				t.Errorf("Encoding = %q, want %q", st.Encoding, tt.encoding)
			}
			if st.HeaderLines != tt.headers {
				t.Errorf("HeaderLines = %d, want %d", st.HeaderLines, tt.headers)
			}
			if !st.Published.Equal(tt.pub) || st.PublishedFromHeader != tt.fromHdr {
				t.Errorf("Published = %v (from header %v), want %v (%v)",
					st.Published, st.PublishedFromHeader, tt.pub, tt.fromHdr)
			}
			if st.Blank != tt.blank {
				t.Errorf("Blank = %d, want %d", st.Blank, tt.blank)
			}
			var lines []int
			for _, le := range st.Rejects {
				lines = append(lines, le.Line)
			}
			if fmt.Sprint(lines) != fmt.Sprint(tt.rejects) || st.Rejected != len(tt.rejects) {
				t.Errorf("rejects = %v (%d), want %v", lines, st.Rejected, tt.rejects)
			}
			if err == nil {
				listCheckCounts(t, st)
				if st.Records != len(tt.want) {
					t.Errorf("Records = %d, want %d", st.Records, len(tt.want))
				}
			}
		})
	}
}

// listCheckCounts checks the invariants of a fully read listFile.
func listCheckCounts(t testing.TB, st Stats) {
	t.Helper()
	if st.Records != st.Current+st.Previous {
		t.Errorf("Records %d != Current %d + Previous %d", st.Records, st.Current, st.Previous)
	}
	if sum := st.HeaderLines + st.Blank + st.Records + st.Rejected; sum != st.Lines {
		t.Errorf("HeaderLines+Blank+Records+Rejected = %d, Lines = %d", sum, st.Lines)
	}
	if len(st.Rejects) > ingest.DefaultKeepRejects || len(st.Rejects) > st.Rejected {
		t.Errorf("%d Rejects kept for %d rejected", len(st.Rejects), st.Rejected)
	}
}

// listBigList returns a list of n data lines after one header line; the
// record at index i is built by mk(i).
func listBigList(n int, eol string, mk func(i int) listRow) string {
	var b strings.Builder
	b.WriteString("Robinsonlisten 01.03.2024" + eol)
	for i := range n {
		b.WriteString(mk(i).line())
		b.WriteString(eol)
	}
	return b.String()
}

func listASCIIRow(i int) listRow {
	return listPerson(fmt.Sprintf("Hansen,Mette%c", 'a'+i%26), "Vestergade 12, 2. tv", "8000 Aarhus C",
		fmt.Sprint(1+i%999), "2", "tv")
}

func TestParseLatin1ByteFarIntoFile(t *testing.T) {
	// Every line is ASCII except the last, which comes after 2.5 MiB: the
	// encoding decision must cover the whole listFile, not a prefix.
	const n = 16000
	s := listBigList(n, "\n", func(i int) listRow {
		if i == n-1 {
			return listSoren
		}
		return listASCIIRow(i)
	})
	if len(s) < 2<<20 {
		t.Fatalf("test listFile only %d bytes", len(s))
	}
	for _, tc := range []struct {
		name     string
		data     []byte
		encoding string
	}{
		{"Latin1", listLatin1(t, s), EncodingLatin1},
		{"UTF8", []byte(s), EncodingUTF8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var last *Record
			st, err := Parse(bytes.NewReader(tc.data), Options{}, func(r *Record) error {
				last = r
				return nil
			})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if st.Encoding != tc.encoding {
				t.Errorf("Encoding = %q, want %q", st.Encoding, tc.encoding)
			}
			if st.Records != n {
				t.Errorf("Records = %d, want %d", st.Records, n)
			}
			if got, want := listDumpRecord(last), "cur hansen,soeren|6200|aabenraavej|12|2|tv"; got != want {
				t.Errorf("last record %s, want %s", got, want)
			}
		})
	}
}

// TestParseMixedEncoding: a list that is partly UTF-8 and partly Latin-1
// is refused before any record is emitted, naming the lines of each kind
// and nothing from them (data-formats.md section 1).
func TestParseMixedEncoding(t *testing.T) {
	utf := func(lines ...string) string { return listFile("\n", lines...) }
	lat := func(lines ...string) string { return string(listLatin1(t, listFile("\n", lines...))) }
	tests := []struct {
		name          string
		data          string
		utf8, invalid []int
	}{
		{
			name: "UTF8ListWithOneLatin1Line",
			data: utf(listHdrDate, listHdrCols, listSoren.line(), listMette.line()) + lat(listOld.line(), listSoren.line()) + utf(listMette.line()),
			// The column header (line 2) has "ø"; listOld has no letter
			// outside ASCII, listSoren (line 6) has.
			utf8: []int{2, 3, 4, 7}, invalid: []int{6},
		},
		{
			name: "Latin1ListWithSomeUTF8Lines",
			data: lat(listHdrDate, listHdrCols, listSoren.line()) + utf(listMette.line(), listSoren.line()) + lat(listMette.line()),
			utf8: []int{4, 5}, invalid: []int{2, 3, 6},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := Parse(strings.NewReader(tt.data), Options{}, func(*Record) error {
				t.Fatal("emit called for a damaged file")
				return nil
			})
			var ee *ingest.EncodingError
			if !errors.As(err, &ee) || !errors.Is(err, ingest.ErrDamagedEncoding) {
				t.Fatalf("Parse error = %v, want an *ingest.EncodingError", err)
			}
			if fmt.Sprint(ee.UTF8Lines) != fmt.Sprint(tt.utf8) || fmt.Sprint(ee.InvalidLines) != fmt.Sprint(tt.invalid) {
				t.Errorf("lines UTF-8 %v, invalid %v; want %v, %v", ee.UTF8Lines, ee.InvalidLines, tt.utf8, tt.invalid)
			}
			if st.Records != 0 || st.Lines != 0 || st.Encoding != "" {
				t.Errorf("stats %+v", st)
			}
			listAssertNoPersonalData(t, err, listSoren.line())
			listAssertNoPersonalData(t, err, listMette.line())
		})
	}
}

func TestFindDate(t *testing.T) {
	d := func(y, m, dd int) time.Time { return time.Date(y, time.Month(m), dd, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name string
		in   string
		want time.Time // zero: none
	}{
		{"Dotted", "Robinsonlisten 01.03.2024", d(2024, 3, 1)},
		{"Dashed", "Dato:01-03-2024;", d(2024, 3, 1)},
		{"ISO", "dannet 2024-03-01T04:00", d(2024, 3, 1)},
		{"Compact", "ROBINSON01032024.TXT", d(2024, 3, 1)},
		{"CompactAlone", "01032024", d(2024, 3, 1)},
		{"LeapDay", "29.02.2024", d(2024, 2, 29)},
		{"NotLeapYear", "29.02.2023", time.Time{}},
		{"FirstWins", "2024-01-15 01.03.2024", d(2024, 1, 15)},
		{"LeftToRightAcrossFormats", "01032024 2024-01-15", d(2024, 3, 1)},
		{"InvalidThenValid", "31.04.2024 30.04.2024", d(2024, 4, 30)},
		{"MixedSeparators", "01.03-2024", time.Time{}},
		{"NineDigits", "010320245", time.Time{}},
		{"SevenDigits", "0103202", time.Time{}},
		{"CompactYYYYMMDDIsNotDDMMYYYY", "20240301", time.Time{}},
		{"InsideLongerRun", "101.03.2024", time.Time{}},
		{"YearFollowedByDigit", "01.03.20245", time.Time{}},
		{"RecordCount", "Antal poster: 5123456", time.Time{}},
		{"Month13", "2024-13-01", time.Time{}},
		{"Day00", "00.03.2024", time.Time{}},
		{"YearOutOfRange", "01.03.0024", time.Time{}},
		{"Truncated", "01.03.20", time.Time{}},
		{"Empty", "", time.Time{}},
		{"ColumnNames", listHdrCols, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := fileFindDate(tt.in)
			if ok != !tt.want.IsZero() || !got.Equal(tt.want) {
				t.Errorf("fileFindDate(%q) = %v, %v; want %v", tt.in, got, ok, tt.want)
			}
		})
	}
}

func TestRejectThreshold(t *testing.T) {
	bad := listPerson("Hansen,Mette", "Vestergade 1", "800 Aarhus C", "1", "", "").line()
	// list has good data lines followed by nbad rejected lines.
	list := func(good, nbad int) []byte {
		s := listBigList(good, "\n", listASCIIRow)
		s += strings.Repeat(bad+"\n", nbad)
		return []byte(s)
	}
	tests := []struct {
		name      string
		good, bad int
		max       float64
		refuse    bool
	}{
		{name: "None", good: 1000, bad: 0},
		{name: "JustBelowDefault", good: 1000, bad: 1},                     // 0.0999 %
		{name: "ExactlyDefault", good: 999, bad: 1},                        // 0.1 % is not above
		{name: "JustAboveDefault", good: 998, bad: 2, refuse: true},        // 0.2 %
		{name: "JustAboveDefaultLarge", good: 9989, bad: 11, refuse: true}, // 0.11 %
		{name: "JustBelowDefaultLarge", good: 9991, bad: 9},                // 0.09 %
		{name: "Custom", good: 95, bad: 5, max: 0.05},
		{name: "CustomAbove", good: 94, bad: 6, max: 0.05, refuse: true},
		{name: "NegativeRefusesAny", good: 1000, bad: 1, max: -1, refuse: true},
		{name: "NegativeNoRejects", good: 1000, bad: 0, max: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := Parse(bytes.NewReader(list(tt.good, tt.bad)), Options{MaxRejectRatio: tt.max}, nil)
			listCheckCounts(t, st)
			if st.Records != tt.good || st.Rejected != tt.bad {
				t.Errorf("Records/Rejected = %d/%d, want %d/%d", st.Records, st.Rejected, tt.good, tt.bad)
			}
			if !tt.refuse {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			var re *RejectError
			if !errors.As(err, &re) {
				t.Fatalf("Parse error = %v, want *RejectError", err)
			}
			wantMax := ingest.Threshold(tt.max) // 0.1 % for 0, 0 for negative
			if re.Rejected != tt.bad || re.Considered != tt.good+tt.bad || re.Threshold != wantMax ||
				re.Ratio != float64(tt.bad)/float64(tt.good+tt.bad) || len(re.First) != tt.bad {
				t.Errorf("RejectError = %+v", re)
			}
			msg := re.Error()
			first := fmt.Sprint(tt.good + 2) // header line + good lines
			for _, want := range []string{fmt.Sprint(tt.bad), fmt.Sprint(tt.good + tt.bad), first, "%"} {
				if !strings.Contains(msg, want) {
					t.Errorf("RejectError message %q lacks %q", msg, want)
				}
			}
		})
	}
}

func TestRejectErrorMessage(t *testing.T) {
	e := &RejectError{Rejected: 7, Considered: 1000, Ratio: 0.007, Threshold: 0.001}
	for i := range 7 {
		e.First = append(e.First, &LineError{Line: 10 + i, Err: errLinePostcode})
	}
	// The one refusal format of every dataset (ingest.RejectError).
	want := "7 of 1000 lines rejected (0.70 %), over the 0.10 % limit; first: " +
		"line 10: postcode not 4 digits; line 11: postcode not 4 digits; line 12: postcode not 4 digits; " +
		"line 13: postcode not 4 digits; line 14: postcode not 4 digits; ..."
	if got := e.Error(); got != want {
		t.Errorf("Error()\n got %q\nwant %q", got, want)
	}
}

func TestParseRejectsKept(t *testing.T) {
	s := listBigList(1, "\n", listASCIIRow) + strings.Repeat("Hansen,Mette#broken\n", 150)
	st, err := Parse(strings.NewReader(s), Options{}, nil)
	var re *RejectError
	if !errors.As(err, &re) {
		t.Fatalf("Parse error = %v, want *RejectError", err)
	}
	if st.Rejected != 150 || len(st.Rejects) != 100 || len(re.First) != 100 {
		t.Fatalf("Rejected %d, kept %d, in error %d", st.Rejected, len(st.Rejects), len(re.First))
	}
	for i, le := range st.Rejects {
		if le.Line != 3+i {
			t.Fatalf("Rejects[%d].Line = %d, want %d", i, le.Line, 3+i)
		}
		if !errors.Is(le, errLineTooFewFields) {
			t.Fatalf("Rejects[%d] = %v", i, le)
		}
		listAssertNoPersonalData(t, le, "Hansen,Mette#broken")
	}
	listAssertNoPersonalData(t, err, "Hansen,Mette#broken")
}

func TestParseLongLines(t *testing.T) {
	long := strings.Repeat("x", MaxLineBytes+1)
	huge := strings.Repeat("y", 3<<20+17) // beyond the bufio buffer
	data := listLatin1(t, listFile("\n", listHdrDate, long, listSoren.line(), long, listMette.line(), huge, listOld.line()))
	st, recs, err := listParseAll(t, data, Options{MaxRejectRatio: 0.9})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	listCheckCounts(t, st)
	if st.HeaderLines != 2 || st.Records != 3 || st.Rejected != 2 {
		t.Errorf("stats %+v", st)
	}
	if len(recs) != 3 || !strings.HasPrefix(recs[2], "7 ") {
		t.Errorf("records %q", recs)
	}
	if len(st.Rejects) != 2 || st.Rejects[0].Line != 4 || st.Rejects[1].Line != 6 ||
		!errors.Is(st.Rejects[1], errLineTooLong) {
		t.Errorf("rejects %v", st.Rejects)
	}
}

func TestParseEmitError(t *testing.T) {
	errStop := errors.New("store full")
	data := listLatin1(t, listFile("\n", listHdrDate, listSoren.line(), listMette.line(), listOld.line()))
	calls := 0
	st, err := Parse(bytes.NewReader(data), Options{}, func(r *Record) error {
		calls++
		if r.Line == 3 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("Parse error = %v, want wrapped %v naming line 3", err, errStop)
	}
	if calls != 2 || st.Records != 2 {
		t.Errorf("emit called %d times, Records %d; want 2, 2", calls, st.Records)
	}
}

func TestParseNoDateStopsBeforeEmit(t *testing.T) {
	data := listLatin1(t, listFile("\n", listHdrCols, listSoren.line(), listMette.line()))
	st, err := Parse(bytes.NewReader(data), Options{}, func(*Record) error {
		t.Fatal("emit called for a listFile without publication date")
		return nil
	})
	if !errors.Is(err, ErrNoPublicationDate) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("Parse error = %v", err)
	}
	if st.Records != 0 {
		t.Errorf("Records = %d", st.Records)
	}
}

func TestParseProgress(t *testing.T) {
	n := fileProgressEvery + 1000
	var got []int
	st, err := Parse(strings.NewReader(listBigList(n, "\n", listASCIIRow)), Options{
		Progress: func(lines int) { got = append(got, lines) },
	}, nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if want := []int{fileProgressEvery, n + 1}; fmt.Sprint(got) != fmt.Sprint(want) || st.Lines != n+1 {
		t.Errorf("Progress calls %v, want %v", got, want)
	}

	// Exactly a multiple: no duplicate final call.
	got = nil
	if _, err := Parse(strings.NewReader(listBigList(fileProgressEvery-1, "\n", listASCIIRow)), Options{
		Progress: func(lines int) { got = append(got, lines) },
	}, nil); err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if want := []int{fileProgressEvery}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Progress calls %v, want %v", got, want)
	}
}

// offsetReader checks that Parse seeks back to where the reader started.
func TestParseFromOffset(t *testing.T) {
	prefix := "NOT PART OF THE LIST \xff\xfe\n"
	data := append([]byte(prefix), listFile("\n", listHdrDate, "Søren er ikke her", listSoren.line())...)
	r := bytes.NewReader(data)
	if _, err := r.Seek(int64(len(prefix)), io.SeekStart); err != nil {
		t.Fatal(err)
	}
	st, err := Parse(r, Options{}, nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if st.Encoding != EncodingUTF8 || st.Records != 1 || st.HeaderLines != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestParseReadError(t *testing.T) {
	errDisk := errors.New("disk on fire")
	_, err := Parse(&listFailingReader{err: errDisk}, Options{}, nil)
	if !errors.Is(err, errDisk) {
		t.Fatalf("Parse error = %v, want %v", err, errDisk)
	}
}

type listFailingReader struct{ err error }

func (f *listFailingReader) Read([]byte) (int, error)       { return 0, f.err }
func (f *listFailingReader) Seek(int64, int) (int64, error) { return 0, nil }

func TestLineError(t *testing.T) {
	e := &LineError{Line: 17, Err: errLinePostcode}
	if got, want := e.Error(), "line 17: postcode not 4 digits"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, errLinePostcode) {
		t.Error("errors.Is(LineError, reason) = false")
	}
}

// TestGolden parses testdata/sample-latin1.txt and compares a readable dump
// with testdata/sample-latin1.golden. Run with -update to rewrite it.
func TestGolden(t *testing.T) {
	for _, name := range []string{"sample-latin1", "sample-utf8-crlf"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", name+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			st, recs, err := listParseAll(t, data, Options{MaxRejectRatio: 0.5})
			var b strings.Builder
			fmt.Fprintf(&b, "encoding: %s\n", st.Encoding)
			fmt.Fprintf(&b, "published: %s (from header: %v)\n", st.Published.Format(time.DateOnly), st.PublishedFromHeader)
			fmt.Fprintf(&b, "lines: %d header: %d blank: %d records: %d current: %d previous: %d rejected: %d\n",
				st.Lines, st.HeaderLines, st.Blank, st.Records, st.Current, st.Previous, st.Rejected)
			fmt.Fprintf(&b, "error: %v\n", err)
			for _, r := range recs {
				fmt.Fprintf(&b, "record %s\n", r)
			}
			for _, le := range st.Rejects {
				fmt.Fprintf(&b, "reject %v\n", le)
			}
			got := b.String()
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("dump differs from %s (go test -run TestGolden -update to accept):\n got:\n%s\nwant:\n%s",
					golden, got, want)
			}
		})
	}
}

// TestSampleFilesInSync checks that the UTF-8 sample is the Latin-1 sample
// re-saved as UTF-8 with CRLF line ends.
func TestSampleFilesInSync(t *testing.T) {
	l1, err := os.ReadFile(filepath.Join("testdata", "sample-latin1.txt"))
	if err != nil {
		t.Fatal(err)
	}
	u8, err := os.ReadFile(filepath.Join("testdata", "sample-utf8-crlf.txt"))
	if err != nil {
		t.Fatal(err)
	}
	dec, err := charmap.ISO8859_1.NewDecoder().Bytes(l1)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll(string(dec), "\n", "\r\n")
	if string(u8) != want {
		t.Error("testdata/sample-utf8-crlf.txt is not testdata/sample-latin1.txt in UTF-8 with CRLF")
	}
}

func BenchmarkParse(b *testing.B) {
	const n = 100_000
	data := listLatin1(b, listBigList(n, "\r\n", func(i int) listRow {
		r := listASCIIRow(i)
		switch i % 4 {
		case 0:
			r = listSoren
		case 1:
			r.hist = "*"
		case 2:
			r.house, r.floor, r.door = "", "", ""
		}
		return r
	}))
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		st, err := Parse(bytes.NewReader(data), Options{}, func(*Record) error { return nil })
		if err != nil || st.Records != n {
			b.Fatalf("Parse: %v, %d records", err, st.Records)
		}
	}
	b.ReportMetric(float64(n+1)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// TestParseManyBatches parses a list many times the parse pipeline's batch
// long, with blank and rejected lines scattered over it: every record is
// emitted once, in file order, with its own line number, and every count
// is the line-by-line count. An emit error part-way stops the pipeline
// without leaving a goroutine behind.
func TestParseManyBatches(t *testing.T) {
	defer goleak.VerifyNone(t)
	good := listPerson("Hansen,Søren", "Åbenråvej 12", "6200 Aabenraa", "12", "2", "tv").line()
	bad := listPerson("Hansen,Mette", "Vestergade 1", "800 Aarhus C", "1", "", "").line()
	var b strings.Builder
	b.WriteString("Robinsonlisten 01.03.2024\n")
	n := 5*parseBatchLines + 77
	var wantLines []int
	blank, rejected := 0, 0
	for i := 2; i <= n; i++ {
		switch {
		case i%97 == 0:
			b.WriteString("\n")
			blank++
		case i%89 == 0:
			b.WriteString(bad + "\n")
			rejected++
		default:
			b.WriteString(good + "\n")
			wantLines = append(wantLines, i)
		}
	}
	data := listLatin1(t, b.String())
	var got []int
	st, err := Parse(bytes.NewReader(data), Options{MaxRejectRatio: 0.5}, func(r *Record) error {
		got = append(got, r.Line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, wantLines) {
		t.Fatalf("emitted %d records, want %d, or out of order", len(got), len(wantLines))
	}
	if st.Lines != n || st.Blank != blank || st.Rejected != rejected || st.Records != len(wantLines) || st.HeaderLines != 1 {
		t.Fatalf("stats %+v; want %d lines, %d blank, %d rejected, %d records, 1 header line", st, n, blank, rejected, len(wantLines))
	}
	if len(st.Rejects) == 0 || st.Rejects[0].Line != 89 {
		t.Fatalf("first reject %+v, want line 89", st.Rejects)
	}

	stop := errors.New("stop")
	calls := 0
	_, err = Parse(bytes.NewReader(data), Options{MaxRejectRatio: 0.5}, func(r *Record) error {
		if calls++; calls == parseBatchLines+3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != parseBatchLines+3 {
		t.Fatalf("err %v after %d calls, want the emit error after %d", err, calls, parseBatchLines+3)
	}
}
