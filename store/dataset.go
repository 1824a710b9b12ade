package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/robinscreen/robinscreen/roads"
	"github.com/robinscreen/robinscreen/robinson"
	"github.com/robinscreen/robinscreen/screening"
)

// Manifest describes one dataset version. It holds no personal data.
type Manifest struct {
	Format              int       `json:"format"`
	Kind                string    `json:"kind"`
	Version             string    `json:"version"`
	SourceName          string    `json:"source_name"`
	SourceSHA256        string    `json:"source_sha256"`
	SourceBytes         int64     `json:"source_bytes"`
	Encoding            string    `json:"encoding,omitempty"`
	Published           time.Time `json:"published"`
	PublishedFromHeader bool      `json:"published_from_header"`
	LoadedAt            time.Time `json:"loaded_at"`
	LoadSeconds         float64   `json:"load_seconds"`
	Lines               int       `json:"lines"`
	HeaderLines         int       `json:"header_lines,omitempty"`
	Blank               int       `json:"blank_lines,omitempty"`
	Skipped             int       `json:"skipped_lines,omitempty"`
	Records             int       `json:"records"`
	Current             int       `json:"current,omitempty"`
	Previous            int       `json:"previous,omitempty"`
	Persons             int       `json:"persons,omitempty"`
	Protections         int       `json:"protections,omitempty"`
	// A road register's counts: roads (Records), postal-district (004)
	// and earlier-name (016) records, and postcodes with a district.
	Roads           int `json:"roads,omitempty"`
	PostalDistricts int `json:"postal_districts,omitempty"`
	EarlierNames    int `json:"earlier_names,omitempty"`
	Postcodes       int `json:"postcodes,omitempty"`
	// CVR data's counts: companies and production units accepted (their
	// sum is Records; a number listed twice counts twice, Keys once),
	// how many of them carry advertising protection, and documents of
	// other CVR types skipped.
	Companies            int      `json:"companies,omitempty"`
	ProductionUnits      int      `json:"production_units,omitempty"`
	AdvertisingProtected int      `json:"advertising_protected,omitempty"`
	OtherDocuments       int      `json:"other_documents,omitempty"`
	Rejected             int      `json:"rejected"`
	Rejects              []Reject `json:"rejects,omitempty"`
	Keys                 int      `json:"keys"`
	BloomFPRate          float64  `json:"bloom_fp_rate"`
	KeyFingerprint       string   `json:"key_fingerprint,omitempty"`
	BloomSHA256          string   `json:"bloom_sha256"`
	// Filter says what the Bloom filter holds: the keys (empty) or, for a
	// Robinson list, "signatures-v3" (robinson.RecordSigs: exact-surname
	// pairs of street and given-name letters, road keys and NEAR-surname
	// signature keys). Robinson versions of the first matching rules
	// (format 1, a key filter, and format 2, "signatures") are not served
	// (ErrOutdatedFormat); those of format 3 ("signatures-v2", without the
	// street) are served without consulting their filter (every key is
	// read). FilterWildcards: a format 2 version has a record with a
	// wildcard signature.
	Filter          string `json:"filter,omitempty"`
	FilterWildcards bool   `json:"filter_wildcards,omitempty"`
	// FamilyTypes counts the family-type given names (screening-rules.md
	// section 3.4) of a Robinson list, kept under familyKeyPrefix keys.
	FamilyTypes int `json:"family_types,omitempty"`
	// ListRoads counts the postcode and road pairs of a Robinson list's
	// records (format 4), kept under listRoadsKeyPrefix keys with the
	// letters of the streets the list prints for them.
	ListRoads int `json:"list_roads,omitempty"`
	// Synthetic marks the bundled demo dataset (invented people).
	Synthetic bool `json:"synthetic,omitempty"`
	// Files holds the size and SHA-256 of every file of the version
	// directory but the manifest (Badger's tables, MANIFEST and key
	// registry, the filter), keyed by the path relative to the version
	// directory: taken at build, checked before the version opens and by
	// the scrub. A version built before verified storage has none: its
	// Badger tables are checked by Badger at open, and its files are then
	// hashed once and recorded here, with FilesHashedAt set.
	Files map[string]FileSum `json:"files,omitempty"`
	// FilesHashedAt is when Files was recorded at a first open rather
	// than at build; zero for versions hashed at build.
	FilesHashedAt time.Time `json:"files_hashed_at,omitzero"`
	// Unchanged is set (never stored) on the manifest a load returns when
	// the version built from its file was serving already: nothing
	// changed, and the manifest is the serving version's, load time
	// included.
	Unchanged bool `json:"-"`
}

// Reject is a rejected source line: its number and why, never its content.
type Reject struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

const (
	manifestFile = "manifest.json"
	bloomFile    = "bloom.bin"
	// sigBloomFile holds a signature filter. Its own name makes a binary
	// that predates signature filters, which would test blocking keys
	// against it and find none, fail to open the version instead.
	sigBloomFile = "bloom-sig.bin"
	badgerDir    = "badger"
	bloomFPRate  = 0.001

	// sigBloomFileV2 holds a signature filter of the second matching
	// rules; a binary that predates them refuses format 3 anyway.
	sigBloomFileV2 = "bloom-sig2.bin"
	// sigBloomFileV3 holds the signature filter of format 4 versions.
	sigBloomFileV3 = "bloom-sig3.bin"
	// familyKeyPrefix starts the key of each family-type word of a
	// Robinson version (format 3); blocking keys start with 'r'.
	familyKeyPrefix = 'f'

	filterSignatures   = "signatures"
	filterSignaturesV2 = "signatures-v2"
	filterSignaturesV3 = "signatures-v3"

	// formatKeyFilter versions have a Bloom filter of their keys;
	// formatSignatures versions the first Robinson signature filter;
	// formatSignaturesV2 versions the NEAR-aware signature filter and the
	// family-type words; formatSignaturesV3 versions the signature filter
	// with street letters and road keys, the family-type words and the
	// list's roads (listRoadsKeyPrefix); formatNearLists versions are
	// formatSignaturesV3 versions (the same filter and keys) whose
	// blocking keys' values start with their near lists
	// (addressSummary.head), so that a binary that reads values without
	// them must not open one.
	formatKeyFilter    = 1
	formatSignatures   = 2
	formatSignaturesV2 = 3
	formatSignaturesV3 = 4
	formatNearLists    = 5
)

// filterFile returns the Bloom filter's file name for a manifest's filter.
func filterFile(filter string) string {
	switch filter {
	case filterSignatures:
		return sigBloomFile
	case filterSignaturesV2:
		return sigBloomFileV2
	case filterSignaturesV3:
		return sigBloomFileV3
	}
	return bloomFile
}

// checkFormat refuses a manifest this binary cannot serve safely: an
// unknown format or filter (a filter read the wrong way would hide
// listed people), and a Robinson version from before matching v2
// (ErrOutdatedFormat).
func checkFormat(m *Manifest) error {
	switch {
	case m.Kind == screening.KindRobinson && m.Format < formatSignaturesV2 && m.Format >= formatKeyFilter:
		return fmt.Errorf("%w (version %s, format %d)", ErrOutdatedFormat, m.Version, m.Format)
	case m.Format == formatKeyFilter && m.Filter == "":
	case m.Format == formatSignaturesV2 && m.Filter == filterSignaturesV2:
	case m.Format == formatSignaturesV3 && m.Filter == filterSignaturesV3:
	case m.Format == formatNearLists && m.Filter == filterSignaturesV3 && m.Kind == screening.KindRobinson:
	default:
		return fmt.Errorf("store: version %s has format %d, filter %q, which this robinscreen does not know (written by a newer one?)", m.Version, m.Format, m.Filter)
	}
	return nil
}

// dataset is one opened, immutable dataset version.
type dataset struct {
	dir    string
	man    Manifest
	db     *badger.DB
	filter keyFilter
	family robinson.FamilySet // a Robinson list's family-type words
	// listRoads: a Robinson list's postcodes and roads (format 4), and
	// extras what a road register adds to them (roadExtras).
	listRoads *robinson.ListRoads
	extras    extrasCache
	roads     *roads.Register // a road register, read into memory at open
	maxAge    time.Duration
	reads     atomic.Int64 // Badger reads: only keys the Bloom filter lets through
	inflight  sync.RWMutex // screening holds RLock; retiring takes Lock, then closes
	// damage, once set, makes every read of the version fail (ErrDamaged).
	damage atomic.Pointer[DamageError]
	// onDamage is called once when a read first finds the version damaged.
	onDamage func(*dataset)
	// blocks checks the blocks behind a read that Badger answers "not
	// found" (see blockcheck.go); nil for an encrypted version.
	blocks *blockChecker
	// index, when set, reads the version's tables without Badger (see
	// blockindex.go); nil for a version read through Badger.
	index *blockIndex
}

// markDamaged records the version's damage; it reports whether this call
// was the first to do so. Every later read fails with it.
func (d *dataset) markDamaged(e *DamageError) bool {
	return d.damage.CompareAndSwap(nil, e)
}

// damaged returns the version's damage, or nil.
func (d *dataset) damaged() *DamageError { return d.damage.Load() }

// badgerOptions are the options of every dataset version. Tables are not
// compressed: a version is read at random (one block per Bloom-positive
// lookup), where decompressing a 4 KB block cost more than the read
// itself, and without compression Badger reads blocks straight from the
// memory-mapped table, so no block cache is needed. Badger requires one
// for encrypted tables. Badger's own per-table Bloom filters are off: our
// filter in front lets through only keys that are almost always there.
func badgerOptions(dir string, encKey []byte, log *slog.Logger) badger.Options {
	o := badger.DefaultOptions(dir).
		WithEncryptionKey(encKey).
		WithLogger(badgerLogger{log}).
		WithCompression(options.None).
		WithBloomFalsePositive(0).
		WithMemTableSize(16 << 20).
		WithNumMemtables(2).
		WithBlockCacheSize(0).
		WithIndexCacheSize(16 << 20).
		WithValueThreshold(1 << 20).
		WithNumCompactors(2).
		WithCompactL0OnClose(false).
		WithDetectConflicts(false).
		WithMetricsEnabled(false).
		// Every block's checksum is verified when it is read, and every
		// table's blocks when it opens (Badger's default verifies none).
		WithChecksumVerificationMode(options.OnTableAndBlockRead).
		WithVerifyValueChecksum(true)
	if len(encKey) > 0 {
		o = o.WithBlockCacheSize(32 << 20)
	}
	return o
}

func readManifest(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("store: manifest in %s: %w", dir, err)
	}
	return m, nil
}

// openDataset opens a complete version directory. Before anything is
// trusted, every file is checked against the sizes and SHA-256 sums of the
// manifest (verifyFiles); Badger then verifies every table's checksums as
// it opens. A version built before verified storage (no sums) gets its
// table footers checked, is opened the same way and then has its files
// hashed into its manifest, which is rewritten atomically (and logged);
// its tables are checked before Badger opens them (checkTables).
// It returns a *DamageError (errors.Is ErrDamaged) naming the version and
// file for damage, an error when the manifest, the filter or the Badger
// database cannot be read (naming the version), and for a format or
// filter it does not know.
func openDataset(dir, kind string, encKey []byte, log *slog.Logger) (*dataset, error) {
	m, err := readVerifiedManifest(dir, kind)
	if err != nil {
		return nil, err
	}
	if err := checkFormat(&m); err != nil {
		return nil, err
	}
	damage := func(file, problem string) error {
		return &DamageError{Kind: m.Kind, Version: m.Version, Dir: dir, File: file, Problem: problem}
	}
	unhashed := len(m.Files) == 0
	if unhashed {
		if err := checkTables(dir, &m, len(encKey) > 0); err != nil {
			return nil, err
		}
	} else if err := verifyFiles(dir, &m); err != nil {
		return nil, err
	}
	fname := filterFile(m.Filter)
	raw, err := os.ReadFile(filepath.Join(dir, fname))
	if err != nil {
		return nil, damage(fname, "cannot be read: "+err.Error())
	}
	// A damaged filter could answer "no candidate" for a listed person:
	// it must be exactly the one built with this version.
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != m.BloomSHA256 {
		return nil, damage(fname, "the Bloom filter does not match its manifest")
	}
	filter, err := readFilter(m.Filter, raw)
	if err != nil {
		return nil, damage(fname, err.Error())
	}

	// Versions are immutable once built: serving opens them read-only, so
	// a crash while serving can never change one.
	bopt := badgerOptions(filepath.Join(dir, badgerDir), encKey, log).WithReadOnly(true)
	db, err := badger.Open(bopt)
	if err != nil {
		// Badger wraps its errors as text: a checksum failure is known by
		// its words, and its text names the table.
		if strings.Contains(err.Error(), "checksum") {
			return nil, damage(badgerDir, "Badger's checksums fail: "+err.Error())
		}
		// Files that match their hashes: a wrong encryption key, say.
		return nil, fmt.Errorf("store: %s version %s (%s): open the Badger database in %s: %w", m.Kind, m.Version, dir, badgerDir, err)
	}
	d := &dataset{dir: dir, man: m, db: db, filter: filter, blocks: newBlockChecker(db, filepath.Join(dir, badgerDir), len(encKey) > 0)}
	d.index, err = buildBlockIndex(db, filepath.Join(dir, badgerDir), d.blocks, bopt)
	var why errNoBlockIndex
	switch {
	case err == nil, log == nil, d.blocks == nil:
	case errors.As(err, &why):
		log.Info("dataset version read through Badger", "kind", m.Kind, "version", m.Version, "reason", string(why))
	default:
		// Badger's own reads, and the checks around them, find the damage.
		log.Warn("dataset version read through Badger: its tables could not be indexed", "kind", m.Kind, "version", m.Version, "err", err)
	}
	if m.Format >= formatSignaturesV2 {
		if d.family, err = readFamilyTypes(db, &m); err != nil {
			db.Close()
			return nil, err
		}
	}
	if m.Format >= formatSignaturesV3 {
		if d.listRoads, err = readListRoads(db, &m); err != nil {
			db.Close()
			return nil, err
		}
	}
	if unhashed {
		if err := d.recordHashes(log); err != nil {
			db.Close()
			return nil, err
		}
	}
	return d, nil
}

// recordHashes hashes the files of a version built before verified
// storage, once Badger has verified its tables at open, and records them
// in its manifest (rewritten atomically): from then on the version is
// checked at open and by the scrub like one hashed at build. It returns
// the file system's errors.
func (d *dataset) recordHashes(log *slog.Logger) error {
	files, err := hashVersionFiles(d.dir)
	if err != nil {
		return fmt.Errorf("store: %s version %s: hashing its files: %w", d.man.Kind, d.man.Version, err)
	}
	d.man.Files, d.man.FilesHashedAt = files, time.Now().UTC()
	if err := writeManifest(d.dir, &d.man); err != nil {
		return fmt.Errorf("store: %s version %s: recording its file hashes: %w", d.man.Kind, d.man.Version, err)
	}
	if log != nil {
		log.Warn("dataset version had no file hashes (built before verified storage): its tables passed Badger's checksums and its files are now hashed into its manifest", "kind", d.man.Kind, "version", d.man.Version, "files", len(files))
	}
	return nil
}

// readFamilyTypes reads the family-type words of a Robinson version and
// checks their number against the manifest. It returns an error for a
// different number and Badger's errors.
func readFamilyTypes(db *badger.DB, m *Manifest) (robinson.FamilySet, error) {
	set := robinson.FamilySet{}
	err := db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.PrefetchValues = false
		opt.Prefix = []byte{familyKeyPrefix}
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.ValidForPrefix(opt.Prefix); it.Next() {
			set[string(it.Item().Key()[1:])] = struct{}{}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: reading the family-type words of version %s failed", m.Version)
	}
	if len(set) != m.FamilyTypes {
		return nil, fmt.Errorf("store: version %s holds %d family-type words, its manifest %d", m.Version, len(set), m.FamilyTypes)
	}
	return set, nil
}

// reader reads one dataset version inside one Badger read transaction,
// begun at its first read and discarded by close: a screening snapshot
// (one chunk or one request) pays for one transaction, not one per key.
// A reader is for one goroutine at a time.
type reader struct {
	d   *dataset
	txn *badger.Txn
	// checked holds the blocks (their position in d.index, plus one)
	// whose checksums this reader verified last: a lookup and the ones
	// that follow it (the address summary, NEAR surnames, the next contact
	// at the address) often read the same block. A block is verified once
	// before it is first trusted inside a snapshot; close forgets them.
	checked     [4]int32
	nextChecked uint8
	// mapped is true while read's fn runs on a value in a table's memory
	// map (readIndexed), which stays in place while the version is open:
	// strings can then point into it instead of copying it.
	mapped bool
}

// get calls fn with the value stored under key. It reports false without
// touching Badger when the Bloom filter rules the key out: use it only for
// a version whose filter holds its keys (Manifest.Filter empty). Its
// errors are those of read.
func (r *reader) get(key []byte, fn func([]byte) error) (bool, error) {
	if !r.d.filter.TestIn(nil, key) {
		return false, nil
	}
	return r.read(key, fn)
}

// read calls fn with the value stored under key, from Badger. It returns
// a *ReadError for a failed read and fn's error.
func (r *reader) read(key []byte, fn func([]byte) error) (found bool, err error) {
	if err := r.usable(); err != nil {
		return false, err
	}
	r.d.reads.Add(1)
	// A table truncated under the server faults on the memory map
	// (SIGBUS): as a panic of this goroutine, that is damage found, not a
	// crash of the server.
	onFault := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(onFault)
		r.mapped = false // also after a fault in fn
		// Badger decodes a block's entry offsets before it checks the
		// block's checksum: damage there can panic in this goroutine.
		if p := recover(); p != nil {
			found, err = false, r.failed(errBadgerPanic)
		}
	}()
	if ix := r.d.index; ix != nil {
		found, badgerDecides, err := r.readIndexed(ix, key, fn)
		if !badgerDecides {
			return found, err
		}
	}
	// Badger's Txn.Get lets key escape, which would put every caller's key
	// buffer on the heap, also for the common Bloom negatives; copy it here
	// instead, on the rarer path that reads Badger.
	k := bytes.Clone(key)
	// Badger asserts on the head of a table's index, read from its memory
	// map, and a failed assertion ends the process: check it first.
	if file, problem := r.d.blocks.guard(k); problem != "" {
		return false, r.damagedAt(file, problem)
	}
	if r.txn == nil {
		r.txn = r.d.db.NewTransaction(false)
	}
	item, err := r.txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		// Badger reports a block that fails its checksum as "not found".
		if file, problem := r.d.blocks.check(k); problem != "" {
			return false, r.damagedAt(file, problem)
		}
		return false, nil
	}
	if err != nil {
		return false, r.failed(err)
	}
	r.mapped = false // Badger's value is its own, for the call only
	if err := item.Value(fn); err != nil {
		return true, r.failed(err)
	}
	return true, nil
}

// readIndexed reads the value of key through the version's block index:
// the one block that can hold key is found in the verified copy of the
// table indexes, the parts of the index in the file that describe it are
// compared with that copy, its checksum is verified (unless this reader
// verified it already), and key is searched in it. fn gets the value in
// the memory-mapped table, valid only during the call. badgerDecides is
// true for an entry that is not a plain stored value (never written by a
// load): read then asks Badger. It returns a *ReadError for damage, and
// for fn's error.
func (r *reader) readIndexed(ix *blockIndex, key []byte, fn func([]byte) error) (found, badgerDecides bool, err error) {
	b := ix.find(key)
	if b < 0 {
		return false, false, nil // before every key of the version
	}
	blk := &ix.blocks[b]
	t := ix.tables[blk.table]
	if !ix.indexUnchanged(b) {
		return false, false, r.damagedAt(ix.names[blk.table], "table index changed on disk since the table was verified")
	}
	if !r.verifiedBefore(b) {
		if p := checkBlockSum(t.data, int(blk.off), int(blk.n)); p != "" {
			return false, false, r.damagedAt(ix.names[blk.table], fmt.Sprintf("block %d at offset %d: %s", blk.num, blk.off, p))
		}
		r.checked[r.nextChecked%uint8(len(r.checked))] = int32(b) + 1
		r.nextChecked++
	}
	what, val, p := lookupBlock(t.data[blk.off:blk.off+blk.n], key)
	switch {
	case p != "":
		return false, false, r.damagedAt(ix.names[blk.table], fmt.Sprintf("block %d at offset %d: %s", blk.num, blk.off, p))
	case what == entryAbsent:
		return false, false, nil
	case what == entryOther:
		return false, true, nil
	}
	r.mapped = true
	err = fn(val)
	r.mapped = false
	if err != nil {
		return true, false, r.failed(err)
	}
	return true, false, nil
}

// verifiedBefore reports whether this reader verified block b's checksum
// since it was last closed, among the blocks it keeps (checked).
func (r *reader) verifiedBefore(b int) bool {
	for _, c := range r.checked {
		if c == int32(b)+1 {
			return true
		}
	}
	return false
}

// errBadgerPanic is the cause of a ReadError for a read that panicked.
var errBadgerPanic = errors.New("badger panicked reading the version")

// usable returns the version's damage as an error, or nil.
func (r *reader) usable() error {
	if de := r.d.damaged(); de != nil {
		return &ReadError{Kind: r.d.man.Kind, Version: r.d.man.Version, File: de.File, err: de}
	}
	return nil
}

// failed marks the version damaged after a failed read (a checksum
// mismatch, a record that does not decode, an I/O error: the version can
// no longer be trusted) and returns the *ReadError for cause.
func (r *reader) failed(cause error) error {
	de := &DamageError{Kind: r.d.man.Kind, Version: r.d.man.Version, Dir: r.d.dir, Problem: "a read failed (checksum, decoding or I/O)"}
	// Name the file when its size tells (a truncated or deleted table);
	// the scrub names any other by its hash.
	var sized *DamageError
	if errors.As(checkFiles(r.d.dir, &r.d.man, false), &sized) {
		de.File, de.Problem = sized.File, de.Problem+"; "+sized.Problem
	}
	r.mark(de)
	return &ReadError{Kind: r.d.man.Kind, Version: r.d.man.Version, File: de.File, err: cause}
}

// damagedAt marks the version damaged in file and returns the *ReadError.
func (r *reader) damagedAt(file, problem string) error {
	de := &DamageError{Kind: r.d.man.Kind, Version: r.d.man.Version, Dir: r.d.dir, File: file, Problem: problem}
	r.mark(de)
	return &ReadError{Kind: r.d.man.Kind, Version: r.d.man.Version, File: file, err: de}
}

func (r *reader) mark(de *DamageError) {
	if r.d.markDamaged(de) && r.d.onDamage != nil {
		r.d.onDamage(r.d)
	}
}

// close discards the transaction and forgets the blocks the reader
// verified; the reader may be used again.
func (r *reader) close() {
	if r.txn != nil {
		r.txn.Discard()
		r.txn = nil
	}
	r.checked, r.nextChecked = [4]int32{}, 0
}

// ReadError is a failed read of a dataset version. Its text never includes
// the cause's: Badger quotes the key in its errors, and a Robinson key holds
// a postcode, a house number and a surname. errors.Is and errors.As still
// reach the cause through Unwrap.
type ReadError struct {
	// Kind and Version name the dataset version; File, when known, the
	// damaged file (relative to the version directory).
	Kind, Version, File string
	err                 error
}

func (e *ReadError) Error() string {
	s := "store: reading dataset version " + e.Version
	if e.Kind != "" {
		s = "store: reading " + e.Kind + " version " + e.Version
	}
	if e.File != "" {
		s += " (file " + e.File + ")"
	}
	return s + " failed"
}

// Unwrap returns the cause.
func (e *ReadError) Unwrap() error { return e.err }

// Is makes errors.Is(err, ErrDamaged) hold: a version that fails a read
// is not trusted again.
func (e *ReadError) Is(target error) bool { return target == ErrDamaged }

func (d *dataset) close() error {
	if d == nil || d.db == nil {
		return nil
	}
	d.blocks.close()
	return d.db.Close()
}

// retire waits for in-flight readers and closes the dataset.
func (d *dataset) retire() {
	d.inflight.Lock()
	d.close()
	d.inflight.Unlock()
}

// badgerLogger passes Badger's warnings and errors to slog.
type badgerLogger struct{ log *slog.Logger }

// Only the format string is logged: Badger's arguments may hold keys, and
// a key holds a postcode, a house number and a surname.
func (l badgerLogger) Errorf(f string, _ ...any) {
	if l.log != nil {
		l.log.Error("badger: " + f)
	}
}

func (l badgerLogger) Warningf(f string, _ ...any) {
	if l.log != nil {
		l.log.Warn("badger: " + f)
	}
}
func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}

// verifyFilter checks the version's Bloom filter, as read back from
// disk, against its database: every key, or for a signature filter every
// signature key of every record, must test positive. write builds the
// filter from the database itself, so a miss here means the file does not
// hold the filter that was built (or a bug in building it): the version is
// refused. It returns an error for a miss, and Badger's errors.
func (d *dataset) verifyFilter() error {
	keys := plainFilterKeys
	switch d.man.Filter {
	case filterSignaturesV3:
		keys = func() filterKeysFunc { return robinsonFilterKeys(d.man.Format) }
	case filterSignatures, filterSignaturesV2:
		// The first two signature filters are not consulted (lists.go):
		// there is nothing of them to verify.
		return nil
	}
	var misses atomic.Int64
	if err := testFilterKeys(d.db, keys, func(g, k []byte, width int) {
		if n := d.filter.CountMissingIn(g, k, width); n > 0 {
			misses.Add(int64(n))
		}
	}); err != nil {
		return err
	}
	if n := misses.Load(); n > 0 {
		return fmt.Errorf("store: bloom filter misses %d stored keys", n)
	}
	return nil
}
