package calllist

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// cellScanner walks a worksheet's XML beside excelize's row iterator and
// finds the cells whose text excelize would give as "" or as an error code
// although they are not empty: formulas without a saved (cached) value,
// which programs other than Excel and LibreOffice write, and error values
// such as #REF!. It streams, so memory does not grow with the sheet.
type cellScanner struct {
	zf  *zip.ReadCloser
	rc  io.ReadCloser
	dec *xml.Decoder
	row int // the row whose start element was read last (0: none yet)
	// pending is a row start element read ahead of the row asked for.
	pending *xml.StartElement
	done    bool
}

// openCellScanner opens the part of the workbook at file that holds sheet.
// It returns an error when the part cannot be found: the caller then
// cannot tell a formula from an empty cell and must refuse the workbook.
func openCellScanner(file, sheet string) (*cellScanner, error) {
	zf, err := zip.OpenReader(file)
	if err != nil {
		return nil, err
	}
	part, err := sheetPart(&zf.Reader, sheet)
	if err != nil {
		zf.Close()
		return nil, err
	}
	for _, f := range zf.File {
		if f.Name == part {
			rc, err := f.Open()
			if err != nil {
				zf.Close()
				return nil, err
			}
			return &cellScanner{zf: zf, rc: rc, dec: xml.NewDecoder(rc)}, nil
		}
	}
	zf.Close()
	return nil, fmt.Errorf("worksheet %q: part %s missing from the workbook", sheet, part)
}

// sheetPart finds the zip entry of a worksheet through xl/workbook.xml and
// its relationships (the same fixed paths excelize reads).
func sheetPart(zr *zip.Reader, sheet string) (string, error) {
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			ID   string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := unmarshalPart(zr, "xl/workbook.xml", &wb); err != nil {
		return "", err
	}
	if err := unmarshalPart(zr, "xl/_rels/workbook.xml.rels", &rels); err != nil {
		return "", err
	}
	for _, s := range wb.Sheets {
		if s.Name != sheet {
			continue
		}
		for _, r := range rels.Rels {
			if r.ID == s.ID {
				if strings.HasPrefix(r.Target, "/") {
					return strings.TrimPrefix(r.Target, "/"), nil
				}
				return path.Join("xl", r.Target), nil
			}
		}
	}
	return "", fmt.Errorf("worksheet %q not found in xl/workbook.xml", sheet)
}

func unmarshalPart(zr *zip.Reader, name string, v any) error {
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
			if err != nil {
				return err
			}
			defer rc.Close()
			return xml.NewDecoder(rc).Decode(v)
		}
	}
	return fmt.Errorf("%s missing from the workbook", name)
}

// unread returns the unreadable cells of row (1-based); rows must be asked
// for in increasing order. It returns XML errors.
func (s *cellScanner) unread(row int) ([]UnreadCell, error) {
	for !s.done {
		var se xml.StartElement
		if s.pending != nil {
			se = *s.pending
			s.pending = nil
		} else {
			tok, err := s.dec.RawToken()
			if errors.Is(err, io.EOF) {
				s.done = true
				break
			}
			if err != nil {
				return nil, err
			}
			t, ok := tok.(xml.StartElement)
			if !ok || t.Name.Local != "row" {
				continue
			}
			se = t.Copy()
		}
		n := s.row + 1
		if v := attr(se, "r"); v != "" {
			var err error
			if n, err = strconv.Atoi(v); err != nil {
				return nil, fmt.Errorf("row attribute %q: %w", v, err)
			}
		}
		if n > row {
			s.pending = &se
			return nil, nil
		}
		s.row = n
		cells, err := s.rowCells()
		if err != nil {
			return nil, err
		}
		if n == row {
			return cells, nil
		}
	}
	return nil, nil
}

// rowCells reads a row element's cells up to its end (raw tokens: no
// reflection, no namespace work, for speed).
func (s *cellScanner) rowCells() ([]UnreadCell, error) {
	var out []UnreadCell
	col := 0
	var (
		inCell, hasF, hasV bool
		in                 string // "f" or "v" while inside one
		typ                string
		f, v               []byte
	)
	for {
		tok, err := s.dec.RawToken()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "c":
				inCell, hasF, hasV, in, f, v = true, false, false, "", f[:0], v[:0]
				typ = attr(t, "t")
				col++
				if ref := attr(t, "r"); ref != "" {
					c, _, err := excelize.CellNameToCoordinates(ref)
					if err != nil {
						return nil, err
					}
					col = c
				}
			case "f":
				hasF, in = inCell, "f"
			case "v":
				hasV, in = inCell, "v"
			default:
				in = ""
			}
		case xml.CharData:
			switch in {
			case "f":
				f = append(f, t...)
			case "v":
				v = append(v, t...)
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "row":
				return out, nil
			case "f", "v":
				in = ""
			case "c":
				inCell = false
				switch {
				case typ == "e":
					out = append(out, UnreadCell{Col: col - 1, Why: "an error value (such as #REF! or #N/A)", Formula: string(f)})
				case hasF && (!hasV || len(v) == 0):
					out = append(out, UnreadCell{Col: col - 1, Why: "a formula without a saved value (open the workbook in Excel or LibreOffice and save it, so that formulas are calculated)", Formula: string(f)})
				}
			}
		}
	}
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (s *cellScanner) Close() error {
	s.rc.Close()
	return s.zf.Close()
}

// sheetHasData tells whether a worksheet holds a cell with a value, an
// inline string or a formula; it stops at the first one. A sheet that
// cannot be read counts as holding data (so that it is pointed out).
func sheetHasData(file, sheet string) bool {
	s, err := openCellScanner(file, sheet)
	if err != nil {
		return true
	}
	defer s.Close()
	inCell := false
	for {
		tok, err := s.dec.RawToken()
		if errors.Is(err, io.EOF) {
			return false
		}
		if err != nil {
			return true
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "c":
				inCell = true
			case "v", "is", "f":
				if inCell {
					return true
				}
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "c":
				inCell = false
			case "sheetData":
				return false
			}
		}
	}
}

// mergeRange is a range of merged cells, 1-based and inclusive.
type mergeRange struct{ c1, r1, c2, r2 int }

// maxMerges bounds how many merged ranges a worksheet may have.
const maxMerges = 100000

// mergedRanges reads the merged ranges of sheet: the <mergeCells> element
// that follows the sheet's rows. The rows are passed over as bytes, looking
// for the end tag of sheetData ("</" cannot occur in text, so only markup
// matches); the rest of the part, small, is searched for mergeCell
// references. Only the top-left cell of a range holds its value; the
// others read as empty. It returns errors reading the workbook, and one for
// more than maxMerges ranges.
func mergedRanges(file, sheet string) ([]mergeRange, error) {
	s, err := openCellScanner(file, sheet)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	rest, err := afterSheetData(s.rc)
	if err != nil {
		return nil, err
	}
	var out []mergeRange
	for _, m := range mergeCellRef.FindAllSubmatch(rest, -1) {
		from, to, _ := strings.Cut(string(m[1]), ":")
		if to == "" {
			to = from
		}
		c1, r1, err1 := excelize.CellNameToCoordinates(from)
		c2, r2, err2 := excelize.CellNameToCoordinates(to)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("merged cells %q: %w", m[1], err)
		}
		if len(out) == maxMerges {
			return nil, fmt.Errorf("more than %d ranges of merged cells", maxMerges)
		}
		out = append(out, mergeRange{min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].r1 < out[j].r1 })
	return out, nil
}

var (
	sheetDataEnd = regexp.MustCompile(`</(?:[A-Za-z_][\w.-]*:)?sheetData\s*>|<(?:[A-Za-z_][\w.-]*:)?sheetData\s*/>`)
	mergeCellRef = regexp.MustCompile(`<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?\bref\s*=\s*["']([^"']*)["']`)
)

// maxTail bounds what follows the rows of a worksheet (merged cells,
// conditional formats, page setup).
const maxTail = 64 << 20

// afterSheetData reads r past the end of its sheetData element (an end
// tag, or an empty element) and returns at most maxTail bytes of what
// follows; nil when there is no sheetData.
func afterSheetData(r io.Reader) ([]byte, error) {
	const chunk = 256 << 10
	buf := make([]byte, 0, chunk+256)
	for {
		n := len(buf)
		buf = buf[:n+chunk]
		k, err := io.ReadFull(r, buf[n:])
		buf = buf[:n+k]
		if bytes.Contains(buf, []byte("sheetData")) {
			if loc := sheetDataEnd.FindIndex(buf); loc != nil {
				rest := append([]byte(nil), buf[loc[1]:]...)
				tail, err := io.ReadAll(io.LimitReader(r, maxTail))
				if err != nil {
					return nil, err
				}
				return append(rest, tail...), nil
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		// Keep a tail long enough to hold an end tag cut in two.
		keep := min(len(buf), 256)
		copy(buf, buf[len(buf)-keep:])
		buf = buf[:keep]
	}
}

// mergeTracker yields, row by row in increasing order, the cells that lie
// in a merged range without being its top-left cell.
type mergeTracker struct {
	ranges []mergeRange // sorted by r1, not yet active
	active []mergeRange
}

func (m *mergeTracker) covered(row int) []UnreadCell {
	for len(m.ranges) > 0 && m.ranges[0].r1 <= row {
		m.active = append(m.active, m.ranges[0])
		m.ranges = m.ranges[1:]
	}
	var out []UnreadCell
	keep := m.active[:0]
	for _, r := range m.active {
		if r.r2 < row {
			continue
		}
		keep = append(keep, r)
		for c := r.c1; c <= r.c2; c++ {
			if c == r.c1 && row == r.r1 {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(r.c1, r.r1)
			out = append(out, UnreadCell{Col: c - 1, Merged: true, Why: fmt.Sprintf("part of merged cells whose value is in %s (unmerge them and fill in the value on every row)", cell)})
		}
	}
	m.active = keep
	return out
}
