package server

import (
	"context"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// Auditor records what the service did, for the audit log and metrics. It
// must never record personal data: results carry decisions, reasons and
// dataset versions only, and events carry hashes and counts.
type Auditor interface {
	// Screened is called once per request message with its results.
	Screened(ctx context.Context, method string, results []*pb.ScreeningResult)
	// Dataset is called for every load, refused load and rollback.
	Dataset(ctx context.Context, ev DatasetEvent)
}

// Dataset event actions.
const (
	ActionLoad     = "load"
	ActionRefused  = "load_refused"
	ActionRollback = "rollback"
	// ActionSent: a version's files were sent to a seeding replica
	// (FetchDatasetVersion); Version is the version sent.
	ActionSent = "version_sent"
)

// DatasetEvent describes a load, refused load or rollback.
type DatasetEvent struct {
	Action          string
	Kind            string
	Version         string // the version serving afterwards
	PreviousVersion string // the version serving before
	SourceName      string
	SourceSHA256    string
	Records         int
	Rejected        int
	Seconds         float64
	Error           string // why a load was refused (no personal data)
}

type nopAuditor struct{}

func (nopAuditor) Screened(context.Context, string, []*pb.ScreeningResult) {}
func (nopAuditor) Dataset(context.Context, DatasetEvent)                   {}
