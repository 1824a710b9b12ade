package synth

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/robinscreen/robinscreen/internal/cprfmt"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"
)

// DefaultPublished is the publication date used when Config.Published is
// zero, so that output stays a function of the configuration alone.
var DefaultPublished = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// PreviousShare is the approximate share of persons who also have a
// previous-address record: Records ≈ persons × (1 + PreviousShare).
const PreviousShare = 0.15

// MaxPersons is the largest number of persons a Generator supports.
const MaxPersons = 1 << 30

// Config configures a Generator.
type Config struct {
	// Seed makes all output deterministic: the same Config gives
	// byte-identical files.
	Seed uint64
	// Records is the number of Robinson list records. The list holds
	// Persons() ≈ Records/1.15 persons; about 15 % of them also have a
	// previous-address ("*") record, so that the record count is exactly
	// Records.
	Records int
	// Published is the publication date written into the list header
	// (dd.mm.yyyy) and the CPR extract's production date; zero means
	// DefaultPublished.
	Published time.Time
	// Messy adds what matching v2 (screening-rules.md section 3) is about
	// to the list and the road register: extra roads (messyStreetData:
	// every row of the abbreviation table, "Gl Havdrupvej" without its
	// dot, "Thomas B.Thriges Gd.", and "Strandvej" beside an existing
	// "Strandvejen" in the same postcode) that some persons live on, and
	// family-type middle names ("Rasmussen,René Andersen"). Without it the
	// output is unchanged. Use it with MessyContacts.
	Messy bool
}

// Generator produces a synthetic Robinson list, CPR extract and contact
// lists from a Config. Person i is computed from its own seed, so any
// person can be recomputed without generating the others. A Generator is
// safe for concurrent use.
type Generator struct {
	cfg     Config
	persons int
	prev    int // persons with a previous address

	addrOnce sync.Once
	addrIdx  []uint64 // sorted (address key << personBits | person)

	messyOnce sync.Once
	messy     *messyIndex
}

// NewGenerator returns a generator for cfg. It panics when cfg.Records is
// negative or too large.
func NewGenerator(cfg Config) *Generator {
	if cfg.Records < 0 {
		panic("synth: negative Records")
	}
	if cfg.Published.IsZero() {
		cfg.Published = DefaultPublished
	}
	p := int(float64(cfg.Records)/(1+PreviousShare) + 0.5)
	if p == 0 && cfg.Records > 0 {
		p = 1
	}
	if p > MaxPersons {
		panic("synth: too many records")
	}
	return &Generator{cfg: cfg, persons: p, prev: cfg.Records - p}
}

// Config returns the generator's configuration (with the effective
// publication date).
func (g *Generator) Config() Config { return g.cfg }

// Persons is the number of listed persons.
func (g *Generator) Persons() int { return g.persons }

// hasPrevious spreads exactly g.prev previous-address records evenly over
// the persons; persons are in random name order, so the list sees them at
// random.
func (g *Generator) hasPrevious(i int) bool {
	if g.prev == 0 {
		return false
	}
	p, q := int64(g.persons), int64(g.prev)
	return (int64(i)+1)*q/p > int64(i)*q/p
}

func (g *Generator) seedPerson(r *rng, i int) {
	r.seed(mix64(g.cfg.Seed^0x5EED0F9E850A11CE), mix64(uint64(i)^mix64(g.cfg.Seed)))
}

// Person returns listed person i, 0 <= i < Persons(). The result is a
// function of the Config and i alone.
func (g *Generator) Person(i int) Person {
	if i < 0 || i >= g.persons {
		panic(fmt.Sprintf("synth: person %d out of range [0,%d)", i, g.persons))
	}
	return g.person(newRNG(), i)
}

func (g *Generator) person(r *rng, i int) Person {
	g.seedPerson(r, i)
	n := drawName(r)
	p := Person{Surnames: n.surnames(), Given: n.givens(), Female: n.female}
	cur := drawAddress(r, -1)
	p.setCurrent(cur)
	if g.hasPrevious(i) {
		var a Address
		for {
			if r.pct(50) {
				a = drawAddress(r, int(cur.pc)) // moved within the town
			} else {
				a = drawAddress(r, -1)
			}
			if a.addrKey() != cur.addrKey() {
				break
			}
		}
		p.Previous = &a
	}
	if g.cfg.Messy {
		messyPerson(r, &p)
	}
	return p
}

// nameKey is the sort key of person i's list name.
func (g *Generator) nameKey(r *rng, i int) uint64 {
	g.seedPerson(r, i)
	n := drawName(r)
	return n.key()
}

type keyIdx struct {
	key uint64
	idx uint32
}

// order returns the person indices in list order (alphabetical by name,
// ties by index). Memory: 16 bytes per person while sorting.
func (g *Generator) order() []keyIdx {
	ks := make([]keyIdx, g.persons)
	parallel(g.persons, func(lo, hi int) {
		r := newRNG()
		for i := lo; i < hi; i++ {
			ks[i] = keyIdx{g.nameKey(r, i), uint32(i)}
		}
	})
	slices.SortFunc(ks, func(a, b keyIdx) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.idx, b.idx)
	})
	return ks
}

// parallel runs fn over [0,n) split into GOMAXPROCS parts.
func parallel(n int, fn func(lo, hi int)) {
	w := runtime.GOMAXPROCS(0)
	if n < 4096 || w == 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	step := (n + w - 1) / w
	for lo := 0; lo < n; lo += step {
		hi := min(lo+step, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

// RobinsonHeader is the header written before the records, the same as
// cprfmt.RobinsonFile writes (UTF-8 text, CRLF line ends).
func RobinsonHeader(published time.Time) string {
	return "ROBINSONLISTEN  Dato: " + published.Format("02.01.2006") + "\r\n" +
		"Personnavn#Standardadresse#Bynavn#Postnr. og postdistrikt#Historik#Kommunekode#Vejkode#Husnummer#Etage#Sidedør#Bygningsnummer\r\n"
}

const chunkPersons = 4096

type chunk struct {
	buf []byte
	n   int
}

// WriteRobinson writes the whole list file: ISO 8859-1, CPR's published
// layout (cprfmt.RobinsonLine), CRLF line ends, two header lines naming
// the publication date, records sorted alphabetically by name; a person's
// previous-address record follows the current one. It streams: memory is
// about 16 bytes per person plus buffers. It returns the number of records
// written (Config.Records on success).
func (g *Generator) WriteRobinson(w io.Writer) (n int, err error) {
	order := g.order()
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := transform.NewWriter(bw, charmap.ISO8859_1.NewEncoder())
	if _, err := io.WriteString(enc, RobinsonHeader(g.cfg.Published)); err != nil {
		return 0, err
	}

	workers := runtime.GOMAXPROCS(0)
	type job struct {
		lo, hi int
		out    chan chunk
	}
	jobs := make(chan job, 2*workers)
	results := make(chan chan chunk, 2*workers)
	pool := sync.Pool{New: func() any { return make([]byte, 0, chunkPersons*200) }}
	stop := make(chan struct{})
	go func() {
		defer close(jobs)
		defer close(results)
		for lo := 0; lo < len(order); lo += chunkPersons {
			j := job{lo, min(lo+chunkPersons, len(order)), make(chan chunk, 1)}
			select {
			case jobs <- j:
			case <-stop:
				return
			}
			select {
			case results <- j.out:
			case <-stop:
				return
			}
		}
	}()
	for range workers {
		go func() {
			r := newRNG()
			for j := range jobs {
				buf := pool.Get().([]byte)[:0]
				c := 0
				for _, ki := range order[j.lo:j.hi] {
					p := g.person(r, int(ki.idx))
					for _, e := range p.Entries() {
						buf = append(buf, cprfmt.RobinsonLine(e)...)
						buf = append(buf, '\r', '\n')
						c++
					}
				}
				j.out <- chunk{buf, c}
			}
		}()
	}
	defer close(stop)
	for out := range results {
		c := <-out
		if err == nil {
			if _, err = enc.Write(c.buf); err == nil {
				n += c.n
			}
		}
		//lint:ignore SA6002 a slice header is small; the pool saves the backing arrays
		pool.Put(c.buf[:0]) //nolint:staticcheck // a slice header is small
		if err != nil {
			break
		}
	}
	if err != nil {
		// Let the producer and workers finish.
		go func() {
			for out := range results {
				<-out
			}
		}()
		return n, err
	}
	if err := enc.Close(); err != nil {
		return n, err
	}
	return n, bw.Flush()
}
