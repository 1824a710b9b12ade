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
package screening
