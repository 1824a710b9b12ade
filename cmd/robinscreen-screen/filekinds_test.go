package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/robinscreen/robinscreen/internal/calllist"
)

// Call lists written the way Danish office programs write them. With
// --channel post on the demo dataset, Søren Testesen (Fiktivvej 12, 2. tv,
// 2100) and Anna Bolette Demosen (Prøvestien 4, 8000) are on the Robinson
// list; Ole Nysen (Nyvej 5, 2100) is not.

// encodeText writes s in an encoding, with a byte order mark when bom.
func encodeText(t testing.TB, s string, e encoding.Encoding, bom []byte) []byte {
	t.Helper()
	b := []byte(s)
	if e != nil {
		var err error
		if b, err = e.NewEncoder().Bytes(b); err != nil {
			t.Fatal(err)
		}
	}
	return append(append([]byte(nil), bom...), b...)
}

var (
	cp1252 = charmap.Windows1252
	utf16L = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	utf16B = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	bomU8  = []byte{0xEF, 0xBB, 0xBF}
	bomLE  = []byte{0xFF, 0xFE}
	bomBE  = []byte{0xFE, 0xFF}
)

// fillerRows are n plain-ASCII rows of people not on any list.
func fillerRows(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "Kunde%06d;Nyvej %d;2100\r\n", i, i%90+10)
	}
	return b.String()
}

// xlsxSheet is one worksheet of a generated workbook: rows of cells, where
// a string starting with "=" is written as a formula without a saved value
// (as programs other than Excel and LibreOffice write them).
type xlsxSheet struct {
	name   string
	rows   [][]string
	merges [][2]string // ranges of merged cells, e.g. {"B2", "B3"}
}

func writeWorkbook(t testing.TB, path string, active int, sheets ...xlsxSheet) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, sh := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", sh.name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(sh.name); err != nil {
			t.Fatal(err)
		}
		for r, row := range sh.rows {
			for c, v := range row {
				if v == "" {
					continue
				}
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				var err error
				if strings.HasPrefix(v, "=") {
					err = f.SetCellFormula(sh.name, cell, v[1:])
				} else {
					err = f.SetCellStr(sh.name, cell, v)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, sh := range sheets {
		for _, m := range sh.merges {
			if err := f.MergeCell(sh.name, m[0], m[1]); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.SetActiveSheet(active)
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

// fileKind is one call list and what screening it must give.
type fileKind struct {
	name  string
	file  string                              // file name (its extension picks the format)
	make  func(t testing.TB, path string)     // writes the input
	args  []string                            // beyond --addr, --progress never, --channel post
	exit  int                                 // wanted exit status
	rows  []string                            // "first column:decision:reasons" per output row after the header
	expl  map[int]string                      // output row (1-based after the header) -> text its explanation holds
	check func(t testing.TB, rows [][]string) // further checks on the output rows (header first)
	// stderr holds texts the tool's messages must contain.
	stderr []string
	// noOutput: the run must leave no file under the output's name.
	noOutput bool
}

func write(b []byte) func(testing.TB, string) {
	return func(t testing.TB, p string) {
		t.Helper()
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func fileKinds(t testing.TB) []fileKind {
	const big = 25000 // rows of ~30 bytes: the first MiB is plain ASCII
	return []fileKind{
		{
			name: "excel csv semikolon: windows-1252 whose first MiB is plain ASCII", file: "stor.csv",
			make: write(encodeText(t, "Navn;Adresse;Postnr\r\n"+fillerRows(big)+"Søren Testesen;Fiktivvej 12, 2. tv;2100\r\n", cp1252, nil)),
			check: func(t testing.TB, rows [][]string) {
				if len(rows) != big+2 {
					t.Fatalf("%d output rows, want %d", len(rows), big+2)
				}
				last := rows[len(rows)-1]
				if last[0] != "Søren Testesen" || last[3] != "BLOCK" {
					t.Errorf("last row %q, want Søren Testesen BLOCK", last)
				}
			},
			stderr: []string{"windows-1252"},
		},
		{
			name: "sep line and blank rows (excel csv semikolon)", file: "sep.csv",
			make: write(encodeText(t, "sep=;\r\nNavn;Adresse;Postnr;Bemærkning\r\nSøren Testesen;Fiktivvej 12, 2. tv;2100;ring, igen\r\n;;;\r\n\r\nOle Nysen;Nyvej 5;2100;\r\n", cp1252, nil)),
			rows: []string{"Søren Testesen:BLOCK:ROBINSON_LIST", "::", "::", "Ole Nysen:ALLOW:"},
			expl: map[int]string{2: "blank row", 3: "blank row"},
			check: func(t testing.TB, rows [][]string) {
				if len(rows[0]) != 7 {
					t.Errorf("header %q: the sep line was not honoured", rows[0])
				}
			},
		},
		{
			name: "a blank line before the header, lf endings", file: "forrest.csv",
			make: write([]byte("\nnavn;adresse;postnr\nSøren Testesen;Fiktivvej 12, 2. tv;2100\n\nOle Nysen;Nyvej 5;2100\n")),
			rows: []string{"Søren Testesen:BLOCK:ROBINSON_LIST", "::", "Ole Nysen:ALLOW:"},
		},
		{
			name: "excel unicode text: utf-16le with bom, tabs", file: "unicode.txt",
			make: write(encodeText(t, "Navn\tAdresse\tPostnr\tBy\r\nAnna Bolette Demosen\tPrøvestien 4\t8000\tAarhus C\r\nOle Nysen\tNyvej 5\t2100\tKøbenhavn Ø\r\n", utf16L, bomLE)),
			args: []string{"--input-format", "csv"},
			rows: []string{"Anna Bolette Demosen:BLOCK:ROBINSON_LIST", "Ole Nysen:ALLOW:"},
		},
		{
			name: "utf-16le without bom", file: "u16le.csv",
			make: write(encodeText(t, "Navn;Adresse;Postnr\r\nSøren Testesen;Fiktivvej 12, 2. tv;2100\r\n", utf16L, nil)),
			rows: []string{"Søren Testesen:BLOCK:ROBINSON_LIST"},
		},
		{
			name: "utf-16be with and without bom", file: "u16be.csv",
			make: write(encodeText(t, "Navn;Adresse;Postnr\nSøren Testesen;Fiktivvej 12, 2. tv;2100\n", utf16B, bomBE)),
			rows: []string{"Søren Testesen:BLOCK:ROBINSON_LIST"},
		},
		{
			name: "utf-8 bom, quoted fields with newlines, crlf", file: "utf8.csv",
			make: write(encodeText(t, "Navn,Adresse,Postnr,Note\r\n\"Demosen, Anna Bolette\",Prøvestien 4,8000,\"to\r\nlinjer\"\r\nOle Nysen,\"Nyvej 5\",2100,\"sagde \"\"nej\"\"\"\r\n", nil, bomU8)),
			rows: []string{"Demosen, Anna Bolette:BLOCK:ROBINSON_LIST", "Ole Nysen:ALLOW:"},
		},
		{
			name: "a broken line stays in place as ERROR", file: "brudt.csv",
			make: write([]byte("navn;adresse;postnr\nSøren Testesen;Fiktivvej 12, 2. tv;2100\nKaren Ukendtsen;\"Nyvej 3;2100\nOle Nysen;Nyvej 5;2100\n")),
			exit: 1,
			rows: []string{"Søren Testesen:BLOCK:ROBINSON_LIST", "Karen Ukendtsen:ERROR:", "Ole Nysen:ALLOW:"},
			expl: map[int]string{2: "quoted field not closed"},
		},
		{
			name: "under consent the Robinson finding is listed too", file: "samtykke.csv",
			make: write([]byte("navn;adresse;postnr;samtykke\nSøren Testesen;Fiktivvej 12, 2. tv;2100;ja\n")),
			rows: []string{"Søren Testesen:ALLOW:CONSENT"},
			expl: map[int]string{1: "[alone: BLOCK] on the Robinson list"},
		},
		{
			name: "no column identifies a person", file: "telefon.csv",
			make:   write([]byte("telefon;samtykke\n11223344;nej\n22334455;ja\n")),
			exit:   1,
			rows:   []string{"11223344:REVIEW:UNVERIFIABLE", "22334455:ALLOW:CONSENT"},
			stderr: []string{"warning: no column can identify a person"},
		},
		{
			name: "mixed encodings refused before any row", file: "blandet.csv",
			make:     write(append([]byte("navn;adresse;postnr\nSøren Testesen;Fiktivvej 12, 2. tv;2100\n"), encodeText(t, "Ole Nysen;Nyvej 5;2100\nÅse;Åvej 1;2100\n", cp1252, nil)...)),
			exit:     2,
			stderr:   []string{"line 2 is UTF-8 but line 4 is not"},
			noOutput: true,
		},
		{
			name: "xlsx: a formula without a saved value is never read as empty", file: "formler.xlsx",
			make: func(t testing.TB, p string) {
				writeWorkbook(t, p, 0, xlsxSheet{name: "Kunder", rows: [][]string{
					{"Fornavn", "Efternavn", "Adresse", "Postnr", "Note"},
					{`="Anna Bolette"`, "Demosen", "Prøvestien 4", "8000", ""},
					{},
					{"Ole", "Nysen", "Nyvej 5", "2100", `=1+1`},
					{"Søren", "Testesen", "Fiktivvej 12, 2. tv", "2100", ""},
				}}, xlsxSheet{name: "Noter", rows: [][]string{{"ikke en kontakt"}}})
			},
			exit:   1,
			rows:   []string{":ERROR:", "::", "Ole:ALLOW:", "Søren:BLOCK:ROBINSON_LIST"},
			expl:   map[int]string{1: "first_name (column 1) is a formula without a saved value"},
			stderr: []string{`worksheet "Kunder"; not read: "Noter" (holds data)`, "1 cell in columns that are not screened could not be read"},
		},
		{
			name: "xlsx: a surname merged over two rows is not read as empty on the second", file: "flettet.xlsx",
			make: func(t testing.TB, p string) {
				writeWorkbook(t, p, 0, xlsxSheet{name: "Ark1", rows: [][]string{
					{"Fornavn", "Efternavn", "Adresse", "Postnr"},
					{"Anna Bolette", "Demosen", "Prøvestien 4", "8000"},
					{"Anna Bolette", "", "Prøvestien 4", "8000"},
					{"Ole", "Nysen", "Nyvej 5", "2100"},
				}, merges: [][2]string{{"B2", "B3"}}})
			},
			exit: 1,
			rows: []string{"Anna Bolette:BLOCK:ROBINSON_LIST", "Anna Bolette:ERROR:", "Ole:ALLOW:"},
			expl: map[int]string{2: "last_name (column 2) is part of merged cells whose value is in B2"},
		},
		{
			name: "xlsx: --sheet picks the sheet, the others are named", file: "ark.xlsx",
			make: func(t testing.TB, p string) {
				writeWorkbook(t, p, 0,
					xlsxSheet{name: "Forside", rows: [][]string{{"Kampagne forår"}}},
					xlsxSheet{name: "Liste", rows: [][]string{{"Navn", "Adresse", "Postnr"}, {"Søren Testesen", "Fiktivvej 12, 2. tv", "2100"}}},
					xlsxSheet{name: "Gammel liste", rows: [][]string{{"Navn"}, {"Ole Nysen"}, {"Bo Ukendt"}}},
					xlsxSheet{name: "Tom"})
			},
			args:   []string{"--sheet", "Liste"},
			rows:   []string{"Søren Testesen:BLOCK:ROBINSON_LIST"},
			stderr: []string{`worksheet: "Liste"; not read: "Forside" (holds data), "Gammel liste" (holds data), "Tom" (empty) (choose with --sheet)`},
		},
		{
			name: "xlsx: an unknown --sheet is refused naming the sheets", file: "ark2.xlsx",
			make: func(t testing.TB, p string) {
				writeWorkbook(t, p, 0, xlsxSheet{name: "Liste", rows: [][]string{{"Navn"}, {"Ole Nysen"}}})
			},
			args:     []string{"--sheet", "Ark9"},
			exit:     2,
			stderr:   []string{`no worksheet "Ark9"`, `"Liste"`},
			noOutput: true,
		},
		{
			name: "a server that cannot be reached leaves no output", file: "ingen.csv",
			make:     write([]byte("navn;adresse;postnr\nOle Nysen;Nyvej 5;2100\n")),
			args:     []string{"--addr", "127.0.0.1:1", "--retries", "1"},
			exit:     2,
			stderr:   []string{"no output written"},
			noOutput: true,
		},
	}
}

// runner runs the tool on args and returns its exit status and stderr.
type runner func(t *testing.T, dir string, args []string) (int, string)

// checkFileKinds runs every file kind through run and checks the output.
func checkFileKinds(t *testing.T, addr string, run runner) {
	for _, fk := range fileKinds(t) {
		t.Run(fk.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, fk.file)
			fk.make(t, in)
			args := append([]string{"--addr", addr, "--progress", "never", "--channel", "post"}, fk.args...)
			code, stderr := run(t, dir, append(args, fk.file))
			t.Logf("stderr:\n%s", stderr)
			if code != fk.exit {
				t.Fatalf("exit %d, want %d", code, fk.exit)
			}
			for _, s := range fk.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q", s)
				}
			}
			out := strings.TrimSuffix(in, filepath.Ext(in)) + ".screened" + filepath.Ext(in)
			for i, a := range fk.args {
				if a == "-o" {
					out = filepath.Join(dir, fk.args[i+1])
				}
			}
			// Whatever happened, no temporary file is left behind.
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.HasSuffix(e.Name(), ".partial") {
					t.Errorf("temporary file %s left behind", e.Name())
				}
			}
			if fk.noOutput {
				if _, err := os.Stat(out); err == nil {
					t.Fatalf("%s exists after a failed run", filepath.Base(out))
				}
				return
			}
			rows := readOutput(t, out)
			if fk.rows != nil {
				n := len(rows[0])
				var got []string
				for _, r := range rows[1:] {
					if len(r) != n {
						t.Errorf("row %q has %d columns, header %d", r, len(r), n)
						continue
					}
					got = append(got, r[0]+":"+r[n-3]+":"+r[n-2])
				}
				if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", fk.rows) {
					t.Errorf("rows %q\nwant %q", got, fk.rows)
				}
			}
			for i, want := range fk.expl {
				if i >= len(rows) || !strings.Contains(rows[i][len(rows[i])-1], want) {
					t.Errorf("row %d explanation does not say %q: %q", i, want, rows[min(i, len(rows)-1)])
				}
			}
			if fk.check != nil {
				fk.check(t, rows)
			}
			if filepath.Ext(out) != ".xlsx" {
				// Output row N is input row N: the same lines start the
				// header and every row, blank and broken ones included.
				if got, want := lineStarts(t, out), lineStarts(t, in); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("output rows start on lines %v\ninput rows start on lines  %v", got, want)
				}
			}
		})
	}
}

// TestFileKinds screens each kind of call list in-process.
func TestFileKinds(t *testing.T) {
	addr := startDemo(t)
	checkFileKinds(t, addr, func(t *testing.T, dir string, args []string) (int, string) {
		var stderr bytes.Buffer
		t.Chdir(dir)
		code := run(context.Background(), args, &stderr)
		return code, stderr.String()
	})
}

// lineStarts reads a CSV file and returns the line the header starts on,
// then the line every row after it starts on (broken lines included).
func lineStarts(t testing.TB, path string) []int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := calllist.OpenCSV(f, calllist.EncodingAuto, 0)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	starts := []int{r.HeaderLine()}
	for {
		rec, rerr, err := r.Read()
		if errors.Is(err, io.EOF) {
			return starts
		}
		if err != nil {
			t.Fatal(err)
		}
		if rerr != nil {
			starts = append(starts, rerr.Line)
			continue
		}
		starts = append(starts, rec.Line)
	}
}

// TestFailedRunLeavesEarlierOutput: a run that fails neither replaces nor
// truncates an output left by an earlier run, and says the file there is
// not its own.
func TestFailedRunLeavesEarlierOutput(t *testing.T) {
	tests := []struct {
		name    string
		earlier bool
		want    string
	}{
		{"no earlier output", false, "no output written to liste.screened.csv\n"},
		{"an earlier output", true, "no output written to liste.screened.csv (the file there is from an earlier run)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			if err := os.WriteFile("liste.csv", []byte("navn;adresse;postnr\nOle Nysen;Nyvej 5;2100\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if tc.earlier {
				if err := os.WriteFile("liste.screened.csv", []byte("earlier run\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var stderr bytes.Buffer
			code := run(context.Background(), []string{"--addr", "127.0.0.1:1", "--retries", "1", "--progress", "never", "--channel", "post", "liste.csv"}, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit %d, want 2 with %q; stderr:\n%s", code, tc.want, stderr.String())
			}
			b, err := os.ReadFile("liste.screened.csv")
			switch {
			case tc.earlier && string(b) != "earlier run\n":
				t.Errorf("earlier output now %q (%v)", b, err)
			case !tc.earlier && err == nil:
				t.Errorf("a failed run left liste.screened.csv")
			}
		})
	}
}
