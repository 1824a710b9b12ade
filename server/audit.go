package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/grpc/codes"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// AuditRecord is one line of the audit log. It holds who did what with
// which datasets, in counts, versions and hashes: never a contact's ref,
// personal number, name, address, phone or e-mail.
type AuditRecord struct {
	Time   time.Time `json:"time"`
	Event  string    `json:"event"`  // "screen", "dataset", "suppression" or "denied"
	Client string    `json:"client"` // token name, certificate CN or peer IP
	// ClientSource says what Client is: "token", "cert" or "peer".
	ClientSource string `json:"client_source"`
	Role         string `json:"role,omitempty"`
	Method       string `json:"method,omitempty"`

	// screen
	Contacts  int              `json:"contacts,omitempty"`
	Decisions map[string]int   `json:"decisions,omitempty"` // ALLOW/BLOCK/REVIEW -> count
	Reasons   map[string]int   `json:"reasons,omitempty"`   // ROBINSON_LIST, ... -> count
	Datasets  []AuditDatasetID `json:"datasets,omitempty"`

	// dataset
	Action          string  `json:"action,omitempty"` // load, load_refused, rollback, version_sent
	Kind            string  `json:"kind,omitempty"`
	Version         string  `json:"version,omitempty"`
	PreviousVersion string  `json:"previous_version,omitempty"`
	SourceName      string  `json:"source_name,omitempty"`
	SourceSHA256    string  `json:"source_sha256,omitempty"`
	Records         int     `json:"records,omitempty"`
	Rejected        int     `json:"rejected,omitempty"`
	Seconds         float64 `json:"seconds,omitempty"`
	Error           string  `json:"error,omitempty"`

	// suppression: the list's changes and exports, entries named by
	// pseudonym (Action, Kind and SourceName above are shared)
	Added     int    `json:"added,omitempty"`
	Present   int    `json:"already_present,omitempty"`
	Pseudonym string `json:"pseudonym,omitempty"`
	Scope     string `json:"scope,omitempty"`
	Why       string `json:"why,omitempty"`
	Removed   *bool  `json:"removed,omitempty"`
	Exported  int    `json:"exported,omitempty"`

	// denied
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// AuditDatasetID is a dataset version a screening used.
type AuditDatasetID struct {
	Kind    string `json:"kind"`
	Version string `json:"version"`
}

// AuditLog is an Auditor writing JSON lines to an append-only file.
//
// Each event is one json.Marshal and one write(2) on a file opened with
// O_APPEND under a mutex, so lines never interleave and a line written
// survives a crash of the process. Durability against power loss: dataset
// events are fsynced before Dataset returns; screening and denied events are
// fsynced at most SyncInterval later by a background goroutine, and on Close.
// A write error is logged (without the record) and the event is lost; the
// call that caused it is not failed.
type AuditLog struct {
	f   *os.File
	log *slog.Logger
	now func() time.Time

	mu     sync.Mutex
	dirty  bool
	closed bool
	done   chan struct{}
	wg     sync.WaitGroup
}

// SyncInterval is how often buffered screening events are fsynced.
const SyncInterval = time.Second

// OpenAuditLog opens (creating with mode 0600) the audit log at path for
// appending. It returns the os error when the file cannot be opened.
func OpenAuditLog(path string, log *slog.Logger) (*AuditLog, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	a := &AuditLog{f: f, log: log, now: time.Now, done: make(chan struct{})}
	a.wg.Add(1)
	go a.syncLoop()
	return a, nil
}

func (a *AuditLog) syncLoop() {
	defer a.wg.Done()
	t := time.NewTicker(SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-a.done:
			return
		case <-t.C:
			a.mu.Lock()
			if a.dirty && !a.closed {
				a.syncLocked()
			}
			a.mu.Unlock()
		}
	}
}

func (a *AuditLog) syncLocked() {
	if err := a.f.Sync(); err != nil {
		a.log.Error("audit log fsync failed", "err", err)
	}
	a.dirty = false
}

// Close fsyncs and closes the file; later events are dropped. It returns
// the error of the final fsync or close.
func (a *AuditLog) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	close(a.done)
	err := errors.Join(a.f.Sync(), a.f.Close())
	a.mu.Unlock()
	a.wg.Wait()
	return err
}

func (a *AuditLog) write(rec *AuditRecord, sync bool) {
	if rec.Time.IsZero() {
		rec.Time = a.now().UTC()
	}
	line, err := json.Marshal(rec)
	if err != nil {
		a.log.Error("audit record not encodable", "event", rec.Event, "err", err)
		return
	}
	line = append(line, '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	if _, err := a.f.Write(line); err != nil {
		a.log.Error("audit log write failed: event lost", "event", rec.Event, "method", rec.Method, "err", err)
		return
	}
	a.dirty = true
	if sync {
		a.syncLocked()
	}
}

func baseRecord(ctx context.Context, event, method string) *AuditRecord {
	id := IdentityFrom(ctx)
	rec := &AuditRecord{Event: event, Client: id.Name, ClientSource: id.Source, Method: method}
	if id.Role != RoleNone {
		rec.Role = id.Role.String()
	}
	return rec
}

// Screened writes a "screen" record: counts per decision and reason and the
// dataset versions, for one request message.
func (a *AuditLog) Screened(ctx context.Context, method string, results []*pb.ScreeningResult) {
	rec := baseRecord(ctx, "screen", method)
	rec.Contacts = len(results)
	rec.Decisions, rec.Reasons, rec.Datasets = summarize(results)
	a.write(rec, false)
}

// Dataset writes a "dataset" record (load, refused load or rollback, with
// the source file's SHA-256) and fsyncs it.
func (a *AuditLog) Dataset(ctx context.Context, ev DatasetEvent) {
	rec := baseRecord(ctx, "dataset", "")
	rec.Action, rec.Kind, rec.Version, rec.PreviousVersion = ev.Action, ev.Kind, ev.Version, ev.PreviousVersion
	if ev.SourceName != "" {
		rec.SourceName = filepath.Base(ev.SourceName)
	}
	rec.SourceSHA256, rec.Records, rec.Rejected, rec.Seconds, rec.Error = ev.SourceSHA256, ev.Records, ev.Rejected, ev.Seconds, ev.Error
	a.write(rec, true)
}

// Suppression writes a "suppression" record (an add, import, removal or
// export of the suppression list) and fsyncs it before returning: a
// removal is on the audit trail once the call has returned.
func (a *AuditLog) Suppression(ctx context.Context, ev SuppressionEvent) {
	rec := baseRecord(ctx, "suppression", "")
	rec.Action, rec.Kind, rec.Added, rec.Present, rec.Rejected = ev.Action, ev.Kind, ev.Added, ev.Present, ev.Rejected
	rec.Pseudonym, rec.Scope, rec.Why, rec.SourceName, rec.Exported = ev.Pseudonym, ev.Scope, ev.Why, ev.Source, ev.Exported
	if ev.Action == ActionSuppressionRemove {
		removed := ev.Removed
		rec.Removed = &removed
	}
	a.write(rec, true)
}

// Denied writes a "denied" record for a call refused by authentication,
// authorization or the rate limit.
func (a *AuditLog) Denied(ctx context.Context, method string, code codes.Code, reason string) {
	rec := baseRecord(ctx, "denied", method)
	rec.Code, rec.Reason = code.String(), reason
	a.write(rec, false)
}

// summarize counts decisions and reasons (enum names without prefix) and
// collects the distinct dataset versions of results.
func summarize(results []*pb.ScreeningResult) (map[string]int, map[string]int, []AuditDatasetID) {
	dec, rea := map[string]int{}, map[string]int{}
	var t tally
	t.add(results)
	t.each(func(label string, n int) { dec[label] += n }, func(label string, n int) { rea[label] += n })
	var ds []AuditDatasetID
	seen := map[AuditDatasetID]bool{}
	var last []*pb.DatasetRef
	for _, r := range results {
		refs := r.GetDatasets()
		if len(refs) > 0 && len(refs) == len(last) && &refs[0] == &last[0] {
			continue // the same shared slice as the result before (converter)
		}
		last = refs
		for _, d := range refs {
			id := AuditDatasetID{Kind: d.GetKind(), Version: d.GetVersion()}
			if !seen[id] {
				seen[id] = true
				ds = append(ds, id)
			}
		}
	}
	return dec, rea, ds
}

// MultiAuditor sends every event to each of its auditors in order (nil
// entries are skipped); Denied goes to those implementing Denier.
type MultiAuditor []Auditor

// Screened forwards to every auditor.
func (m MultiAuditor) Screened(ctx context.Context, method string, results []*pb.ScreeningResult) {
	for _, a := range m {
		if a != nil {
			a.Screened(ctx, method, results)
		}
	}
}

// Dataset forwards to every auditor.
func (m MultiAuditor) Dataset(ctx context.Context, ev DatasetEvent) {
	for _, a := range m {
		if a != nil {
			a.Dataset(ctx, ev)
		}
	}
}

// Suppression forwards to every auditor implementing SuppressionAuditor.
func (m MultiAuditor) Suppression(ctx context.Context, ev SuppressionEvent) {
	for _, a := range m {
		if sa, ok := a.(SuppressionAuditor); ok && a != nil {
			sa.Suppression(ctx, ev)
		}
	}
}

// Denied forwards to every auditor implementing Denier.
func (m MultiAuditor) Denied(ctx context.Context, method string, code codes.Code, reason string) {
	for _, a := range m {
		if d, ok := a.(Denier); ok && a != nil {
			d.Denied(ctx, method, code, reason)
		}
	}
}
