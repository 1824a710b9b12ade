// Package clients is the Go client for the robinscreen ScreeningService
// (proto package robinscreen.v1).
//
// A Client wraps one gRPC connection. ScreenContact screens one contact;
// ScreenContacts and ScreenStream screen batches of any size over the
// ScreenContacts bidirectional stream:
//
//   - Chunking: contacts are cut into request messages of at most
//     WithChunkSize contacts (default 1000, never more than the server's
//     10000) and at most 4 MiB, and a new message is started whenever the
//     channel or purpose changes, so per-contact channels and purposes work.
//   - Order: results are handed to the caller in input order, whatever the
//     number of parallel streams (WithStreams). Every result's ref is checked
//     against the contact that was sent.
//   - Retries: when the server is UNAVAILABLE (restarting, unreachable, the
//     connection dropped) the client backs off exponentially with jitter and
//     opens a new stream. Chunks whose response message was received are
//     never sent again; chunks that were sent but not answered are sent again
//     (screening is idempotent). Each input contact therefore yields exactly
//     one result. The retry budget resets whenever a chunk is answered. A
//     RATE_LIMITED refusal is repeated after the delay of the server's
//     google.rpc.RetryInfo; other refusals (TLS_REQUIRED included) are not
//     retried.
//   - Deadlines: the context's deadline and cancellation apply to the whole
//     call, including back-off waits.
//   - Security: one connection policy (Security), shared with the
//     robinscreen admin commands and the call-list tool: WithTLS (TLS 1.3 at
//     least; mutual TLS when the config carries a client certificate),
//     plaintext only to a loopback address unless WithInsecurePlaintext, and
//     WithBearerToken (an "authorization: Bearer" header on every RPC through
//     per-RPC credentials, sent in plaintext only where plaintext is
//     allowed). TLSFiles reads the CLIs' --ca, --cert and --key files.
//   - Errors: server errors carry a google.rpc.ErrorInfo (domain
//     "robinscreen.v1"); they are returned as *Error, which exposes the gRPC
//     code, ErrorInfo reason and metadata and field violations, and matches
//     the sentinel errors (ErrNoDataset, ErrInvalidRequest, ...) with
//     errors.Is.
//
// Memory is bounded: at most WithStreams × WithWindow chunks are in flight
// and at most twice that many are held for re-ordering, whatever the input
// size.
package clients
