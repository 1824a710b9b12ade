package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latency summarises an HdrHistogram of microsecond values, in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p99_9_ms"`
	Max   float64 `json:"max_ms"`
}

// Histogram bounds: 1 µs to 60 s, 3 significant digits.
const (
	histMinUS = 1
	histMaxUS = 60_000_000
	histSig   = 3
)

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(histMinUS, histMaxUS, histSig) }

func recordUS(h *hdrhistogram.Histogram, d time.Duration) {
	us := d.Microseconds()
	if us < histMinUS {
		us = histMinUS
	}
	if us > histMaxUS {
		us = histMaxUS
	}
	_ = h.RecordValue(us)
}

func summarise(h *hdrhistogram.Histogram) Latency {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Latency{
		Count: h.TotalCount(), Mean: h.Mean() / 1000,
		P50: ms(h.ValueAtQuantile(50)), P90: ms(h.ValueAtQuantile(90)), P99: ms(h.ValueAtQuantile(99)),
		P999: ms(h.ValueAtQuantile(99.9)), Max: ms(h.Max()),
	}
}

// UnaryResult is one open-loop run of ScreenContact at a fixed rate.
type UnaryResult struct {
	Mode        string  `json:"mode"`
	Addr        string  `json:"addr"`
	Rate        float64 `json:"offered_rate"`
	Seconds     float64 `json:"duration_seconds"`
	Warmup      float64 `json:"warmup_seconds"`
	Connections int     `json:"connections"`
	Channel     string  `json:"channel"`
	// Scheduled counts requests scheduled in the measured period; Sent
	// those actually sent; Dropped those not sent because --max-inflight
	// requests were outstanding (counted as errors too).
	Scheduled int64 `json:"scheduled"`
	Sent      int64 `json:"sent"`
	OK        int64 `json:"ok"`
	Errors    int64 `json:"errors"`
	Dropped   int64 `json:"dropped"`
	// ErrorsByCode counts failed requests by gRPC code ("Dropped" for the
	// dropped ones).
	ErrorsByCode map[string]int64 `json:"errors_by_code,omitempty"`
	// AchievedRate is completed requests (ok or not) per second from the
	// start to the last completion.
	AchievedRate float64 `json:"achieved_rate"`
	// MaxSendLagMS is how late the scheduler sent a request at worst
	// (client saturation shows here first).
	MaxSendLagMS float64          `json:"max_send_lag_ms"`
	Latency      Latency          `json:"latency"`
	Decisions    map[string]int64 `json:"decisions"`
	ClientCPU    float64          `json:"client_cpu_seconds"`
}

// BatchResult is one run of ScreenContacts over a contact file.
type BatchResult struct {
	Mode           string           `json:"mode"`
	Addr           string           `json:"addr"`
	Contacts       int              `json:"contacts"`
	ExpectedListed int              `json:"expected_listed"`
	Chunk          int              `json:"chunk"`
	Streams        int              `json:"streams"`
	Window         int              `json:"window"`
	Decode         string           `json:"decode"`
	Channel        string           `json:"channel"`
	Seconds        float64          `json:"seconds"`
	ContactsPerSec float64          `json:"contacts_per_second"`
	Results        int64            `json:"results"`
	Errors         int64            `json:"errors"`
	ErrorsByCode   map[string]int64 `json:"errors_by_code,omitempty"`
	Decisions      map[string]int64 `json:"decisions"`
	ChunkLatency   Latency          `json:"chunk_latency"`
	PrepareSeconds float64          `json:"prepare_seconds"`
	ClientCPU      float64          `json:"client_cpu_seconds"`
}

// Host describes the load generator's machine.
type Host struct {
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	CPUModel   string `json:"cpu_model"`
	GoVersion  string `json:"go_version"`
	OS         string `json:"os"`
}

// Report is the JSON report of one loadtest invocation.
type Report struct {
	Tool    string        `json:"tool"`
	Started time.Time     `json:"started"`
	Host    Host          `json:"host"`
	Args    []string      `json:"args"`
	Unary   []UnaryResult `json:"unary,omitempty"`
	Batch   *BatchResult  `json:"batch,omitempty"`
}

func hostInfo() Host {
	h := Host{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				h.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	return h
}

func writeJSON(path string, r *Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func codes(m map[string]int64) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for i, k := range keys {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, "%s=%d", k, m[k])
	}
	return sb.String()
}

// printUnary writes the human table of unary runs.
func printUnary(w io.Writer, runs []UnaryResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "offered/s\tachieved/s\tok\terrors\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\tmax ms\tmax lag ms\tclient CPU s\terror codes\t")
	for _, r := range runs {
		fmt.Fprintf(tw, "%.0f\t%.0f\t%d\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.1f\t%s\t\n", r.Rate, r.AchievedRate, r.OK, r.Errors,
			r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.P999, r.Latency.Max, r.MaxSendLagMS, r.ClientCPU, codes(r.ErrorsByCode))
	}
	tw.Flush()
}

// printBatch writes the human table of a batch run.
func printBatch(w io.Writer, r *BatchResult) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	row := func(k string, format string, a ...any) {
		fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...)
	}
	row("contacts", "%d (expected listed %d)", r.Contacts, r.ExpectedListed)
	row("chunk × streams × window", "%d × %d × %d (decode %s, channel %s)", r.Chunk, r.Streams, r.Window, r.Decode, r.Channel)
	row("time", "%.3f s (prepare %.3f s, client CPU %.2f s)", r.Seconds, r.PrepareSeconds, r.ClientCPU)
	row("throughput", "%.0f contacts/s", r.ContactsPerSec)
	row("results / errors", "%d / %d %s", r.Results, r.Errors, codes(r.ErrorsByCode))
	row("decisions", "%s", codes(r.Decisions))
	row("chunk latency ms", "p50 %.2f  p90 %.2f  p99 %.2f  max %.2f", r.ChunkLatency.P50, r.ChunkLatency.P90, r.ChunkLatency.P99, r.ChunkLatency.Max)
	tw.Flush()
}
