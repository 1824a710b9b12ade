package cvr

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/robinscreen/robinscreen/ingest"
)

// reasons are every reason Parse gives for a rejected document or row;
// none carries text from the file.
var reasons = []error{ErrLineTooLong, ErrNotJSON, ErrNoDocument, ErrBoth, ErrNoCVR, ErrBadCVR, ErrNoPNumber, ErrBadPNumber,
	ErrNoProtection, ErrColumns, ErrCSVNumber, ErrCSVFlag}

// FuzzParse parses arbitrary files: Parse never panics, counts every line
// once, rejects only with its fixed reasons, refuses only with its
// documented errors, and every entry it hands out carries a valid number
// of its kind.
func FuzzParse(f *testing.F) {
	f.Add([]byte(companyProtected + "\n" + companyUnprotected + "\n" + unitProtected + "\n"))
	f.Add([]byte(`{"hits":{"hits":[` + companyUnprotected + `,` + unitProtected + `]}}` + "\n[" + companyProtected + "]\n"))
	f.Add([]byte("cvr;pnummer;reklamebeskyttet\n12345674;1003456789;ja\n10000009;;nej\n"))
	f.Add([]byte("10000009;1\n1003456789;0\n"))
	f.Add([]byte(`{"_source":{"Vrdeltagerperson":{}}}` + "\n" + `{"Vrvirksomhed":{"cvrNummer":"1","reklamebeskyttet":null}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var companies, units int
		st, err := Parse(bytes.NewReader(data), Options{MaxRejectRatio: 0.5}, func(e *Entry) error {
			if e.Line < 1 {
				t.Fatalf("entry line %d", e.Line)
			}
			switch e.Kind {
			case KindCompany:
				companies++
				if _, err := NumberOf(uint64(e.CVR)); err != nil || e.P != 0 || len(e.Owners) != 0 {
					t.Fatalf("company %+v", e)
				}
			case KindUnit:
				units++
				if _, err := PNumberOf(uint64(e.P)); err != nil || e.CVR != 0 {
					t.Fatalf("unit %+v", e)
				}
				for i, o := range e.Owners {
					if _, err := NumberOf(uint64(o)); err != nil || slices.Contains(e.Owners[:i], o) {
						t.Fatalf("unit %+v: owners", e)
					}
				}
			default:
				t.Fatalf("entry kind %d", e.Kind)
			}
			return nil
		})
		if companies != st.Companies || units != st.Units {
			t.Fatalf("%d companies, %d units handed out; stats %+v", companies, units, st)
		}
		if st.Rejected < len(st.Rejects) || st.Rejected < st.TooLong {
			t.Fatalf("stats %+v", st)
		}
		for _, le := range st.Rejects {
			if le.Line < 1 || le.Line > st.Lines || !slices.ContainsFunc(reasons, func(r error) bool { return errors.Is(le, r) }) {
				t.Fatalf("reject %v", le)
			}
		}
		if err != nil {
			var re *RejectError
			if !errors.Is(err, ErrNoRecords) && !errors.Is(err, ErrCSVHeader) && !errors.As(err, &re) && !errors.Is(err, ingest.ErrDamagedEncoding) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if counted := st.Blank + st.Headers + st.Skipped + st.DocumentLines + st.TooLong; counted != st.Lines {
			t.Fatalf("%d lines, %d counted: %+v", st.Lines, counted, st)
		}
		if companies+units == 0 || st.Protected > companies+units {
			t.Fatalf("accepted: %+v", st)
		}
	})
}

// FuzzParseNumber: ParseNumber never panics, and accepts exactly the
// strings holding 8 digits (besides blanks and a DK prefix) whose
// modulus-11 sum is 0; an accepted number reads back from its String.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"10000009", "DK 12 34 56 74", "12345678", "dk-30498763", "", "1234567A", "00000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseNumber(s)
		var ds []int
		other := false
		rest := trimDK(s)
		for i := 0; i < len(rest); i++ {
			switch c := rest[i]; {
			case c >= '0' && c <= '9':
				ds = append(ds, int(c-'0'))
			case c == ' ' || c == '\t':
			default:
				other = true
			}
		}
		valid := !other && len(ds) == 8
		if valid {
			sum, all0 := 0, true
			for i, d := range ds {
				sum += d * cvrWeights[i]
				all0 = all0 && d == 0
			}
			valid = sum%11 == 0 && !all0
		}
		if valid != (err == nil) {
			t.Fatalf("ParseNumber(%q) = %v, %v; digits %v", s, n, err, ds)
		}
		if err != nil {
			if !errors.Is(err, ErrCVRFormat) && !errors.Is(err, ErrCVRCheck) {
				t.Fatalf("reason %v", err)
			}
			return
		}
		if back, err := ParseNumber(n.String()); err != nil || back != n {
			t.Fatalf("%v reads back as %v, %v", n, back, err)
		}
	})
}
