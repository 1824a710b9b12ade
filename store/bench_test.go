package store

// Benchmarks against a 1M-record synthetic Robinson list (docs/benchmarks.md);
// ROBINSCREEN_BENCH_RECORDS sets another size.
// They are skipped under -short; plain `go test` runs no benchmarks at all,
// so they cost CI nothing unless -bench is given. The list is generated and
// loaded once per test binary, in a temporary directory that TestMain removes.

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/robinscreen/robinscreen/internal/synth"
	"github.com/robinscreen/robinscreen/robinson"
	"github.com/robinscreen/robinscreen/screening"
)

const (
	benchSeed     = 1
	benchContacts = 4096  // distinct contacts per screening benchmark (a power of two)
	benchMix      = 16384 // contacts of BenchmarkScreenMix (a power of two)
)

// benchRecords is the size of the benchmarks' list: 1 M records, or
// ROBINSCREEN_BENCH_RECORDS (6000000 is the end-to-end benchmark's list).
var benchRecords = func() int {
	if n, err := strconv.Atoi(os.Getenv("ROBINSCREEN_BENCH_RECORDS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}()

// benchEnv is shared by the benchmarks of one test binary.
var benchEnv struct {
	root string // temporary directory, removed by TestMain

	listOnce sync.Once
	listErr  error
	gen      *synth.Generator
	listPath string

	storeOnce sync.Once
	storeErr  error
	store     *Store

	contactsOnce sync.Once
	contactsErr  error
	negatives    []screening.Contact // ALLOW, no Bloom candidate
	listed       []screening.Contact // BLOCK

	mixOnce sync.Once
	mixErr  error
	mix     []screening.Contact // the end-to-end benchmark's mix

	floorOnce sync.Once
	floorErr  error
	keys      map[string]struct{} // every blocking key of the list, in process
}

func TestMain(m *testing.M) {
	runTestBuildProcess() // when this binary is started as a build process
	code := m.Run()
	if benchEnv.store != nil {
		benchEnv.store.Close()
	}
	if benchEnv.root != "" {
		os.RemoveAll(benchEnv.root)
	}
	os.Exit(code)
}

// benchPublished is today (UTC), so that the zero Engine (time.Now, as the
// server uses it) sees a fresh list and an unlisted contact gets ALLOW.
func benchPublished() time.Time { return time.Now().UTC().Truncate(24 * time.Hour) }

// benchList writes the 1M-record synthetic list file once per process.
func benchList(b *testing.B) (string, *synth.Generator) {
	b.Helper()
	if testing.Short() {
		b.Skip("1M-record benchmark skipped under -short")
	}
	e := &benchEnv
	e.listOnce.Do(func() {
		e.root, e.listErr = os.MkdirTemp("", "robinscreen-bench-")
		if e.listErr != nil {
			return
		}
		e.gen = synth.NewGenerator(synth.Config{Seed: benchSeed, Records: benchRecords, Published: benchPublished()})
		e.listPath = filepath.Join(e.root, "robinson.txt")
		f, err := os.Create(e.listPath)
		if err != nil {
			e.listErr = err
			return
		}
		if _, err := e.gen.WriteRobinson(f); err != nil {
			f.Close()
			e.listErr = err
			return
		}
		e.listErr = f.Close()
	})
	if e.listErr != nil {
		b.Fatal(e.listErr)
	}
	return e.listPath, e.gen
}

// benchStore returns a store serving the 1M-record list, loaded once.
func benchStore(b *testing.B) *Store {
	b.Helper()
	path, _ := benchList(b)
	e := &benchEnv
	e.storeOnce.Do(func() {
		s, err := Open(filepath.Join(e.root, "data"), Options{})
		if err != nil {
			e.storeErr = err
			return
		}
		e.store = s
		_, e.storeErr = s.LoadRobinson(context.Background(), path, LoadOptions{})
	})
	if e.storeErr != nil {
		b.Fatal(e.storeErr)
	}
	return e.store
}

// benchContactSets builds the contact slices once: unlisted contacts that
// get ALLOW without a single Badger read (every surname key is a Bloom
// negative), and listed contacts that get BLOCK. Personal numbers are
// cleared: no CPR extract is loaded, and these benchmarks measure the
// Robinson path.
func benchContactSets(b *testing.B) (negatives, listed []screening.Contact) {
	b.Helper()
	s := benchStore(b)
	_, gen := benchList(b)
	e := &benchEnv
	e.contactsOnce.Do(func() {
		snap, release := s.Acquire()
		defer release()
		d := snap.Robinson.(robinsonList).r.d
		var eng screening.Engine
		pick := func(share float64, seed uint64, want screening.Decision, reads bool) ([]screening.Contact, error) {
			var out []screening.Contact
			errEnough := context.Canceled
			err := gen.Contacts(8*benchContacts, share, seed, func(sc synth.Contact) error {
				c := screening.Contact{Ref: sc.Ref, Name: sc.Name, Address: sc.Address, PostalCode: sc.PostalCode}
				before := d.reads.Load()
				res, err := eng.Screen(snap, screening.ChannelPost, screening.PurposeUnspecified, &c)
				if err != nil {
					return err
				}
				if res.Decision == want && (d.reads.Load() > before) == reads {
					out = append(out, c)
				}
				if len(out) == benchContacts {
					return errEnough
				}
				return nil
			})
			if err == errEnough {
				err = nil
			}
			return out, err
		}
		e.negatives, e.contactsErr = pick(0, 2, screening.Allow, false)
		if e.contactsErr == nil {
			e.listed, e.contactsErr = pick(1, 3, screening.Block, true)
		}
	})
	if e.contactsErr != nil {
		b.Fatal(e.contactsErr)
	}
	if len(e.negatives) != benchContacts || len(e.listed) != benchContacts {
		b.Fatalf("found %d no-candidate and %d listed contacts, want %d each", len(e.negatives), len(e.listed), benchContacts)
	}
	return e.negatives, e.listed
}

var benchResult screening.Result

func benchScreen(b *testing.B, contacts []screening.Contact, want screening.Decision) {
	s := benchStore(b)
	snap, release := s.Acquire()
	defer release()
	var eng screening.Engine
	b.ReportAllocs()
	cpu0 := processCPU()
	i := 0
	for b.Loop() {
		c := &contacts[i&(benchContacts-1)]
		i++
		res, err := eng.Screen(snap, screening.ChannelPost, screening.PurposeUnspecified, c)
		if err != nil {
			b.Fatal(err)
		}
		benchResult = res
	}
	reportCPU(b, cpu0)
	if benchResult.Decision != want {
		b.Fatalf("last decision %v, want %v", benchResult.Decision, want)
	}
}

// BenchmarkScreenNoCandidate screens one unlisted contact (name and address,
// POST channel) whose blocking keys the Bloom filter rules out: the common
// case. The budget is 2 µs and a handful of allocations.
func BenchmarkScreenNoCandidate(b *testing.B) {
	negatives, _ := benchContactSets(b)
	benchScreen(b, negatives, screening.Allow)
}

// BenchmarkScreenCandidate screens one listed contact: Bloom positive, a
// Badger read, record decoding and matching.
func BenchmarkScreenCandidate(b *testing.B) {
	_, listed := benchContactSets(b)
	benchScreen(b, listed, screening.Block)
}

// benchMixContacts returns the contacts of the end-to-end benchmark's
// mix (robingen contacts -listed 0.1: a tenth listed persons, the rest
// fresh people, relatives and neighbours, all written the messy ways),
// without personal numbers.
func benchMixContacts(b *testing.B) []screening.Contact {
	b.Helper()
	_, gen := benchList(b)
	e := &benchEnv
	e.mixOnce.Do(func() {
		e.mixErr = gen.Contacts(benchMix, 0.1, 7, func(sc synth.Contact) error {
			e.mix = append(e.mix, screening.Contact{Ref: sc.Ref, Name: sc.Name, Address: sc.Address, PostalCode: sc.PostalCode})
			return nil
		})
	})
	if e.mixErr != nil {
		b.Fatal(e.mixErr)
	}
	return e.mix
}

// BenchmarkScreenMix screens the end-to-end benchmark's mix of contacts
// (benchMixContacts) one after the other, as a batch does: the figure that
// follows batch throughput. It reports the Badger reads per contact
// (reads/op) and, over one pass through all benchMix contacts before the
// clock starts, how many got BLOCK and REVIEW (blocks, reviews): they must
// not change when only the candidate lookup changes.
func BenchmarkScreenMix(b *testing.B) { benchScreenMix(b, false) }

// BenchmarkScreenMixScratch is BenchmarkScreenMix with one Scratch reused
// for every contact (Engine.ScreenInto), as the server's batch and unary
// handlers screen.
func BenchmarkScreenMixScratch(b *testing.B) { benchScreenMix(b, true) }

func benchScreenMix(b *testing.B, reuse bool) {
	contacts := benchMixContacts(b)
	s := benchStore(b)
	snap, release := s.Acquire()
	defer release()
	d := snap.Robinson.(robinsonList).r.d
	var eng screening.Engine
	var blocks, reviews int
	for i := range contacts {
		res, err := eng.Screen(snap, screening.ChannelPost, screening.PurposeUnspecified, &contacts[i])
		if err != nil {
			b.Fatal(err)
		}
		switch res.Decision {
		case screening.Block:
			blocks++
		case screening.Review:
			reviews++
		}
	}
	b.ReportAllocs()
	reads0 := d.reads.Load()
	var sc screening.Scratch
	cpu0 := processCPU()
	i := 0
	for b.Loop() {
		c := &contacts[i&(benchMix-1)]
		i++
		var err error
		if reuse {
			_, err = eng.ScreenInto(&sc, snap, screening.ChannelPost, screening.PurposeUnspecified, c)
		} else {
			_, err = eng.Screen(snap, screening.ChannelPost, screening.PurposeUnspecified, c)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0)
	b.ReportMetric(float64(d.reads.Load()-reads0)/float64(b.N), "reads/op")
	b.ReportMetric(float64(blocks), "blocks")
	b.ReportMetric(float64(reviews), "reviews")
}

// benchKeys reads every blocking key of the loaded list into a Go map.
func benchKeys(b *testing.B) map[string]struct{} {
	b.Helper()
	s := benchStore(b)
	e := &benchEnv
	e.floorOnce.Do(func() {
		d := s.serving[screening.KindRobinson]
		e.keys = make(map[string]struct{}, d.man.Keys)
		e.floorErr = d.db.View(func(txn *badger.Txn) error {
			opt := badger.DefaultIteratorOptions
			opt.PrefetchValues = false
			it := txn.NewIterator(opt)
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				e.keys[string(it.Item().Key())] = struct{}{}
			}
			return nil
		})
	})
	if e.floorErr != nil {
		b.Fatal(e.floorErr)
	}
	return e.keys
}

var benchFound int

// processCPU is the CPU time (user and system) of the whole process,
// garbage collector included.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process CPU time per iteration since cpu0 as
// cpu-ns/op. On a shared machine it varies less than ns/op, which counts
// the time other processes hold the CPU.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkFloor is the floor for the no-candidate path, everything in
// process: normalise and parse the name and address, build each surname's
// blocking key, test the Bloom filter the way the store does (the
// contact's signature keys) and, on a positive, look the key up in a Go
// map. It uses the same contacts as BenchmarkScreenNoCandidate, all of
// which the filter rules out, so a lookup in the map means the filter
// and the store disagree.
func BenchmarkFloor(b *testing.B) {
	negatives, _ := benchContactSets(b)
	keys := benchKeys(b)
	d := benchStore(b).serving[screening.KindRobinson]
	b.ReportAllocs()
	var kbuf [128]byte
	i, found := 0, 0
	cpu0 := processCPU()
	for b.Loop() {
		c := &negatives[i&(benchContacts-1)]
		i++
		name, err := robinson.ParseContactName(c.Name)
		addr, _ := robinson.ParseAddress(c.Address)
		if pc := strings.TrimSpace(c.PostalCode); len(pc) == 4 {
			addr.Postcode = pc
		}
		if err != nil || addr.Postcode == "" || addr.HouseNumber == "" {
			b.Fatalf("contact %s not verifiable", c.Ref)
		}
		probe := robinson.NewProbe(name, addr, nil)
		for j, sn := range name.Surnames {
			if dupWord(name.Surnames[:j], sn) {
				continue
			}
			k := robinson.AppendKey(append(kbuf[:0], 'r'), addr.Postcode, addr.HouseNumber, sn)
			if probe.MayMatchExact(k, d.filter, nil) {
				if _, ok := keys[string(k)]; ok {
					found++
				}
			}
		}
	}
	reportCPU(b, cpu0)
	benchFound = found
	if found != 0 {
		b.Fatalf("%d keys of contacts the store rules out found", found)
	}
}

func dupWord(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}

// BenchmarkLoad1M is the offline load of the 1M-record list into a fresh
// data directory (Open, LoadRobinson, Close). Run it with -benchtime 1x.
func BenchmarkLoad1M(b *testing.B) {
	path, _ := benchList(b)
	b.ResetTimer()
	var records int
	for i := 0; i < b.N; i++ {
		dir := filepath.Join(benchEnv.root, "load")
		s, err := Open(dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		man, err := s.LoadRobinson(context.Background(), path, LoadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		records += man.Records
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkBadgerGet measures what verified reads cost a lookup: Badger
// point reads of stored blocking keys of the 1M list, in one read
// transaction, with Badger's block checksums not verified (Badger's
// default, as before verified storage) and verified on every read (as
// verified storage first read them); and, for "miss-check", reads of
// absent keys next to stored ones with the store's own check of the
// blocks Badger read (the path of a Bloom false positive). The
// sub-benchmarks open the same version directory read-only, one after the
// other. "indexed" and "indexed-miss" are the same reads as the store
// makes them now, through the version's block index (blockindex.go), the
// value passed to a function that does nothing with it.
func BenchmarkBadgerGet(b *testing.B) {
	keys := benchKeys(b)
	d := benchStore(b).serving[screening.KindRobinson]
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	sample := make([][]byte, 4096)
	for i := range sample {
		sample[i] = []byte(sorted[(i*7919)%len(sorted)])
	}
	dir := filepath.Join(d.dir, badgerDir)
	for _, mode := range []struct {
		name   string
		verify options.ChecksumVerificationMode
		miss   bool
	}{
		{"unverified", options.NoVerification, false},
		{"verified", options.OnTableAndBlockRead, false},
		{"miss-check", options.OnTableAndBlockRead, true},
	} {
		b.Run(mode.name, func(b *testing.B) {
			db, err := badger.Open(badgerOptions(dir, nil, nil).WithReadOnly(true).WithChecksumVerificationMode(mode.verify))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			bc := newBlockChecker(db, dir, false)
			defer bc.close()
			txn := db.NewTransaction(false)
			defer txn.Discard()
			var kbuf []byte
			b.ReportAllocs()
			cpu0 := processCPU()
			i := 0
			for b.Loop() {
				k := sample[i&4095]
				i++
				if mode.miss {
					kbuf = append(append(kbuf[:0], k...), 0)
					k = kbuf
				}
				_, err := txn.Get(k)
				switch {
				case mode.miss && errors.Is(err, badger.ErrKeyNotFound):
					if _, problem := bc.check(k); problem != "" {
						b.Fatal(problem)
					}
				case err != nil:
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu0)
		})
	}
	for _, miss := range []bool{false, true} {
		name := "indexed"
		if miss {
			name = "indexed-miss"
		}
		b.Run(name, func(b *testing.B) {
			if d.index == nil {
				b.Fatal("the version has no block index")
			}
			r := &reader{d: d}
			defer r.close()
			var kbuf []byte
			nothing := func([]byte) error { return nil }
			b.ReportAllocs()
			cpu0 := processCPU()
			i := 0
			for b.Loop() {
				k := sample[i&4095]
				i++
				if miss {
					kbuf = append(append(kbuf[:0], k...), 0)
					k = kbuf
				}
				found, err := r.read(k, nothing)
				if err != nil || found == miss {
					b.Fatalf("found %v, %v", found, err)
				}
			}
			reportCPU(b, cpu0)
			b.ReportMetric(float64(len(d.index.tables)), "tables")
			b.ReportMetric(float64(len(d.index.blocks)), "blocks")
		})
	}
}

// BenchmarkOpenVersion1M opens the 1M list's version as serving does
// (every file's size and SHA-256 against the manifest, the filter, Badger
// with every table's checksums verified, the family-type words) and
// closes it. Run it with -benchtime 3x.
func BenchmarkOpenVersion1M(b *testing.B) {
	d := benchStore(b).serving[screening.KindRobinson]
	var bytes int64
	for _, f := range d.man.Files {
		bytes += f.Size
	}
	for b.Loop() {
		v, err := openDataset(d.dir, screening.KindRobinson, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := v.close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(bytes)/1e6, "MB")
}
