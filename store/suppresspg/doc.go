// Package suppresspg keeps the sender's suppression list (package
// suppress) in PostgreSQL, so that several replicas share one list
// (serve --suppressions postgres://...).
//
// Every replica holds the whole list in memory (suppress.Set) and keeps it
// current without ever serving a stale "not suppressed": each change bumps
// a version number in the same transaction as the change (the version row
// is locked by the transaction, so changes commit in version order), and
// View, called once per screening request, reads that version and fetches
// every change after the cached one before it returns. A change elsewhere
// that has committed — its AddSuppressions has returned — is therefore in
// the list the request is screened against. LISTEN/NOTIFY only makes that
// catch-up usually empty: each replica listens and fetches changes as soon
// as they are announced. When the database cannot be reached, View fails
// (suppress.ErrUnavailable) and the request is not screened: never a silent
// ALLOW.
//
// The tables store pseudonyms only, and the pseudonym key's fingerprint, so
// that a replica started with another key is refused.
package suppresspg
