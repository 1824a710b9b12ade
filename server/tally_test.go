package server

import (
	"context"
	"fmt"
	"maps"
	"testing"

	"github.com/robinscreen/robinscreen/internal/proccpu"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// TestTally checks the per-label counts the audit log and the metrics
// take from one message's results, including enum values beyond the
// arrays.
func TestTally(t *testing.T) {
	block := &pb.ScreeningResult{Decision: pb.Decision_DECISION_BLOCK, Reasons: []pb.Reason{pb.Reason_REASON_ROBINSON_LIST, pb.Reason_REASON_STALE_DATA}}
	allow := &pb.ScreeningResult{Decision: pb.Decision_DECISION_ALLOW}
	tests := []struct {
		name              string
		results           []*pb.ScreeningResult
		wantDec, wantReas map[string]int
	}{
		{"no results", nil, map[string]int{}, map[string]int{}},
		{"one of each", []*pb.ScreeningResult{block, allow}, map[string]int{"BLOCK": 1, "ALLOW": 1}, map[string]int{"ROBINSON_LIST": 1, "STALE_DATA": 1}},
		{"repeated", []*pb.ScreeningResult{allow, block, allow, block, allow}, map[string]int{"BLOCK": 2, "ALLOW": 3}, map[string]int{"ROBINSON_LIST": 2, "STALE_DATA": 2}},
		{"unspecified decision", []*pb.ScreeningResult{{}}, map[string]int{"UNSPECIFIED": 1}, map[string]int{}},
		{"values beyond the arrays", []*pb.ScreeningResult{{Decision: 99, Reasons: []pb.Reason{tallySize, tallySize, -1}}},
			map[string]int{"99": 1}, map[string]int{fmt.Sprint(tallySize): 2, "-1": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tl tally
			tl.add(tt.results)
			dec, rea := map[string]int{}, map[string]int{}
			tl.each(func(l string, n int) { dec[l] += n }, func(l string, n int) { rea[l] += n })
			if !maps.Equal(dec, tt.wantDec) || !maps.Equal(rea, tt.wantReas) {
				t.Errorf("decisions %v reasons %v, want %v %v", dec, rea, tt.wantDec, tt.wantReas)
			}
			gotDec, gotRea, _ := summarize(tt.results)
			if !maps.Equal(gotDec, tt.wantDec) || !maps.Equal(gotRea, tt.wantReas) {
				t.Errorf("summarize: decisions %v reasons %v, want %v %v", gotDec, gotRea, tt.wantDec, tt.wantReas)
			}
		})
	}
}

// TestSummarizeDatasets: the dataset versions of a message, each once, in
// the order first seen, whether results share one slice (as the
// converter makes them) or carry their own.
func TestSummarizeDatasets(t *testing.T) {
	rob := &pb.DatasetRef{Kind: "robinson", Version: "r1"}
	cpr := &pb.DatasetRef{Kind: "cpr", Version: "c1"}
	shared := []*pb.DatasetRef{rob, cpr}
	tests := []struct {
		name    string
		results []*pb.ScreeningResult
		want    []AuditDatasetID
	}{
		{"shared slice", []*pb.ScreeningResult{{Datasets: shared}, {Datasets: shared}}, []AuditDatasetID{{"robinson", "r1"}, {"cpr", "c1"}}},
		{"own slices", []*pb.ScreeningResult{{Datasets: []*pb.DatasetRef{cpr}}, {Datasets: []*pb.DatasetRef{rob, cpr}}}, []AuditDatasetID{{"cpr", "c1"}, {"robinson", "r1"}}},
		{"a shared slice after another", []*pb.ScreeningResult{{Datasets: shared[:1]}, {Datasets: shared}}, []AuditDatasetID{{"robinson", "r1"}, {"cpr", "c1"}}},
		{"none", []*pb.ScreeningResult{{}, {}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, got := summarize(tt.results)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("datasets %v, want %v", got, tt.want)
			}
		})
	}
}

// BenchmarkScreenedAccounting measures what the metrics and the audit
// summary cost per contact of a 1000-result message (10 % BLOCK).
func BenchmarkScreenedAccounting(b *testing.B) {
	refs := []*pb.DatasetRef{{Kind: "robinson", Version: "r1"}}
	results := make([]*pb.ScreeningResult, 1000)
	for i := range results {
		results[i] = &pb.ScreeningResult{Decision: pb.Decision_DECISION_ALLOW, Datasets: refs}
		if i%10 == 0 {
			results[i] = &pb.ScreeningResult{Decision: pb.Decision_DECISION_BLOCK, Reasons: []pb.Reason{pb.Reason_REASON_ROBINSON_LIST}, Datasets: refs}
		}
	}
	m := NewMetrics(nil)
	b.Run("metrics", func(b *testing.B) {
		cpu := proccpu.Seconds()
		for b.Loop() {
			m.Screened(context.Background(), pb.ScreeningService_ScreenContacts_FullMethodName, results)
		}
		b.ReportMetric((proccpu.Seconds()-cpu)*1e9/float64(b.N*len(results)), "cpu-ns/contact")
	})
	b.Run("audit-summary", func(b *testing.B) {
		cpu := proccpu.Seconds()
		for b.Loop() {
			summarize(results)
		}
		b.ReportMetric((proccpu.Seconds()-cpu)*1e9/float64(b.N*len(results)), "cpu-ns/contact")
	})
}
