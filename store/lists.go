package store

import (
	"encoding/binary"
	"encoding/json"

	"github.com/robinscreen/robinscreen/cprcheck"
	"github.com/robinscreen/robinscreen/robinson"
	"github.com/robinscreen/robinscreen/screening"
)

func jsonMarshal(v any) ([]byte, error) { return json.MarshalIndent(v, "", "  ") }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// robinsonList serves a Robinson dataset to the screening engine.
type robinsonList struct{ d *dataset }

func (l robinsonList) Info() screening.DatasetInfo { return l.d.info() }

// Candidates implements screening.RobinsonList. The Bloom filter answers
// for keys without records, so such a lookup never touches Badger.
func (l robinsonList) Candidates(key []byte, fn func(*robinson.Record)) error {
	var kbuf [128]byte
	k := append(append(kbuf[:0], 'r'), key...)
	_, err := l.d.get(k, func(v []byte) error {
		// One copy of the value; the records' strings are cut from it.
		sv := string(v)
		var rec robinson.Record
		for off := 0; off < len(v); {
			n, w := binary.Uvarint(v[off:])
			if w <= 0 || n > uint64(len(v)-off-w) {
				return errCorrupt
			}
			start, end := off+w, off+w+int(n)
			if _, err := decodeRecord(v[start:end], sv[start:end], &rec); err != nil {
				return err
			}
			fn(&rec)
			off = end
		}
		return nil
	})
	return err
}

// cprRegister serves a CPR dataset to the screening engine.
type cprRegister struct {
	d *dataset
	p *Pseudonymizer
}

func (r cprRegister) Info() screening.DatasetInfo { return r.d.info() }

// Lookup implements screening.CPRRegister.
func (r cprRegister) Lookup(n cprcheck.Number) (cprcheck.Person, bool, error) {
	ps := r.p.Pseudonym(n)
	var kbuf [1 + PseudonymSize]byte
	kbuf[0] = 'p'
	copy(kbuf[1:], ps[:])
	var person cprcheck.Person
	found, err := r.d.get(kbuf[:], func(v []byte) error {
		var err error
		person, err = decodePerson(v)
		return err
	})
	return person, found, err
}
