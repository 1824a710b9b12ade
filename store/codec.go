package store

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/robinscreen/robinscreen/cprcheck"
	"github.com/robinscreen/robinscreen/robinson"
)

var errCorrupt = errors.New("store: corrupt record encoding")

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendRecord encodes a Robinson record.
func appendRecord(b []byte, r *robinson.Record) []byte {
	b = binary.AppendUvarint(b, uint64(r.Line))
	var flags byte
	if r.Previous {
		flags |= 1
	}
	b = append(b, flags)
	a := &r.Address
	b = appendString(b, a.Postcode)
	b = appendString(b, a.Street)
	b = appendString(b, a.HouseNumber)
	b = appendString(b, a.Floor)
	b = appendString(b, a.Door)
	b = binary.AppendUvarint(b, uint64(len(r.Name.Surnames)))
	for _, s := range r.Name.Surnames {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Name.Given)))
	for _, g := range r.Name.Given {
		var ini byte
		if g.Initial {
			ini = 1
		}
		b = append(b, ini)
		b = appendString(b, g.Word)
	}
	// The road comes last: records written before it existed end here.
	b = binary.AppendUvarint(b, uint64(r.Road.Kommune))
	return binary.AppendUvarint(b, uint64(r.Road.Vej))
}

type decoder struct {
	b []byte
	// s, when not empty, holds the same bytes as b did at the start:
	// strings are then cut from it instead of copied one by one.
	s   string
	err error
}

func (d *decoder) uvarint() uint64 {
	if len(d.b) > 0 && d.b[0] < 0x80 && d.err == nil {
		v := d.b[0] // one byte: most lengths and counts
		d.b = d.b[1:]
		return uint64(v)
	}
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte1() byte {
	if d.err != nil || len(d.b) == 0 {
		d.err = errCorrupt
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errCorrupt
		return ""
	}
	var s string
	if d.s != "" {
		off := len(d.s) - len(d.b)
		s = d.s[off : off+int(n)]
	} else {
		s = string(d.b[:n])
	}
	d.b = d.b[n:]
	return s
}

// decodeRecord decodes one record from the front of b into r, reusing r's
// slices, and returns the rest of b. When s is not empty it must hold the
// same bytes as b; r's strings are then substrings of s, not copies.
func decodeRecord(b []byte, s string, r *robinson.Record) ([]byte, error) {
	d := decoder{b: b, s: s}
	r.Line = int(d.uvarint())
	r.Previous = d.byte1()&1 != 0
	r.Address.Postcode = d.string()
	r.Address.Street = d.string()
	r.Address.HouseNumber = d.string()
	r.Address.Floor = d.string()
	r.Address.Door = d.string()
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return nil, errCorrupt
	}
	r.Name.Surnames = r.Name.Surnames[:0]
	for i := uint64(0); i < n && d.err == nil; i++ {
		r.Name.Surnames = append(r.Name.Surnames, d.string())
	}
	n = d.uvarint()
	if n > uint64(len(d.b)) {
		return nil, errCorrupt
	}
	r.Name.Given = r.Name.Given[:0]
	for i := uint64(0); i < n && d.err == nil; i++ {
		ini := d.byte1() == 1
		r.Name.Given = append(r.Name.Given, robinson.Given{Initial: ini, Word: d.string()})
	}
	r.Road = robinson.RoadID{}
	if len(d.b) > 0 {
		r.Road.Kommune = uint16(d.uvarint())
		r.Road.Vej = uint16(d.uvarint())
	}
	return d.b, d.err
}

// Dates are stored as days since the Unix epoch plus one; 0 is "none".
func dayNumber(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.Unix()/86400) + 1 + 1<<20 // offset keeps pre-1970 dates positive
}

func fromDayNumber(v uint64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.Unix((int64(v)-1-1<<20)*86400, 0).UTC()
}

// appendPerson encodes what the CPR extract holds for one person.
func appendPerson(b []byte, p *cprcheck.Person) []byte {
	var flags byte
	if p.HasStatus {
		flags |= 1
	}
	b = append(b, flags)
	b = appendString(b, string(p.Status))
	b = binary.AppendUvarint(b, uint64(len(p.Protections)))
	for _, pr := range p.Protections {
		b = appendString(b, string(pr.Type))
		b = appendString(b, pr.Authority)
		b = binary.AppendVarint(b, pr.Registered.Unix())
		b = binary.AppendUvarint(b, dayNumber(pr.Start))
		b = binary.AppendUvarint(b, dayNumber(pr.End))
	}
	return b
}

func decodePerson(b []byte) (cprcheck.Person, error) {
	d := decoder{b: b}
	var p cprcheck.Person
	p.HasStatus = d.byte1()&1 != 0
	p.Status = cprcheck.Status(d.string())
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return p, errCorrupt
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		var pr cprcheck.Protection
		pr.Type = cprcheck.ProtectionType(d.string())
		pr.Authority = d.string()
		reg, k := binary.Varint(d.b)
		if k <= 0 {
			return p, errCorrupt
		}
		d.b = d.b[k:]
		if reg != (time.Time{}).Unix() {
			pr.Registered = time.Unix(reg, 0).UTC()
		}
		pr.Start = fromDayNumber(d.uvarint())
		pr.End = fromDayNumber(d.uvarint())
		p.Protections = append(p.Protections, pr)
	}
	return p, d.err
}
