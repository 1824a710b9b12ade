// Package suppress holds the sender's own suppression list of
// docs/screening-rules.md section 6: entries naming a phone number, an
// e-mail address, a personal number or a CVR number that must not be
// contacted again, on any channel.
//
// The package is plain Go. It normalises values (Normalize: Danish phone
// numbers in every common writing, e-mail addresses, personal numbers, CVR
// numbers), turns them into keyed HMAC-SHA256 pseudonyms (Hasher), keeps the
// list in memory for screening (Set) and reads the bulk-import CSV of
// docs/data-formats.md section 7 (ImportReader). Values never leave it in
// clear: an Entry holds only the pseudonym, and no error message names a
// value. Storage is behind the Store interface, implemented by
// store/suppressbadger (embedded, the default) and store/suppresspg
// (PostgreSQL, shared by replicas).
package suppress
