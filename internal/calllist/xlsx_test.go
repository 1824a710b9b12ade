package calllist

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// rawWorkbook writes a workbook whose sheets hold exactly the given
// <sheetData> XML: cells as other programs write them (formulas with and
// without saved values, error values, rows without numbers), which
// excelize's own writer does not produce.
// after is XML placed after </sheetData> (merged cells).
func rawWorkbook(t *testing.T, path string, sheets []string, data map[string]string, after string) {
	t.Helper()
	f := excelize.NewFile()
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(s); err != nil {
			t.Fatal(err)
		}
	}
	tmp := path + ".tmp.xlsx"
	if err := f.SaveAs(tmp); err != nil {
		t.Fatal(err)
	}
	f.Close()
	zr, err := zip.OpenReader(tmp)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	parts := map[string]string{}
	for s, d := range data {
		p, err := sheetPart(&zr.Reader, s)
		if err != nil {
			t.Fatal(err)
		}
		parts[p] = d
	}
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	zw := zip.NewWriter(out)
	sheetData := regexp.MustCompile(`(?s)<sheetData\s*/>|<sheetData>.*</sheetData>`)
	for _, e := range zr.File {
		rc, err := e.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if d, ok := parts[e.Name]; ok {
			b = sheetData.ReplaceAll(b, []byte("<sheetData>"+d+"</sheetData>"+after))
			b = regexp.MustCompile(`<dimension ref="[^"]*"\s*/?>(</dimension>)?`).ReplaceAll(b, nil)
		}
		w, err := zw.Create(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

func inl(ref, s string) string {
	return fmt.Sprintf(`<c r="%s" t="inlineStr"><is><t>%s</t></is></c>`, ref, s)
}

func TestXLSXReader(t *testing.T) {
	hdr := `<row r="1">` + inl("A1", "Navn") + inl("B1", "Postnr") + `</row>`
	tests := []struct {
		name      string
		sheets    []string
		data      string // sheetData of the first sheet
		after     string // XML after it (merged cells)
		sheet     string // --sheet
		wantRows  []string
		wantOther []string
		wantErr   string
	}{
		{
			name:     "formula with a saved value is read",
			data:     hdr + `<row r="2"><c r="A2" t="str"><f>"Søren"&amp;" Testesen"</f><v>Søren Testesen</v></c><c r="B2"><v>2100</v></c></row>`,
			wantRows: []string{"2:Søren Testesen|2100"},
		},
		{
			name:     "formula without a saved value is unread, never empty",
			data:     hdr + `<row r="2"><c r="A2"><f>"Anna Bolette"</f></c><c r="B2"><v>8000</v></c></row>`,
			wantRows: []string{`2:|8000 unread 1 [="Anna Bolette": a formula without a saved value]`},
		},
		{
			name:     "formula with an empty saved value is unread",
			data:     hdr + `<row r="2"><c r="A2" t="str"><f>A9</f><v></v></c><c r="B2"><v>8000</v></c></row>`,
			wantRows: []string{`2:|8000 unread 1 [=A9: a formula without a saved value]`},
		},
		{
			name:     "error value is unread",
			data:     hdr + `<row r="2"><c r="A2" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="B2"><v>8000</v></c></row>`,
			wantRows: []string{`2:#DIV/0!|8000 unread 1 [=1/0: an error value]`},
		},
		{
			name:     "shared formula without values",
			data:     hdr + `<row r="2"><c r="A2"><f t="shared" ref="A2:A3" si="0">C2</f></c></row><row r="3"><c r="A3"><f t="shared" si="0"/></c><c r="B3"><v>1</v></c></row>`,
			wantRows: []string{`2:| unread 1 [=C2: a formula without a saved value]`, `3:|1 unread 1 [=: a formula without a saved value]`},
		},
		{
			name:     "rows and cells without numbers, a gap and a blank row kept",
			data:     `<row r="2">` + inl("A2", "Navn") + inl("B2", "Postnr") + `</row><row r="4"><c t="inlineStr"><is><t>Ole</t></is></c><c><f>1+1</f></c></row><row><c><v>5</v></c></row><row r="6"><c r="B6" t="inlineStr"><is><t> </t></is></c></row><row r="7"><c r="B7"><v>7</v></c></row>`,
			wantRows: []string{"3:(blank)", `4:Ole| unread 2 [=1+1: a formula without a saved value]`, "5:5|", "6:(blank)", "7:|7"},
		},
		{
			name:      "--sheet reads another sheet and names the rest",
			sheets:    []string{"Forside", "Liste", "Noter"},
			sheet:     "Liste",
			data:      `<row r="1">` + inl("A1", "ignored") + `</row>`,
			wantRows:  []string{},
			wantOther: []string{"Forside", "Noter"},
		},
		{
			name: "merged cells: only the top-left one holds the value",
			data: `<row r="1">` + inl("A1", "Fornavn") + inl("B1", "Efternavn") + inl("C1", "Note") + `</row>` +
				`<row r="2">` + inl("A2", "Anna") + inl("B2", "Demosen") + `</row><row r="3">` + inl("A3", "Jens") + `</row>` +
				`<row r="4">` + inl("A4", "Ole") + inl("B4", "Nysen") + `</row><row r="5"/><row r="6">` + inl("A6", "Bo") + inl("B6", "Ukendt") + `</row>`,
			after: `<mergeCells count="3"><mergeCell ref="B2:B3"/><mergeCell ref="A5:C5"/><mergeCell ref="C1:D1"/></mergeCells>`,
			// The merged header C1:D1 gives an unnamed fourth column.
			wantRows: []string{"2:Anna|Demosen||", "3:Jens||| unread 2 [=: part of merged cells whose value is in B2]", "4:Ole|Nysen||", "5:(blank)", "6:Bo|Ukendt||"},
		},
		{
			name:    "a header cell that cannot be read is refused",
			data:    `<row r="1"><c r="A1"><f>"Navn"</f></c></row>`,
			wantErr: "row 1 (the header): column 1 is a formula without a saved value",
		},
		{
			name:    "unknown sheet",
			sheet:   "Ark9",
			data:    hdr,
			wantErr: `no worksheet "Ark9" (--sheet; the workbook has ["Ark1"])`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sheets := tc.sheets
			if sheets == nil {
				sheets = []string{"Ark1"}
			}
			data := map[string]string{sheets[0]: tc.data}
			if tc.sheet == "Liste" {
				data["Liste"] = `<row r="1">` + inl("A1", "Navn") + `</row>`
			}
			p := filepath.Join(t.TempDir(), "liste.xlsx")
			rawWorkbook(t, p, sheets, data, tc.after)
			x, err := OpenXLSX(p, tc.sheet)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer x.Close()
			rows := []string{}
			for {
				rec, _, err := x.Read()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if rec.Blank {
					rows = append(rows, fmt.Sprintf("%d:(blank)", rec.Line))
					continue
				}
				s := fmt.Sprintf("%d:%s", rec.Line, strings.Join(rec.Fields, "|"))
				for _, u := range rec.Unread {
					why, _, _ := strings.Cut(u.Why, " (")
					s += fmt.Sprintf(" unread %d [=%s: %s]", u.Col+1, u.Formula, why)
				}
				rows = append(rows, s)
			}
			if fmt.Sprintf("%q", rows) != fmt.Sprintf("%q", tc.wantRows) {
				t.Errorf("rows %q\nwant %q", rows, tc.wantRows)
			}
			if tc.wantOther != nil && fmt.Sprint(x.OtherSheets) != fmt.Sprint(tc.wantOther) {
				t.Errorf("other sheets %q, want %q", x.OtherSheets, tc.wantOther)
			}
		})
	}
}

// BenchmarkXLSXReader reads a 20,000-row worksheet through XLSXReader
// (excelize's rows, plus the passes that find formulas without a value,
// error values and merged cells) and, for comparison, through excelize's
// row iterator alone.
func BenchmarkXLSXReader(b *testing.B) {
	const n = 20000
	p := filepath.Join(b.TempDir(), "liste.xlsx")
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	for r := 1; r <= n; r++ {
		cell, _ := excelize.CoordinatesToCellName(1, r)
		row := []any{"Navn", "Adresse", "Postnr", "By", "Telefon", "Samtykke"}
		if r > 1 {
			row = []any{fmt.Sprintf("Kunde %d", r), fmt.Sprintf("Nyvej %d", r%90+1), 2100, "København Ø", 11223344 + r, "nej"}
		}
		if err := sw.SetRow(cell, row); err != nil {
			b.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.SaveAs(p); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.Run("XLSXReader", func(b *testing.B) {
		for b.Loop() {
			x, err := OpenXLSX(p, "")
			if err != nil {
				b.Fatal(err)
			}
			rows := 1
			for {
				if _, _, err := x.Read(); err != nil {
					if !errors.Is(err, io.EOF) {
						b.Fatal(err)
					}
					break
				}
				rows++
			}
			x.Close()
			if rows != n {
				b.Fatalf("%d rows, want %d", rows, n)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("excelize-rows-only", func(b *testing.B) {
		for b.Loop() {
			f, err := excelize.OpenFile(p)
			if err != nil {
				b.Fatal(err)
			}
			rows, err := f.Rows("Sheet1")
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
				if _, err := rows.Columns(); err != nil {
					b.Fatal(err)
				}
			}
			rows.Close()
			f.Close()
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
