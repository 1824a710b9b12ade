package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/robinscreen/robinscreen/internal/pgtest"
	"github.com/robinscreen/robinscreen/internal/tcpproxy"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/store"
)

// supServer is `robinscreen serve --demo` with a suppression list.
type supServer struct {
	addr   string
	cmd    *exec.Cmd
	stderr *lockedBuffer
	conn   *grpc.ClientConn
	sup    pb.SuppressionServiceClient
	screen pb.ScreeningServiceClient
}

func startSupServer(t *testing.T, data string, args ...string) *supServer {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(binary(t), append([]string{"serve", "--data", data, "--listen", addr, "--demo"}, args...)...)
	s := &supServer{addr: addr, cmd: cmd, stderr: &lockedBuffer{}}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	s.conn, s.sup, s.screen = conn, pb.NewSuppressionServiceClient(conn), pb.NewScreeningServiceClient(conn)
	t.Cleanup(s.kill)
	waitServing(t, conn)
	return s
}

// kill sends SIGKILL: no shutdown code runs.
func (s *supServer) kill() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Signal(syscall.SIGKILL)
		s.cmd.Wait()
	}
	s.conn.Close()
}

func phoneOf(n int) string { return fmt.Sprintf("+45 %08d", 30000000+n) }

// suppressed checks phones (in chunks) and returns those not suppressed.
func (s *supServer) missing(t *testing.T, phones []string) []string {
	t.Helper()
	var out []string
	for len(phones) > 0 {
		n := min(len(phones), 10000)
		req := &pb.CheckSuppressionsRequest{}
		for _, p := range phones[:n] {
			req.Values = append(req.Values, &pb.SuppressionInput{Phone: p})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		resp, err := s.sup.CheckSuppressions(ctx, req)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range resp.GetResults() {
			if !r.GetSuppressed() {
				out = append(out, phones[i])
			}
		}
		phones = phones[n:]
	}
	return out
}

// TestSuppressionSurvivesKill9 adds entries from several clients at once,
// kills the server with SIGKILL at a random moment, restarts it and
// counts: every add that was acknowledged must be found, in every round.
// ROBINSCREEN_KILL_ROUNDS sets the number of rounds (default 8).
func TestSuppressionSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server many times")
	}
	rounds := 8
	if v, err := strconv.Atoi(os.Getenv("ROBINSCREEN_KILL_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	data := filepath.Join(t.TempDir(), "data")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 12))
	var acked []string
	next := 0
	inFlight := 0
	for round := 0; round < rounds; round++ {
		s := startSupServer(t, data)
		if lost := s.missing(t, acked); len(lost) > 0 {
			t.Fatalf("round %d: %d of %d acknowledged entries lost after kill -9 (first %s)", round, len(lost), len(acked), lost[0])
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					mu.Lock()
					batch := 1 + next%3
					var phones []string
					for i := 0; i < batch; i++ {
						phones = append(phones, phoneOf(next))
						next++
					}
					inFlight += batch
					mu.Unlock()
					req := &pb.AddSuppressionsRequest{}
					for _, p := range phones {
						req.Entries = append(req.Entries, &pb.SuppressionInput{Phone: p, Reason: pb.SuppressionReason_SUPPRESSION_REASON_REQUESTED})
					}
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					resp, err := s.sup.AddSuppressions(ctx, req)
					cancel()
					mu.Lock()
					inFlight -= batch
					if err == nil && resp.GetAdded() == int32(batch) {
						acked = append(acked, phones...)
					}
					mu.Unlock()
					if err != nil {
						return // the server is gone
					}
				}
			}()
		}
		time.Sleep(time.Duration(30+rng.IntN(400)) * time.Millisecond)
		s.cmd.Process.Signal(syscall.SIGKILL)
		s.cmd.Wait()
		close(stop)
		wg.Wait()
		s.conn.Close()
	}
	s := startSupServer(t, data)
	lost := s.missing(t, acked)
	t.Logf("%d rounds of kill -9: %d adds acknowledged, %d found, %d lost (%d values sent in all)", rounds, len(acked), len(acked)-len(lost), len(lost), next)
	if len(lost) > 0 {
		t.Fatalf("%d acknowledged entries lost", len(lost))
	}
	if len(acked) < rounds {
		t.Fatalf("only %d adds acknowledged in %d rounds: the test did not exercise the server", len(acked), rounds)
	}
	// The entries are in force for screening too.
	res, err := s.screen.ScreenContact(context.Background(), &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_PHONE,
		Contact: &pb.Contact{Ref: "r", Phone: acked[len(acked)-1], Consent: true}})
	if err != nil || res.GetResult().GetDecision() != pb.Decision_DECISION_BLOCK {
		t.Fatalf("screening an acknowledged entry: %v %v", res, err)
	}
}

// sharedKey writes one pseudonym key for several replicas.
func sharedKey(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pseudonym.key")
	if _, err := store.LoadOrCreateKey(p, true); err != nil {
		t.Fatal(err)
	}
	return p
}

func screenPhone(t *testing.T, s *supServer, phone string) (pb.Decision, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := s.screen.ScreenContact(ctx, &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_PHONE,
		Contact: &pb.Contact{Ref: "r", Phone: phone, Consent: true}})
	return res.GetResult().GetDecision(), err
}

// TestSharedSuppressionsPostgres: two servers (own data directories, one
// pseudonym key) share one PostgreSQL list. An entry added on either is in
// force on the other for its very next request, written differently.
func TestSharedSuppressionsPostgres(t *testing.T) {
	dsn := pgtest.Database(t)
	key := sharedKey(t)
	a := startSupServer(t, filepath.Join(t.TempDir(), "a"), "--key-file", key, "--suppressions", dsn)
	b := startSupServer(t, filepath.Join(t.TempDir(), "b"), "--key-file", key, "--suppressions", dsn)
	for i := 0; i < 20; i++ {
		w, r := a, b
		if i%2 == 1 {
			w, r = b, a
		}
		if _, err := w.sup.AddSuppressions(context.Background(), &pb.AddSuppressionsRequest{Entries: []*pb.SuppressionInput{{Phone: fmt.Sprintf("%08d", 40000000+i)}}}); err != nil {
			t.Fatal(err)
		}
		d, err := screenPhone(t, r, fmt.Sprintf("+45 %02d %02d %02d %02d", 40, 0, 0, i))
		if err != nil || d != pb.Decision_DECISION_BLOCK {
			t.Fatalf("entry %d added on one server: the other answered %v, %v", i, d, err)
		}
	}
	// Removal on a reaches b too.
	if _, err := a.sup.RemoveSuppression(context.Background(), &pb.RemoveSuppressionRequest{Phone: "40000003", Why: "test"}); err != nil {
		t.Fatal(err)
	}
	if d, err := screenPhone(t, b, "40000003"); err != nil || d != pb.Decision_DECISION_ALLOW {
		t.Fatalf("after removal on a, b answered %v, %v", d, err)
	}
	// A server with another key is refused at start.
	cmd := exec.Command(binary(t), "serve", "--data", filepath.Join(t.TempDir(), "c"), "--listen", freeAddr(t), "--demo", "--suppressions", dsn)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--key-file") {
		t.Fatalf("server with another key: %v\n%s", err, out)
	}
}

// TestPostgresDownNoAllow: the server reaches PostgreSQL through a proxy;
// when the proxy is cut, screening a contact that was ALLOW is refused
// UNAVAILABLE with ErrorInfo SUPPRESSION_UNAVAILABLE, unary and streamed:
// never ALLOW.
func TestPostgresDownNoAllow(t *testing.T) {
	dsn := pgtest.Database(t)
	p, err := tcpproxy.Start(pgtest.Host(t, dsn))
	if err != nil {
		t.Fatal(err)
	}
	s := startSupServer(t, filepath.Join(t.TempDir(), "a"), "--suppressions", pgtest.WithHost(t, dsn, p.Addr()), "--suppressions-timeout", "500ms")
	if d, err := screenPhone(t, s, "12345678"); err != nil || d != pb.Decision_DECISION_ALLOW {
		t.Fatalf("with the database up: %v %v", d, err)
	}
	p.Stop()
	for i := 0; i < 3; i++ {
		d, err := screenPhone(t, s, "12345678")
		if err == nil {
			t.Fatalf("database down: answered %v", d)
		}
		checkUnavailable(t, err)
	}
	stream, err := s.screen.ScreenContacts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stream.Send(&pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_PHONE, Contacts: []*pb.Contact{{Ref: "r", Phone: "12345678", Consent: true}}})
	resp, err := stream.Recv()
	if err == nil {
		t.Fatalf("database down: stream answered %v", resp)
	}
	checkUnavailable(t, err)
}

func checkUnavailable(t *testing.T, err error) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != codes.Unavailable {
		t.Fatalf("code %v, want UNAVAILABLE: %v", st.Code(), err)
	}
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok && ei.GetReason() == "SUPPRESSION_UNAVAILABLE" {
			return
		}
	}
	t.Fatalf("no ErrorInfo SUPPRESSION_UNAVAILABLE in %v", st.Details())
}

// TestSuppressCLI drives `robinscreen suppress` against a server: add,
// import (Windows-1252, Danish header), check, export without values,
// remove, and a screening that the list blocks.
func TestSuppressCLI(t *testing.T) {
	dir := t.TempDir()
	s := startSupServer(t, filepath.Join(dir, "data"))
	addr := s.addr
	run := func(args ...string) (string, error) {
		out, err := exec.Command(binary(t), append([]string{"suppress", args[0], "--addr", addr}, args[1:]...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := run("add", "--phone", "12 34 56 78", "--email", "Stop@Example.dk", "--reason", "complaint", "--source", "agent 7"); err != nil || !strings.Contains(out, "added 2,") {
		t.Fatalf("add: %v\n%s", err, out)
	}
	csv := filepath.Join(dir, "optouts.csv")
	// Windows-1252: "årsag" and "Søren" as single bytes.
	body := "telefon;e-mail;cpr;\xe5rsag;kilde\n0045 11 22 33 44;;;klage;S\xf8ren\n;;010190-1234;;\n;ikke en adresse;;;\n+45 12345678;;;andet;\n"
	if err := os.WriteFile(csv, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run("import", "--file", csv)
	if err != nil || !strings.Contains(out, "added 2, already present 1") || !strings.Contains(out, "line 4: email") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	out, err = run("check", "--phone", "+45 11 22 33 44", "--phone", "99999999")
	if err != nil || !strings.Contains(out, "value 1: SUPPRESSED") || !strings.Contains(out, "value 2: not suppressed") || !strings.Contains(out, `source "Søren"`) {
		t.Fatalf("check: %v\n%s", err, out)
	}
	out, err = run("export")
	if err != nil || strings.Count(out, "\n") != 5 { // header + 4 entries
		t.Fatalf("export: %v\n%s", err, out)
	}
	for _, v := range []string{"12345678", "11223344", "stop@example.dk", "0101901234", "010190-1234", "Stop@"} {
		if strings.Contains(strings.ToLower(out), strings.ToLower(v)) {
			t.Fatalf("export reveals %s:\n%s", v, out)
		}
	}
	if d, err := screenPhone(t, s, "+4511223344"); err != nil || d != pb.Decision_DECISION_BLOCK {
		t.Fatalf("screening an imported phone: %v %v", d, err)
	}
	if out, err := run("remove", "--phone", "11223344"); err == nil {
		t.Fatalf("remove without --why succeeded:\n%s", out)
	}
	if out, err := run("remove", "--phone", "11223344", "--why", "asked to be called, ticket 9"); err != nil || !strings.Contains(out, "removed phone entry") {
		t.Fatalf("remove: %v\n%s", err, out)
	}
	if d, err := screenPhone(t, s, "+4511223344"); err != nil || d != pb.Decision_DECISION_ALLOW {
		t.Fatalf("screening after removal: %v %v", d, err)
	}
	// Import only adds: importing the file again restores the entry, and
	// removes nothing.
	if out, err := run("import", "--file", csv); err != nil || !strings.Contains(out, "added 1, already present 2") {
		t.Fatalf("second import: %v\n%s", err, out)
	}
}
