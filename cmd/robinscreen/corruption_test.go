package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/robinscreen/robinscreen/internal/synth"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// The corruption suite damages a stored Robinson version the ways a disk
// or an operator can — a zeroed 4 KiB page, flipped bytes, a truncated or
// deleted table, a deleted or changed filter or manifest — at several
// offsets, restarts the real binary (or damages the tables under a running
// one) and screens every listed contact: not one BLOCK may become ALLOW,
// and the damage must be named (version and file) in the dataset status
// and the log. A full disk is covered by the load isolation tests.

// corruptionFixture is a data directory with two versions of one
// synthetic list, the contacts and their answers from the intact data.
type corruptionFixture struct {
	pristine string // data directory, copied for each trial
	contacts []*pb.Contact
	want     []pb.Decision
	versions []string // older first
}

func newCorruptionFixture(t *testing.T) *corruptionFixture {
	t.Helper()
	src := t.TempDir()
	g := synth.NewGenerator(synth.Config{Seed: 11, Records: 20000, Published: time.Now().UTC().Truncate(24 * time.Hour)})
	list := filepath.Join(src, "robinson.txt")
	f, err := os.Create(list)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.WriteRobinson(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	fx := &corruptionFixture{pristine: filepath.Join(t.TempDir(), "data")}
	// Two loads: the second serves, the first is the previous version.
	// Versions are named by their content (publication date and file), so
	// the first load gives the list yesterday's date: its version sorts
	// first by name.
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	for _, pub := range [][]string{{"--published", yesterday}, nil} {
		if code, out, errOut := runCLI(t, append([]string{"load", "--data", fx.pristine, "--robinson", list}, pub...)...); code != 0 {
			t.Fatalf("load: exit %d\n%s\n%s", code, out, errOut)
		}
	}
	fx.versions = versionDirs(t, fx.pristine)
	if len(fx.versions) != 2 {
		t.Fatalf("versions %v, want 2", fx.versions)
	}
	// Listed contacts (written some other way than on the list) and
	// unlisted ones; no personal numbers (no CPR extract is loaded).
	add := func(n int, share float64, seed uint64) {
		err := g.Contacts(n, share, seed, func(c synth.Contact) error {
			fx.contacts = append(fx.contacts, &pb.Contact{Ref: c.Ref, Name: c.Name, Address: c.Address, PostalCode: c.PostalCode})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	add(3000, 1, 21)
	add(1000, 0, 22)
	p := startServer(t, fx.pristine)
	res, err := screenAll(p.conn, fx.contacts)
	if err != nil {
		t.Fatalf("screening the intact data: %v", err)
	}
	p.kill()
	blocks := 0
	for _, r := range res {
		fx.want = append(fx.want, r.GetDecision())
		if r.GetDecision() == pb.Decision_DECISION_BLOCK {
			blocks++
		}
	}
	if blocks < 2000 {
		t.Fatalf("only %d of %d contacts BLOCK on the intact data: the suite would prove little", blocks, len(res))
	}
	return fx
}

// versionDirs lists the Robinson version directories of data, older first.
func versionDirs(t *testing.T, data string) []string {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(data, "robinson"))
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

// copyTree copies the directory src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		if rel == "LOCK" {
			return nil
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// screenAll screens the contacts in chunks of 500 over one stream. A
// failed chunk ends the stream: its error is returned with the results so
// far.
func screenAll(conn *grpc.ClientConn, contacts []*pb.Contact) ([]*pb.ScreeningResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := pb.NewScreeningServiceClient(conn).ScreenContacts(ctx)
	if err != nil {
		return nil, err
	}
	var out []*pb.ScreeningResult
	for i := 0; i < len(contacts); i += 500 {
		if err := s.Send(&pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST, Contacts: contacts[i:min(i+500, len(contacts))]}); err != nil {
			_, err = s.Recv()
			return out, err
		}
		resp, err := s.Recv()
		if err != nil {
			return out, err
		}
		out = append(out, resp.GetResults()...)
	}
	s.CloseSend()
	return out, nil
}

// serveProc runs `robinscreen serve` with extra flags and waits until its
// health service answers, SERVING or not.
func serveProc(t *testing.T, data string, flags ...string) *serverProc {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(binary(t), append([]string{"serve", "--data", data, "--listen", addr}, flags...)...)
	p := &serverProc{cmd: cmd, stderr: &lockedBuffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	p.conn, p.screen, p.admin = conn, pb.NewScreeningServiceClient(conn), pb.NewDatasetServiceClient(conn)
	t.Cleanup(p.kill)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil {
			return p
		}
		if p.cmd.ProcessState != nil || time.Now().After(deadline) {
			t.Fatalf("server does not answer health checks: %v\n%s", err, p.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *serverProc) health(t *testing.T) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(p.conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatalf("health: %v", err)
	}
	return resp.GetStatus()
}

// robinsonStatus returns the Robinson dataset status.
func (p *serverProc) robinsonStatus(t *testing.T) *pb.DatasetStatus {
	t.Helper()
	resp, err := p.admin.GetDatasetStatus(context.Background(), &pb.GetDatasetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.GetDatasets() {
		if d.GetKind() == pb.DatasetKind_DATASET_KIND_ROBINSON {
			return d
		}
	}
	t.Fatal("no Robinson dataset status")
	return nil
}

// checkNoBlockToAllow compares results with the intact answers: a BLOCK
// must stay BLOCK; a refused request (an error) answers nobody. It returns
// how many contacts were answered.
func (fx *corruptionFixture) checkNoBlockToAllow(t *testing.T, res []*pb.ScreeningResult, err error) int {
	t.Helper()
	if err != nil {
		st := status.Convert(err)
		switch st.Code() {
		case codes.Unavailable, codes.FailedPrecondition:
		default:
			t.Errorf("screening failed with %v, want UNAVAILABLE (DATASET_DAMAGED) or FAILED_PRECONDITION (NO_DATASET)", err)
		}
		if reason(err) == "" {
			t.Errorf("refusal without ErrorInfo: %v", err)
		}
	}
	flips := 0
	for i, r := range res {
		if fx.want[i] == pb.Decision_DECISION_BLOCK && r.GetDecision() == pb.Decision_DECISION_ALLOW {
			flips++
		}
	}
	if flips > 0 {
		t.Errorf("%d BLOCK → ALLOW of %d contacts answered", flips, len(res))
	}
	return len(res)
}

func reason(err error) string {
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei.GetReason()
		}
	}
	return ""
}

// damage is one way of damaging a version directory; it returns the file
// (relative to the version directory) that must be named.
type damage struct {
	name string
	do   func(t *testing.T, vdir string) string
}

func firstSST(t *testing.T, vdir string) string {
	t.Helper()
	ts, _ := filepath.Glob(filepath.Join(vdir, "badger", "*.sst"))
	if len(ts) == 0 {
		t.Fatalf("no table in %s", vdir)
	}
	sort.Strings(ts)
	return "badger/" + filepath.Base(ts[0])
}

func writeAt(t *testing.T, path string, b []byte, at func(size int64) int64) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	off := max(0, min(at(fi.Size()), fi.Size()-int64(len(b))))
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func zeroTablePage(at func(int64) int64) func(*testing.T, string) string {
	return func(t *testing.T, vdir string) string {
		rel := firstSST(t, vdir)
		writeAt(t, filepath.Join(vdir, rel), make([]byte, 4096), at)
		return rel
	}
}

func flip(file func(*testing.T, string) string, at func(int64) int64, n int) func(*testing.T, string) string {
	return func(t *testing.T, vdir string) string {
		rel := file(t, vdir)
		p := filepath.Join(vdir, rel)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		off := max(0, min(at(int64(len(b))), int64(len(b)-n)))
		for i := range n {
			b[off+int64(i)] ^= 0xa5
		}
		writeAt(t, p, b[off:off+int64(n)], func(int64) int64 { return off })
		return rel
	}
}

func fileNamed(rel string) func(*testing.T, string) string {
	return func(*testing.T, string) string { return rel }
}

func damages() []damage {
	return []damage{
		{"zeroed page at 0", zeroTablePage(func(int64) int64 { return 0 })},
		{"zeroed page at 1/5", zeroTablePage(func(n int64) int64 { return n / 5 })},
		{"zeroed page at 3/5", zeroTablePage(func(n int64) int64 { return 3 * n / 5 })},
		{"zeroed last page", zeroTablePage(func(n int64) int64 { return n })},
		{"flipped byte at 1/3", flip(firstSST, func(n int64) int64 { return n / 3 }, 1)},
		{"flipped 64 bytes at 4/5", flip(firstSST, func(n int64) int64 { return 4 * n / 5 }, 64)},
		{"flipped byte in the footer", flip(firstSST, func(n int64) int64 { return n - 3 }, 1)},
		{"table truncated by 1 byte", func(t *testing.T, vdir string) string {
			rel := firstSST(t, vdir)
			p := filepath.Join(vdir, rel)
			fi, _ := os.Stat(p)
			if err := os.Truncate(p, fi.Size()-1); err != nil {
				t.Fatal(err)
			}
			return rel
		}},
		{"table truncated to 2/3", func(t *testing.T, vdir string) string {
			rel := firstSST(t, vdir)
			p := filepath.Join(vdir, rel)
			fi, _ := os.Stat(p)
			if err := os.Truncate(p, 2*fi.Size()/3); err != nil {
				t.Fatal(err)
			}
			return rel
		}},
		{"table deleted", func(t *testing.T, vdir string) string {
			rel := firstSST(t, vdir)
			if err := os.Remove(filepath.Join(vdir, rel)); err != nil {
				t.Fatal(err)
			}
			return rel
		}},
		{"filter flipped", flip(fileNamed("bloom-sig3.bin"), func(n int64) int64 { return n / 2 }, 4)},
		{"filter deleted", func(t *testing.T, vdir string) string {
			if err := os.Remove(filepath.Join(vdir, "bloom-sig3.bin")); err != nil {
				t.Fatal(err)
			}
			return "bloom-sig3.bin"
		}},
		{"Badger MANIFEST deleted", func(t *testing.T, vdir string) string {
			if err := os.Remove(filepath.Join(vdir, "badger", "MANIFEST")); err != nil {
				t.Fatal(err)
			}
			return "badger/MANIFEST"
		}},
		{"manifest changed", flip(fileNamed("manifest.json"), func(n int64) int64 { return n / 2 }, 1)},
	}
}

// TestCorruptionSuite: every damage of the serving version, found at
// restart. Under --on-damage=not-serving (the default) health is
// NOT_SERVING, screening is refused with an ErrorInfo and the status
// names the version and file; under --on-damage=rollback the previous
// version answers exactly as before. Never a BLOCK → ALLOW.
func TestCorruptionSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it per trial")
	}
	fx := newCorruptionFixture(t)
	serving := fx.versions[1]
	for _, dm := range damages() {
		t.Run(dm.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			copyTree(t, fx.pristine, data)
			file := dm.do(t, filepath.Join(data, "robinson", serving))

			p := serveProc(t, data)
			if h := p.health(t); h != healthpb.HealthCheckResponse_NOT_SERVING {
				t.Errorf("health %v with a damaged serving version, want NOT_SERVING", h)
			}
			res, err := screenAll(p.conn, fx.contacts)
			fx.checkNoBlockToAllow(t, res, err)
			st := p.robinsonStatus(t)
			if d := st.GetDamaged(); !strings.Contains(d, serving) || !strings.Contains(d, file) {
				t.Errorf("dataset status damaged = %q, want version %s and file %s named", d, serving, file)
			}
			if log := p.stderr.String(); !strings.Contains(log, file) || strings.Contains(log, "panic") || strings.Contains(log, "goroutine ") {
				t.Errorf("the log does not name %s, or shows a panic:\n%s", file, log)
			}
			if code, out, errOut := runCLI(t, "admin", "status", "--addr", p.conn.Target()); code != 0 || !strings.Contains(out, "robinson: DAMAGED") || !strings.Contains(out, file) {
				t.Errorf("admin status: exit %d, does not show the damage of %s:\n%s%s", code, file, out, errOut)
			}
			p.kill()

			p = serveProc(t, data, "--on-damage", "rollback")
			if h := p.health(t); h != healthpb.HealthCheckResponse_SERVING {
				t.Fatalf("rollback: health %v, want SERVING from the previous version\n%s", h, p.stderr.String())
			}
			res, err = screenAll(p.conn, fx.contacts)
			if err != nil {
				t.Fatalf("rollback: screening failed: %v", err)
			}
			for i, r := range res {
				if r.GetDecision() != fx.want[i] {
					t.Fatalf("rollback: contact %d answered %v, %v before the damage", i, r.GetDecision(), fx.want[i])
				}
			}
			if v := p.robinsonStatus(t).GetServing().GetVersion(); v != fx.versions[0] {
				t.Errorf("rollback: serving %s, want the previous version %s", v, fx.versions[0])
			}
		})
	}
}

// TestCorruptionWhileServing damages the serving version's table under a
// running server: the requests touching a damaged block are refused
// (UNAVAILABLE, DATASET_DAMAGED), never answered ALLOW for a listed
// contact; the version is marked damaged and health goes NOT_SERVING. A
// table truncated under the server does not crash it (Badger's memory map
// faults). A damaged filter, which the server holds in memory, is found by
// the scrub.
func TestCorruptionWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it per trial")
	}
	fx := newCorruptionFixture(t)
	serving := fx.versions[1]
	for _, dm := range []damage{
		{"zeroed page at 1/4", zeroTablePage(func(n int64) int64 { return n / 4 })},
		{"zeroed page at 1/2", zeroTablePage(func(n int64) int64 { return n / 2 })},
		{"flipped 32 bytes at 2/3", flip(firstSST, func(n int64) int64 { return 2 * n / 3 }, 32)},
		{"filter flipped (scrub)", flip(fileNamed("bloom-sig3.bin"), func(n int64) int64 { return n / 3 }, 4)},
		{"table truncated to 1/2", func(t *testing.T, vdir string) string {
			rel := firstSST(t, vdir)
			p := filepath.Join(vdir, rel)
			fi, _ := os.Stat(p)
			if err := os.Truncate(p, fi.Size()/2); err != nil {
				t.Fatal(err)
			}
			return rel
		}},
	} {
		t.Run(dm.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			copyTree(t, fx.pristine, data)
			p := serveProc(t, data, "--scrub-interval", "1s")
			if h := p.health(t); h != healthpb.HealthCheckResponse_SERVING {
				t.Fatalf("health %v before the damage", h)
			}
			file := dm.do(t, filepath.Join(data, "robinson", serving))
			res, err := screenAll(p.conn, fx.contacts)
			fx.checkNoBlockToAllow(t, res, err)
			deadline := time.Now().Add(20 * time.Second)
			for p.health(t) != healthpb.HealthCheckResponse_NOT_SERVING {
				if time.Now().After(deadline) {
					t.Fatalf("health still SERVING 20 s after the damage\n%s", p.stderr.String())
				}
				time.Sleep(200 * time.Millisecond)
			}
			if d := p.robinsonStatus(t).GetDamaged(); !strings.Contains(d, serving) || !strings.Contains(d, file) {
				t.Errorf("dataset status damaged = %q, want version %s and file %s named", d, serving, file)
			}
			res, err = screenAll(p.conn, fx.contacts)
			if err == nil || status.Code(err) != codes.Unavailable || reason(err) != "DATASET_DAMAGED" {
				t.Errorf("screening a damaged version: %d answers, %v; want UNAVAILABLE DATASET_DAMAGED", len(res), err)
			}
		})
	}
}
