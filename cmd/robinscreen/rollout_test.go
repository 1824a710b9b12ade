package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"

	"github.com/robinscreen/robinscreen/internal/pgtest"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// robinsonVersions returns the Robinson version each replica serves.
func robinsonVersions(t *testing.T, reps []*serverProc) []string {
	t.Helper()
	var out []string
	for _, r := range reps {
		resp, err := r.admin.GetDatasetStatus(context.Background(), &pb.GetDatasetStatusRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range resp.GetDatasets() {
			if d.GetKind() == pb.DatasetKind_DATASET_KIND_ROBINSON {
				out = append(out, d.GetServing().GetVersion())
			}
		}
	}
	return out
}

// TestFleetRollout: three replicas on loopback that close connections
// after a second (--max-connection-age), a client balancing over them with
// round_robin screening at a steady rate while a new Robinson list is
// rolled out with admin load --rolling: no call fails, every result names
// exactly one Robinson version and answers as that version does (the old
// list blocks A, the new one B), every replica answers, and all three end
// on the same version. With a PostgreSQL (scripts/test.sh), the three
// share one suppression list: an entry added through one replica is in
// force on the other two for their next request.
func TestFleetRollout(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three servers")
	}
	dir := t.TempDir()
	oldFile, newFile, _, _ := versionFiles(t, dir, 5000)
	addrs := fleetAddrs(t, 3)
	// One PostgreSQL suppression list shared by the three (one pseudonym
	// key), when the test run has a PostgreSQL (scripts/test.sh starts one).
	flags := []string{"--max-connection-age", "1s", "--max-connection-age-grace", "5s"}
	dsn := ""
	if os.Getenv(pgtest.Env) != "" {
		dsn = pgtest.Database(t)
		flags = append(flags, "--key-file", sharedKey(t), "--suppressions", dsn)
	}
	var reps []*serverProc
	for i := range addrs {
		data := filepath.Join(dir, fmt.Sprintf("data%d", i+1))
		offlineLoad(t, data, oldFile)
		reps = append(reps, startReplica(t, data, addrs[i], true, flags...))
	}
	before := robinsonVersions(t, reps)

	r := manual.NewBuilderWithScheme("fleet")
	var state resolver.State
	for _, a := range addrs {
		state.Addresses = append(state.Addresses, resolver.Address{Addr: a})
	}
	r.InitialState(state)
	conn, err := grpc.NewClient("fleet:///robinscreen", grpc.WithResolvers(r), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := pb.NewScreeningServiceClient(conn)

	type answer struct {
		which, version, replica string
		err                     error
	}
	var (
		mu      sync.Mutex
		answers []answer
	)
	screen := func() answer {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := client.ScreenContacts(ctx)
		if err != nil {
			return answer{err: err}
		}
		if err := s.Send(&pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST, Contacts: []*pb.Contact{personA, personB}}); err != nil {
			return answer{err: err}
		}
		s.CloseSend()
		resp, err := s.Recv()
		if err != nil {
			return answer{err: err}
		}
		var versions []string
		for _, res := range resp.GetResults() {
			for _, d := range res.GetDatasets() {
				if d.GetKind() == "robinson" {
					versions = append(versions, d.GetVersion())
				}
			}
		}
		a := answer{which: classify(resp.GetResults())}
		if p, ok := peer.FromContext(s.Context()); ok && p.Addr != nil {
			a.replica = p.Addr.String()
		}
		if len(versions) != 2 || versions[0] != versions[1] {
			a.err = fmt.Errorf("the results name Robinson versions %v, want one and the same", versions)
		} else {
			a.version = versions[0]
		}
		return a
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond) // 50 calls a second
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				a := screen()
				mu.Lock()
				answers = append(answers, a)
				mu.Unlock()
			}
		}
	})
	time.Sleep(time.Second)
	code, out, stderr := runCLI(t, "admin", "load", "--rolling", "--addr", strings.Join(addrs, ","), "--robinson", newFile)
	time.Sleep(1500 * time.Millisecond) // past one connection age after the rollout
	close(stop)
	wg.Wait()
	after := robinsonVersions(t, reps)

	kindOf := map[string]string{}
	for _, v := range before {
		kindOf[v] = "old"
	}
	for _, v := range after {
		kindOf[v] = "new"
	}
	perReplica := map[string]int{}
	counts := map[string]int{}
	for i, a := range answers {
		if a.err != nil {
			t.Errorf("call %d failed: %v", i, a.err)
			continue
		}
		perReplica[a.replica]++
		counts[a.which]++
		if want := kindOf[a.version]; want == "" || a.which != want {
			t.Errorf("call %d: answered %s from version %s (a %q version)", i, a.which, a.version, want)
		}
	}
	t.Logf("%d calls: %v; per replica %v; versions before %v, after %v", len(answers), counts, perReplica, before, after)
	if len(answers) < 100 || counts["old"] == 0 || counts["new"] == 0 {
		t.Errorf("%d calls, %v: want a steady stream that saw both versions", len(answers), counts)
	}
	if len(perReplica) != 3 {
		t.Errorf("calls reached %d replicas, want 3: %v", len(perReplica), perReplica)
	}
	t.Run("all three end on one version", func(t *testing.T) {
		if !contentNamed(t, newFile) {
			t.Skip("versions are named by their load time in this build (content-named versions, issue 14 point 1, are not here): one version on every replica is not checked")
		}
		if code != 0 || after[0] != after[1] || after[1] != after[2] {
			t.Errorf("rolling load: exit %d, replicas end on %v, want one version\n%s%s", code, after, out, stderr)
		}
	})

	t.Run("a suppression added through one replica applies on the others", func(t *testing.T) {
		if dsn == "" {
			t.Skip("no PostgreSQL: set " + pgtest.Env + " (source scripts/postgres.sh, or run scripts/test.sh)")
		}
		screenPhone := func(r *serverProc) pb.Decision {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := r.screen.ScreenContact(ctx, &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_PHONE,
				Contact: &pb.Contact{Ref: "r", Phone: "+45 40 12 34 56", Consent: true}})
			if err != nil {
				t.Fatal(err)
			}
			return res.GetResult().GetDecision()
		}
		for i, r := range reps {
			if d := screenPhone(r); d != pb.Decision_DECISION_ALLOW {
				t.Fatalf("replica %d before the entry: %v, want ALLOW", i+1, d)
			}
		}
		if _, err := pb.NewSuppressionServiceClient(reps[0].conn).AddSuppressions(context.Background(),
			&pb.AddSuppressionsRequest{Entries: []*pb.SuppressionInput{{Phone: "40123456"}}}); err != nil {
			t.Fatal(err)
		}
		for i, r := range reps[1:] {
			if d := screenPhone(r); d != pb.Decision_DECISION_BLOCK {
				t.Errorf("replica %d, its next request after the entry was added on replica 1: %v, want BLOCK", i+2, d)
			}
		}
	})
}
