package synth

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/robinscreen/robinscreen/internal/cprfmt"
)

var cprWeights = [9]int{4, 3, 2, 7, 6, 5, 4, 3, 2}

// mod11Digit returns the check digit making the number pass modulus 11, or
// -1 when no digit does.
func mod11Digit(d *[10]byte) int {
	s := 0
	for k, w := range cprWeights {
		s += int(d[k]-'0') * w
	}
	c := (11 - s%11) % 11
	if c == 10 {
		return -1
	}
	return c
}

// serialFirstDigits are the 7th digits allowed for a birth year under the
// century rule.
func serialFirstDigits(year int) []byte {
	switch {
	case year < 1937:
		return []byte("0123")
	case year < 2000:
		return []byte("012349")
	default:
		return []byte("456789")
	}
}

// cprFor builds a valid personal number for birth date b and slot (the
// first three serial digits are distinct per slot < 400). About 85 % of
// numbers for births before October 2007 pass modulus 11 (when possible);
// the rest, and half of the later ones, need not.
func cprFor(r *rng, b time.Time, slot int) [10]byte {
	var d [10]byte
	put2 := func(at, v int) { d[at], d[at+1] = byte('0'+v/10), byte('0'+v%10) }
	put2(0, b.Day())
	put2(2, int(b.Month()))
	put2(4, b.Year()%100)
	first := serialFirstDigits(b.Year())
	d[6] = first[(slot/100)%len(first)]
	put2(7, slot%100)
	mod := 85
	if b.After(time.Date(2007, 10, 1, 0, 0, 0, 0, time.UTC)) {
		mod = 50
	}
	if c := mod11Digit(&d); c >= 0 && r.pct(mod) {
		d[9] = byte('0' + c)
	} else {
		d[9] = byte('0' + r.n(10))
	}
	return d
}

// randomCPR is a valid synthetic personal number, sometimes written with
// a hyphen, for contact lists.
func randomCPR(r *rng) string {
	b := time.Date(1925, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.n(365*99))
	d := cprFor(r, b, r.n(400))
	if r.pct(30) {
		return string(d[:6]) + "-" + string(d[6:])
	}
	return string(d[:])
}

// WriteCPRExtract writes a synthetic CPR extract for persons people (CRLF
// line ends, ASCII): a 000 start record dated Config.Published, per person
// a 001 person record (status 90 for about deceasedShare of them, a few
// annulled/emigrated/... statuses, otherwise active), for about
// protectedShare of them a 0003 marketing protection (015) active on the
// publication date, some with a future end date; a few 0001 name-and-
// address, 0002 and 0004 protections and a few expired 0003 protections;
// "002"/"003" records of other kinds that a reader must skip; and the 999
// end record. Personal numbers are distinct, real dates under the century
// rule; some fail modulus 11, which is valid.
func (g *Generator) WriteCPRExtract(w io.Writer, persons int, protectedShare, deceasedShare float64) error {
	if persons < 0 || protectedShare < 0 || protectedShare > 1 || deceasedShare < 0 || deceasedShare > 1 {
		return errors.New("synth: bad extract parameters")
	}
	pub := g.cfg.Published
	pubDay := time.Date(pub.Year(), pub.Month(), pub.Day(), 0, 0, 0, 0, time.UTC)
	born0 := time.Date(1925, 1, 1, 0, 0, 0, 0, time.UTC)
	ndays := int(pubDay.Sub(born0).Hours()/24) - 1
	if persons > 400*ndays {
		return errors.New("synth: too many persons for distinct personal numbers")
	}
	step := 7919 // a prime; coprime to ndays unless it divides it
	for ndays%step == 0 {
		step += 2
	}

	bw := bufio.NewWriterSize(w, 1<<20)
	line := func(s string) { bw.WriteString(s); bw.WriteString("\r\n") }
	line(cprfmt.CPRStart(pub))
	records := 0
	r := newRNG()
	r.seed(mix64(g.cfg.Seed^0xC9B0E1), mix64(uint64(persons)))
	for k := 0; k < persons; k++ {
		day := (k*step + 12345) % ndays
		birth := born0.AddDate(0, 0, day)
		d := cprFor(r, birth, k/ndays)
		num := string(d[:])

		status := "01"
		switch u := r.r.Float64(); {
		case u < deceasedShare:
			status = "90"
		case u < deceasedShare+0.005:
			status = []string{"20", "30", "50", "60", "70", "80"}[r.n(6)]
		default:
			status = []string{"01", "01", "01", "01", "01", "01", "01", "03", "05", "07"}[r.n(10)]
		}
		line(cprfmt.CPRPerson(num, status))
		records++
		if r.pct(30) { // address record: skipped by readers
			line("002" + num + pad0(r.n(1000), 4) + pad0(r.n(10000), 4) + pad0(1+r.n(250), 3) + strings.Repeat(" ", 20) + pub.Format("200601021504"))
			records++
		}
		if r.pct(10) { // name record: skipped by readers
			line("003" + num + strings.Repeat(" ", 34) + pub.Format("20060102"))
			records++
		}
		startDay := func() time.Time { return pubDay.AddDate(0, 0, -1-r.n(3650)) }
		stamp := func(d time.Time) time.Time { return d.Add(time.Duration(8*60+r.n(10*60)) * time.Minute) }
		start := func() time.Time { return stamp(startDay()) }
		if r.r.Float64() < protectedShare {
			st := start()
			var end time.Time
			if r.pct(10) {
				end = pubDay.AddDate(0, 0, 1+r.n(1000))
			}
			if r.pct(5) {
				line(cprfmt.CPRProtection(num, "0001", st, time.Time{}))
				records++
			}
			line(cprfmt.CPRProtection(num, "0003", st, end))
			records++
		} else if r.pct(2) { // ended marketing protection: end <= publication
			sd := startDay()
			days := int(pubDay.Sub(sd).Hours()/24 + 0.5)
			end := sd.AddDate(0, 0, 1+r.n(days))
			line(cprfmt.CPRProtection(num, "0003", stamp(sd), end))
			records++
		}
		if r.pct(1) {
			line(cprfmt.CPRProtection(num, "0002", start(), time.Time{}))
			records++
		}
		if r.n(200) == 0 {
			line(cprfmt.CPRProtection(num, "0004", start(), time.Time{}))
			records++
		}
	}
	line(cprfmt.CPREnd(records))
	return bw.Flush()
}
