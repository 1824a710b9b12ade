package store

import (
	"encoding/binary"
	"encoding/json"

	"github.com/robinscreen/robinscreen/cprcheck"
	"github.com/robinscreen/robinscreen/robinson"
	"github.com/robinscreen/robinscreen/screening"
)

func jsonMarshal(v any) ([]byte, error) { return json.MarshalIndent(v, "", "  ") }

// robinsonList serves a Robinson dataset to the screening engine.
type robinsonList struct{ d *dataset }

func (l robinsonList) Info() screening.DatasetInfo { return l.d.info() }

// Candidates implements screening.RobinsonList. The Bloom filter answers
// for keys without records, so such a lookup never touches Badger.
func (l robinsonList) Candidates(key []byte, fn func(*robinson.Record)) error {
	var kbuf [128]byte
	k := append(append(kbuf[:0], 'r'), key...)
	_, err := l.d.get(k, func(v []byte) error {
		var rec robinson.Record
		for len(v) > 0 {
			n, w := binary.Uvarint(v)
			if w <= 0 || n > uint64(len(v)-w) {
				return errCorrupt
			}
			if _, err := decodeRecord(v[w:w+int(n)], &rec); err != nil {
				return err
			}
			fn(&rec)
			v = v[w+int(n):]
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
