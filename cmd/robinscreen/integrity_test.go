package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/robinscreen/robinscreen/internal/cprfmt"
	"github.com/robinscreen/robinscreen/internal/demo"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/store"
)

// integrityExtract returns CPR extract lines: a 000 record, the demo's
// protected person with an active marketing protection (lines 2-4), n
// synthetic persons and a 999 record counting the records between 000 and
// 999.
func integrityExtract(today time.Time, n int) []string {
	lines := []string{cprfmt.CPRStart(today),
		cprfmt.CPRPerson(demo.DemoProtected, "01"),
		cprfmt.CPRProtection(demo.DemoProtected, "0003", today.AddDate(-2, 0, 0), time.Time{}),
		"002" + demo.DemoProtected + "  address record, skipped"}
	for i := 0; i < n; i++ {
		// Real dates in 1950-1955 (serial 1xxx: 1900s), distinct.
		lines = append(lines, cprfmt.CPRPerson(fmt.Sprintf("%02d%02d%02d%04d", i%28+1, i/28%12+1, 50+i/336, 1000+i%1000), "01"))
	}
	return append(lines, cprfmt.CPREnd(len(lines)-1))
}

func crlf(lines []string) []byte { return []byte(strings.Join(lines, "\r\n") + "\r\n") }

// protectedDecision screens the demo's protected personal number against
// the data directory's serving versions.
func protectedDecision(t *testing.T, data string) screening.Decision {
	t.Helper()
	st, err := store.Open(data, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	snap, release := st.Acquire()
	defer release()
	res, err := (&screening.Engine{}).Screen(snap, screening.ChannelPhone, 0, &screening.Contact{CPR: demo.DemoProtected, Name: "Ingen Listet", Address: "Andenvej 2, 8000 Aarhus C"})
	if err != nil {
		t.Fatal(err)
	}
	return res.Decision
}

// TestCPRCounterAndShrinkRefused loads a CPR extract, then offers it cut
// (lines 2-1450 removed, its 999 record kept) and a much smaller extract,
// offline (load) and online (admin load): each refusal names its cause, and
// the first version keeps serving (the protected person stays BLOCK).
func TestCPRCounterAndShrinkRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	src, data := t.TempDir(), filepath.Join(t.TempDir(), "data")
	today := time.Now().UTC().Truncate(24 * time.Hour)
	rob, _, err := demo.Files(today)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string { return writeSource(t, src, name, b) }
	full := integrityExtract(today, 2000)
	records := len(full) - 2 // between 000 and 999
	robFile, fullFile := write("robinson.txt", rob), write("cpr-full.txt", crlf(full))
	if code, out, errOut := runCLI(t, "load", "--data", data, "--robinson", robFile, "--cpr", fullFile); code != 0 {
		t.Fatalf("load: exit %d\n%s\n%s", code, out, errOut)
	}
	before := servingVersions(t, data)
	if d := protectedDecision(t, data); d != screening.Block {
		t.Fatalf("protected person: %v, want BLOCK", d)
	}
	cprVersion := regexp.MustCompile(`cpr=(\S+)`).FindStringSubmatch(before)[1]

	// Lines 2-1450 (the protected person among them) cut out, 999 kept.
	cut := append([]string{full[0]}, full[1450:]...)
	cutFile := write("cpr-cut.txt", crlf(cut))
	counterMsg := fmt.Sprintf("999 record counter (line %d, position 27) says %d records, but the extract holds %d records between 000 and 999 (%d with them)",
		len(cut), records, len(cut)-2, len(cut))
	// The first 100 lines between 000 and 999, with a correct counter: 98
	// persons and a protection (the store counts 001 and 015 records), of
	// 2001 persons and a protection: a shrink.
	small := append(append([]string(nil), full[:101]...), cprfmt.CPREnd(100))
	smallFile := write("cpr-small.txt", crlf(small))
	shrinkMsg := fmt.Sprintf("99 records, fewer than 90 %% of the 2002 records of the serving version %s; pass --allow-shrink if expected", cprVersion)

	noLeak := func(t *testing.T, out string) {
		t.Helper()
		if strings.Contains(out, demo.DemoProtected) || strings.Contains(out, demo.DemoProtected[:6]) {
			t.Errorf("output holds a personal number:\n%s", out)
		}
	}
	unchanged := func(t *testing.T) {
		t.Helper()
		if after := servingVersions(t, data); after != before {
			t.Errorf("serving versions changed:\nbefore %s\nafter  %s", before, after)
		}
		if d := protectedDecision(t, data); d != screening.Block {
			t.Errorf("protected person: %v after a refused load, want BLOCK", d)
		}
	}
	offline := []struct {
		name string
		args []string
		want []string
	}{
		{"cut extract", []string{"--cpr", cutFile}, []string{"cpr file " + cutFile + " refused", counterMsg, "previous dataset is unchanged"}},
		{"cut extract with --allow-shrink", []string{"--cpr", cutFile, "--allow-shrink"}, []string{counterMsg}},
		{"shrunk extract", []string{"--cpr", smallFile}, []string{"cpr file " + smallFile + " refused", shrinkMsg}},
	}
	for _, tt := range offline {
		t.Run("load/"+tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, append([]string{"load", "--data", data}, tt.args...)...)
			if code == 0 {
				t.Fatalf("exit 0:\n%s", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			noLeak(t, out+errOut)
			unchanged(t)
		})
	}

	// Online: admin load prints the server's ErrorInfo reason and message.
	p := startServer(t, data)
	addr := p.conn.Target()
	online := []struct {
		name string
		args []string
		want []string
	}{
		{"cut extract", []string{"--cpr", cutFile}, []string{"FailedPrecondition FILE_REFUSED: cpr file cpr-cut.txt refused", counterMsg, "the serving version is unchanged"}},
		{"shrunk extract", []string{"--cpr", smallFile}, []string{"FailedPrecondition FILE_REFUSED: cpr file cpr-small.txt refused", shrinkMsg}},
	}
	for _, tt := range online {
		t.Run("admin load/"+tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, append([]string{"admin", "load", "--addr", addr}, tt.args...)...)
			if code == 0 {
				t.Fatalf("exit 0:\n%s", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if strings.Contains(errOut, "EOF") {
				t.Errorf("stderr says EOF:\n%s", errOut)
			}
			noLeak(t, out+errOut)
			if v := p.cprVersion(t); v != cprVersion {
				t.Errorf("server serves cpr %s, want %s", v, cprVersion)
			}
		})
	}
	// The operator expects the shrink.
	code, out, errOut := runCLI(t, "admin", "load", "--addr", addr, "--cpr", smallFile, "--allow-shrink")
	if code != 0 || !strings.Contains(out, "cpr: now serving version") || !strings.Contains(out, " 99 records") {
		t.Fatalf("admin load --allow-shrink: exit %d\n%s\n%s", code, out, errOut)
	}
	if v := p.cprVersion(t); v == cprVersion {
		t.Error("the shrunk extract is not serving after --allow-shrink")
	}
	p.kill()

	// Offline with --allow-shrink: the full extract is not a shrink; then
	// the small one is accepted when the operator says so.
	if code, out, errOut := runCLI(t, "load", "--data", data, "--cpr", fullFile); code != 0 {
		t.Fatalf("load of the full extract: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, "load", "--data", data, "--cpr", smallFile, "--allow-shrink"); code != 0 || !strings.Contains(out, "98 persons") {
		t.Fatalf("load --allow-shrink: exit %d\n%s\n%s", code, out, errOut)
	}
}

func (p *serverProc) cprVersion(t *testing.T) string {
	t.Helper()
	resp, err := p.admin.GetDatasetStatus(context.Background(), &pb.GetDatasetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.GetDatasets() {
		if d.GetKind() == pb.DatasetKind_DATASET_KIND_CPR {
			return d.GetServing().GetVersion()
		}
	}
	return ""
}

// refusingServer refuses every load after the first chunk, having sent a
// RECEIVING progress message, while the client is still uploading.
type refusingServer struct {
	pb.UnimplementedDatasetServiceServer
}

func (refusingServer) LoadDataset(stream pb.DatasetService_LoadDatasetServer) error {
	if _, err := stream.Recv(); err != nil { // start
		return err
	}
	if _, err := stream.Recv(); err != nil { // first chunk
		return err
	}
	if err := stream.Send(&pb.LoadDatasetResponse{Phase: pb.LoadPhase_LOAD_PHASE_RECEIVING, BytesReceived: 1 << 20}); err != nil {
		return err
	}
	st, err := status.New(codes.ResourceExhausted, "no space left to stage the upload; the serving version is unchanged").
		WithDetails(&errdetails.ErrorInfo{Reason: "UPLOAD_REFUSED", Domain: "robinscreen.v1"})
	if err != nil {
		return err
	}
	return st.Err()
}

// TestAdminLoadPrintsRefusalMidUpload: a server that refuses while the
// upload is still running (after progress messages) has its ErrorInfo
// reason and message printed, not "EOF".
func TestAdminLoadPrintsRefusalMidUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	pb.RegisterDatasetServiceServer(gs, refusingServer{})
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	big := filepath.Join(t.TempDir(), "robinson.txt")
	if err := os.WriteFile(big, make([]byte, 32<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "admin", "load", "--addr", lis.Addr().String(), "--robinson", big)
	if code == 0 {
		t.Fatalf("exit 0:\n%s", out)
	}
	want := "robinscreen: ResourceExhausted UPLOAD_REFUSED: no space left to stage the upload; the serving version is unchanged\n"
	if errOut != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
}
