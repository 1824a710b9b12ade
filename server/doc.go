// Package server is the gRPC adapter of robinscreen: it validates requests,
// calls package screening on a store snapshot and translates results and
// errors. New is the one bootstrap function for the gRPC server
// (interceptors, message limits, keepalive policy, health and reflection).
//
// Access and operations: auth.go (bearer tokens and roles), tls.go (TLS 1.3
// and mutual TLS), ratelimit.go (per-client rate limit), audit.go (the
// JSON-lines audit log and MultiAuditor), metrics.go (Prometheus) and
// requiretls.go (the TLS listener that answers plaintext clients with
// TLS_REQUIRED) and local.go (the in-memory listener of the HTTP/JSON
// gateway in sub-package gateway, and the client identity it forwards); see
// docs/operations-security.md.
//
// Wire: codec.go is the server's gRPC codec. It refuses undecodable
// requests with an ErrorInfo, and encodes and decodes the screening calls'
// messages with the generated vtprotobuf methods (same wire format,
// checked against the proto codec); a ScreenContacts stream reuses its
// request, result arenas and scratch from one message to the next.
//
// The package handles no files: LoadDataset gets a named file from the
// import directory, and stages an upload, through DatasetAdmin (package
// store and its sub-package intake).
package server
