package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/robinscreen/robinscreen/internal/cprfmt"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/store"
)

// Two list versions: person A is listed only in the old one, person B only
// in the new one. A result is "old" exactly when A is blocked and B is not.
var (
	personA = &pb.Contact{Ref: "A", Name: "Anna Gammelsen", Address: "Førstevej 1, 1000 København K"}
	personB = &pb.Contact{Ref: "B", Name: "Bent Nyborg", Address: "Andenvej 2, 8000 Aarhus C"}
)

// versionFiles writes the old and new list (with filler records so a load
// takes a moment) and returns their paths.
func versionFiles(t *testing.T, dir string, filler int) (oldFile, newFile string, oldN, newN int) {
	t.Helper()
	pub := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -10)
	fill := func(seed int) []cprfmt.RobinsonEntry {
		es := make([]cprfmt.RobinsonEntry, filler)
		for i := range es {
			es[i] = cprfmt.RobinsonEntry{Name: fmt.Sprintf("Fyldsen%d,Person", i), Address: fmt.Sprintf("Fyldvej %d", 1+(i+seed)%900), PostDist: fmt.Sprintf("%04d Fyldby", 1000+i%8000)}
		}
		return es
	}
	a := cprfmt.RobinsonEntry{Name: "Gammelsen,Anna", Address: "Førstevej 1", PostDist: "1000 København K"}
	b := cprfmt.RobinsonEntry{Name: "Nyborg,Bent", Address: "Andenvej 2", PostDist: "8000 Aarhus C"}
	write := func(name string, es []cprfmt.RobinsonEntry) string {
		data, err := cprfmt.RobinsonFile(pub, es)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	oldEs, newEs := append(fill(0), a), append(fill(7), b, b)
	newEs[len(newEs)-1].Address = "Andenvej 2, 3. th"
	return write("old.txt", oldEs), write("new.txt", newEs), len(oldEs), len(newEs)
}

// lockedBuffer collects a child's stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type serverProc struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	conn   *grpc.ClientConn
	screen pb.ScreeningServiceClient
	admin  pb.DatasetServiceClient
}

// startServer runs `robinscreen serve` on data and waits until it is
// SERVING.
func startServer(t *testing.T, data string) *serverProc {
	t.Helper()
	return startBinary(t, binary(t), data)
}

// startServerAtFailpoint runs a binary built with failpoints that blocks
// at failpoint fp, and waits until it is SERVING.
func startServerAtFailpoint(t *testing.T, data, fp string) *serverProc {
	t.Helper()
	return startBinary(t, binaryWithFailpoints(t), data, "ROBINSCREEN_FAILPOINTS="+fp)
}

// startBinary runs `bin serve` on data with extra environment and waits
// until it is SERVING.
func startBinary(t *testing.T, bin, data string, env ...string) *serverProc {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--data", data, "--listen", addr)
	cmd.Env = append(os.Environ(), env...)
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
	waitServing(t, conn)
	return p
}

func (p *serverProc) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	}
	p.conn.Close()
}

func (p *serverProc) waitFor(t *testing.T, text string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.stderr.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("server never printed %q; stderr:\n%s", text, p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// which screens A and B and tells which version answered: "old", "new", or
// a description of an inconsistent answer.
func (p *serverProc) which(t *testing.T) string {
	t.Helper()
	s, err := p.screen.ScreenContacts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(&pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST, Contacts: []*pb.Contact{personA, personB}}); err != nil {
		t.Fatal(err)
	}
	resp, err := s.Recv()
	if err != nil {
		t.Fatalf("screening: %v", err)
	}
	s.CloseSend()
	return classify(resp.GetResults())
}

func classify(rs []*pb.ScreeningResult) string {
	a, b := rs[0].GetDecision(), rs[1].GetDecision()
	switch {
	case a == pb.Decision_DECISION_BLOCK && b == pb.Decision_DECISION_ALLOW:
		return "old"
	case a == pb.Decision_DECISION_ALLOW && b == pb.Decision_DECISION_BLOCK:
		return "new"
	}
	return fmt.Sprintf("mixed: A %v, B %v", a, b)
}

func (p *serverProc) records(t *testing.T) int64 {
	t.Helper()
	resp, err := p.admin.GetDatasetStatus(context.Background(), &pb.GetDatasetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetDatasets()[0].GetServing().GetRecords()
}

func adminLoad(p *serverProc, file string, published time.Time) error {
	start := &pb.LoadDatasetStart{Kind: pb.DatasetKind_DATASET_KIND_ROBINSON}
	if !published.IsZero() {
		start.Published = timestamppb.New(published)
	}
	_, err := uploadDataset(p.admin, start, file, false, newProgressBar(io.Discard))
	return err
}

// TestCrashDuringReload kills the server with SIGKILL at every named
// failpoint of an online reload, and at random moments, restarts it and
// checks that it serves the complete old or the complete new version.
func TestCrashDuringReload(t *testing.T) {
	if testing.Short() {
		t.Skip("starts many server processes")
	}
	src := t.TempDir()
	oldFile, newFile, oldN, newN := versionFiles(t, src, 20000)
	fresh := func(t *testing.T) string {
		data := filepath.Join(t.TempDir(), "data")
		if code, out, errOut := runCLI(t, "load", "--data", data, "--robinson", oldFile); code != 0 {
			t.Fatalf("offline load: %d %s %s", code, out, errOut)
		}
		return data
	}
	check := func(t *testing.T, data, want string) {
		t.Helper()
		p := startServer(t, data)
		got := p.which(t)
		if got != "old" && got != "new" || want != "" && got != want {
			t.Fatalf("after restart: %s, want %s", got, want)
		}
		n := p.records(t)
		if got == "old" && n != int64(oldN) || got == "new" && n != int64(newN) {
			t.Fatalf("serving %s with %d records", got, n)
		}
		p.kill()
		builds, _ := filepath.Glob(filepath.Join(data, "robinson", ".build-*"))
		if len(builds) != 0 {
			t.Errorf("half-built versions survive a restart: %v", builds)
		}
	}
	want := map[string]string{
		store.FailpointReading: "old", store.FailpointBuilt: "old", store.FailpointRenamed: "old",
		store.FailpointSwitched: "new",
	}
	for _, fp := range store.Failpoints {
		for i := 0; i < 2; i++ {
			t.Run(fmt.Sprintf("%s/%d", fp, i), func(t *testing.T) {
				data := fresh(t)
				p := startServerAtFailpoint(t, data, fp)
				go adminLoad(p, newFile, time.Time{})
				p.waitFor(t, "FAILPOINT "+fp)
				p.kill()
				check(t, data, want[fp])
			})
		}
	}
	for i := 0; i < 8; i++ {
		t.Run(fmt.Sprintf("random/%d", i), func(t *testing.T) {
			data := fresh(t)
			p := startServer(t, data)
			go adminLoad(p, newFile, time.Time{})
			time.Sleep(time.Duration(rand.IntN(1500)) * time.Millisecond)
			p.kill()
			check(t, data, "")
		})
	}
}

// TestReloadUnderLoad screens at a steady rate while a full list reloads:
// no call may fail and no answer may mix versions.
func TestReloadUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	src := t.TempDir()
	oldFile, newFile, _, _ := versionFiles(t, src, 100000)
	data := filepath.Join(t.TempDir(), "data")
	if code, _, errOut := runCLI(t, "load", "--data", data, "--robinson", oldFile); code != 0 {
		t.Fatal(errOut)
	}
	p := startServer(t, data)
	var calls, failures, mixed atomic.Int64
	seen := sync.Map{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(2 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				s, err := p.screen.ScreenContacts(context.Background())
				if err == nil {
					err = s.Send(&pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST, Contacts: []*pb.Contact{personA, personB}})
				}
				var resp *pb.ScreenContactsResponse
				if err == nil {
					resp, err = s.Recv()
					s.CloseSend()
				}
				calls.Add(1)
				if err != nil {
					failures.Add(1)
					continue
				}
				v0 := resp.GetResults()[0].GetDatasets()[0].GetVersion()
				v1 := resp.GetResults()[1].GetDatasets()[0].GetVersion()
				c := classify(resp.GetResults())
				if v0 != v1 || c != "old" && c != "new" {
					mixed.Add(1)
				}
				seen.Store(c+" "+v0, true)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	if err := adminLoad(p, newFile, time.Time{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	var answers []string
	seen.Range(func(k, _ any) bool { answers = append(answers, k.(string)); return true })
	t.Logf("%d screening calls during the reload; answers: %v", calls.Load(), answers)
	if failures.Load() != 0 || mixed.Load() != 0 {
		t.Errorf("%d failed and %d mixed of %d calls", failures.Load(), mixed.Load(), calls.Load())
	}
	if len(answers) != 2 || calls.Load() < 50 {
		t.Errorf("want answers from exactly the old and the new version over enough calls, got %v over %d", answers, calls.Load())
	}
}

// TestAdminOperations covers rollback, versions, the concurrent-load
// refusal, refused files and stale data through the admin commands.
func TestAdminOperations(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	src := t.TempDir()
	oldFile, newFile, _, newN := versionFiles(t, src, 100)
	data := filepath.Join(t.TempDir(), "data")
	if code, _, errOut := runCLI(t, "load", "--data", data, "--robinson", oldFile); code != 0 {
		t.Fatal(errOut)
	}
	p := startServer(t, data)
	addr := p.conn.Target()
	code, out, errOut := runCLI(t, "admin", "load", "--addr", addr, "--robinson", newFile)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("%d records", newN)) {
		t.Fatalf("admin load: %d\n%s\n%s", code, out, errOut)
	}
	if got := p.which(t); got != "new" {
		t.Fatalf("after admin load: %s", got)
	}
	code, out, _ = runCLI(t, "admin", "versions", "--addr", addr, "--kind", "robinson")
	if code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(out, "true") || !strings.Contains(out, "false") {
		t.Errorf("admin versions: want two versions, one serving:\n%s", out)
	}
	if code, out, errOut = runCLI(t, "admin", "rollback", "--addr", addr, "--kind", "robinson"); code != 0 {
		t.Fatalf("rollback: %s %s", out, errOut)
	}
	if got := p.which(t); got != "old" {
		t.Errorf("after rollback: %s, want the previous version's answers", got)
	}

	// A refused file leaves the serving version and says why.
	empty := filepath.Join(src, "empty.txt")
	os.WriteFile(empty, nil, 0o600)
	code, _, errOut = runCLI(t, "admin", "load", "--addr", addr, "--robinson", empty)
	if code == 0 || !strings.Contains(errOut, "FailedPrecondition") {
		t.Errorf("empty file: exit %d, %s", code, errOut)
	}
	code, out, _ = runCLI(t, "admin", "status", "--addr", addr)
	if code != 0 || !strings.Contains(out, "last refused load empty.txt") || !strings.Contains(out, "empty file") {
		t.Errorf("status does not show the refusal:\n%s", out)
	}
	if got := p.which(t); got != "old" {
		t.Errorf("after a refused load: %s", got)
	}

	// Stale: a list published 101 days ago turns a clear contact into REVIEW.
	if err := adminLoad(p, newFile, time.Now().UTC().AddDate(0, 0, -101)); err != nil {
		t.Fatal(err)
	}
	resp, err := p.screen.ScreenContact(context.Background(), &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_POST, Contact: personA})
	if err != nil {
		t.Fatal(err)
	}
	if r := resp.GetResult(); r.GetDecision() != pb.Decision_DECISION_REVIEW || len(r.GetReasons()) != 1 || r.GetReasons()[0] != pb.Reason_REASON_STALE_DATA || !r.GetDatasets()[0].GetStale() {
		t.Errorf("stale list: %v", r)
	}
	p.kill()

	// A second concurrent load of the same kind gets ABORTED.
	q := startServerAtFailpoint(t, data, store.FailpointBuilt)
	go adminLoad(q, oldFile, time.Time{})
	q.waitFor(t, "FAILPOINT "+store.FailpointBuilt)
	err = adminLoad(q, newFile, time.Time{})
	if status.Code(err) != codes.Aborted {
		t.Errorf("concurrent load: %v, want ABORTED", err)
	}
}
