package calllist

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// EncodingError is a CSV file whose encoding cannot be decided, or that
// does not read in the encoding asked for. Line is the 1-based line the
// problem was found on (0 when it concerns the whole file). The message
// names lines and bytes, never the text.
type EncodingError struct {
	Line int
	Msg  string
}

func (e *EncodingError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// scan is what one pass over the whole file found.
type scan struct {
	size int64
	// bom is the byte order mark found at the start (EncodingUTF8,
	// EncodingUTF16LE, EncodingUTF16BE) or "".
	bom string
	// zip tells whether the file starts like a zip archive (an XLSX
	// workbook).
	zip bool
	// nulEven and nulOdd count NUL bytes at even and odd offsets after the
	// byte order mark.
	nulEven, nulOdd int64
	// firstNUL is the line of the first NUL byte (0: none).
	firstNUL int
	// nulUnits counts two NUL bytes at an even offset: read as UTF-16,
	// the character U+0000, which no text file holds.
	nulUnits int64
	// firstInvalid is the first line that is not valid UTF-8 (0: none);
	// firstMultibyte the first line holding a valid UTF-8 sequence of more
	// than one byte (0: none).
	firstInvalid, firstMultibyte int
	// cr and lf count the '\r' and '\n' bytes.
	cr, lf int64
}

// scanChunk is how much of the file the scan reads at a time.
const scanChunk = 256 << 10

// scanFile reads r to its end, tracking what decides the encoding. Lines
// are counted by '\n' bytes (meaningless for UTF-16, where they are not
// reported).
func scanFile(r io.Reader) (scan, error) {
	var s scan
	buf := make([]byte, scanChunk+utf8.UTFMax)
	carry := 0    // bytes of an incomplete rune kept from the last chunk
	line := 1     // line at buf[0]
	var off int64 // file offset of buf[carry]
	first := true
	for {
		n, err := io.ReadFull(r, buf[carry:carry+scanChunk])
		if n > 0 {
			chunk := buf[carry : carry+n]
			if first {
				first = false
				switch {
				case bytes.HasPrefix(chunk, []byte{0xEF, 0xBB, 0xBF}):
					s.bom = EncodingUTF8
				case bytes.HasPrefix(chunk, []byte{0xFF, 0xFE, 0, 0}):
					return s, &EncodingError{Msg: "the file is UTF-32 (little-endian byte order mark): save it as UTF-8 or UTF-16"}
				case bytes.HasPrefix(chunk, []byte{0xFF, 0xFE}):
					s.bom = EncodingUTF16LE
				case bytes.HasPrefix(chunk, []byte{0xFE, 0xFF}):
					s.bom = EncodingUTF16BE
				case bytes.HasPrefix(chunk, []byte{0, 0, 0xFE, 0xFF}):
					return s, &EncodingError{Msg: "the file is UTF-32 (big-endian byte order mark): save it as UTF-8 or UTF-16"}
				case bytes.HasPrefix(chunk, []byte("PK\x03\x04")):
					s.zip = true
				}
			}
			// NUL bytes by parity of their file offset.
			if bytes.IndexByte(chunk, 0) >= 0 {
				for i, c := range chunk {
					if c != 0 {
						continue
					}
					if (off+int64(i))%2 == 0 {
						s.nulEven++
					} else {
						s.nulOdd++
					}
					if s.firstNUL == 0 {
						s.firstNUL = line + bytes.Count(buf[:carry+i], []byte{'\n'})
					}
					// Chunks before the last have an even length, so a
					// pair at an even offset never straddles two.
					if (off+int64(i))%2 == 0 && i+1 < len(chunk) && chunk[i+1] == 0 {
						s.nulUnits++
					}
				}
			}
			// UTF-8: validate buf[:carry+n] less an incomplete rune at the
			// end (unless this is the last chunk).
			data := buf[:carry+n]
			last := err != nil
			end := len(data)
			if !last {
				end = completeRunes(data)
			}
			if s.firstInvalid == 0 || s.firstMultibyte == 0 {
				s.checkUTF8(data[:end], line)
			}
			nl := bytes.Count(data[:end], []byte{'\n'})
			line += nl
			s.lf += int64(nl)
			s.cr += int64(bytes.Count(data[:end], []byte{'\r'}))
			off += int64(n)
			s.size += int64(n)
			carry = copy(buf, data[end:])
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return s, nil
			}
			return s, err
		}
	}
}

// completeRunes is the length of data without a UTF-8 sequence cut off at
// its end (at most utf8.UTFMax-1 bytes are held back).
func completeRunes(data []byte) int {
	for k := 1; k < utf8.UTFMax && k <= len(data); k++ {
		c := data[len(data)-k]
		if c < 0x80 {
			return len(data) // ASCII: nothing cut off
		}
		if c >= 0xC0 { // a lead byte: is its sequence complete?
			need := 2
			switch {
			case c >= 0xF0:
				need = 4
			case c >= 0xE0:
				need = 3
			}
			if need > k {
				return len(data) - k
			}
			return len(data)
		}
	}
	return len(data)
}

// checkUTF8 records the first invalid and the first multi-byte line in
// data, whose first byte is on line.
func (s *scan) checkUTF8(data []byte, line int) {
	ascii := true
	for _, c := range data {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return
	}
	if utf8.Valid(data) && s.firstMultibyte != 0 {
		return
	}
	for i := 0; i < len(data); {
		c := data[i]
		if c < 0x80 {
			if c == '\n' {
				line++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			if s.firstInvalid == 0 {
				s.firstInvalid = line
			}
		} else if s.firstMultibyte == 0 && !(i == 0 && line == 1 && s.bom == EncodingUTF8) {
			s.firstMultibyte = line
		}
		if s.firstInvalid != 0 && s.firstMultibyte != 0 {
			return
		}
		i += size
	}
}

// utf16Order tells from the NUL bytes whether a file without a byte order
// mark is UTF-16, and in which byte order: text in Latin script written as
// UTF-16 has a NUL as the high byte of almost every character. It returns
// "" when the file does not look like UTF-16.
func (s *scan) utf16Order() string {
	pairs := s.size / 2
	if pairs == 0 || s.size%2 != 0 {
		return ""
	}
	switch {
	case s.nulOdd*2 >= pairs && s.nulEven*10 < s.nulOdd:
		return EncodingUTF16LE
	case s.nulEven*2 >= pairs && s.nulOdd*10 < s.nulEven:
		return EncodingUTF16BE
	}
	return ""
}

// decide picks the encoding of a whole file from its scan, or checks the
// one asked for (enc, not EncodingAuto) against it. It returns the
// encoding, whether the file starts with that encoding's byte order mark,
// warnings for the log, and an *EncodingError when the file cannot be read
// in any encoding without guessing.
func (s *scan) decide(enc string) (string, bool, []string, error) {
	if s.zip {
		return "", false, nil, &EncodingError{Msg: "this is a zip archive, not a CSV text file: an XLSX workbook? Name it .xlsx or give --input-format xlsx"}
	}
	if s.cr > 0 && s.lf == 0 {
		// Read as one line, every row would vanish into the header.
		return "", false, nil, &EncodingError{Msg: "the lines end in a carriage return alone (the old Macintosh CSV format): save the file as \"CSV (semicolon separated)\" or \"CSV UTF-8\""}
	}
	if enc == EncodingAuto || enc == "" {
		switch {
		case s.bom == EncodingUTF8:
			if s.firstInvalid != 0 {
				return "", false, nil, &EncodingError{Line: s.firstInvalid, Msg: "not valid UTF-8, though the file starts with a UTF-8 byte order mark: the file mixes encodings; save it again from one program"}
			}
			if s.firstNUL != 0 {
				return "", false, nil, nulError(s.firstNUL)
			}
			return EncodingUTF8, true, nil, nil
		case s.bom != "":
			if s.size%2 != 0 {
				return "", false, nil, &EncodingError{Msg: fmt.Sprintf("the file starts with a %s byte order mark but has an odd number of bytes: it is cut off or not UTF-16", s.bom)}
			}
			if s.nulUnits > 0 {
				return "", false, nil, nulCharError()
			}
			return s.bom, true, nil, nil
		}
		if o := s.utf16Order(); o != "" {
			if s.nulUnits > 0 {
				return "", false, nil, nulCharError()
			}
			return o, false, nil, nil
		}
		if s.firstNUL != 0 {
			return "", false, nil, nulError(s.firstNUL)
		}
		if s.firstInvalid == 0 {
			return EncodingUTF8, false, nil, nil
		}
		if s.firstMultibyte != 0 {
			return "", false, nil, &EncodingError{Msg: fmt.Sprintf("the file mixes encodings: line %d is UTF-8 but line %d is not; save it again from one program, or give --encoding to choose one (the other lines' letters would be read wrongly)", s.firstMultibyte, s.firstInvalid)}
		}
		return EncodingWindows1252, false, nil, nil
	}
	// An encoding asked for: a byte order mark must agree with it.
	if s.bom != "" && s.bom != enc {
		return "", false, nil, &EncodingError{Msg: fmt.Sprintf("--encoding %s, but the file starts with a %s byte order mark", enc, s.bom)}
	}
	bom := s.bom == enc
	var warn []string
	switch enc {
	case EncodingUTF8:
		if s.firstInvalid != 0 {
			return "", false, nil, &EncodingError{Line: s.firstInvalid, Msg: "not valid UTF-8 (--encoding utf-8): give --encoding windows-1252 or auto"}
		}
		if s.firstNUL != 0 {
			return "", false, nil, nulError(s.firstNUL)
		}
	case EncodingWindows1252, EncodingISO88591:
		if s.firstNUL != 0 {
			return "", false, nil, nulError(s.firstNUL)
		}
		if s.firstInvalid == 0 && s.firstMultibyte != 0 {
			warn = append(warn, fmt.Sprintf("--encoding %s, but the file reads as UTF-8 (line %d holds UTF-8 letters): letters such as æ, ø, å may be read wrongly", enc, s.firstMultibyte))
		}
	case EncodingUTF16LE, EncodingUTF16BE:
		if s.size%2 != 0 {
			return "", false, nil, &EncodingError{Msg: fmt.Sprintf("--encoding %s, but the file has an odd number of bytes", enc)}
		}
		if s.nulUnits > 0 {
			return "", false, nil, nulCharError()
		}
		if o := s.utf16Order(); o != "" && o != enc {
			warn = append(warn, fmt.Sprintf("--encoding %s, but the file looks like %s", enc, o))
		}
	}
	return enc, bom, warn, nil
}

// nulCharError refuses a UTF-16 file holding the character U+0000: a
// damaged or binary file, whose NULs would also be read back as a UTF-32
// byte order mark.
func nulCharError() error {
	return &EncodingError{Msg: "holds NUL characters (U+0000): not a CSV text file, or a damaged one; save it again as UTF-8 or UTF-16 text"}
}

func nulError(line int) error {
	return &EncodingError{Line: line, Msg: "holds NUL bytes: not a CSV text file (an Excel 97-2003 .xls workbook? Save it as .xlsx or as CSV)"}
}
