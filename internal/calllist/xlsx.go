package calllist

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// maxDimensionWidth bounds how far a sheet's dimension may widen the
// header: a dimension of A1:XFD1 (the whole width) is sometimes written.
const maxDimensionWidth = 256

// XLSXReader reads the rows of one worksheet, streaming.
type XLSXReader struct {
	f          *excelize.File
	rows       *excelize.Rows
	cells      *cellScanner
	merges     mergeTracker
	header     []string
	headerLine int
	row        int
	width      int // columns in the sheet's dimension
	// Sheet is the worksheet read.
	Sheet string
	// OtherSheets are the workbook's other sheets, which are not read.
	OtherSheets []string
	// OtherHasData tells, in the same order, whether each holds a cell
	// with a value or a formula.
	OtherHasData []bool
	// TotalRows is the worksheet's row count from its dimension (0 when
	// unknown).
	TotalRows int
	// Blank counts the blank rows read after the header.
	Blank int
}

// OpenXLSX opens the workbook at path and reads the header (the first
// non-blank row) of sheet, or of the active worksheet when sheet is "". It
// returns an error for unreadable workbooks, unknown sheets (naming the
// sheets there are), empty sheets, and a header with a cell that cannot be
// read.
func OpenXLSX(path, sheet string) (*XLSXReader, error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return nil, err
	}
	list := f.GetSheetList()
	if sheet == "" {
		sheet = f.GetSheetName(f.GetActiveSheetIndex())
		if sheet == "" && len(list) > 0 {
			sheet = list[0]
		}
	}
	if idx, err := f.GetSheetIndex(sheet); err != nil || idx < 0 {
		f.Close()
		return nil, fmt.Errorf("no worksheet %q (--sheet; the workbook has %q)", sheet, list)
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		f.Close()
		return nil, err
	}
	cells, err := openCellScanner(path, sheet)
	if err != nil {
		rows.Close()
		f.Close()
		return nil, fmt.Errorf("worksheet %q: cannot check its cells for formulas: %w", sheet, err)
	}
	merges, err := mergedRanges(path, sheet)
	if err != nil {
		cells.Close()
		rows.Close()
		f.Close()
		return nil, fmt.Errorf("worksheet %q: cannot read its merged cells: %w", sheet, err)
	}
	x := &XLSXReader{f: f, rows: rows, cells: cells, merges: mergeTracker{ranges: merges}, Sheet: sheet}
	for _, s := range list {
		if s != sheet {
			x.OtherSheets = append(x.OtherSheets, s)
			x.OtherHasData = append(x.OtherHasData, sheetHasData(path, s))
		}
	}
	if dim, err := f.GetSheetDimension(sheet); err == nil {
		if _, to, ok := strings.Cut(dim, ":"); ok {
			if c, r, err := excelize.CellNameToCoordinates(to); err == nil {
				x.TotalRows, x.width = r, min(c, maxDimensionWidth)
			}
		}
	}
	for {
		rec, err := x.next()
		if errors.Is(err, io.EOF) {
			x.Close()
			return nil, fmt.Errorf("worksheet %q is empty: no header row", sheet)
		}
		if err != nil {
			x.Close()
			return nil, err
		}
		if rec.Blank {
			continue
		}
		for _, u := range rec.Unread {
			if !u.Merged { // a header cell under a merge is an unnamed column
				x.Close()
				return nil, fmt.Errorf("worksheet %q, row %d (the header): column %d is %s", sheet, rec.Line, u.Col+1, u.Why)
			}
		}
		x.header = rec.Fields
		// Cells right of the header's last named column still belong to
		// the row: widen the header (with unnamed columns) to the sheet's
		// dimension so that they keep their place in the output.
		for len(x.header) < x.width {
			x.header = append(x.header, "")
		}
		x.headerLine = rec.Line
		return x, nil
	}
}

func (x *XLSXReader) next() (Record, error) {
	if !x.rows.Next() {
		if err := x.rows.Error(); err != nil {
			return Record{}, err
		}
		return Record{}, io.EOF
	}
	x.row++
	cols, err := x.rows.Columns()
	if err != nil {
		return Record{}, fmt.Errorf("row %d: %w", x.row, err)
	}
	unread, err := x.cells.unread(x.row)
	if err != nil {
		return Record{}, fmt.Errorf("row %d: %w", x.row, err)
	}
	// A cell covered by a merged range reads empty; it is unread only
	// when it is: a value there (which Excel hides) is the row's own.
	for _, u := range x.merges.covered(x.row) {
		if u.Col >= len(cols) || strings.TrimSpace(cols[u.Col]) == "" {
			unread = append(unread, u)
		}
	}
	for _, u := range unread {
		for len(cols) <= u.Col {
			cols = append(cols, "")
		}
	}
	rec := Record{Line: x.row, End: x.row, Fields: cols, Unread: unread}
	// A row that is empty but for merged cells reaching into it is blank
	// (a merged title, say); a formula or an error value is not.
	rec.Blank = allBlank(cols)
	for _, u := range unread {
		if !u.Merged {
			rec.Blank = false
		}
	}
	if rec.Blank {
		rec.Unread = nil
	}
	return rec, nil
}

// Header returns the header row.
func (x *XLSXReader) Header() []string { return x.header }

// HeaderLine is the 1-based row of the header.
func (x *XLSXReader) HeaderLine() int { return x.headerLine }

// Read returns the next row (blank ones included, with Blank set) padded to
// the header's width, or io.EOF. A row with cells that cannot be read has
// them in Unread. (The *RowError result is for symmetry with CSVReader and
// always nil: every worksheet row can be split into cells.) It returns
// errors reading the workbook.
func (x *XLSXReader) Read() (Record, *RowError, error) {
	rec, err := x.next()
	if err != nil {
		return Record{}, nil, err
	}
	if rec.Blank {
		x.Blank++
	}
	for len(rec.Fields) < len(x.header) {
		rec.Fields = append(rec.Fields, "")
	}
	return rec, nil, nil
}

// Close releases the workbook.
func (x *XLSXReader) Close() error {
	x.rows.Close()
	x.cells.Close()
	return x.f.Close()
}

// XLSXWriter writes rows to a new workbook with a stream writer (rows are
// flushed to a temporary file, not held in memory).
type XLSXWriter struct {
	f    *excelize.File
	sw   *excelize.StreamWriter
	path string
	row  int
}

// NewXLSXWriter starts a workbook that Close saves to path (mode
// OutputPerm), with one worksheet named sheet.
func NewXLSXWriter(path, sheet string) (*XLSXWriter, error) {
	f := excelize.NewFile()
	if sheet == "" {
		sheet = "Sheet1"
	}
	if sheet != "Sheet1" {
		if err := f.SetSheetName("Sheet1", sheet); err != nil {
			return nil, err
		}
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	return &XLSXWriter{f: f, sw: sw, path: path}, nil
}

// Write appends a row of text cells. It returns an error past Excel's
// 1,048,576 rows.
func (w *XLSXWriter) Write(fields []string) error { return w.WriteCells(fields, nil) }

// WriteCells appends a row of text cells, with formulas (0-based column ->
// formula without "=") written as formulas, so that Excel calculates them
// when it opens the file. It returns an error past Excel's 1,048,576 rows.
func (w *XLSXWriter) WriteCells(fields []string, formulas map[int]string) error {
	w.row++
	cell, err := excelize.CoordinatesToCellName(1, w.row)
	if err != nil {
		return err
	}
	vals := make([]any, len(fields))
	for i, f := range fields {
		if fm, ok := formulas[i]; ok && fm != "" {
			vals[i] = excelize.Cell{Formula: fm}
			continue
		}
		vals[i] = f
	}
	return w.sw.SetRow(cell, vals)
}

// Skip leaves n rows empty (to keep the output's row numbers those of the
// input).
func (w *XLSXWriter) Skip(n int) error {
	w.row += n
	return nil
}

// Close flushes the rows and saves the workbook under a temporary name,
// renamed to the final one only once it is complete (see PendingFile). It
// returns the errors of writing, saving and renaming.
func (w *XLSXWriter) Close() error {
	if err := w.sw.Flush(); err != nil {
		w.f.Close()
		return err
	}
	// Not f.SaveAs: it creates the file with mode 0777 (less the umask).
	// Setting Path keeps SaveAs's check of the file name's extension.
	w.f.Path = w.path
	out, err := CreatePending(w.path)
	if err != nil {
		w.f.Close()
		return err
	}
	if err := w.f.Write(out); err != nil {
		out.Abort() // truncated, or an unsupported extension
		w.f.Close()
		return err
	}
	if err := out.Commit(); err != nil {
		w.f.Close()
		return err
	}
	return w.f.Close()
}

// Abort drops the workbook: nothing is written under its name.
func (w *XLSXWriter) Abort() { w.f.Close() }
