package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/internal/cprfmt"
	"github.com/robinscreen/robinscreen/internal/demo"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// TestStreetsLoad loads a road register offline and online, refuses a
// damaged one, and rolls back, through the binary.
func TestStreetsLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	src, data := t.TempDir(), filepath.Join(t.TempDir(), "data")
	today := time.Now().UTC().Truncate(24 * time.Hour)
	write := func(name string, b []byte) string { return writeSource(t, src, name, b) }
	rob, _, err := demo.Files(today)
	if err != nil {
		t.Fatal(err)
	}
	streets, err := demo.StreetsFile(today)
	if err != nil {
		t.Fatal(err)
	}
	robFile, streetsFile := write("robinson.txt", rob), write("vejregister.txt", streets)

	// Offline, with the list.
	code, out, errOut := runCLI(t, "load", "--data", data, "--robinson", robFile, "--streets", streetsFile)
	if code != 0 || !regexp.MustCompile(`streets: loaded version \S+: 8 roads, 11 postal districts, 1 earlier names, 0 skipped lines, 0 rejected lines, dated `+today.Format(time.DateOnly)).MatchString(out) {
		t.Fatalf("load: exit %d\n%s\n%s", code, out, errOut)
	}
	before := servingVersions(t, data)
	if !strings.Contains(before, "streets=") {
		t.Fatalf("serving versions %s lack streets", before)
	}

	// A damaged register is refused and names its lines, not its content.
	bad := append(append([]byte(nil), streets...), []byte("004Hemmeligvej 12\r\n001010199990000\r\n")...)
	badFile := write("bad.txt", bad)
	code, _, errOut = runCLI(t, "load", "--data", data, "--streets", badFile)
	lines := strings.Count(string(streets), "\n")
	for _, want := range []string{badFile, "line " + strconv.Itoa(lines+1) + ":", "line " + strconv.Itoa(lines+2) + ":", "previous dataset is unchanged"} {
		if code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("damaged register: exit %d, stderr lacks %q:\n%s", code, want, errOut)
		}
	}
	if strings.Contains(errOut, "Hemmelig") {
		t.Errorf("stderr quotes the file:\n%s", errOut)
	}
	if after := servingVersions(t, data); after != before {
		t.Errorf("a refused register changed the serving versions: %s -> %s", before, after)
	}

	// Online: admin load --streets with the operator's date, status,
	// versions and rollback.
	p := startServer(t, data)
	addr := p.conn.Target()
	older, err := cprfmt.RoadsFile(today, demo.Streets[:3])
	if err != nil {
		t.Fatal(err)
	}
	// 3 of the 8 roads: a shrink the operator expects.
	code, out, errOut = runCLI(t, "admin", "load", "--addr", addr, "--streets", write("older.txt", older), "--streets-date", today.AddDate(0, 0, -150).Format(time.DateOnly), "--allow-shrink")
	if code != 0 || !strings.Contains(out, "streets: now serving version") || !strings.Contains(out, "3 records") {
		t.Fatalf("admin load --streets: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "admin", "status", "--addr", addr)
	if code != 0 || !regexp.MustCompile(`(?m)^streets\s+\S+\s+\S+\s+150d\s+true\s+3\b`).MatchString(out) {
		t.Errorf("admin status does not show a stale 3-road register:\n%s", out)
	}
	resp, err := p.admin.GetDatasetStatus(context.Background(), &pb.GetDatasetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var st *pb.DatasetStatus
	for _, d := range resp.GetDatasets() {
		if d.GetKind() == pb.DatasetKind_DATASET_KIND_STREETS {
			st = d
		}
	}
	if v := st.GetServing(); v.GetRecords() != 3 || v.GetPostalDistricts() != 4 || v.GetEarlierNames() != 0 || !v.GetStale() {
		t.Errorf("streets status %v", st)
	}
	code, out, _ = runCLI(t, "admin", "versions", "--addr", addr, "--kind", "streets")
	if code != 0 || strings.Count(out, "\n") != 3 {
		t.Errorf("admin versions --kind streets: want two versions:\n%s", out)
	}
	if code, out, errOut = runCLI(t, "admin", "rollback", "--addr", addr, "--kind", "streets"); code != 0 || !strings.Contains(out, "streets: rolled back") {
		t.Fatalf("rollback: %s %s", out, errOut)
	}
	if v := p.streetsRecords(t); v != 8 {
		t.Errorf("after rollback %d roads, want the first version's 8", v)
	}
}

func (p *serverProc) streetsRecords(t *testing.T) int64 {
	t.Helper()
	resp, err := p.admin.GetDatasetStatus(context.Background(), &pb.GetDatasetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.GetDatasets() {
		if d.GetKind() == pb.DatasetKind_DATASET_KIND_STREETS {
			return d.GetServing().GetRecords()
		}
	}
	return -1
}
