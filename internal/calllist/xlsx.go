package calllist

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/xuri/excelize/v2"
)

// XLSXReader reads the rows of one worksheet, streaming.
type XLSXReader struct {
	f      *excelize.File
	rows   *excelize.Rows
	header []string
	row    int
	// Sheet is the worksheet read.
	Sheet string
	// TotalRows is the worksheet's row count from its dimension (0 when
	// unknown).
	TotalRows int
	// Blank counts blank rows skipped.
	Blank int
}

// OpenXLSX opens the workbook at path and reads the header (the first
// non-blank row) of sheet, or of the first worksheet when sheet is "". It
// returns an error for unreadable workbooks, unknown sheets and empty ones.
func OpenXLSX(path, sheet string) (*XLSXReader, error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return nil, err
	}
	if sheet == "" {
		sheet = f.GetSheetName(f.GetActiveSheetIndex())
		if sheet == "" {
			sheet = f.GetSheetList()[0]
		}
	}
	if idx, err := f.GetSheetIndex(sheet); err != nil || idx < 0 {
		f.Close()
		return nil, fmt.Errorf("no worksheet %q (have %q)", sheet, f.GetSheetList())
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		f.Close()
		return nil, err
	}
	x := &XLSXReader{f: f, rows: rows, Sheet: sheet}
	if dim, err := f.GetSheetDimension(sheet); err == nil {
		if _, to, ok := strings.Cut(dim, ":"); ok {
			if _, r, err := excelize.CellNameToCoordinates(to); err == nil {
				x.TotalRows = r
			}
		}
	}
	rec, err := x.next()
	if errors.Is(err, io.EOF) {
		x.Close()
		return nil, fmt.Errorf("worksheet %q is empty: no header row", sheet)
	}
	if err != nil {
		x.Close()
		return nil, err
	}
	x.header = rec.Fields
	return x, nil
}

func (x *XLSXReader) next() (Record, error) {
	for x.rows.Next() {
		x.row++
		cols, err := x.rows.Columns()
		if err != nil {
			return Record{}, fmt.Errorf("row %d: %w", x.row, err)
		}
		blank := true
		for _, c := range cols {
			if strings.TrimSpace(c) != "" {
				blank = false
				break
			}
		}
		if blank {
			if x.header != nil {
				x.Blank++
			}
			continue
		}
		return Record{Line: x.row, Fields: cols}, nil
	}
	if err := x.rows.Error(); err != nil {
		return Record{}, err
	}
	return Record{}, io.EOF
}

// Header returns the header row.
func (x *XLSXReader) Header() []string { return x.header }

// Read returns the next non-blank row padded to the header's width, or
// io.EOF. Blank rows are skipped and counted in Blank. (Cells are read as
// formatted text, so a row is always readable; the *RowError result is for
// symmetry with CSVReader and always nil.)
func (x *XLSXReader) Read() (Record, *RowError, error) {
	rec, err := x.next()
	if err != nil {
		return Record{}, nil, err
	}
	for len(rec.Fields) < len(x.header) {
		rec.Fields = append(rec.Fields, "")
	}
	return rec, nil, nil
}

// Close releases the workbook.
func (x *XLSXReader) Close() error {
	x.rows.Close()
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
func (w *XLSXWriter) Write(fields []string) error {
	w.row++
	cell, err := excelize.CoordinatesToCellName(1, w.row)
	if err != nil {
		return err
	}
	vals := make([]any, len(fields))
	for i, f := range fields {
		vals[i] = f
	}
	return w.sw.SetRow(cell, vals)
}

// Close flushes the rows and saves the workbook.
func (w *XLSXWriter) Close() error {
	if err := w.sw.Flush(); err != nil {
		return err
	}
	// Not f.SaveAs: it creates the file with mode 0777 (less the umask).
	// Setting Path keeps SaveAs's check of the file name's extension.
	w.f.Path = w.path
	out, err := CreatePrivate(w.path)
	if err != nil {
		return err
	}
	if err := w.f.Write(out); err != nil {
		out.Close()
		os.Remove(w.path) // truncated, or an unsupported extension
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return w.f.Close()
}
