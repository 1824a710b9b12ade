package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/robinscreen/robinscreen/cprcheck"
	"github.com/robinscreen/robinscreen/roads"
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
	// openDataset serves only versions of the second matching rules;
	// those before the signature-v3 filter are read without it.
	if probe != nil && l.filtered() {
		probe.Prefetch(prefixRecords, l.r.d.filter)
		if !probe.MayMatchExact(k, l.r.d.filter, l.extras(probe)) {
			return nil
		}
	}
	return l.readRecords(k, probe, fn)
}

// prefixRecords starts every blocking key a Robinson version stores.
var prefixRecords = []byte{'r'}

// filtered reports whether the version's filter is consulted: the
// signature-v3 filter. A version with the signature-v2 filter is served
// without it: every blocking key and address summary is read.
func (l robinsonList) filtered() bool { return l.r.d.man.Filter == filterSignaturesV3 }

// extras returns the road register's extra names for the list
// (robinson.RoadExtras) when the probe's contact is matched with a road
// register: built once per register the version is served with, or,
// for a register the store did not load, for the call.
func (l robinsonList) extras(probe *robinson.Probe) *robinson.RoadExtras {
	roads := probe.Roads()
	if roads == nil {
		return nil
	}
	sr, ok := roads.(streetRegister)
	if !ok || sr.Register == nil {
		return robinson.NewRoadExtras(l.r.d.listRoads, roads)
	}
	return l.r.d.roadExtras(sr.Register)
}

// NearCandidates implements screening.RobinsonList: it hands over the
// records of each word stored at the probe's address that is one edit
// from a surname word of the contact (Probe.NearSurname). The words come
// from the near lists of the contact's own blocking keys when the probe
// was told one for every surname word that can be one edit from another
// (Probe.KnownNear: the exact lookups read them, formatNearLists);
// otherwise, when the filter says a record at the address may match with
// a NEAR surname, from the address's summary of surname words.
func (l robinsonList) NearCandidates(probe *robinson.Probe, fn func(*robinson.Record)) error {
	if err := l.r.usable(); err != nil {
		return err
	}
	if probe == nil || probe.None() || len(probe.AddressKey()) == 0 {
		return nil
	}
	var pbuf [160]byte
	prefix := append(append(pbuf[:0], 'r'), probe.AddressKey()...)
	var near [][]byte
	consider := func(w []byte) {
		if probe.NearSurname(string(w)) {
			near = append(near, append(append([]byte(nil), prefix...), w...))
		}
	}
	var kbuf [4][]byte
	if known, ok := probe.KnownNear(kbuf[:0]); ok && l.r.d.man.Format >= formatNearLists {
		// The reads of the contact's own blocking keys brought the words
		// one edit from each of its surname words: every word of the
		// summary that NearSurname accepts is among them.
		for _, data := range known {
			if err := eachWord(data, consider); err != nil {
				return l.r.failed(err)
			}
		}
		// In key order and each once, as the summary has them.
		slices.SortFunc(near, bytes.Compare)
		near = slices.CompactFunc(near, bytes.Equal)
	} else {
		if l.filtered() {
			probe.Prefetch(prefixRecords, l.r.d.filter)
			if !probe.MayMatchNear(l.r.d.filter, l.extras(probe)) {
				return nil
			}
		}
		// One read: the address's summary of surname words.
		if _, err := l.r.read(append(prefix, addressSummaryMark), func(v []byte) error {
			return eachWord(v, consider)
		}); err != nil {
			return err
		}
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

// readRecords reads the records under k from Badger, and tells probe
// (when not nil) the key's near list (formatNearLists).
func (l robinsonList) readRecords(k []byte, probe *robinson.Probe, fn func(*robinson.Record)) error {
	var rec robinson.Record
	lists := l.r.d.man.Format >= formatNearLists
	_, err := l.r.read(k, func(v []byte) error {
		if lists {
			near, rest, err := splitNearList(v)
			if err != nil {
				return err
			}
			if probe != nil {
				if len(near) > 0 {
					near = bytes.Clone(near) // v is valid only during the call
				}
				probe.KnowNear(k[1:], near)
			}
			v = rest
		}
		return eachRecord(v, l.r.mapped, &rec, fn)
	})
	return err
}

// splitNearList splits the value of a blocking key of a formatNearLists
// version into its near list (words as eachWord reads them, checked) and
// its records. It returns errCorrupt for a damaged value.
func splitNearList(v []byte) (near, records []byte, err error) {
	n, w := binary.Uvarint(v)
	if w <= 0 || n > uint64(len(v)-w) {
		return nil, nil, errCorrupt
	}
	near = v[w : w+int(n)]
	if err := eachWord(near, func([]byte) {}); err != nil {
		return nil, nil, err
	}
	return near, v[w+int(n):], nil
}

// eachRecord decodes the records of a Robinson value into rec and calls
// fn with each. The records' strings are cut from one copy of v or, when
// inPlace (v stays unchanged at least until eachRecord returns: a table's
// memory map, or a value Badger lends for a callback that keeps no
// record), from v itself: a record is only valid during fn
// (screening.RobinsonList). It returns errCorrupt for a damaged value.
func eachRecord(v []byte, inPlace bool, rec *robinson.Record, fn func(*robinson.Record)) error {
	if len(v) == 0 {
		return nil
	}
	var sv string
	if inPlace {
		sv = asString(v)
	} else {
		sv = string(v)
	}
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

// listRoadsKeyPrefix starts the key of each postcode and road of a
// Robinson version's records (format 4): 'w', the postcode,
// robinson.KeySeparator, Kommunekode and Vejkode (big-endian uint16 each);
// the value holds the letters of the streets the list prints for them
// (robinson.ListRoads). With a road register they give the register's
// extra names (robinson.RoadExtras).
const listRoadsKeyPrefix = 'w'

// appendListRoadKey appends the key of a postcode and road.
func appendListRoadKey(dst []byte, postcode string, road robinson.RoadID) []byte {
	dst = append(dst, listRoadsKeyPrefix)
	dst = append(dst, postcode...)
	dst = append(dst, robinson.KeySeparator)
	dst = binary.BigEndian.AppendUint16(dst, road.Kommune)
	return binary.BigEndian.AppendUint16(dst, road.Vej)
}

// decodeListRoadKey returns the postcode and road of a key of
// appendListRoadKey; ok is false for a damaged key.
func decodeListRoadKey(key []byte) (postcode string, road robinson.RoadID, ok bool) {
	if len(key) < 6 || key[0] != listRoadsKeyPrefix || key[len(key)-5] != robinson.KeySeparator {
		return "", road, false
	}
	road.Kommune = binary.BigEndian.Uint16(key[len(key)-4:])
	road.Vej = binary.BigEndian.Uint16(key[len(key)-2:])
	return string(key[1 : len(key)-5]), road, true
}

// readListRoads reads the postcodes and roads of a Robinson version and
// checks their number against the manifest. It returns an error for a
// damaged key or value or a different number, and Badger's errors.
func readListRoads(db *badger.DB, m *Manifest) (*robinson.ListRoads, error) {
	lr := &robinson.ListRoads{}
	damaged := false
	err := db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = []byte{listRoadsKeyPrefix}
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.ValidForPrefix(opt.Prefix); it.Next() {
			item := it.Item()
			postcode, road, ok := decodeListRoadKey(item.Key())
			if !ok {
				damaged = true
				return nil
			}
			// The value is stored as every Robinson value is
			// (mergeRecords): length-prefixed.
			if err := item.Value(func(v []byte) error {
				n := 0
				if eachWord(v, func(w []byte) {
					n++
					damaged = damaged || len(w) == 0 || len(w)%robinson.StreetLettersWidth != 0
					lr.AddLetters(postcode, road, w)
				}) != nil || n != 1 {
					damaged = true
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("store: reading the roads of version %s failed", m.Version)
	case damaged:
		return nil, fmt.Errorf("store: version %s holds a damaged road entry", m.Version)
	case lr.Len() != m.ListRoads:
		return nil, fmt.Errorf("store: version %s holds %d postcode and road entries, its manifest %d", m.Version, lr.Len(), m.ListRoads)
	}
	return lr, nil
}

// extrasCache holds a Robinson version's robinson.RoadExtras for the road
// register it was last served with.
type extrasCache struct {
	cur atomic.Pointer[extrasFor]
	mu  sync.Mutex // held while building
}

type extrasFor struct {
	reg *roads.Register
	x   *robinson.RoadExtras
}

// roadExtras returns the version's extra register names for reg, built on
// first use (a few milliseconds for a country's roads).
func (d *dataset) roadExtras(reg *roads.Register) *robinson.RoadExtras {
	if c := d.extras.cur.Load(); c != nil && c.reg == reg {
		return c.x
	}
	d.extras.mu.Lock()
	defer d.extras.mu.Unlock()
	if c := d.extras.cur.Load(); c != nil && c.reg == reg {
		return c.x
	}
	x := robinson.NewRoadExtras(d.listRoads, reg)
	d.extras.cur.Store(&extrasFor{reg: reg, x: x})
	return x
}
