// Package screening holds the decision rules of
// docs/screening-rules.md section 2: for one contact, a channel and a
// purpose it decides ALLOW, BLOCK or REVIEW with the reasons and findings
// that produced the decision and the datasets consulted.
//
// The package is plain Go. The datasets are reached through the small
// RobinsonList, CPRRegister, StreetRegister and CVRRegister interfaces,
// implemented by the storage package; the clock is injected. Per-contact
// problems (an invalid personal or CVR number, an address that cannot be
// parsed) are findings in the result, never errors; Engine.Screen returns
// an error only when the request as a whole cannot be answered (no
// dataset, unknown channel, a storage failure).
//
// # Stack depth
//
// A gRPC server runs each unary call on a new goroutine, whose stack
// starts small and is copied to one twice the size whenever a call needs
// more. The deepest calls of a screening (matching the candidate records)
// run below the handler, the interceptors and gRPC's own frames; when
// they cross 8 KiB, every call pays one more copy of all those frames. So
// the functions on the way down keep small frames: what a contact needs
// lives in the Scratch (the screener, the parsed name and address, the
// outcome), and the steps beside the lookup (the personal number's
// findings, the suppression list, parsing, adding a finding) are calls of
// their own (marked go:noinline), so that their locals are off the stack
// while the lookup runs. docs/benchmarks-e2e.md ("Fifth round") shows how
// this is measured.
package screening
