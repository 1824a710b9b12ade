package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/robinscreen/robinscreen/roads"
	"github.com/robinscreen/robinscreen/robinson"
	"github.com/robinscreen/robinscreen/screening"
)

// A road register version stores one pair per road: the key 's' plus
// Kommunekode and Vejkode (big-endian uint16 each), the value the road's
// names and districts (appendRoad). Serving reads every pair once, when
// the version opens, into a roads.Register held in memory: the whole
// country is about 100,000 roads.
const streetsKeyPrefix = 's'

// LoadStreets loads a CPR road register (data-formats.md section 5) as a
// new version and switches to it. Its date is opt.Published when set,
// else the first date in a 000 header; without either the file is refused
// (ErrNoStreetsDate). On any error —
// a refused file (*LoadError wrapping e.g. roads.ErrNoRoads, ErrNoStreetsDate,
// *ingest.EncodingError, *roads.RejectError), ErrLoadInProgress, I/O — the serving version is
// left untouched.
func (s *Store) LoadStreets(ctx context.Context, path string, opt LoadOptions) (*Manifest, error) {
	src, f, err := openSource(path, &opt)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return s.loadStreets(ctx, src, opt.displayPath(path), opt)
}

func (s *Store) loadStreets(ctx context.Context, src Source, display string, opt LoadOptions) (*Manifest, error) {
	return s.load(ctx, screening.KindStreets, src, display, opt, s.parseStreets)
}

// ErrNoStreetsDate refuses a road register whose date is known neither
// from a 000 header nor from the operator (--streets-date).
var ErrNoStreetsDate = errors.New("the road register has no date in a 000 header record; give its date with --streets-date")

// parseStreets reads the whole register into memory (roads.Parse) and
// adds a pair per road.
func (s *Store) parseStreets(ctx context.Context, src Source, opt *LoadOptions, p *parsed) error {
	hr := &hashingReader{f: src.R, h: sha256.New(), hashing: true}
	p.sum = func() (string, error) { return hr.sum(src.Size) }
	p.merge = func(_, dst []byte, vals [][]byte) []byte { return append(dst, vals[0]...) }
	failpoint(FailpointReading)
	reg, st, err := roads.Parse(hr, roads.Options{
		MaxRejectRatio: opt.MaxRejectRatio,
		Progress: func(lines int) {
			opt.report(Progress{Phase: PhaseReading, Lines: lines, Bytes: src.Size})
		},
	})
	for _, r := range st.Rejects {
		p.rejects = append(p.rejects, Reject{Line: r.Line, Reason: r.Err.Error()})
	}
	p.man = Manifest{
		Encoding: st.Encoding, Lines: st.Lines, Blank: st.Blank, HeaderLines: st.Headers + st.Trailers,
		Skipped: st.Skipped, Rejected: st.Rejected,
	}
	switch {
	case !opt.Published.IsZero():
		p.published = opt.Published
	case !st.Date.IsZero():
		p.published = time.Date(st.Date.Year, time.Month(st.Date.Month), st.Date.Day, 0, 0, 0, 0, time.UTC)
		p.man.PublishedFromHeader = true
	case err == nil:
		// A register of unknown age could never become stale (rule 2.7):
		// refuse it, as a Robinson list without a date is refused.
		err = ErrNoStreetsDate
	}
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p.man.Records, p.man.Roads = reg.Len(), reg.Len()
	p.man.PostalDistricts, p.man.EarlierNames, p.man.Postcodes = reg.Districts(), reg.EarlierNames(), reg.Postcodes()
	p.kb.grow(reg.Len())
	var key [5]byte
	var val []byte
	for r := range reg.Roads() {
		val = appendRoad(val[:0], &r)
		if err := p.kb.add(roadKey(key[:0], r.ID), val); err != nil {
			return err
		}
	}
	return nil
}

func roadKey(dst []byte, id robinson.RoadID) []byte {
	dst = append(dst, streetsKeyPrefix)
	dst = binary.BigEndian.AppendUint16(dst, id.Kommune)
	return binary.BigEndian.AppendUint16(dst, id.Vej)
}

// appendRoad encodes a road's names and districts.
func appendRoad(b []byte, r *roads.Road) []byte {
	b = appendString(b, r.AddressingName)
	b = appendString(b, r.Name)
	b = binary.AppendUvarint(b, uint64(len(r.Earlier)))
	for _, e := range r.Earlier {
		b = appendString(b, e.AddressingName)
		b = appendString(b, e.Name)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Districts)))
	for _, d := range r.Districts {
		b = binary.AppendUvarint(b, uint64(d.From.Number))
		b = append(b, d.From.Letter)
		b = binary.AppendUvarint(b, uint64(d.To.Number))
		b = append(b, d.To.Letter)
		b = append(b, byte(d.Parity))
		b = appendString(b, d.Postcode)
		b = appendString(b, d.Name)
	}
	return b
}

// decodeRoad decodes a road stored under key.
func decodeRoad(key, v []byte) (roads.Road, error) {
	var r roads.Road
	if len(key) != 5 || key[0] != streetsKeyPrefix {
		return r, errCorrupt
	}
	r.ID = robinson.RoadID{Kommune: binary.BigEndian.Uint16(key[1:]), Vej: binary.BigEndian.Uint16(key[3:])}
	d := decoder{b: v}
	r.AddressingName = d.string()
	r.Name = d.string()
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return r, errCorrupt
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		r.Earlier = append(r.Earlier, roads.EarlierName{AddressingName: d.string(), Name: d.string()})
	}
	n = d.uvarint()
	if n > uint64(len(d.b)) {
		return r, errCorrupt
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		var dd roads.District
		dd.From.Number = int(d.uvarint())
		dd.From.Letter = d.byte1()
		dd.To.Number = int(d.uvarint())
		dd.To.Letter = d.byte1()
		dd.Parity = roads.Parity(d.byte1())
		dd.Postcode = d.string()
		dd.Name = d.string()
		if dd.Parity > roads.Odd {
			return r, errCorrupt
		}
		r.Districts = append(r.Districts, dd)
	}
	if d.err == nil && len(d.b) != 0 {
		return r, errCorrupt
	}
	return r, d.err
}

// openRoads reads the version's roads into memory. The register must
// hold exactly the roads its manifest counts.
func (d *dataset) openRoads() error {
	var b roads.Builder
	err := d.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			err := item.Value(func(v []byte) error {
				r, err := decodeRoad(item.Key(), v)
				if err != nil {
					return err
				}
				b.AddRoad(r)
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return &ReadError{Kind: d.man.Kind, Version: d.man.Version, err: err}
	}
	reg := b.Build()
	if reg.Len() != d.man.Roads || reg.Districts() != d.man.PostalDistricts || reg.EarlierNames() != d.man.EarlierNames {
		return fmt.Errorf("store: road register version %s holds %d roads, %d districts, %d earlier names; its manifest says %d, %d, %d",
			d.man.Version, reg.Len(), reg.Districts(), reg.EarlierNames(), d.man.Roads, d.man.PostalDistricts, d.man.EarlierNames)
	}
	d.roads = reg
	return nil
}

// streetRegister serves a road register to the screening engine from
// memory.
type streetRegister struct {
	info screening.DatasetInfo
	*roads.Register
}

func (r streetRegister) Info() screening.DatasetInfo { return r.info }
