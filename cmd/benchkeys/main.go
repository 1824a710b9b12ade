// Command benchkeys supports scripts/bench-baselines.sh, which answers one
// screening question — which contacts share a blocking key (postcode, house
// number, surname word) with the Robinson list — with PostgreSQL, Redis and
// robinscreen on the same data (docs/benchmarks-e2e.md).
//
// Usage:
//
//	benchkeys keys --list FILE --contacts FILE --out-list FILE --out-contacts FILE
//	benchkeys redis-proto --keys FILE --out FILE [--set robinson] [--per 1000]
//	benchkeys redis-screen --addr A --keys FILE [--set robinson] [--per 1000] [--pipeline 64]
//	benchkeys inproc --data DIR --contacts FILE [--list-keys FILE] [--threads N] [--no-cpr]
//
// keys writes the blocking keys of the list (one per list record and
// distinct surname word, as the loader stores them) and of the contacts
// ("ref<TAB>key", one per contact and distinct surname word, as the engine
// looks them up), normalised by robinson.ParseContactName,
// robinson.ParseAddress and robinson.AppendKey: the baselines get the
// normalisation for free. Contacts without a name or without postcode and
// house number have no key (the engine cannot check them either).
//
// redis-proto writes the list keys as pipelined SADD commands in the Redis
// protocol for `redis-cli --pipe`. redis-screen looks the contacts' keys up
// with pipelined SMISMEMBER and counts the contacts with at least one key
// in the set.
//
// inproc opens a robinscreen data directory and screens every contact of
// the CSV with screening.Engine in this process (no gRPC): the in-process
// reference for the end-to-end figures, with CPU time per contact: a first,
// cold pass on one goroutine, then warm passes on one and on --threads
// goroutines. With --list-keys it also times the floor: parse name and
// address, build the keys and look them up in a Go map of the list keys.
//
// Every subcommand prints one JSON object on standard output.
package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/robinscreen/robinscreen/internal/proccpu"
	"github.com/robinscreen/robinscreen/robinson"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/store"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "benchkeys:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("missing subcommand: keys, redis-proto, redis-screen or inproc")
	}
	fs := flag.NewFlagSet("benchkeys "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var out any
	var err error
	switch args[0] {
	case "keys":
		list := fs.String("list", "", "Robinson list file")
		contacts := fs.String("contacts", "", "contacts CSV (robingen contacts)")
		outList := fs.String("out-list", "", "output: list keys, one per line")
		outContacts := fs.String("out-contacts", "", "output: ref<TAB>key lines")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		out, err = writeKeys(*list, *contacts, *outList, *outContacts)
	case "redis-proto":
		keys := fs.String("keys", "", "list keys file")
		dst := fs.String("out", "", "output file")
		set := fs.String("set", "robinson", "Redis set name")
		per := fs.Int("per", 1000, "members per SADD")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		out, err = redisProto(*keys, *dst, *set, *per)
	case "redis-screen":
		addr := fs.String("addr", "127.0.0.1:6379", "Redis address")
		keys := fs.String("keys", "", "contact keys file (ref<TAB>key)")
		set := fs.String("set", "robinson", "Redis set name")
		per := fs.Int("per", 1000, "members per SMISMEMBER")
		pipeline := fs.Int("pipeline", 64, "SMISMEMBER commands per pipeline round trip")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		out, err = redisScreen(*addr, *keys, *set, *per, *pipeline)
	case "inproc":
		dir := fs.String("data", "", "robinscreen data directory (not in use by a server)")
		contacts := fs.String("contacts", "", "contacts CSV")
		listKeys := fs.String("list-keys", "", "list keys file for the floor measurement (optional)")
		threads := fs.Int("threads", runtime.GOMAXPROCS(0), "goroutines for the parallel run")
		noCPR := fs.Bool("no-cpr", false, "ignore the contacts' personal numbers")
		cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the screening passes to this file")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *cpuProfile != "" {
			f, err := os.Create(*cpuProfile)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
			defer pprof.StopCPUProfile()
		}
		out, err = inproc(*dir, *contacts, *listKeys, *threads, *noCPR)
	default:
		return fmt.Errorf("unknown subcommand %q", args[0])
	}
	if err != nil {
		return err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", b)
	return err
}

// readContacts reads the robingen contacts CSV.
func readContacts(path string, noCPR bool) ([]screening.Contact, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	cr.Comma = ';'
	head, err := cr.Read()
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	get := func(rec []string, k string) string {
		if i, ok := col[k]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	var out []screening.Contact
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		c := screening.Contact{Ref: get(rec, "ref"), Name: get(rec, "name"), Address: get(rec, "address"), PostalCode: get(rec, "postal_code")}
		if !noCPR {
			c.CPR = get(rec, "cpr")
		}
		out = append(out, c)
	}
}

// contactKeys appends the contact's distinct blocking keys to dst (each
// key appended to buf) as the engine builds them; ok is false when the
// contact cannot be checked by name and address.
func contactKeys(c *screening.Contact, buf []byte, dst [][]byte) ([]byte, [][]byte, bool) {
	name, err := robinson.ParseContactName(c.Name)
	addr, _ := robinson.ParseAddress(c.Address)
	if pc, ok := screening.PostalCode(c.PostalCode); ok {
		addr.Postcode = pc
	}
	if err != nil || addr.Postcode == "" || addr.HouseNumber == "" {
		return buf, dst, false
	}
	for i, sn := range name.Surnames {
		dup := false
		for _, x := range name.Surnames[:i] {
			dup = dup || x == sn
		}
		if dup {
			continue
		}
		start := len(buf)
		buf = robinson.AppendKey(buf, addr.Postcode, addr.HouseNumber, sn)
		dst = append(dst, buf[start:len(buf):len(buf)])
	}
	return buf, dst, true
}

type keysOut struct {
	ListRecords     int     `json:"list_records"`
	ListKeys        int     `json:"list_keys"`
	Contacts        int     `json:"contacts"`
	ContactsKeyed   int     `json:"contacts_with_keys"`
	ContactKeys     int     `json:"contact_keys"`
	ListSeconds     float64 `json:"list_seconds"`
	ContactsSeconds float64 `json:"contacts_seconds"`
}

func writeKeys(list, contacts, outList, outContacts string) (*keysOut, error) {
	if list == "" || contacts == "" || outList == "" || outContacts == "" {
		return nil, errors.New("keys: --list, --contacts, --out-list and --out-contacts are required")
	}
	res := &keysOut{}
	t0 := time.Now()
	lf, err := os.Open(list)
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	of, err := os.Create(outList)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(of, 1<<20)
	var key []byte
	var words []string
	_, err = robinson.Parse(lf, robinson.Options{}, func(r *robinson.Record) error {
		res.ListRecords++
		words = words[:0]
		for _, sn := range r.Name.Surnames {
			dup := false
			for _, x := range words {
				dup = dup || x == sn
			}
			if dup {
				continue
			}
			words = append(words, sn)
			key = robinson.AppendKey(key[:0], r.Address.Postcode, r.Address.HouseNumber, sn)
			key = append(key, '\n')
			if _, err := w.Write(key); err != nil {
				return err
			}
			res.ListKeys++
		}
		return nil
	})
	if err == nil {
		err = w.Flush()
	}
	if cerr := of.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	res.ListSeconds = time.Since(t0).Seconds()

	t0 = time.Now()
	cs, err := readContacts(contacts, true)
	if err != nil {
		return nil, err
	}
	cf, err := os.Create(outContacts)
	if err != nil {
		return nil, err
	}
	w = bufio.NewWriterSize(cf, 1<<20)
	var buf []byte
	var keys [][]byte
	for i := range cs {
		var ok bool
		buf, keys, ok = contactKeys(&cs[i], buf[:0], keys[:0])
		res.Contacts++
		if !ok {
			continue
		}
		res.ContactsKeyed++
		for _, k := range keys {
			w.WriteString(cs[i].Ref)
			w.WriteByte('\t')
			w.Write(k)
			w.WriteByte('\n')
			res.ContactKeys++
		}
	}
	err = w.Flush()
	if cerr := cf.Close(); err == nil {
		err = cerr
	}
	res.ContactsSeconds = time.Since(t0).Seconds()
	return res, err
}

// redisProto writes SADD commands of per members each.
func redisProto(keys, dst, set string, per int) (map[string]int, error) {
	if keys == "" || dst == "" || per <= 0 {
		return nil, errors.New("redis-proto: --keys and --out are required, --per positive")
	}
	in, err := os.Open(keys)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(out, 1<<20)
	sc := bufio.NewScanner(bufio.NewReaderSize(in, 1<<20))
	var batch []string
	cmds, members := 0, 0
	flush := func() {
		if len(batch) == 0 {
			return
		}
		fmt.Fprintf(w, "*%d\r\n$4\r\nSADD\r\n$%d\r\n%s\r\n", len(batch)+2, len(set), set)
		for _, m := range batch {
			fmt.Fprintf(w, "$%d\r\n%s\r\n", len(m), m)
		}
		cmds++
		members += len(batch)
		batch = batch[:0]
	}
	for sc.Scan() {
		batch = append(batch, sc.Text())
		if len(batch) == per {
			flush()
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	return map[string]int{"commands": cmds, "members": members}, out.Close()
}

type redisOut struct {
	Contacts int     `json:"contacts_with_keys"`
	Keys     int     `json:"keys"`
	Listed   int     `json:"contacts_with_a_listed_key"`
	Seconds  float64 `json:"seconds"`
	ReadSecs float64 `json:"read_seconds"`
}

// redisScreen looks every contact key up with pipelined SMISMEMBER. The
// keys file is read into memory first (not timed); timing covers the
// lookups and the counting.
func redisScreen(addr, keys, set string, per, pipeline int) (*redisOut, error) {
	t0 := time.Now()
	b, err := os.ReadFile(keys)
	if err != nil {
		return nil, err
	}
	var refs []string // ref of each key; refs of one contact are adjacent
	var members []any
	for line := range strings.SplitSeq(strings.TrimSuffix(string(b), "\n"), "\n") {
		ref, key, ok := strings.Cut(line, "\t")
		if !ok {
			return nil, fmt.Errorf("redis-screen: bad line %q", line)
		}
		refs = append(refs, ref)
		members = append(members, key)
	}
	res := &redisOut{Keys: len(members), ReadSecs: time.Since(t0).Seconds()}
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: addr, ReadTimeout: time.Minute, WriteTimeout: time.Minute})
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return nil, err
	}
	t0 = time.Now()
	hit := make([]bool, len(members))
	for lo := 0; lo < len(members); {
		pipe := rdb.Pipeline()
		var cmds []*redis.BoolSliceCmd
		var los []int
		for n := 0; n < pipeline && lo < len(members); n++ {
			hi := min(lo+per, len(members))
			cmds = append(cmds, pipe.SMIsMember(ctx, set, members[lo:hi]...))
			los = append(los, lo)
			lo = hi
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, err
		}
		for i, c := range cmds {
			copy(hit[los[i]:], c.Val())
		}
	}
	prev := ""
	listed := false
	for i, r := range refs {
		if r != prev {
			if listed {
				res.Listed++
			}
			res.Contacts++
			prev, listed = r, false
		}
		listed = listed || hit[i]
	}
	if listed {
		res.Listed++
	}
	res.Seconds = time.Since(t0).Seconds()
	return res, nil
}

type runOut struct {
	Threads          int              `json:"threads"`
	Seconds          float64          `json:"seconds"`
	ContactsPerSec   float64          `json:"contacts_per_second"`
	CPUSeconds       float64          `json:"cpu_seconds"`
	CPUNsPerContact  float64          `json:"cpu_ns_per_contact"`
	Decisions        map[string]int64 `json:"decisions,omitempty"`
	ListedKeyMatches int              `json:"contacts_with_a_listed_key,omitempty"`
}

type inprocOut struct {
	Contacts int `json:"contacts"`
	// Cold is the first pass, right after opening the store (Badger's
	// caches empty, as for a freshly started server); Single and Parallel
	// are the following passes.
	Cold     runOut  `json:"cold"`
	Single   runOut  `json:"single"`
	Parallel runOut  `json:"parallel"`
	Floor    *runOut `json:"floor,omitempty"`
}

func inproc(dir, contacts, listKeys string, threads int, noCPR bool) (*inprocOut, error) {
	if dir == "" || contacts == "" {
		return nil, errors.New("inproc: --data and --contacts are required")
	}
	cs, err := readContacts(contacts, noCPR)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if !st.Ready() {
		return nil, errors.New("inproc: no Robinson list loaded in " + dir)
	}
	res := &inprocOut{Contacts: len(cs)}
	var eng screening.Engine
	screenAll := func(n int) (runOut, error) {
		var mu sync.Mutex
		decs := map[string]int64{}
		var wg sync.WaitGroup
		errc := make(chan error, n)
		runtime.GC()
		cpu0, t0 := proccpu.Seconds(), time.Now()
		for w := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// A snapshot is for one goroutine: one each.
				snap, release := st.Acquire()
				defer release()
				var local [4]int64
				for i := w; i < len(cs); i += n {
					r, err := eng.Screen(snap, screening.ChannelPost, screening.PurposeUnspecified, &cs[i])
					if err != nil {
						errc <- err
						return
					}
					if int(r.Decision) < len(local) {
						local[r.Decision]++
					}
				}
				mu.Lock()
				for d, v := range local {
					if v > 0 {
						decs[screening.Decision(d).String()] += v
					}
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		el, cpu := time.Since(t0).Seconds(), proccpu.Seconds()-cpu0
		close(errc)
		if err := <-errc; err != nil {
			return runOut{}, err
		}
		return runOut{Threads: n, Seconds: el, ContactsPerSec: float64(len(cs)) / el, CPUSeconds: cpu,
			CPUNsPerContact: cpu / float64(len(cs)) * 1e9, Decisions: decs}, nil
	}
	if res.Cold, err = screenAll(1); err != nil {
		return nil, err
	}
	if res.Single, err = screenAll(1); err != nil {
		return nil, err
	}
	if res.Parallel, err = screenAll(threads); err != nil {
		return nil, err
	}
	if listKeys != "" {
		b, err := os.ReadFile(listKeys)
		if err != nil {
			return nil, err
		}
		set := make(map[string]struct{})
		for k := range strings.SplitSeq(strings.TrimSuffix(string(b), "\n"), "\n") {
			set[k] = struct{}{}
		}
		b = nil
		runtime.GC()
		var buf []byte
		var keys [][]byte
		found := 0
		cpu0, t0 := proccpu.Seconds(), time.Now()
		for i := range cs {
			var ok bool
			buf, keys, ok = contactKeys(&cs[i], buf[:0], keys[:0])
			if !ok {
				continue
			}
			for _, k := range keys {
				if _, hit := set[string(k)]; hit {
					found++
					break
				}
			}
		}
		el, cpu := time.Since(t0).Seconds(), proccpu.Seconds()-cpu0
		res.Floor = &runOut{Threads: 1, Seconds: el, ContactsPerSec: float64(len(cs)) / el, CPUSeconds: cpu,
			CPUNsPerContact: cpu / float64(len(cs)) * 1e9, ListedKeyMatches: found}
	}
	return res, nil
}
