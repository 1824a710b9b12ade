package cvr

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/ingest"
)

// collect parses data and returns copies of the entries.
func collect(t testing.TB, data string, opt Options) ([]Entry, Stats, error) {
	t.Helper()
	var out []Entry
	st, err := Parse(strings.NewReader(data), opt, func(e *Entry) error {
		c := *e
		c.Owners = slices.Clone(e.Owners)
		out = append(out, c)
		return nil
	})
	return out, st, err
}

const (
	companyProtected   = `{"Vrvirksomhed":{"cvrNummer":10000009,"reklamebeskyttet":true,"navne":[{"navn":"Fiktiv A/S"}],"sidstOpdateret":"2026-11-20T03:12:34.000+02:00","sidstIndlaest":"2026-11-21T01:00:00.000+01:00"}}`
	companyUnprotected = `{"_index":"cvr-permanent","_id":"1","_source":{"Vrvirksomhed":{"cvrNummer":"12345674","reklamebeskyttet":false,"beliggenhedsadresse":[{"vejkode":123,"kommune":{"kommuneKode":101}}]}}}`
	unitProtected      = `{"_source":{"VrproduktionsEnhed":{"pNummer":1003456789,"reklamebeskyttet":true,"virksomhedsrelation":[{"cvrNummer":12345674,"periode":{"gyldigFra":"2001-01-01","gyldigTil":null}},{"cvrNummer":30498763}]}}}`
)

func TestParseJSON(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    []Entry
		rejects []error // reasons, in line order
		stats   func(Stats) bool
	}{
		{
			name: "bare company",
			data: companyProtected + "\n",
			want: []Entry{{Line: 1, Kind: KindCompany, CVR: 10000009, Protected: true}},
		},
		{
			name: "search hit, number as string",
			data: companyUnprotected + "\n",
			want: []Entry{{Line: 1, Kind: KindCompany, CVR: 12345674}},
		},
		{
			name: "production unit with its company relations",
			data: unitProtected + "\n",
			want: []Entry{{Line: 1, Kind: KindUnit, P: 1003456789, Protected: true, Owners: []Number{12345674, 30498763}}},
		},
		{
			name: "search response holding hits",
			data: `{"took":3,"hits":{"total":2,"hits":[` + companyUnprotected + `,` + unitProtected + `]}}` + "\n",
			want: []Entry{{Line: 1, Kind: KindCompany, CVR: 12345674}, {Line: 1, Kind: KindUnit, P: 1003456789, Protected: true, Owners: []Number{12345674, 30498763}}},
		},
		{
			name: "array of hits, CRLF, blank lines",
			data: "\r\n[" + companyProtected + "," + companyUnprotected + "]\r\n\r\n",
			want: []Entry{{Line: 2, Kind: KindCompany, CVR: 10000009, Protected: true}, {Line: 2, Kind: KindCompany, CVR: 12345674}},
			stats: func(st Stats) bool {
				return st.Blank == 2 && st.DocumentLines == 1 && st.Lines == 3
			},
		},
		{
			name:  "empty search response is skipped",
			data:  companyProtected + "\n" + `{"hits":{"hits":[]}}` + "\n",
			want:  []Entry{{Line: 1, Kind: KindCompany, CVR: 10000009, Protected: true}},
			stats: func(st Stats) bool { return st.Skipped == 1 && st.DocumentLines == 1 },
		},
		{
			name:  "another document type is skipped",
			data:  companyProtected + "\n" + `{"_source":{"Vrdeltagerperson":{"enhedsNummer":4000123}}}` + "\n",
			want:  []Entry{{Line: 1, Kind: KindCompany, CVR: 10000009, Protected: true}},
			stats: func(st Stats) bool { return st.OtherDocuments == 1 && st.Rejected == 0 },
		},
		{
			name: "rejects",
			data: strings.Join([]string{
				companyProtected,
				`{"Vrvirksomhed":{"reklamebeskyttet":true}}`,
				`{"Vrvirksomhed":{"cvrNummer":12345678,"reklamebeskyttet":true}}`,
				`{"Vrvirksomhed":{"cvrNummer":12345674}}`,
				`{"Vrvirksomhed":{"cvrNummer":12345674,"reklamebeskyttet":"ja"}}`,
				`{"Vrvirksomhed":{"cvrNummer":12345674,"reklamebeskyttet":null}}`,
				`{"VrproduktionsEnhed":{"reklamebeskyttet":false}}`,
				`{"VrproduktionsEnhed":{"pNummer":123,"reklamebeskyttet":false}}`,
				`{"Vrvirksomhed":{"cvrNummer":12345674,"reklamebeskyttet":true},"VrproduktionsEnhed":{"pNummer":1003456789,"reklamebeskyttet":true}}`,
				`{"something":"else"}`,
				`{"Vrvirksomhed":{"cvrNummer":12345674,"reklamebeskyttet":true}`,
				`cvr;reklamebeskyttet`,
				`{"hits":{"hits":[` + companyUnprotected + `,{"_source":{"Vrvirksomhed":{"cvrNummer":1}}}]}}`,
			}, "\n"),
			want: []Entry{{Line: 1, Kind: KindCompany, CVR: 10000009, Protected: true}, {Line: 13, Kind: KindCompany, CVR: 12345674}},
			rejects: []error{ErrNoCVR, ErrBadCVR, ErrNoProtection, ErrNoProtection, ErrNoProtection, ErrNoPNumber, ErrBadPNumber,
				ErrBoth, ErrNoDocument, ErrNotJSON, ErrNotJSON, ErrBadCVR},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st, err := collect(t, tt.data, Options{MaxRejectRatio: 0.99})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !slices.EqualFunc(got, tt.want, entryEqual) {
				t.Fatalf("entries\n got %+v\nwant %+v", got, tt.want)
			}
			if st.Layout != LayoutJSON {
				t.Errorf("layout %q", st.Layout)
			}
			if len(st.Rejects) != len(tt.rejects) || st.Rejected != len(tt.rejects) {
				t.Fatalf("rejects %v, want %d", st.Rejects, len(tt.rejects))
			}
			for i, r := range tt.rejects {
				if !errors.Is(st.Rejects[i], r) {
					t.Errorf("reject %d = %v, want %v", i, st.Rejects[i], r)
				}
			}
			if tt.stats != nil && !tt.stats(st) {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func entryEqual(a, b Entry) bool {
	return a.Line == b.Line && a.Kind == b.Kind && a.CVR == b.CVR && a.P == b.P && a.Protected == b.Protected && slices.Equal(a.Owners, b.Owners)
}

func TestParseJSONNewest(t *testing.T) {
	_, st, err := collect(t, companyProtected+"\n"+companyUnprotected+"\n"+`{"Vrvirksomhed":{"cvrNummer":30498763,"reklamebeskyttet":false,"sidstOpdateret":"not a date"}}`+"\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	// 2026-11-21T01:00:00+01:00 is the newest: 2026-11-21T00:00Z.
	if want := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC); !st.Newest.Equal(want) {
		t.Fatalf("Newest = %v, want %v", st.Newest, want)
	}
}

func TestParseCSV(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    []Entry
		rejects []error
		headers int
	}{
		{
			name:    "companies with ja/nej",
			data:    "cvr;reklamebeskyttet\n10000009;ja\n12345674;nej\n",
			want:    []Entry{{Line: 2, Kind: KindCompany, CVR: 10000009, Protected: true}, {Line: 3, Kind: KindCompany, CVR: 12345674}},
			headers: 1,
		},
		{
			name:    "production units with true/false, BOM and CRLF",
			data:    "\uFEFFpnummer;reklamebeskyttet\r\n1003456789;TRUE\r\n1003456790;false\r\n",
			want:    []Entry{{Line: 2, Kind: KindUnit, P: 1003456789, Protected: true}, {Line: 3, Kind: KindUnit, P: 1003456790}},
			headers: 1,
		},
		{
			name:    "comma, quotes, columns in another order, extra column",
			data:    "\"Reklamebeskyttet\",\"navn\",\"CVR-nummer\"\n\"1\",\"Fiktiv\",\"30498763\"\n0,x,DK12345674\n",
			want:    []Entry{{Line: 2, Kind: KindCompany, CVR: 30498763, Protected: true}, {Line: 3, Kind: KindCompany, CVR: 12345674}},
			headers: 1,
		},
		{
			name:    "unit and owner columns",
			data:    "cvr;pnummer;reklamebeskyttet\n12345674;1003456789;ja\n12345674;;nej\n",
			want:    []Entry{{Line: 2, Kind: KindUnit, P: 1003456789, Protected: true, Owners: []Number{12345674}}, {Line: 3, Kind: KindCompany, CVR: 12345674}},
			headers: 1,
		},
		{
			name: "no header: the length tells the kind",
			data: "10000009;1\n1003456789;0\n",
			want: []Entry{{Line: 1, Kind: KindCompany, CVR: 10000009, Protected: true}, {Line: 2, Kind: KindUnit, P: 1003456789}},
		},
		{
			name:    "rejects",
			data:    "cvr;reklamebeskyttet\n10000009;ja\n12345678;ja\n12345674;maybe\n12345674\n1234567;nej\n;ja\n",
			want:    []Entry{{Line: 2, Kind: KindCompany, CVR: 10000009, Protected: true}},
			rejects: []error{ErrCSVNumber, ErrCSVFlag, ErrColumns, ErrCSVNumber, ErrCSVNumber},
			headers: 1,
		},
		{
			name:    "headerless rejects",
			data:    "10000009;ja\n123456789;ja\n1234567890123;nej\n",
			want:    []Entry{{Line: 1, Kind: KindCompany, CVR: 10000009, Protected: true}},
			rejects: []error{ErrCSVNumber, ErrCSVNumber},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st, err := collect(t, tt.data, Options{MaxRejectRatio: 0.99})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !slices.EqualFunc(got, tt.want, entryEqual) {
				t.Fatalf("entries\n got %+v\nwant %+v", got, tt.want)
			}
			if st.Layout != LayoutCSV || st.Headers != tt.headers {
				t.Errorf("layout %q, %d headers", st.Layout, st.Headers)
			}
			if st.Rejected != len(tt.rejects) {
				t.Fatalf("rejects %v, want %v", st.Rejects, tt.rejects)
			}
			for i, r := range tt.rejects {
				if !errors.Is(st.Rejects[i], r) {
					t.Errorf("reject %d = %v, want %v", i, st.Rejects[i], r)
				}
			}
			if counted := st.Blank + st.Headers + st.DocumentLines; counted != st.Lines {
				t.Errorf("%d lines, %d counted", st.Lines, counted)
			}
		})
	}
}

func TestParseRefusals(t *testing.T) {
	many := strings.Repeat(companyProtected+"\n", 999)
	tests := []struct {
		name  string
		data  string
		ratio float64
		err   error
	}{
		{name: "empty file", data: "", err: ErrNoRecords},
		{name: "blank lines only", data: "\n  \n", err: ErrNoRecords},
		{name: "header only", data: "cvr;reklamebeskyttet\n", err: ErrNoRecords},
		{name: "header without the flag", data: "cvr;navn\n10000009;x\n", err: ErrCSVHeader},
		{name: "header without a number column", data: "navn;reklamebeskyttet\nx;ja\n", err: ErrCSVHeader},
		{name: "only rejects", data: `{"Vrvirksomhed":{}}` + "\n", err: ErrNoRecords},
		{name: "one reject in 1000 is accepted", data: many + "{\n"},
		{name: "two rejects in 1001 are too many", data: many + "{\n{\n", err: ingest.ErrTooManyRejects},
		{name: "no reject tolerated", data: many + "{\n", ratio: -1, err: ingest.ErrTooManyRejects},
		{name: "damaged encoding", data: companyProtected + "\n" + `{"Vrvirksomhed":{"cvrNummer":12345674,"reklamebeskyttet":true,"navn":"S` + "\xc3\xb8ren \xf8" + `"}}` + "\n", err: ingest.ErrDamagedEncoding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := collect(t, tt.data, Options{MaxRejectRatio: tt.ratio})
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
		})
	}
}

// TestParseLongLine: a line over MaxLineBytes is a numbered reject and
// the lines after it are read.
func TestParseLongLine(t *testing.T) {
	var b bytes.Buffer
	for range 2000 {
		b.WriteString(companyUnprotected + "\n")
	}
	b.WriteString(`{"Vrvirksomhed":{"cvrNummer":10000009,"reklamebeskyttet":true,"x":"`)
	b.Write(bytes.Repeat([]byte("a"), MaxLineBytes))
	b.WriteString("\"}}\n" + companyProtected + "\n")
	var n, protected int
	st, err := Parse(bytes.NewReader(b.Bytes()), Options{}, func(e *Entry) error {
		n++
		if e.Protected {
			protected++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 2001 || protected != 1 || st.TooLong != 1 || st.Rejected != 1 || !errors.Is(st.Rejects[0], ErrLineTooLong) || st.Rejects[0].Line != 2001 {
		t.Fatalf("%d entries, %d protected, stats %+v", n, protected, st)
	}
}

// TestParseCallbackError: fn's error ends the parse and is returned.
func TestParseCallbackError(t *testing.T) {
	stop := errors.New("stop")
	_, err := Parse(strings.NewReader(companyProtected+"\n"+companyUnprotected+"\n"), Options{}, func(*Entry) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v", err)
	}
}

// TestParseRejectsCarryNoContent: no reject reason quotes the file.
func TestParseRejectsCarryNoContent(t *testing.T) {
	data := "cvr;reklamebeskyttet\n10000009;ja\n99999999;ja\n12345674;hemmelig\n"
	_, st, err := collect(t, data, Options{MaxRejectRatio: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range st.Rejects {
		if s := r.Error(); strings.Contains(s, "99999999") || strings.Contains(s, "hemmelig") {
			t.Errorf("reject quotes the file: %q", s)
		}
	}
	if st.Rejected != 2 {
		t.Fatalf("rejected %d", st.Rejected)
	}
}
