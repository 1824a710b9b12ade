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
type robinsonList struct{ r *reader }

func (l robinsonList) Info() screening.DatasetInfo { return l.r.d.info() }

// Candidates implements screening.RobinsonList. The Bloom filter answers
// for keys without records, and for most keys whose records cannot match
// the probe's contact, so such a lookup never touches Badger.
func (l robinsonList) Candidates(key []byte, probe *robinson.Probe, fn func(*robinson.Record)) error {
	if err := l.r.usable(); err != nil {
		return err
	}
	var kbuf [160]byte
	k := append(append(kbuf[:0], 'r'), key...)
	// openDataset serves only signature-v2 Robinson versions
	// (ErrOutdatedFormat).
	if probe != nil && !probe.MayMatchExact(k, l.r.d.filter) {
		return nil
	}
	return l.readRecords(k, fn)
}

// NearCandidates implements screening.RobinsonList: when the filter says a
// record at the probe's address may match with a NEAR surname, it reads
// the surname words stored at the address (its summary) and the records of
// each word one edit from the contact's surname.
func (l robinsonList) NearCandidates(probe *robinson.Probe, fn func(*robinson.Record)) error {
	if err := l.r.usable(); err != nil {
		return err
	}
	if probe == nil || probe.None() || len(probe.AddressKey()) == 0 {
		return nil
	}
	var pbuf [160]byte
	if !probe.MayMatchNear(l.r.d.filter) {
		return nil
	}
	prefix := append(append(pbuf[:0], 'r'), probe.AddressKey()...)
	var near [][]byte
	consider := func(w []byte) {
		if probe.NearSurname(string(w)) {
			near = append(near, append(append([]byte(nil), prefix...), w...))
		}
	}
	// One read: the address's summary of surname words.
	if _, err := l.r.read(append(prefix, addressSummaryMark), func(v []byte) error {
		return eachWord(v, consider)
	}); err != nil {
		return err
	}
	for _, k := range near {
		if err := l.Candidates(k[1:], probe, fn); err != nil {
			return err
		}
	}
	return nil
}

// eachWord calls fn with each length-prefixed word of an address summary.
// It returns errCorrupt for a damaged value.
func eachWord(v []byte, fn func([]byte)) error {
	for off := 0; off < len(v); {
		n, w := binary.Uvarint(v[off:])
		if w <= 0 || n > uint64(len(v)-off-w) {
			return errCorrupt
		}
		fn(v[off+w : off+w+int(n)])
		off += w + int(n)
	}
	return nil
}

// FamilyTypes implements screening.RobinsonList.
func (l robinsonList) FamilyTypes() robinson.FamilyTypes { return l.r.d.family }

// readRecords reads the records under k from Badger.
func (l robinsonList) readRecords(k []byte, fn func(*robinson.Record)) error {
	var rec robinson.Record
	_, err := l.r.read(k, func(v []byte) error {
		return eachRecord(v, &rec, fn)
	})
	return err
}

// eachRecord decodes the records of a Robinson value into rec and calls
// fn with each. The records' strings are cut from one copy of v. It
// returns errCorrupt for a damaged value.
func eachRecord(v []byte, rec *robinson.Record, fn func(*robinson.Record)) error {
	sv := string(v)
	for off := 0; off < len(v); {
		n, w := binary.Uvarint(v[off:])
		if w <= 0 || n > uint64(len(v)-off-w) {
			return errCorrupt
		}
		start, end := off+w, off+w+int(n)
		if _, err := decodeRecord(v[start:end], sv[start:end], rec); err != nil {
			return err
		}
		fn(rec)
		off = end
	}
	return nil
}

// cprRegister serves a CPR dataset to the screening engine.
type cprRegister struct {
	r *reader
	p *Pseudonymizer
}

func (r cprRegister) Info() screening.DatasetInfo { return r.r.d.info() }

// Lookup implements screening.CPRRegister.
func (r cprRegister) Lookup(n cprcheck.Number) (cprcheck.Person, bool, error) {
	if err := r.r.usable(); err != nil {
		return cprcheck.Person{}, false, err
	}
	ps := r.p.Pseudonym(n)
	var kbuf [1 + PseudonymSize]byte
	kbuf[0] = 'p'
	copy(kbuf[1:], ps[:])
	var person cprcheck.Person
	found, err := r.r.get(kbuf[:], func(v []byte) error {
		var err error
		person, err = decodePerson(v)
		return err
	})
	return person, found, err
}
