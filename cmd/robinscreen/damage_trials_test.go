package main

import (
	"bufio"
	"bytes"
	"context"
	binenc "encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4/fb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/robinscreen/robinscreen/internal/synth"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// The damage trials are the independent acceptance check of verified
// storage (issue 10): a synthetic Robinson list (200,000 records by
// default) and a CPR extract are loaded twice, every listed record is
// screened as a contact written the way the list writes it, with unlisted
// contacts and every personal number of the extract; then, trial after
// trial, a random Badger table, value log or Bloom filter of a serving
// version gets a zeroed 4 KiB page at a random offset, random flipped
// bytes or a truncation at a random length — with the server stopped
// (found at restart) or under the running server — and everything is
// screened again. No answer may weaken (BLOCK or REVIEW → ALLOW), the
// server must not crash, a refusal must carry an ErrorInfo, and the
// damage must be found and named (version and file).
//
// They take minutes, so they run only when asked:
//
//	ROBINSCREEN_DAMAGE_TRIALS=40 go test ./cmd/robinscreen -run TestDamageTrials -v -timeout 60m
//
// ROBINSCREEN_DAMAGE_RECORDS sets the list size, ROBINSCREEN_DAMAGE_SEED
// the trials' seed (default: the time; it is logged, so a failed run can
// be repeated); ROBINSCREEN_DAMAGE_TARGET=index damages only the tables'
// indexes.

// trialContact is one contact of the trials and the kind of dataset it
// depends on.
type trialContact struct {
	c   *pb.Contact
	cpr bool // screened by personal number (CPR extract)
}

// trialFixture is the pristine data directory and the intact answers.
type trialFixture struct {
	pristine string
	contacts []trialContact
	want     []pb.Decision
	serving  map[string]string // kind directory → serving version
}

// trialTally counts what the trials found.
type trialTally struct {
	trials, answered, refusedChunks  int
	blockToAllow, reviewToAllow      int
	otherChanges                     int // answers that changed, but not to ALLOW
	undetected, unnamed, unexplained int
	detectedAtOpen, detectedOnRead   int
	detectedByScrub, rollbackExact   int
	notes                            []string
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return n
}

func newTrialFixture(t *testing.T, records int) *trialFixture {
	t.Helper()
	src := t.TempDir()
	g := synth.NewGenerator(synth.Config{Seed: 29, Records: records, Published: time.Now().UTC().Truncate(24 * time.Hour)})
	write := func(name string, fn func(f *os.File) error) string {
		p := filepath.Join(src, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := fn(f); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	list := write("robinson.txt", func(f *os.File) error { _, err := g.WriteRobinson(f); return err })
	extract := write("cpr.txt", func(f *os.File) error { return g.WriteCPRExtract(f, records/4, 0.05, 0.01) })
	// The same files with CRLF line ends go first, so that each kind has a
	// previous version with the same answers to roll back to (versions are
	// named by their content: loading one file twice gives one version).
	crlf := func(name, from string) string {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		return write(name, func(f *os.File) error {
			_, err := f.Write(bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")))
			return err
		})
	}
	prevList, prevExtract := crlf("robinson-crlf.txt", list), crlf("cpr-crlf.txt", extract)
	fx := &trialFixture{pristine: filepath.Join(t.TempDir(), "data"), serving: map[string]string{}}
	for _, files := range [][2]string{{prevList, prevExtract}, {list, extract}} {
		if code, out, errOut := runCLI(t, "load", "--data", fx.pristine, "--robinson", files[0], "--cpr", files[1]); code != 0 {
			t.Fatalf("load: exit %d\n%s\n%s", code, out, errOut)
		}
	}
	for _, kind := range []string{"robinson", "cpr"} {
		b, err := os.ReadFile(filepath.Join(fx.pristine, kind, "STATE"))
		if err != nil {
			t.Fatal(err)
		}
		vs := versionDirsOf(t, filepath.Join(fx.pristine, kind))
		if len(vs) != 2 || !strings.Contains(string(b), vs[1]) {
			t.Fatalf("%s: versions %v, STATE %s", kind, vs, b)
		}
		fx.serving[kind] = vs[1]
	}

	// Every listed record, written as the list writes it.
	for i := range g.Persons() {
		p := g.Person(i)
		name := strings.Join(p.Given, " ") + " " + strings.Join(p.Surnames, " ")
		addrs := []synth.Address{p.Current()}
		if p.Previous != nil {
			addrs = append(addrs, *p.Previous)
		}
		for k, a := range addrs {
			fx.contacts = append(fx.contacts, trialContact{c: &pb.Contact{Ref: fmt.Sprintf("L%d-%d", i, k), Name: name, Address: a.Standard(), PostalCode: a.Postcode}})
		}
	}
	// Unlisted ones.
	if err := g.Contacts(records/20, 0, 31, func(c synth.Contact) error {
		fx.contacts = append(fx.contacts, trialContact{c: &pb.Contact{Ref: c.Ref, Name: c.Name, Address: c.Address, PostalCode: c.PostalCode}})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Every personal number of the extract, alone.
	f, err := os.Open(extract)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "001") && len(l) >= 13 {
			fx.contacts = append(fx.contacts, trialContact{c: &pb.Contact{Ref: "P" + strconv.Itoa(len(fx.contacts)), Cpr: l[3:13]}, cpr: true})
		}
	}
	f.Close()

	p := serveProc(t, fx.pristine)
	res, errs := screenChunks(p.conn, fx.contacts)
	p.kill()
	if len(errs) > 0 {
		t.Fatalf("screening the intact data: %v", errs[0])
	}
	counts := map[pb.Decision]int{}
	listedBlock := 0
	for i, r := range res {
		fx.want = append(fx.want, r.GetDecision())
		counts[r.GetDecision()]++
		if strings.HasPrefix(fx.contacts[i].c.Ref, "L") && r.GetDecision() == pb.Decision_DECISION_BLOCK {
			listedBlock++
		}
	}
	t.Logf("fixture: %d records, %d contacts (%d listed records BLOCK), intact answers %v", records, len(res), listedBlock, counts)
	if listedBlock < records*9/10 {
		t.Fatalf("only %d of %d listed records BLOCK on the intact data: the trials would prove little", listedBlock, records)
	}
	return fx
}

func versionDirsOf(t *testing.T, kindDir string) []string {
	t.Helper()
	es, err := os.ReadDir(kindDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// screenChunks screens the contacts in requests of 1,000 over a stream; a
// refused request ends the stream, its error is kept and a new stream
// goes on with the next request. res[i] is nil for a contact not answered.
func screenChunks(conn *grpc.ClientConn, contacts []trialContact) (res []*pb.ScreeningResult, errs []error) {
	const chunk = 1000
	res = make([]*pb.ScreeningResult, len(contacts))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var s pb.ScreeningService_ScreenContactsClient
	for i := 0; i < len(contacts); i += chunk {
		if s == nil {
			var err error
			if s, err = pb.NewScreeningServiceClient(conn).ScreenContacts(ctx); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		req := &pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST}
		for _, c := range contacts[i:min(i+chunk, len(contacts))] {
			req.Contacts = append(req.Contacts, c.c)
		}
		var resp *pb.ScreenContactsResponse
		err := s.Send(req)
		if err == nil {
			resp, err = s.Recv()
		} else {
			_, err = s.Recv()
		}
		if err != nil {
			errs = append(errs, err)
			s = nil
			continue
		}
		for k, r := range resp.GetResults() {
			res[i+k] = r
		}
	}
	if s != nil {
		s.CloseSend()
	}
	return res, errs
}

// trialDamage is one random damage of one file.
type trialDamage struct {
	kind, rel string // dataset kind and file relative to the version directory
	desc      string
}

// servingFiles lists the damageable files of the serving versions: Badger
// tables and value logs and the Bloom filters.
func (fx *trialFixture) servingFiles(t *testing.T, data string) (tables, vlogs, filters []trialDamage) {
	t.Helper()
	for kind, v := range fx.serving {
		vdir := filepath.Join(data, kind, v)
		for _, pat := range []string{"badger/*.sst", "badger/*.vlog", "bloom*.bin"} {
			ms, _ := filepath.Glob(filepath.Join(vdir, pat))
			sort.Strings(ms)
			for _, m := range ms {
				rel, _ := filepath.Rel(vdir, m)
				d := trialDamage{kind: kind, rel: filepath.ToSlash(rel)}
				switch {
				case strings.HasSuffix(m, ".sst"):
					tables = append(tables, d)
				case strings.HasSuffix(m, ".vlog"):
					vlogs = append(vlogs, d)
				default:
					filters = append(filters, d)
				}
			}
		}
	}
	return tables, vlogs, filters
}

// damageFile damages the file at path at random: a zeroed 4 KiB page at a
// random offset, 1-64 flipped bytes (together or scattered) or a
// truncation to a random shorter length. It returns what it did; changed
// is false when the bytes were already what it wrote.
func damageFile(t *testing.T, r *rand.Rand, path string) (desc string, changed bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	size := int64(len(b))
	orig := append([]byte(nil), b...)
	switch w := r.IntN(100); {
	case w < 40: // zeroed page
		off := r.Int64N(size)
		if r.IntN(2) == 0 {
			off &^= 4095
		}
		end := min(off+4096, size)
		clear(b[off:end])
		desc = fmt.Sprintf("zeroed %d bytes at %d of %d", end-off, off, size)
	case w < 75: // flipped bytes
		n := 1 + r.IntN(64)
		if r.IntN(2) == 0 {
			off := r.Int64N(size)
			for k := off; k < min(off+int64(n), size); k++ {
				b[k] ^= byte(1 + r.IntN(255))
			}
			desc = fmt.Sprintf("flipped %d bytes at %d of %d", min(int64(n), size-off), off, size)
		} else {
			for range n {
				b[r.Int64N(size)] ^= byte(1 + r.IntN(255))
			}
			desc = fmt.Sprintf("flipped %d scattered bytes of %d", n, size)
		}
	default: // truncated
		n := r.Int64N(size)
		if err := os.Truncate(path, n); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("truncated to %d of %d", n, size), true
	}
	if string(b) == string(orig) {
		return desc, false
	}
	// Write in place (no new inode): a running server's memory map sees it.
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(b, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return desc, true
}

// damageIndex damages the index of the Badger table at path (found from
// its footer): a zeroed range of up to 4 KiB, a few flipped bytes, or one
// block's first key zeroed (the index stays well formed, the key sorts
// first). It returns what it did.
func damageIndex(t *testing.T, r *rand.Rand, path string) (desc string, changed bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pos := len(b) - 4
	pos -= int(binenc.BigEndian.Uint32(b[pos:])) + 4
	start, end := pos-int(binenc.BigEndian.Uint32(b[pos:])), pos
	orig := append([]byte(nil), b[start:end]...)
	switch r.IntN(3) {
	case 0:
		off := start + r.IntN(end-start)
		n := 1 + r.IntN(4096)
		clear(b[off:min(off+n, end)])
		desc = fmt.Sprintf("index [%d,%d): zeroed %d bytes at %d", start, end, min(off+n, end)-off, off)
	case 1:
		n := 1 + r.IntN(8)
		for range n {
			b[start+r.IntN(end-start)] ^= byte(1 + r.IntN(255))
		}
		desc = fmt.Sprintf("index [%d,%d): flipped %d bytes", start, end, n)
	default:
		idx := fb.GetRootAsTableIndex(b[start:end], 0)
		var ko fb.BlockOffset
		j := 1 + r.IntN(idx.OffsetsLength()-1)
		if !idx.Offsets(&ko, j) {
			t.Fatalf("block %d not in the index", j)
		}
		k := ko.KeyBytes()
		at := bytes.Index(b[start:end], k)
		if at < 0 {
			t.Fatal("a block's first key is not in the index")
		}
		clear(b[start+at : start+at+len(k)])
		desc = fmt.Sprintf("index [%d,%d): first key of block %d of %d zeroed", start, end, j, idx.OffsetsLength())
	}
	if bytes.Equal(orig, b[start:end]) {
		return desc, false
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b[start:end], int64(start)); err != nil {
		t.Fatal(err)
	}
	return desc, true
}

// datasetStatus returns the status of every kind, by directory name.
func datasetStatus(conn *grpc.ClientConn) (map[string]*pb.DatasetStatus, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := pb.NewDatasetServiceClient(conn).GetDatasetStatus(ctx, &pb.GetDatasetStatusRequest{})
	if err != nil {
		return nil, err
	}
	out := map[string]*pb.DatasetStatus{}
	for _, d := range resp.GetDatasets() {
		switch d.GetKind() {
		case pb.DatasetKind_DATASET_KIND_ROBINSON:
			out["robinson"] = d
		case pb.DatasetKind_DATASET_KIND_CPR:
			out["cpr"] = d
		}
	}
	return out, nil
}

// compare counts the answers against the intact ones.
func (fx *trialFixture) compare(tl *trialTally, res []*pb.ScreeningResult, errs []error, exact bool) (bad []string) {
	for _, err := range errs {
		tl.refusedChunks++
		st := status.Convert(err)
		if (st.Code() != codes.Unavailable && st.Code() != codes.FailedPrecondition) || reason(err) == "" {
			tl.unexplained++
			bad = append(bad, fmt.Sprintf("refusal %v (reason %q)", err, reason(err)))
		}
	}
	for i, r := range res {
		if r == nil {
			continue
		}
		tl.answered++
		got, want := r.GetDecision(), fx.want[i]
		switch {
		case got == want:
		case got == pb.Decision_DECISION_ALLOW && want == pb.Decision_DECISION_BLOCK:
			tl.blockToAllow++
			bad = append(bad, fmt.Sprintf("contact %s BLOCK → ALLOW", fx.contacts[i].c.Ref))
		case got == pb.Decision_DECISION_ALLOW:
			tl.reviewToAllow++
			bad = append(bad, fmt.Sprintf("contact %s %v → ALLOW", fx.contacts[i].c.Ref, want))
		default:
			tl.otherChanges++
			if exact {
				bad = append(bad, fmt.Sprintf("contact %s %v → %v after a rollback to an identical version", fx.contacts[i].c.Ref, want, got))
			}
		}
	}
	return bad
}

func TestDamageTrials(t *testing.T) {
	trials := envInt(t, "ROBINSCREEN_DAMAGE_TRIALS", 0)
	if trials <= 0 || testing.Short() {
		t.Skip("set ROBINSCREEN_DAMAGE_TRIALS=N to run N random damage trials through the real binary (minutes)")
	}
	target := os.Getenv("ROBINSCREEN_DAMAGE_TARGET") // "index": only tables' indexes
	seed := uint64(envInt(t, "ROBINSCREEN_DAMAGE_SEED", int(time.Now().UnixNano()%1e9)))
	t.Logf("seed %d (ROBINSCREEN_DAMAGE_SEED repeats the run)", seed)
	fx := newTrialFixture(t, envInt(t, "ROBINSCREEN_DAMAGE_RECORDS", 200000))
	r := rand.New(rand.NewPCG(seed, 10))
	var tl trialTally
	for i := range trials {
		mode := []string{"restart", "serving"}[r.IntN(2)]
		policy := []string{"not-serving", "not-serving", "rollback"}[r.IntN(3)]
		t.Run(fmt.Sprintf("%02d-%s-%s", i, mode, policy), func(t *testing.T) {
			tl.trials++
			data := filepath.Join(t.TempDir(), "data")
			copyTree(t, fx.pristine, data)
			tables, vlogs, filters := fx.servingFiles(t, data)
			var dm trialDamage
			index := false
			switch w := r.IntN(100); {
			case target == "index" || target == "" && w < 12:
				dm, index = tables[r.IntN(len(tables))], true
			case w < 65:
				dm = tables[r.IntN(len(tables))]
			case w < 80:
				dm = vlogs[r.IntN(len(vlogs))]
			default:
				dm = filters[r.IntN(len(filters))]
			}
			damage := damageFile
			if index {
				damage = damageIndex
			}
			version := fx.serving[dm.kind]
			path := filepath.Join(data, dm.kind, version, filepath.FromSlash(dm.rel))
			var p *serverProc
			var changed bool
			flags := []string{"--on-damage", policy, "--scrub-interval", "1s"}
			if mode == "restart" {
				dm.desc, changed = damage(t, r, path)
				p = serveProc(t, data, flags...)
			} else {
				p = serveProc(t, data, flags...)
				if h := p.health(t); h != healthpb.HealthCheckResponse_SERVING {
					t.Fatalf("health %v before the damage", h)
				}
				if index {
					// A server that has run for a while: every table
					// has been read, its index too.
					if _, errs := screenChunks(p.conn, fx.contacts); len(errs) > 0 {
						t.Fatalf("screening before the damage: %v", errs[0])
					}
				}
				dm.desc, changed = damage(t, r, path)
			}
			defer p.kill()
			what := fmt.Sprintf("%s %s/%s: %s", mode, dm.kind, dm.rel, dm.desc)
			t.Log(what)
			res, errs := screenChunks(p.conn, fx.contacts)
			bad := fx.compare(&tl, res, errs, false)

			// The damage must be found (at open, on a read or by the
			// scrub within a few seconds) and named.
			var damaged string
			deadline := time.Now().Add(15 * time.Second)
			for {
				st, err := datasetStatus(p.conn)
				if err != nil {
					tl.unexplained++
					bad = append(bad, fmt.Sprintf("status: %v", err))
					break
				}
				if d := st[dm.kind].GetDamaged(); d != "" {
					damaged = d
					// A read that failed names the file a moment later.
					if strings.Contains(d, dm.rel) || time.Now().After(deadline.Add(-10*time.Second)) {
						break
					}
					time.Sleep(250 * time.Millisecond)
					continue
				}
				if policy == "rollback" && st[dm.kind].GetServing().GetVersion() != version {
					damaged = "rolled back"
					break
				}
				if !changed || time.Now().After(deadline) {
					break
				}
				time.Sleep(250 * time.Millisecond)
			}
			log := p.stderr.String()
			switch {
			case !changed:
				t.Logf("the damage changed no byte")
			case damaged == "":
				tl.undetected++
				bad = append(bad, "the damage was not found within 15 s (scrub every 1 s)")
			case damaged == "rolled back":
				if !strings.Contains(log, version) || !strings.Contains(log, dm.rel) {
					tl.unnamed++
					bad = append(bad, "rolled back, but the log does not name "+version+" and "+dm.rel)
				}
			case !strings.Contains(damaged, version) || !strings.Contains(damaged, dm.rel):
				tl.unnamed++
				t.Logf("NOT NAMED: damaged = %q", damaged)
				tl.notes = append(tl.notes, fmt.Sprintf("trial %d (%s): damage not named: %q", i, what, damaged))
			}
			switch {
			case strings.Contains(log, "SA_ONSTACK"), strings.Contains(log, "goroutine "), strings.Contains(log, "panic:"), strings.Contains(log, "fatal error"):
				tl.unexplained++
				bad = append(bad, "the log shows a crash")
			case p.cmd.ProcessState != nil:
				tl.unexplained++
				bad = append(bad, "the server exited")
			}
			if mode == "restart" && changed {
				tl.detectedAtOpen++
			} else if changed && damaged != "" {
				if strings.Contains(log, "SHA-256") {
					tl.detectedByScrub++
				} else {
					tl.detectedOnRead++
				}
			}

			// Screen again once the damage is known: refused (not
			// serving), or the previous (identical) version answers
			// exactly as before.
			if changed && damaged != "" && p.cmd.ProcessState == nil {
				time.Sleep(500 * time.Millisecond) // let a rollback settle
				st, _ := datasetStatus(p.conn)
				rolled := st != nil && st[dm.kind].GetServing().GetVersion() != "" && st[dm.kind].GetServing().GetVersion() != version
				res, errs := screenChunks(p.conn, fx.contacts)
				bad = append(bad, fx.compare(&tl, res, errs, rolled)...)
				if rolled && len(errs) == 0 {
					tl.rollbackExact++
				}
				if policy == "not-serving" && dm.kind == "robinson" {
					if h := p.health(t); h != healthpb.HealthCheckResponse_NOT_SERVING {
						tl.unexplained++
						bad = append(bad, fmt.Sprintf("health %v with a damaged Robinson list under not-serving", h))
					}
				}
			}
			if len(bad) > 0 {
				if len(bad) > 10 {
					bad = append(bad[:10], fmt.Sprintf("… %d more", len(bad)-10))
				}
				tl.notes = append(tl.notes, fmt.Sprintf("trial %d (%s, %s): %s", i, what, policy, strings.Join(bad, "; ")))
				t.Errorf("%s:\n%s\nserver log tail:\n%s", what, strings.Join(bad, "\n"), lastLines(log, 8))
			}
		})
	}
	t.Logf("%d trials (seed %d): %d answers compared, %d refused requests; BLOCK→ALLOW %d, REVIEW→ALLOW %d, other changed answers %d; damage found at open %d, on a read %d, by the scrub %d; rollbacks answering exactly %d; undetected %d, not named %d, unexplained %d",
		tl.trials, seed, tl.answered, tl.refusedChunks, tl.blockToAllow, tl.reviewToAllow, tl.otherChanges,
		tl.detectedAtOpen, tl.detectedOnRead, tl.detectedByScrub, tl.rollbackExact, tl.undetected, tl.unnamed, tl.unexplained)
	for _, n := range tl.notes {
		t.Log(n)
	}
}
