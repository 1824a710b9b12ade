// Package suppressbadger keeps the sender's suppression list (package
// suppress) in an embedded Badger database inside the data directory: the
// default for a single server.
//
// Every write is synchronous (Badger's SyncWrites): Add and Remove return
// only once the change is on disk, so an acknowledged entry survives a
// crash or kill -9 of the process. The whole list is held in memory
// (suppress.Set) for screening; the database is read once at Open. Values
// are never stored, only their keyed pseudonyms, and the key's fingerprint
// is stored so that a server started with another pseudonym key is refused.
package suppressbadger
