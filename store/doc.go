// Package store keeps the loaded datasets — the Robinson list and the CPR
// extract — in Badger, each behind a Bloom filter, and hands out consistent
// snapshots of them for screening.
//
// A data directory holds one sub-directory per dataset kind. Every load
// builds a complete new version beside the serving one (a Badger database,
// the Bloom filter built from the written database, and a manifest), makes it
// durable (fsync, rename, fsync of the directory) and only then switches the
// kind's CURRENT pointer to it in one rename. A rejected or interrupted load
// therefore leaves the serving version untouched. The previous version is
// kept.
//
// A Robinson list's Bloom filter holds signature keys (see
// robinson.RecordSignatures and robinson.Probe), so that it also rules out
// records under a contact's blocking key that cannot match the contact.
// Tables are stored uncompressed: every read is a random one.
//
// A load first checks that the file system has room for the new version
// (estimated from the source file's size; ErrNoSpace otherwise). With
// Options.BuildCommand the version's files are parsed and written by a
// build process (ServeBuild) while this process keeps serving and then
// commits the version itself: a full disk faults Badger's memory-mapped
// writes (SIGBUS), which ends the build process and refuses the load
// instead of ending the server.
//
// Storage is verified (verify.go, blockcheck.go, blockindex.go,
// damage.go): every file of a version is hashed into its manifest at build
// and checked at open and by Scrub; Badger verifies table checksums at
// open. A version as loads build it is read by the store itself through a
// block index built from the table indexes verified at open: a lookup
// verifies the checksum of the one block that can hold its key before it
// trusts it (once per snapshot). Other versions (encrypted, or tables that
// overlap) are read through Badger, which verifies block checksums on
// read, and a read Badger answers "not found" has the blocks it read
// checked again, because Badger's Get reports a failed block checksum as a
// miss. A version that fails any check is damaged (ErrDamaged,
// *DamageError): it is never read from again, and Options.OnDamage rolls
// back to the previous version or serves none.
//
// Personal numbers never reach the disk: the CPR dataset is keyed by
// HMAC-SHA256 pseudonyms under a secret key (see Pseudonymizer).
package store
