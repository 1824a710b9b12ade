// Package receipt builds, signs and verifies receipts of screening
// (docs/screening-rules.md rule 5.4): proof that a list of contacts got
// these results against these dataset versions at that time, signed with
// the service's Ed25519 key and verifiable offline by anyone holding the
// public key, the contacts and the results.
//
// A receipt holds no personal data in clear; it is pseudonymous, not
// anonymous: whoever holds it and guesses every field of one contact can
// test the guess against its digest. It binds the contacts and the results
// through SHA-256 digests over a canonical encoding of each, in order,
// salted with a random nonce kept in the receipt (so two receipts of the
// same list cannot be linked by their digests), and carries only counts:
// contacts per channel and purpose, results per decision and per reason,
// and the dataset versions consulted.
//
// The package is plain Go: contacts and results are given as Contact and
// Result (field names and values as strings), so the gRPC adapter and the
// offline verifier feed it the same way. Builder collects a batch and
// Signer signs it; Verify checks a receipt against its key, contacts and
// results and names the first part that does not agree.
package receipt
