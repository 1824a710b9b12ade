// Command loadtest drives a running robinscreen server over gRPC and
// reports throughput and latency (docs/benchmarks-e2e.md).
//
// Usage:
//
//	loadtest unary --addr A --rate R --duration D --contacts FILE [--connections N] [--warmup D] [--json FILE]
//	loadtest batch --addr A --contacts FILE [--chunk 1000] [--streams 4] [--window 2] [--json FILE]
//	loadtest sweep --addr A --rates 1000,5000,10000,20000 --duration D --contacts FILE [--png FILE] [--json FILE]
//
// --addr A1,A2,… (every mode) names several replicas of a fleet: one
// connection balances over them with client-side round_robin, every
// replica must answer before the run starts, and the streams (batch) or
// connections (unary) share it, so calls spread over the replicas in turn
// (scripts/scaling.sh).
//
// unary is an open-loop test of ScreenContact: requests are scheduled at
// fixed intervals (1/rate) from the start time, independent of responses,
// and each latency is measured from the request's intended send time, not
// from when it was actually sent, so a stalled server or client shows up in
// the latencies instead of silently lowering the offered rate (no
// coordinated omission). Latencies go into an HdrHistogram (1 µs to 60 s,
// 3 significant digits); the report gives p50, p90, p99, p99.9, max, the
// achieved rate and the errors by gRPC code. unary and sweep switch the
// load generator's own garbage collector to a soft memory limit
// (--client-mem-limit, 1 GiB; 0, GOGC or GOMEMLIMIT keep Go's defaults):
// at 10 000 requests/s its collections otherwise stall its scheduler by
// milliseconds, and that stall lands in the measured tail. With --health
// they call grpc.health.v1.Health/Check instead: the same schedule and
// connections with no screening work, the floor set by the client, gRPC
// and the machine.
//
// batch sends the whole contact file through ScreenContacts in chunks of
// --chunk contacts over --streams concurrent streams (one connection each),
// each stream keeping up to --window chunks in flight, and reports
// contacts/s. The contacts are read into memory and the chunks marshalled
// before the clock starts; by default responses are decoded only as far as
// each result's decision (--decode light); --decode full unmarshals them
// into the generated types as an ordinary client would.
//
// sweep runs unary once per rate and writes the latency-versus-offered-rate
// data as JSON, a table, and a PNG plot (gonum.org/v1/plot).
//
// The contacts file is the semicolon-separated CSV of
// `robingen contacts` (ref;name;address;postal_code;cpr;expected_listed).
// Every mode prints a human table on standard output and, with --json, a
// JSON report.
package main
