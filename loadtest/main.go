package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  loadtest unary --addr A --rate R --duration D --contacts FILE [--connections N] [--warmup D] [--json FILE]
  loadtest batch --addr A --contacts FILE [--chunk 1000] [--streams 4] [--window 2] [--decode light|full] [--json FILE]
  loadtest sweep --addr A --rates 1000,5000,10000,20000 --duration D --contacts FILE [--png FILE] [--json FILE]
  loadtest ghzdata --contacts FILE [--n 10000] --out FILE
  loadtest plot --from SWEEP.json --png FILE [--title T]`

// common are the flags every mode shares.
type common struct {
	addr, contacts, jsonOut, channel, purpose string
	noCPR, insecure                           bool
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.addr, "addr", "127.0.0.1:50051", "server address; several, comma-separated, are one fleet balanced with client-side round_robin")
	fs.StringVar(&c.contacts, "contacts", "", "contacts CSV (robingen contacts; required)")
	fs.StringVar(&c.jsonOut, "json", "", "write the JSON report to this file")
	fs.StringVar(&c.channel, "channel", "post", "channel: post, phone, email, sms (post always runs the Robinson check)")
	fs.StringVar(&c.purpose, "purpose", "", "purpose: other, books, periodical, insurance, rescue (default unspecified)")
	fs.BoolVar(&c.noCPR, "no-cpr", false, "do not send the contacts' personal numbers")
	fs.BoolVar(&c.insecure, "insecure", false, "allow plaintext to a non-loopback address (the clients' dial policy refuses it otherwise)")
}

func (c *common) resolve() (pb.Channel, pb.Purpose, error) {
	ch, ok := channels[c.channel]
	if !ok {
		return 0, 0, fmt.Errorf("unknown --channel %q", c.channel)
	}
	pu, ok := purposes[c.purpose]
	if !ok {
		return 0, 0, fmt.Errorf("unknown --purpose %q", c.purpose)
	}
	if c.contacts == "" {
		return 0, 0, fmt.Errorf("--contacts FILE is required")
	}
	return ch, pu, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("missing mode\n%s", usage)
	}
	mode := args[0]
	fs := flag.NewFlagSet("loadtest "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cm common
	cm.register(fs)
	rep := &Report{Tool: "loadtest", Started: time.Now().UTC(), Host: hostInfo(), Args: args}
	switch mode {
	case "unary", "sweep":
		rate := fs.Float64("rate", 1000, "requests per second (unary)")
		rates := fs.String("rates", "1000,5000,10000,20000", "comma-separated rates (sweep)")
		dur := fs.Duration("duration", 10*time.Second, "measured duration per rate")
		warm := fs.Duration("warmup", time.Second, "unrecorded warmup at the same rate before each measured run")
		conns := fs.Int("connections", 4, "gRPC connections (requests go round robin)")
		maxIn := fs.Int("max-inflight", 50000, "outstanding requests above which scheduled requests are dropped (and counted as errors)")
		timeout := fs.Duration("timeout", 10*time.Second, "per-request deadline")
		pause := fs.Duration("pause", 2*time.Second, "pause between rates (sweep)")
		png := fs.String("png", "", "write the latency-vs-rate plot (PNG) to this file (sweep)")
		title := fs.String("title", "robinscreen ScreenContact, open loop", "plot title (sweep)")
		health := fs.Bool("health", false, "call grpc.health.v1.Health/Check instead of ScreenContact (the floor without screening work)")
		memLimit := fs.Int64("client-mem-limit", 1<<30, "bytes: the load generator collects garbage only near this soft limit (0 = Go's defaults, GOGC and GOMEMLIMIT)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		quietGC(*memLimit)
		ch, pu, err := cm.resolve()
		if err != nil {
			return err
		}
		list := []float64{*rate}
		if mode == "sweep" {
			list = nil
			for _, f := range strings.Split(*rates, ",") {
				r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
				if err != nil || r <= 0 {
					return fmt.Errorf("--rates: bad rate %q", f)
				}
				list = append(list, r)
			}
			sort.Float64s(list)
		}
		set, err := readContacts(cm.contacts, cm.noCPR)
		if err != nil {
			return err
		}
		cfg := unaryConfig{Addr: cm.addr, Duration: *dur, Warmup: *warm, Connections: *conns, Channel: ch, Purpose: pu, MaxInflight: *maxIn, Timeout: *timeout, Health: *health, Insecure: cm.insecure}
		for i, r := range list {
			if i > 0 && *pause > 0 {
				time.Sleep(*pause)
			}
			cfg.Rate = r
			res, err := runUnary(ctx, cfg, set)
			if err != nil {
				return err
			}
			rep.Unary = append(rep.Unary, *res)
			if mode == "sweep" {
				fmt.Fprintf(stderr, "rate %.0f/s: p50 %.3f ms p99 %.3f ms, %d errors\n", r, res.Latency.P50, res.Latency.P99, res.Errors)
			}
		}
		printUnary(stdout, rep.Unary)
		if *png != "" {
			if err := writePlot(*png, *title, rep.Unary); err != nil {
				return err
			}
		}
	case "batch":
		chunkN := fs.Int("chunk", 1000, "contacts per request message (at most 10000)")
		streams := fs.Int("streams", 4, "concurrent ScreenContacts streams, one connection each")
		window := fs.Int("window", 2, "chunks in flight per stream")
		decode := fs.String("decode", "light", "response decoding: light (decisions only) or full (generated types)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		ch, pu, err := cm.resolve()
		if err != nil {
			return err
		}
		if *decode != "light" && *decode != "full" {
			return fmt.Errorf("--decode must be light or full")
		}
		set, err := readContacts(cm.contacts, cm.noCPR)
		if err != nil {
			return err
		}
		res, err := runBatch(ctx, batchConfig{Addr: cm.addr, Chunk: *chunkN, Streams: *streams, Window: *window, Channel: ch, Purpose: pu, FullDecode: *decode == "full", Insecure: cm.insecure}, set)
		if err != nil {
			return err
		}
		rep.Batch = res
		printBatch(stdout, res)
	case "plot":
		from := fs.String("from", "", "JSON report of a sweep")
		png := fs.String("png", "", "output PNG")
		title := fs.String("title", "robinscreen ScreenContact, open loop", "plot title")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		b, err := os.ReadFile(*from)
		if err != nil {
			return err
		}
		var r Report
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s: %w", *from, err)
		}
		printUnary(stdout, r.Unary)
		return writePlot(*png, *title, r.Unary)
	case "ghzdata":
		n := fs.Int("n", 10000, "requests to write (the first n contacts)")
		out := fs.String("out", "", "output file: a JSON array of ScreenContactRequest for ghz --data-file")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		ch, pu, err := cm.resolve()
		if err != nil {
			return err
		}
		set, err := readContacts(cm.contacts, cm.noCPR)
		if err != nil {
			return err
		}
		return writeGhzData(*out, set, *n, ch, pu)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown mode %q\n%s", mode, usage)
	}
	if cm.jsonOut != "" {
		if err := writeJSON(cm.jsonOut, rep); err != nil {
			return err
		}
	}
	return nil
}

// quietGC keeps the load generator's own garbage collector out of the
// latencies it measures: with limit > 0 and neither GOGC nor GOMEMLIMIT
// set, collection runs only as the heap nears limit. An open-loop client
// allocates per request; at 10 000 requests/s its collections on two
// shared cores stall its scheduler by milliseconds, which shows up in the
// measured tail as if the server had been slow.
func quietGC(limit int64) {
	if limit <= 0 || os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(limit)
}
