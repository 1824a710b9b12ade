// Package intake holds the files a load reads before package store parses
// them: uploads staged on disk under authenticated encryption (Upload), and
// files an administrator names inside the import directory (OpenImport).
//
// Both are storage-side concerns: the gRPC layer only receives bytes and
// names, and translates the errors declared here.
//
// An Upload is encrypted with AES-256-GCM under a random key that exists only
// in the process's memory, in chunks whose nonce carries the chunk's index
// and whether it is the last one. A staged file that was altered, truncated,
// extended at a chunk boundary or had chunks reordered is therefore refused
// when read (ErrTampered) instead of being loaded; what a crash leaves behind
// cannot be read and is removed at the next start.
//
// OpenImport opens a name through an os.Root on the import directory, so
// that neither ".." nor a symbolic link can lead outside it, and there is no
// gap between a check and the open.
package intake
