package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/robinscreen/robinscreen/cprcheck"
	"github.com/robinscreen/robinscreen/robinson"
	"github.com/robinscreen/robinscreen/screening"
)

// Phase names reported through Progress.
const (
	PhaseHashing = "hashing"
	PhaseReading = "reading"
	PhaseWriting = "writing"
	PhaseVerify  = "verifying"
	PhaseSwitch  = "switching"
	PhaseDone    = "done"
)

// Progress reports how a load advances.
type Progress struct {
	Phase string
	// Lines read from the source file so far.
	Lines int
	// Bytes is the size of the source file.
	Bytes int64
}

// LoadOptions configure one load.
type LoadOptions struct {
	// Published overrides the publication (Robinson) or production (CPR)
	// date found in the file, a road register's date, CVR data's
	// extraction date.
	Published time.Time
	// MaxRejectRatio overrides the default reject threshold (0.1 %).
	MaxRejectRatio float64
	// Progress is called as the load advances; it may be nil.
	Progress func(Progress)
	// Now is the clock for LoadedAt; nil = time.Now.
	Now func() time.Time
	// Synthetic marks the bundled demo dataset; a store refuses to mix it
	// with real data.
	Synthetic bool
	// Reserved means the caller holds the kind's load slot (Reserve).
	Reserved bool
	// SourceName names the file in manifests, refusals and errors when it
	// differs from the path's base name (an upload staged under a temporary
	// name).
	SourceName string
	// AllowShrink accepts a version with fewer than ShrinkPercent % of the
	// records of the serving version it replaces (the operator says the
	// shrink is expected).
	AllowShrink bool
}

func (o *LoadOptions) sourceName(path string) string {
	if o.SourceName != "" {
		return filepath.Base(o.SourceName)
	}
	return filepath.Base(path)
}

func (o *LoadOptions) displayPath(path string) string {
	if o.SourceName != "" {
		return filepath.Base(o.SourceName)
	}
	return path
}

func (o *LoadOptions) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

func (o *LoadOptions) report(p Progress) {
	if o.Progress != nil {
		o.Progress(p)
	}
}

// LoadError is returned when a source file is refused. The serving version
// is untouched.
type LoadError struct {
	Kind, File string
	Err        error
}

func (e *LoadError) Error() string {
	return fmt.Sprintf("%s file %s refused: %v", e.Kind, e.File, e.Err)
}

func (e *LoadError) Unwrap() error { return e.Err }

// ErrFutureDate means a publication or production date lies in the future:
// such a dataset would never become stale.
var ErrFutureDate = errors.New("publication date lies in the future")

// ShrinkPercent is the share of the serving version's records below which
// a new version is refused without LoadOptions.AllowShrink: a file cut in
// the middle, or the wrong file, would otherwise clear everyone it lost.
const ShrinkPercent = 90

// ErrShrink means a new version holds fewer than ShrinkPercent % of the
// records of the serving version (a *ShrinkError).
var ErrShrink = errors.New("store: far fewer records than the serving version")

// ShrinkError refuses a version with fewer than ShrinkPercent % of the
// records of the serving version it would replace. errors.Is(err,
// ErrShrink) holds.
type ShrinkError struct {
	Records, Serving int    // records of the new file and of the serving version
	Version          string // the serving version
}

func (e *ShrinkError) Error() string {
	return fmt.Sprintf("%d records, fewer than %d %% of the %d records of the serving version %s; pass --allow-shrink if expected",
		e.Records, ShrinkPercent, e.Serving, e.Version)
}

// Is makes errors.Is(err, ErrShrink) hold.
func (e *ShrinkError) Is(target error) bool { return target == ErrShrink }

// checkPublished refuses dates more than a day ahead of now.
func checkPublished(published, now time.Time) error {
	if published.After(now.Add(24 * time.Hour)) {
		return fmt.Errorf("%w (%s)", ErrFutureDate, published.Format(time.DateOnly))
	}
	return nil
}

// checkMix refuses a load that would put real and synthetic data side by
// side in one directory.
func (s *Store) checkMix(synthetic bool) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for kind, d := range s.serving {
		if d.man.Synthetic != synthetic {
			if d.man.Synthetic {
				return fmt.Errorf("%w (%s); load real data into another data directory", ErrSynthetic, kind)
			}
			return fmt.Errorf("store: the data directory holds real data (%s); the demo dataset is not loaded into it", kind)
		}
	}
	return nil
}

// Reserve takes kind's load slot for a load the caller starts later with
// LoadOptions.Reserved; it returns ErrLoadInProgress when the slot is
// taken and ErrClosed after Close. Call release when done.
func (s *Store) Reserve(kind string) (release func(), err error) {
	if err := validKind(kind); err != nil {
		return nil, err
	}
	return s.beginLoad(kind)
}

// slot takes the load slot unless the caller reserved it.
func (s *Store) slot(kind string, opt *LoadOptions) (func(), error) {
	if opt.Reserved {
		return func() {}, nil
	}
	return s.beginLoad(kind)
}

// beginLoad marks kind as loading; it returns ErrLoadInProgress if it is.
func (s *Store) beginLoad(kind string) (func(), error) {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	if s.loading[kind] {
		return nil, ErrLoadInProgress
	}
	s.loading[kind] = true
	return func() {
		s.loadMu.Lock()
		delete(s.loading, kind)
		s.loadDone.Broadcast() // Close may be waiting
		s.loadMu.Unlock()
	}, nil
}

// hashingReader hashes what is read through it while the reads run on
// contiguously from the start of the file, so the source file's checksum
// costs no extra pass: the parsers (ingest.Open) query the size with Seek,
// read the whole file once to decide its encoding, then seek back. The
// source is read from offset 0.
type hashingReader struct {
	f       io.ReadSeeker
	h       hash.Hash
	n       int64 // bytes hashed: the file's first n bytes
	pos     int64 // the current offset
	hashing bool
}

func (r *hashingReader) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	if r.hashing && r.pos == r.n {
		r.h.Write(p[:n])
		r.n += int64(n)
	}
	r.pos += int64(n)
	return n, err
}

func (r *hashingReader) Seek(off int64, whence int) (int64, error) {
	pos, err := r.f.Seek(off, whence)
	if err != nil {
		r.hashing = false // the offset is unknown now
		return pos, err
	}
	r.pos = pos
	return pos, nil
}

// sum returns the file's SHA-256, reading it again if the first pass did
// not cover the whole file.
func (r *hashingReader) sum(size int64) (string, error) {
	if r.n != size {
		return readerSHA256(r.f)
	}
	return hex.EncodeToString(r.h.Sum(nil)), nil
}

// newBuild creates a temporary build directory for kind.
func (s *Store) newBuild(kind string) (string, error) {
	if err := os.MkdirAll(s.kindDir(kind), 0o700); err != nil {
		return "", err
	}
	return os.MkdirTemp(s.kindDir(kind), ".build-")
}

// VersionName returns the name of the version built from a source file
// with the SHA-256 sum (hex) and the publication date published: the date
// as YYYYMMDD, a hyphen and the first 16 hex digits of the sum, e.g.
// "20261101-3f9a1c0e2b7d4a65". The name is the content's (screening rule
// 5.3): the same file, with the same date, gives the same name on every
// replica and every reload. The date is part of it because an operator may
// set it (--published, --streets-date): the same bytes declared with
// another date are another dataset. Versions named by an older robinscreen
// after their load time ("20261122T205613Z-c3f0eec5") keep their names.
func VersionName(sum string, published time.Time) string {
	if len(sum) > versionSumDigits {
		sum = sum[:versionSumDigits]
	}
	return published.UTC().Format("20060102") + "-" + sum
}

// versionSumDigits is how many hex digits of the source's SHA-256 a
// version name holds (64 bits).
const versionSumDigits = 16

// ErrVersionClash means a version directory of the new version's name
// holds another source file or date (a clash of the name's 64 bits of
// SHA-256): the load is refused rather than serving either under the
// other's name.
var ErrVersionClash = errors.New("store: a version of the same name holds another file")

// existing tells what the data directory already holds under the name of
// a newly built version (man.Version): nothing (""), the serving version
// ("serving"), or a version that is kept but not serving ("kept"). It
// returns ErrVersionClash when the version of that name was built from
// another file or date.
func (s *Store) existing(kind string, man *Manifest) (string, error) {
	old, err := readManifest(filepath.Join(s.kindDir(kind), man.Version))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err == nil && (old.SourceSHA256 != man.SourceSHA256 || !old.Published.Equal(man.Published)) {
		return "", fmt.Errorf("%w (version %s)", ErrVersionClash, man.Version)
	}
	if err == nil && s.servesUndamaged(kind, man.Version) {
		return "serving", nil
	}
	// Kept but not serving (the previous version, or one that does not
	// open: damaged, an outdated format): replaced by the new build.
	return "kept", nil
}

// servesUndamaged reports whether version serves kind and has not been
// found damaged.
func (s *Store) servesUndamaged(kind, version string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.serving[kind]
	return d != nil && d.man.Version == version && d.damaged() == nil
}

// commit finishes a build: writes the manifest, makes the build durable,
// renames it to its version name, test-opens it and switches to it.
func (s *Store) commit(ctx context.Context, kind, build string, man *Manifest, opt *LoadOptions) error {
	opt.report(Progress{Phase: PhaseVerify, Lines: man.Lines, Bytes: man.SourceBytes})
	// A Robinson build records the format its values were written in
	// (parseRobinson); the others follow from their filter.
	if man.Format == 0 {
		man.Format = formatKeyFilter
		switch man.Filter {
		case filterSignatures:
			man.Format = formatSignatures
		case filterSignaturesV2:
			man.Format = formatSignaturesV2
		case filterSignaturesV3:
			man.Format = formatSignaturesV3
		}
	}
	man.Kind = kind
	man.Version = VersionName(man.SourceSHA256, man.Published)
	have, err := s.existing(kind, man)
	if err != nil {
		return err
	}
	if have == "serving" {
		// The same content serves already: the build is dropped and the
		// serving version, with its own load time, stays.
		s.mu.RLock()
		*man = s.serving[kind].man
		s.mu.RUnlock()
		man.Unchanged = true
		opt.report(Progress{Phase: PhaseDone, Lines: man.Lines, Bytes: man.SourceBytes})
		return nil
	}
	// Every file the decisions depend on is hashed into the manifest and
	// checked whenever the version opens, and by the scrub.
	files, err := hashVersionFiles(build)
	if err != nil {
		return err
	}
	man.Files = files
	if err := writeManifest(build, man); err != nil {
		return err
	}
	if err := syncTree(build); err != nil {
		return err
	}
	failpoint(FailpointBuilt)
	final := filepath.Join(s.kindDir(kind), man.Version)
	if have == "kept" {
		// Moved aside under a build name first, so that a crash leaves
		// either the old directory or the new one under the version's
		// name, never half of one (Open removes .build-* directories).
		aside := build + "-replaced"
		if err := os.Rename(final, aside); err != nil {
			return err
		}
		defer os.RemoveAll(aside)
	}
	if err := os.Rename(build, final); err != nil {
		return err
	}
	if err := syncDir(s.kindDir(kind)); err != nil {
		return err
	}
	// Test-load before switching: the new version must open and agree with
	// its manifest.
	failpoint(FailpointRenamed)
	d, err := s.openVersion(kind, man.Version)
	if err != nil {
		os.RemoveAll(final)
		return fmt.Errorf("store: new version does not open: %w", err)
	}
	if d.man.SourceSHA256 != man.SourceSHA256 || d.filter.empty() && man.Keys > 0 {
		d.close()
		os.RemoveAll(final)
		return errors.New("store: new version does not agree with its manifest")
	}
	if err := d.verifyFilter(); err != nil {
		d.close()
		os.RemoveAll(final)
		return err
	}
	if err := ctx.Err(); err != nil {
		d.close()
		os.RemoveAll(final)
		return err
	}
	opt.report(Progress{Phase: PhaseSwitch, Lines: man.Lines, Bytes: man.SourceBytes})
	previous := s.servingVersion(kind)
	if previous == "" || previous == man.Version {
		// Nothing serves (a damaged or outdated version was not opened):
		// the version the state file names stays as the previous one,
		// for inspection, rather than being pruned with the rest. A
		// version of the new one's name (damaged, and rebuilt now from
		// its file) is replaced, not kept as its own previous version.
		if st, err := s.readState(kind); err == nil {
			previous = st.Current
			if previous == man.Version {
				previous = st.Previous
			}
		}
	}
	if err := s.switchTo(kind, d, previous); err != nil {
		d.close()
		return err
	}
	opt.report(Progress{Phase: PhaseDone, Lines: man.Lines, Bytes: man.SourceBytes})
	return nil
}

// LoadRobinson loads a Robinson list file as a new version and switches to
// it. On any error — a refused file (*LoadError wrapping the parser's
// error, e.g. *ingest.EncodingError, *robinson.RejectError,
// robinson.ErrEmpty, robinson.ErrNoPublicationDate), ErrLoadInProgress,
// I/O — the serving version is left untouched.
func (s *Store) LoadRobinson(ctx context.Context, path string, opt LoadOptions) (*Manifest, error) {
	src, f, err := openSource(path, &opt)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return s.loadRobinson(ctx, src, opt.displayPath(path), opt)
}

func (s *Store) loadRobinson(ctx context.Context, src Source, display string, opt LoadOptions) (*Manifest, error) {
	return s.load(ctx, screening.KindRobinson, src, display, opt, s.parseRobinson)
}

// parsed is what a kind's parser hands the common load path.
type parsed struct {
	kb        kvBuilder
	merge     func(key, dst []byte, vals [][]byte) []byte
	filter    func() filterKeysFunc // nil: the filter holds the keys
	filterN   int                   // entries the filter is sized for, with filter
	published time.Time
	sum       func() (string, error) // the source file's SHA-256
	rejects   []Reject
	man       Manifest // the kind's own counts
}

// parseFunc parses src into p. Its error refuses the file.
type parseFunc func(ctx context.Context, src Source, opt *LoadOptions, p *parsed) error

// load is the path every load takes: it takes the kind's load slot, checks
// the free space, builds the new version (in a build process when
// Options.BuildCommand is set, else here), refuses the file (recording why)
// or commits the version.
func (s *Store) load(ctx context.Context, kind string, src Source, display string, opt LoadOptions, parse parseFunc) (*Manifest, error) {
	done, err := s.slot(kind, &opt)
	if err != nil {
		return nil, err
	}
	defer done()
	if err := s.checkMix(opt.Synthetic); err != nil {
		return nil, err
	}
	if man, err := s.sameAsServing(kind, src, &opt); err != nil || man != nil {
		return man, err
	}
	start := time.Now()
	build, err := s.newBuild(kind)
	if err != nil {
		return nil, noSpace(s.kindDir(kind), err)
	}
	defer os.RemoveAll(build) // no-op once renamed
	if err := checkSpace(s.kindDir(kind), src.Size); err != nil {
		return nil, err
	}
	base := s.shrinkBase(kind, &opt)
	var man *Manifest
	var ref *refusal
	if len(s.opts.BuildCommand) > 0 {
		man, ref, err = s.buildIsolated(ctx, kind, src, build, &opt, base)
	} else {
		man, ref, err = s.build(ctx, src, build, &opt, base, parse)
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, ctxErr // canceled by the caller: not a refusal of the file
	}
	if err != nil {
		return nil, noSpace(s.kindDir(kind), err)
	}
	if ref != nil {
		le := &LoadError{Kind: kind, File: display, Err: ref.err}
		s.recordRefused(kind, src, le, ref.rejects)
		return nil, le
	}
	man.LoadedAt = opt.now()
	man.LoadSeconds = time.Since(start).Seconds()
	if err := s.commit(ctx, kind, build, man, &opt); err != nil {
		return nil, noSpace(s.kindDir(kind), err)
	}
	if man.Unchanged {
		s.log.Info("dataset loaded again: the same version serves already, nothing changed", "kind", kind, "version", man.Version)
		return man, nil
	}
	s.log.Info("dataset loaded", "kind", kind, "version", man.Version, "records", man.Records, "rejected", man.Rejected, "published", man.Published.Format(time.DateOnly), "seconds", man.LoadSeconds)
	return man, nil
}

// sameAsServing returns the serving version's manifest, marked Unchanged,
// when src is the file it was built from with the same date: its size and
// SHA-256 agree, and the date asked for (opt.Published, or the file's own
// when none is given) is the one the version has. Such a load would build
// the same version again only to drop it (commit), so it is not built. The
// file is hashed only when its size agrees; it is read again from its
// start by a load that goes on. It returns nil when src is another file
// or does not read to its end, and the error of seeking back to its
// start.
func (s *Store) sameAsServing(kind string, src Source, opt *LoadOptions) (*Manifest, error) {
	s.mu.RLock()
	d := s.serving[kind]
	s.mu.RUnlock()
	if d == nil || d.damaged() != nil || d.man.SourceBytes != src.Size || d.man.SourceSHA256 == "" {
		return nil, nil // a damaged version is rebuilt from its file
	}
	if opt.Published.IsZero() && !d.man.PublishedFromHeader || !opt.Published.IsZero() && !opt.Published.Equal(d.man.Published) {
		return nil, nil // another date: another version
	}
	opt.report(Progress{Phase: PhaseHashing, Bytes: src.Size})
	sum, herr := readerSHA256(src.R)
	if _, err := src.R.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if herr != nil || sum != d.man.SourceSHA256 {
		// Another file; or one that does not read (a staged upload
		// altered on disk), which the load then refuses as it reads it.
		return nil, nil
	}
	man := d.man
	man.Unchanged = true
	opt.report(Progress{Phase: PhaseDone, Lines: man.Lines, Bytes: man.SourceBytes})
	s.log.Info("dataset loaded again: the same version serves already, nothing changed", "kind", kind, "version", man.Version)
	return &man, nil
}

// shrinkRef is the serving version a new one is compared with (the 90 %
// rule); Records 0 means none, or AllowShrink.
type shrinkRef struct {
	Records int    `json:"records,omitempty"`
	Version string `json:"version,omitempty"`
}

func (s *Store) shrinkBase(kind string, opt *LoadOptions) shrinkRef {
	if opt.AllowShrink {
		return shrinkRef{}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if d := s.serving[kind]; d != nil {
		return shrinkRef{Records: d.man.Records, Version: d.man.Version}
	}
	return shrinkRef{}
}

// check refuses records (the new version's) when they are fewer than
// ShrinkPercent % of the serving version's: a *ShrinkError.
func (b shrinkRef) check(records int) error {
	if b.Records > 0 && int64(records)*100 < int64(b.Records)*ShrinkPercent {
		return &ShrinkError{Records: records, Serving: b.Records, Version: b.Version}
	}
	return nil
}

// refusal is a refused file: why, and its rejected lines.
type refusal struct {
	err     error
	rejects []Reject
}

// build parses src and writes the new version's files into the build
// directory: it returns the version's manifest (without its version name
// and load time), or the refusal of the file, or the error that stopped
// it (the parser's I/O, Badger's, the file system's, ctx's).
func (s *Store) build(ctx context.Context, src Source, build string, opt *LoadOptions, base shrinkRef, parse parseFunc) (*Manifest, *refusal, error) {
	var p parsed
	err := parse(ctx, src, opt, &p)
	if err == nil {
		err = checkPublished(p.published, opt.now())
	}
	if err == nil {
		err = base.check(p.man.Records)
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, nil, ctxErr
	}
	if err != nil {
		return nil, &refusal{err: err, rejects: p.rejects}, nil
	}
	sum, err := p.sum()
	if err != nil {
		return nil, nil, err
	}
	opt.report(Progress{Phase: PhaseWriting, Lines: p.man.Lines, Bytes: src.Size})
	keys, bloomSum, err := p.kb.write(build, s.opts.EncryptionKey, s.log, p.merge, p.filterN, p.filter, p.man.Filter)
	p.kb = kvBuilder{} // the parsed pairs are in Badger now: let them go
	if err != nil {
		return nil, nil, err
	}
	man := &p.man
	man.SourceName, man.SourceSHA256, man.SourceBytes = src.Name, sum, src.Size
	man.Published = p.published
	man.Rejects, man.Keys, man.BloomFPRate, man.BloomSHA256 = p.rejects, keys, bloomFPRate, bloomSum
	man.Synthetic = opt.Synthetic
	return man, nil, nil
}

// parser returns the parse function of kind.
func (s *Store) parser(kind string) (parseFunc, error) {
	switch kind {
	case screening.KindRobinson:
		return s.parseRobinson, nil
	case screening.KindCPR:
		return s.parseCPR, nil
	case screening.KindStreets:
		return s.parseStreets, nil
	case screening.KindCVR:
		return s.parseCVR, nil
	}
	return nil, validKind(kind)
}

// parseRobinson stores each record under the blocking key of every
// distinct surname word of its list name (robinson.AppendKey), so that the
// blocking keys of one address are neighbours (NEAR-surname lookups read
// them by prefix). It counts the family-type words of the list into the
// version (familyKeyPrefix keys), and keeps the letters of the streets the
// list prints for each postcode and road (listRoadsKeyPrefix keys).
func (s *Store) parseRobinson(ctx context.Context, src Source, opt *LoadOptions, p *parsed) error {
	hr := &hashingReader{f: src.R, h: sha256.New(), hashing: true}
	p.sum = func() (string, error) { return hr.sum(src.Size) }
	p.merge = mergeRecords
	format := robinsonFormat
	p.filter = func() filterKeysFunc { return robinsonFilterKeys(format) }
	p.kb.summary = &addressSummary{nearLists: format >= formatNearLists, found: make(chan nearList, 1024)}
	var rec, key []byte
	var words []string
	var sigs robinson.RecordSigs
	var family robinson.FamilyCounter
	var listRoads robinson.ListRoads
	// About one pair per 100 bytes of list file (a record line is over 150
	// bytes; a few records have two surname words).
	p.kb.grow(int(max(0, min(src.Size/100, 1<<25))))
	ropt := robinson.Options{
		Published:      opt.Published,
		MaxRejectRatio: opt.MaxRejectRatio,
		Progress: func(lines int) {
			opt.report(Progress{Phase: PhaseReading, Lines: lines, Bytes: src.Size})
		},
	}
	stats, err := robinson.Parse(hr, ropt, func(r *robinson.Record) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if p.kb.len() == 0 {
			failpoint(FailpointReading)
		}
		family.Add(r)
		listRoads.Add(r)
		rec = appendRecord(rec[:0], r)
		sigs.Signatures(r)
		vRef, err := p.kb.addValue(rec)
		if err != nil {
			return err
		}
		words = words[:0]
		for _, sn := range r.Name.Surnames {
			if slices.Contains(words, sn) {
				continue
			}
			words = append(words, sn)
			key = robinson.AppendKey(append(key[:0], 'r'), r.Address.Postcode, r.Address.HouseNumber, sn)
			if err := p.kb.addKey(key, vRef); err != nil {
				return err
			}
			p.filterN += sigs.KeyCount()
		}
		return nil
	})
	for _, r := range stats.Rejects {
		p.rejects = append(p.rejects, Reject{Line: r.Line, Reason: r.Err.Error()})
	}
	p.published = stats.Published
	p.man = Manifest{
		Format:   format, // what the values were written as
		Encoding: stats.Encoding, PublishedFromHeader: stats.PublishedFromHeader,
		Lines: stats.Lines, HeaderLines: stats.HeaderLines, Blank: stats.Blank,
		Records: stats.Records, Current: stats.Current, Previous: stats.Previous, Rejected: stats.Rejected,
		Filter: filterSignaturesV3,
	}
	if err != nil {
		return err
	}
	// The family-type words live in Badger (encrypted at rest like the
	// records: they are surnames), one key each.
	set := family.Set()
	for w := range set {
		if err := p.kb.add(append([]byte{familyKeyPrefix}, w...), nil); err != nil {
			return err
		}
	}
	p.man.FamilyTypes = len(set)
	// The postcodes and roads, with the letters of their printed streets.
	var lerr error
	listRoads.Each(func(postcode string, road robinson.RoadID, letters []byte) {
		if lerr == nil {
			key = appendListRoadKey(key[:0], postcode, road)
			lerr = p.kb.add(key, letters)
		}
	})
	p.man.ListRoads = listRoads.Len()
	return lerr
}

// robinsonFilterKeys returns a filterKeysFunc that adds, for every record
// stored under a blocking key, its signature keys (robinson.RecordSigs:
// the exact-surname pairs and road key under that key, the NEAR-surname
// signature keys under their address groups): the filter then rules out
// not only blocking keys without records but also records that cannot
// match the contact.
func robinsonFilterKeys(format int) filterKeysFunc {
	var rec robinson.Record
	var sigs robinson.RecordSigs
	var buf, ak []byte
	return func(key, val []byte, add filterAdd) error {
		if len(key) == 0 || key[0] != 'r' || key[len(key)-1] == addressSummaryMark {
			return nil
		}
		if format >= formatNearLists {
			_, rest, err := splitNearList(val)
			if err != nil {
				return err
			}
			val = rest
		}
		// The signatures keep no string of the record.
		return eachRecord(val, true, &rec, func(r *robinson.Record) {
			sigs.Signatures(r)
			ak = robinson.AppendAddressKey(ak[:0], r.Address.Postcode, r.Address.HouseNumber)
			buf = sigs.EachKey(buf, key, ak, add)
		})
	}
}

// robinsonFormat is the format of the Robinson versions this binary
// builds: formatNearLists. Tests set formatSignaturesV3 to build a
// version as the binary before near lists did.
var robinsonFormat = formatNearLists

// addressSummaryMark ends the key of an address summary: 'r', the address
// key (robinson.AppendAddressKey) and this byte, which no surname word
// holds (it is never part of valid UTF-8), so the summary sorts after
// every blocking key of its address and before the next address's.
const addressSummaryMark = 0xff

// addressSummary sums up the blocking keys of one address: the summary
// holds the address's surname words of at least robinson.MinEditLetters
// letters, each prefixed with its length. A NEAR-surname lookup reads it
// instead of scanning the address's keys.
//
// It also writes each blocking key's near list (format 5) in front of the
// key's records: the summary's words one edit from the key's own surname
// word (robinson.OneEdit), in key order, as the summary encodes them.
// A contact each of whose surname words of MinEditLetters runes is stored
// at its address, under a key the filter let through, learns them from
// the reads of its own keys and need not read the summary (see
// robinsonList.NearCandidates).
type addressSummary struct {
	group []byte
	words []byte
	// nearLists: write the near lists (format 5).
	nearLists bool

	// The scan's current address and its blocking keys' words, which
	// point into the builder's arena (never changed once added): NearPairs
	// compares them, in the order a contact's lookup compares its own word
	// with a list word (Probe.NearSurname: the contact's word first).
	scanGroup []byte
	scanWords []string
	scanned   uint32 // blocking keys scanned
	// found carries the non-empty near lists, in key order, from scan to
	// head; pending is the next one (pendingOK: received), written counts
	// the blocking keys written.
	found     chan nearList
	pending   nearList
	pendingOK bool
	written   uint32
	scratch   robinson.NearScratch
	err       error // set by head: see finish
}

// nearList is one blocking key's near list: the key's position among the
// blocking keys, and the encoded words.
type nearList struct {
	key   uint32
	words []byte
}

func (a *addressSummary) scan(next func() []byte, stop <-chan struct{}) {
	if !a.nearLists {
		return
	}
	defer close(a.found)
	for key := next(); key != nil; key = next() {
		g := a.groupOf(key)
		if g == nil {
			continue
		}
		if !bytes.Equal(g, a.scanGroup) {
			select {
			case <-stop:
				return
			default:
			}
			if !a.endScan(stop) {
				return
			}
			a.scanGroup = g
		}
		a.scanWords = append(a.scanWords, asString(key[len(g):]))
	}
	a.endScan(stop)
}

// endScan works out the near lists of the scanned address's keys and
// hands them to head; it returns false when stop was closed first.
func (a *addressSummary) endScan(stop <-chan struct{}) bool {
	ws := a.scanWords
	first := a.scanned
	a.scanned += uint32(len(ws))
	a.scanWords, a.scanGroup = ws[:0], nil
	if len(ws) < 2 {
		return true
	}
	// The lists are built in key order: NearPairs gives each word's
	// neighbours in increasing j, and the words are sorted.
	li := -1
	var l []byte
	sent := true
	end := func() {
		if l != nil && sent {
			select {
			case a.found <- nearList{key: first + uint32(li), words: l}:
			case <-stop:
				sent = false
			}
		}
		l = nil
	}
	robinson.NearPairs(ws, &a.scratch, func(i, j int) {
		if i != li {
			end()
			li = i
		}
		l = binary.AppendUvarint(l, uint64(len(ws[j])))
		l = append(l, ws[j]...)
	})
	end()
	return sent
}

// head appends the near list of the next blocking key to dst: its
// length, then its words (eachWord); nothing for other keys.
func (a *addressSummary) head(dst, key []byte) []byte {
	if !a.nearLists || a.groupOf(key) == nil {
		return dst
	}
	if !a.pendingOK {
		a.pending, a.pendingOK = <-a.found
		if !a.pendingOK {
			a.pending.key = math.MaxUint32 // no more lists
		}
		a.pendingOK = true
	}
	var l []byte
	switch {
	case a.pending.key == a.written:
		l = a.pending.words
		a.pendingOK = false
	case a.pending.key < a.written && a.err == nil:
		// A list for a key already written: scan and write disagree
		// (finish refuses the build).
		a.err = fmt.Errorf("store: near list of blocking key %d arrived after it was written", a.pending.key)
	}
	a.written++
	dst = binary.AppendUvarint(dst, uint64(len(l)))
	return append(dst, l...)
}

// finish, after every key is written, waits for scan to end and checks
// that it saw the same blocking keys as head and that every list found
// its key: a list left over would be a key written without its near
// words, which could hide a NEAR match. It returns that disagreement.
func (a *addressSummary) finish() error {
	if !a.nearLists {
		return nil
	}
	left := 0
	if a.pendingOK && a.pending.key != math.MaxUint32 {
		left++
	}
	for range a.found { // scan closes it when it ends
		left++
	}
	if a.err == nil && (left > 0 || a.scanned != a.written) {
		a.err = fmt.Errorf("store: near lists disagree with the keys written (%d keys scanned, %d written, %d lists left)", a.scanned, a.written, left)
	}
	return a.err
}

// asString returns b as a string without copying: b must not change
// while the string is in use.
func asString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// groupOf returns 'r' and the address key of a blocking key.
func (a *addressSummary) groupOf(key []byte) []byte {
	if len(key) == 0 || key[0] != 'r' {
		return nil
	}
	i := bytes.IndexByte(key[1:], robinson.KeySeparator)
	if i < 0 {
		return nil
	}
	j := bytes.IndexByte(key[2+i:], robinson.KeySeparator)
	if j < 0 {
		return nil
	}
	return key[:2+i+j+1]
}

func (a *addressSummary) add(key []byte) {
	g := a.groupOf(key)
	a.group = append(a.group[:0], g...)
	if w := key[len(g):]; utf8.RuneCount(w) >= robinson.MinEditLetters {
		a.words = binary.AppendUvarint(a.words, uint64(len(w)))
		a.words = append(a.words, w...)
	}
}

func (a *addressSummary) flush() (key, val []byte) {
	if len(a.words) == 0 {
		return nil, nil
	}
	key = append(append([]byte(nil), a.group...), addressSummaryMark)
	val = append([]byte(nil), a.words...)
	a.words = a.words[:0]
	return key, val
}

// mergeRecords joins values, each prefixed with its length.
func mergeRecords(_, dst []byte, vals [][]byte) []byte {
	for _, v := range vals {
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		dst = append(dst, v...)
	}
	return dst
}

// LoadCPR loads a CPR extract as a new version and switches to it. Personal
// numbers are stored only as pseudonyms. On any error — a refused file
// (*LoadError wrapping e.g. *ingest.EncodingError, cprcheck.ErrTruncated,
// *cprcheck.RejectError),
// ErrLoadInProgress, I/O — the serving version is left untouched.
func (s *Store) LoadCPR(ctx context.Context, path string, opt LoadOptions) (*Manifest, error) {
	src, f, err := openSource(path, &opt)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return s.loadCPR(ctx, src, opt.displayPath(path), opt)
}

func (s *Store) loadCPR(ctx context.Context, src Source, display string, opt LoadOptions) (*Manifest, error) {
	return s.load(ctx, screening.KindCPR, src, display, opt, s.parseCPR)
}

// parseCPR folds the extract's entries per person under the person's
// pseudonym; the personal number itself is never kept.
func (s *Store) parseCPR(ctx context.Context, src Source, opt *LoadOptions, p *parsed) error {
	hr := &hashingReader{f: src.R, h: sha256.New(), hashing: true}
	p.sum = func() (string, error) { return hr.sum(src.Size) }
	p.merge = func(_, dst []byte, vals [][]byte) []byte { return append(dst, vals[0]...) }
	persons := map[[PseudonymSize]byte]*cprcheck.Person{}
	copt := cprcheck.ExtractOptions{
		ProductionDate: opt.Published,
		MaxRejectRatio: opt.MaxRejectRatio,
		Progress: func(lines int) {
			opt.report(Progress{Phase: PhaseReading, Lines: lines, Bytes: src.Size})
		},
	}
	stats, err := cprcheck.ParseExtract(hr, copt, func(e cprcheck.Entry) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(persons) == 0 {
			failpoint(FailpointReading)
		}
		k := s.pseud.Pseudonym(e.Number)
		person := persons[k]
		if person == nil {
			person = &cprcheck.Person{}
			persons[k] = person
		}
		person.Add(e)
		return nil
	})
	for _, r := range stats.Rejects {
		p.rejects = append(p.rejects, Reject{Line: r.Line, Reason: r.Err.Error()})
	}
	p.published = stats.ProductionDate
	p.man = Manifest{
		PublishedFromHeader: opt.Published.IsZero(), Lines: stats.Lines, Blank: stats.Blank, Skipped: stats.Skipped,
		Records: stats.Persons + stats.Protections, Persons: len(persons), Rejected: stats.Rejected,
		KeyFingerprint: s.pseud.Fingerprint(),
	}
	if err != nil {
		return err
	}
	var val []byte
	for k, person := range persons {
		p.man.Protections += len(person.Protections)
		val = appendPerson(val[:0], person)
		if err := p.kb.add(append([]byte{'p'}, k[:]...), val); err != nil {
			return err
		}
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := jsonMarshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// readerSHA256 returns the hex SHA-256 of everything in r from its start.
func readerSHA256(r io.ReadSeeker) (string, error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Source is a dataset file to load: seekable from its start, with its size.
type Source struct {
	R    io.ReadSeeker
	Size int64
	// Name names the file in manifests, refusals and error messages.
	Name string
}

// LoadSource loads src as a new version of kind, like LoadRobinson,
// LoadCPR, LoadStreets and LoadCVR (which it shares its errors with). The server uses it to load an
// upload staged encrypted.
func (s *Store) LoadSource(ctx context.Context, kind string, src Source, opt LoadOptions) (*Manifest, error) {
	switch kind {
	case screening.KindRobinson:
		return s.loadRobinson(ctx, src, src.Name, opt)
	case screening.KindCPR:
		return s.loadCPR(ctx, src, src.Name, opt)
	case screening.KindStreets:
		return s.loadStreets(ctx, src, src.Name, opt)
	case screening.KindCVR:
		return s.loadCVR(ctx, src, src.Name, opt)
	}
	return nil, validKind(kind)
}

// openSource opens a file as a Source; close it with the returned file.
func openSource(path string, opt *LoadOptions) (Source, *os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return Source{}, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return Source{}, nil, err
	}
	return Source{R: f, Size: fi.Size(), Name: opt.sourceName(path)}, f, nil
}
