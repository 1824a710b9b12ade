// Package seed fills the empty data directory of a new replica from a
// running one: it asks a peer that is SERVING for its serving dataset
// versions (DatasetService.FetchDatasetVersion) and installs them in the
// store (store.Install): each file is checked against its announced size
// and SHA-256 as it arrives, and the whole version as a load's test-open
// checks it, before it serves. The replica reports NOT_SERVING until its
// Robinson list is installed, which is installed last, so that a replica
// that serves has every kind its peer had.
package seed
