package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"slices"
	"time"

	"github.com/robinscreen/robinscreen/cvr"
	"github.com/robinscreen/robinscreen/screening"
)

// A CVR version stores one pair per company, the key 'c' plus the CVR
// number (big-endian uint32), and one per production unit, the key 'u'
// plus the P-number (big-endian uint64). The value is a flags byte
// (cvrProtected) and, for a unit, the number of its companies (uvarint)
// followed by each CVR number (4 bytes big-endian). CVR numbers and
// P-numbers are public register numbers, not personal numbers: they are
// stored as they are (encrypted at rest with the rest of the version when
// the store has an encryption key).
const (
	cvrCompanyPrefix = 'c'
	cvrUnitPrefix    = 'u'
	cvrProtected     = 1 << 0
)

// ErrNoCVRDate refuses CVR data whose extraction date is known neither
// from the operator (--extracted) nor from a sidstOpdateret or
// sidstIndlaest timestamp in its documents (a CSV has none): such data
// could never become stale.
var ErrNoCVRDate = errors.New("the CVR data holds no sidstOpdateret or sidstIndlaest timestamp; give its extraction date with --extracted")

// LoadCVR loads CVR advertising-protection data (data-formats.md section
// 6) as a new version and switches to it. Its date is opt.Published (the
// extraction date) when set, else the day of the newest sidstOpdateret or
// sidstIndlaest timestamp in the documents; without either the file is
// refused (ErrNoCVRDate). On any error — a refused file (*LoadError
// wrapping e.g. cvr.ErrNoRecords, cvr.ErrCSVHeader, ErrNoCVRDate,
// *ingest.EncodingError, *cvr.RejectError, *ShrinkError), ErrLoadInProgress,
// I/O — the serving version is left untouched.
func (s *Store) LoadCVR(ctx context.Context, path string, opt LoadOptions) (*Manifest, error) {
	src, f, err := openSource(path, &opt)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return s.loadCVR(ctx, src, opt.displayPath(path), opt)
}

func (s *Store) loadCVR(ctx context.Context, src Source, display string, opt LoadOptions) (*Manifest, error) {
	return s.load(ctx, screening.KindCVR, src, display, opt, s.parseCVR)
}

// parseCVR streams the file through cvr.Parse and adds a pair per company
// and production unit; a number listed twice is merged (mergeCVR).
func (s *Store) parseCVR(ctx context.Context, src Source, opt *LoadOptions, p *parsed) error {
	hr := &hashingReader{f: src.R, h: sha256.New(), hashing: true}
	p.sum = func() (string, error) { return hr.sum(src.Size) }
	p.merge = mergeCVR
	var key, val []byte
	first := true
	st, err := cvr.Parse(hr, cvr.Options{
		MaxRejectRatio: opt.MaxRejectRatio,
		Progress: func(lines int) {
			opt.report(Progress{Phase: PhaseReading, Lines: lines, Bytes: src.Size})
		},
	}, func(e *cvr.Entry) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if first {
			first = false
			failpoint(FailpointReading)
		}
		key, val = appendCVREntry(key[:0], val[:0], e)
		return p.kb.add(key, val)
	})
	for _, r := range st.Rejects {
		p.rejects = append(p.rejects, Reject{Line: r.Line, Reason: r.Err.Error()})
	}
	p.man = Manifest{
		Encoding: st.Encoding, Lines: st.Lines, Blank: st.Blank, HeaderLines: st.Headers, Skipped: st.Skipped,
		Records: st.Companies + st.Units, Companies: st.Companies, ProductionUnits: st.Units,
		AdvertisingProtected: st.Protected, OtherDocuments: st.OtherDocuments, Rejected: st.Rejected,
	}
	switch {
	case !opt.Published.IsZero():
		p.published = opt.Published
	case !st.Newest.IsZero():
		// The day of the newest timestamp: the data is as old as that
		// day's start at the least.
		p.published = time.Date(st.Newest.Year(), st.Newest.Month(), st.Newest.Day(), 0, 0, 0, 0, time.UTC)
		p.man.PublishedFromHeader = true
	case err == nil:
		err = ErrNoCVRDate
	}
	return err
}

// appendCVREntry appends an entry's key and value.
func appendCVREntry(key, val []byte, e *cvr.Entry) ([]byte, []byte) {
	var flags byte
	if e.Protected {
		flags |= cvrProtected
	}
	val = append(val, flags)
	if e.Kind == cvr.KindCompany {
		key = append(key, cvrCompanyPrefix)
		return binary.BigEndian.AppendUint32(key, uint32(e.CVR)), val
	}
	key = append(key, cvrUnitPrefix)
	key = binary.BigEndian.AppendUint64(key, uint64(e.P))
	val = binary.AppendUvarint(val, uint64(len(e.Owners)))
	for _, o := range e.Owners {
		val = binary.BigEndian.AppendUint32(val, uint32(o))
	}
	return key, val
}

// mergeCVR merges the values of a number listed more than once: protected
// when any of them is (fail closed), with every company any of them names.
// A value it cannot decode is kept as protected.
func mergeCVR(key, dst []byte, vals [][]byte) []byte {
	if len(vals) == 1 {
		return append(dst, vals[0]...)
	}
	var flags byte
	var owners []cvr.Number
	for _, v := range vals {
		f, os, err := decodeCVRValue(key, v)
		if err != nil {
			f = cvrProtected
		}
		flags |= f
		for _, o := range os {
			if !slices.Contains(owners, o) {
				owners = append(owners, o)
			}
		}
	}
	dst = append(dst, flags)
	if len(key) > 0 && key[0] == cvrUnitPrefix {
		dst = binary.AppendUvarint(dst, uint64(len(owners)))
		for _, o := range owners {
			dst = binary.BigEndian.AppendUint32(dst, uint32(o))
		}
	}
	return dst
}

// decodeCVRValue decodes the value stored under key; errCorrupt for a
// value that does not fit its key.
func decodeCVRValue(key, v []byte) (flags byte, owners []cvr.Number, err error) {
	if len(v) == 0 || v[0]&^cvrProtected != 0 {
		return 0, nil, errCorrupt
	}
	flags = v[0]
	switch {
	case len(key) == 5 && key[0] == cvrCompanyPrefix:
		if len(v) != 1 {
			return 0, nil, errCorrupt
		}
		return flags, nil, nil
	case len(key) == 9 && key[0] == cvrUnitPrefix:
		n, w := binary.Uvarint(v[1:])
		if w <= 0 || uint64(len(v)-1-w) != 4*n {
			return 0, nil, errCorrupt
		}
		b := v[1+w:]
		owners = make([]cvr.Number, 0, n)
		for i := 0; i < len(b); i += 4 {
			owners = append(owners, cvr.Number(binary.BigEndian.Uint32(b[i:])))
		}
		return flags, owners, nil
	}
	return 0, nil, errCorrupt
}

// cvrData serves a CVR version to the screening engine.
type cvrData struct{ r *reader }

func (c cvrData) Info() screening.DatasetInfo { return c.r.d.info() }

// Company implements screening.CVRRegister. Its errors are *ReadError and
// errCorrupt for a damaged value.
func (c cvrData) Company(n cvr.Number) (screening.CVRCompany, bool, error) {
	var k [5]byte
	k[0] = cvrCompanyPrefix
	binary.BigEndian.PutUint32(k[1:], uint32(n))
	var out screening.CVRCompany
	found, err := c.r.get(k[:], func(v []byte) error {
		flags, _, err := decodeCVRValue(k[:], v)
		out.Protected = flags&cvrProtected != 0
		return err
	})
	return out, found, err
}

// Unit implements screening.CVRRegister. Its errors are *ReadError and
// errCorrupt for a damaged value.
func (c cvrData) Unit(p cvr.PNumber) (screening.CVRUnit, bool, error) {
	var k [9]byte
	k[0] = cvrUnitPrefix
	binary.BigEndian.PutUint64(k[1:], uint64(p))
	var out screening.CVRUnit
	found, err := c.r.get(k[:], func(v []byte) error {
		flags, owners, err := decodeCVRValue(k[:], v)
		out.Protected, out.Owners = flags&cvrProtected != 0, owners
		return err
	})
	return out, found, err
}
