package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/suppress"
)

// MaxSuppressionBatch is the most values one AddSuppressions,
// CheckSuppressions or ImportSuppressions message may carry.
const MaxSuppressionBatch = 10000

// maxImportRejects is how many rejects an import response lists.
const maxImportRejects = 1000

// Suppression event actions.
const (
	ActionSuppressionAdd    = "suppression_add"
	ActionSuppressionImport = "suppression_import"
	ActionSuppressionRemove = "suppression_remove"
	ActionSuppressionExport = "suppression_export"
)

// SuppressionEvent describes a change to, or an export of, the suppression
// list. It names entries by pseudonym, never by value.
type SuppressionEvent struct {
	Action    string
	Added     int
	Present   int
	Rejected  int
	Kind      string // remove
	Pseudonym string // remove
	Scope     string // remove
	Why       string // remove
	Removed   bool   // remove: whether the entry existed
	Source    string // import: the file's base name
	Exported  int    // export: entries sent
}

// SuppressionAuditor is implemented by auditors that record suppression
// list events (the audit log, which fsyncs removals before the call
// returns).
type SuppressionAuditor interface {
	Suppression(ctx context.Context, ev SuppressionEvent)
}

// SuppressionService implements robinscreen.v1.SuppressionService over a
// suppress.Store.
type SuppressionService struct {
	pb.UnimplementedSuppressionServiceServer
	store suppress.Store
	log   *slog.Logger
	audit Auditor
	now   func() time.Time
}

// NewSuppressionService returns the service over st.
func NewSuppressionService(st suppress.Store, log *slog.Logger, audit Auditor) *SuppressionService {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if audit == nil {
		audit = nopAuditor{}
	}
	return &SuppressionService{store: st, log: log, audit: audit, now: time.Now}
}

func (s *SuppressionService) record(ctx context.Context, ev SuppressionEvent) {
	if a, ok := s.audit.(SuppressionAuditor); ok {
		a.Suppression(ctx, ev)
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "suppression list", slog.String("action", ev.Action), slog.String("client", IdentityFrom(ctx).Name),
		slog.Int("added", ev.Added), slog.Int("already_present", ev.Present), slog.Int("rejected", ev.Rejected),
		slog.Int("exported", ev.Exported), slog.String("kind", ev.Kind), slog.Bool("removed", ev.Removed))
}

var kindFields = [...]string{suppress.KindPhone: "phone", suppress.KindEmail: "email", suppress.KindCPR: "cpr", suppress.KindCVR: "cvr"}

// unreadable says, per kind, that a value cannot be read (never repeating
// it).
var unreadable = [...]string{
	suppress.KindPhone: "cannot be read as a phone number (8 digits, or + and a country code)",
	suppress.KindEmail: "cannot be read as an e-mail address",
	suppress.KindCPR:   "cannot be read as a personal number (DDMMYYSSSS or DDMMYY-SSSS, a real date)",
	suppress.KindCVR:   "cannot be read as a CVR number (8 digits)",
}

// inputValue returns the one value an input or removal names; ok is false
// when none or more than one is set.
func inputValue(phone, email, cpr, cvr string) (suppress.Kind, string, bool) {
	var k suppress.Kind
	var v string
	n := 0
	for kind, val := range map[suppress.Kind]string{suppress.KindPhone: phone, suppress.KindEmail: email, suppress.KindCPR: cpr, suppress.KindCVR: cvr} {
		if strings.TrimSpace(val) != "" {
			k, v, n = kind, val, n+1
		}
	}
	return k, v, n == 1
}

func fromSuppressionReason(r pb.SuppressionReason) (suppress.Reason, bool) {
	switch r {
	case pb.SuppressionReason_SUPPRESSION_REASON_UNSPECIFIED, pb.SuppressionReason_SUPPRESSION_REASON_REQUESTED:
		return suppress.ReasonRequested, true
	case pb.SuppressionReason_SUPPRESSION_REASON_COMPLAINT:
		return suppress.ReasonComplaint, true
	case pb.SuppressionReason_SUPPRESSION_REASON_BOUNCE:
		return suppress.ReasonBounce, true
	case pb.SuppressionReason_SUPPRESSION_REASON_OTHER:
		return suppress.ReasonOther, true
	}
	return suppress.ReasonUnspecified, false
}

func toSuppressionEntry(e suppress.Entry) *pb.SuppressionEntry {
	return &pb.SuppressionEntry{Kind: pb.SuppressionKind(e.Key.Kind), Pseudonym: e.Key.Pseudonym.String(),
		Reason: pb.SuppressionReason(e.Reason), Source: e.Source, Scope: e.Scope, Added: timestamppb.New(e.Added)}
}

// entries turns inputs into entries; the rejects name the input's index
// (offset + position) and field, never its value.
func (s *SuppressionService) entries(ctx context.Context, in []*pb.SuppressionInput, offset int) ([]suppress.Entry, []*pb.SuppressionReject) {
	h := s.store.Hasher()
	now := s.now().UTC().Truncate(time.Second)
	out := make([]suppress.Entry, 0, len(in))
	var rejects []*pb.SuppressionReject
	reject := func(i int, field, msg string) {
		rejects = append(rejects, &pb.SuppressionReject{Index: int32(offset + i), Field: field, Message: msg})
	}
	for i, x := range in {
		kind, raw, ok := inputValue(x.GetPhone(), x.GetEmail(), x.GetCpr(), x.GetCvr())
		if !ok {
			reject(i, "entries", "set exactly one of phone, email, cpr and cvr")
			continue
		}
		key, tag, err := h.KeyTag(kind, raw)
		if err != nil {
			reject(i, kindFields[kind], unreadable[kind])
			continue
		}
		reason, ok := fromSuppressionReason(x.GetReason())
		if !ok {
			reject(i, "reason", "unknown reason")
			continue
		}
		e := suppress.Entry{Key: key, Scope: strings.TrimSpace(x.GetScope()), Reason: reason, Source: strings.TrimSpace(x.GetSource()), Added: now, Tag: tag}
		if e.Source == "" {
			e.Source = IdentityFrom(ctx).Name
		}
		if t := x.GetAdded(); t != nil && t.IsValid() && t.AsTime().Before(now) {
			e.Added = t.AsTime().UTC().Truncate(time.Second)
		}
		if err := e.Check(); err != nil {
			reject(i, "source", err.Error())
			continue
		}
		out = append(out, e)
	}
	return out, rejects
}

func tooMany(field string, n int) error {
	re := badRequest(field, "must hold at most "+strconv.Itoa(MaxSuppressionBatch)+" values per message")
	re.reason = ReasonBatchTooLarge
	re.meta = map[string]string{"max_values": strconv.Itoa(MaxSuppressionBatch), "values": strconv.Itoa(n)}
	return re
}

// AddSuppressions adds entries; it returns once they are on durable storage.
func (s *SuppressionService) AddSuppressions(ctx context.Context, req *pb.AddSuppressionsRequest) (*pb.AddSuppressionsResponse, error) {
	n := len(req.GetEntries())
	if n == 0 {
		return nil, toStatus(s.log, badRequest("entries", "must hold at least one entry"))
	}
	if n > MaxSuppressionBatch {
		return nil, toStatus(s.log, tooMany("entries", n))
	}
	entries, rejects := s.entries(ctx, req.GetEntries(), 0)
	added, err := s.store.Add(ctx, entries)
	if err != nil {
		return nil, toStatus(s.log, err)
	}
	s.record(ctx, SuppressionEvent{Action: ActionSuppressionAdd, Added: added, Present: len(entries) - added, Rejected: len(rejects)})
	return &pb.AddSuppressionsResponse{Added: int32(added), AlreadyPresent: int32(len(entries) - added), Rejected: rejects}, nil
}

// ImportSuppressions adds the entries of every chunk; each chunk is on
// durable storage before the next is read, and the response comes after
// the last.
func (s *SuppressionService) ImportSuppressions(stream pb.SuppressionService_ImportSuppressionsServer) error {
	ctx := stream.Context()
	resp := &pb.ImportSuppressionsResponse{}
	ev := SuppressionEvent{Action: ActionSuppressionImport}
	offset := 0
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return toStatus(s.log, err)
		}
		if ev.Source == "" && req.GetSourceName() != "" {
			ev.Source = baseName(req.GetSourceName())
		}
		n := len(req.GetEntries())
		if n > MaxSuppressionBatch {
			return toStatus(s.log, tooMany("entries", n))
		}
		entries, rejects := s.entries(ctx, req.GetEntries(), offset)
		offset += n
		added, err := s.store.Add(ctx, entries)
		resp.Added += int32(added)
		if err != nil {
			ev.Added = int(resp.Added)
			s.record(ctx, ev)
			return toStatus(s.log, err)
		}
		resp.AlreadyPresent += int32(len(entries) - added)
		resp.RejectedCount += int32(len(rejects))
		for _, r := range rejects {
			if len(resp.Rejected) < maxImportRejects {
				resp.Rejected = append(resp.Rejected, r)
			}
		}
	}
	ev.Added, ev.Present, ev.Rejected = int(resp.Added), int(resp.AlreadyPresent), int(resp.RejectedCount)
	s.record(ctx, ev)
	return stream.SendAndClose(resp)
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		p = p[i+1:]
	}
	if len(p) > 100 {
		p = p[:100]
	}
	return p
}

// RemoveSuppression removes one entry and records the removal.
func (s *SuppressionService) RemoveSuppression(ctx context.Context, req *pb.RemoveSuppressionRequest) (*pb.RemoveSuppressionResponse, error) {
	why := strings.TrimSpace(req.GetWhy())
	if why == "" {
		return nil, toStatus(s.log, badRequest("why", "is required: say why the entry is removed (no personal data)"))
	}
	if len(why) > suppress.MaxTextLen {
		return nil, toStatus(s.log, badRequest("why", "must be at most 200 bytes"))
	}
	var key suppress.Key
	kind, raw, byValue := inputValue(req.GetPhone(), req.GetEmail(), req.GetCpr(), req.GetCvr())
	switch {
	case byValue && req.GetPseudonym() == "":
		k, err := s.store.Hasher().Key(kind, raw)
		if err != nil {
			return nil, toStatus(s.log, badRequest(kindFields[kind], unreadable[kind]))
		}
		key = k
	case req.GetPseudonym() != "" && raw == "":
		p, err := suppress.ParsePseudonym(req.GetPseudonym())
		if err != nil {
			return nil, toStatus(s.log, badRequest("pseudonym", "must be 64 hex digits"))
		}
		k := suppress.Kind(req.GetKind())
		if !k.Valid() {
			return nil, toStatus(s.log, badRequest("kind", "must name the pseudonym's kind"))
		}
		key = suppress.Key{Kind: k, Pseudonym: p}
	default:
		return nil, toStatus(s.log, badRequest("phone", "name the entry by exactly one of phone, email, cpr, cvr, or by kind and pseudonym"))
	}
	scope := strings.TrimSpace(req.GetScope())
	var old *pb.SuppressionEntry
	if set, err := s.store.View(ctx); err == nil {
		for _, e := range set.Entries(key) {
			if e.Scope == scope {
				old = toSuppressionEntry(e)
			}
		}
	}
	removed, err := s.store.Remove(ctx, suppress.Removal{Key: key, Scope: scope, By: IdentityFrom(ctx).Name, Why: why, At: s.now().UTC()})
	if err != nil {
		return nil, toStatus(s.log, err)
	}
	s.record(ctx, SuppressionEvent{Action: ActionSuppressionRemove, Kind: key.Kind.String(), Pseudonym: key.Pseudonym.String(), Scope: scope, Why: why, Removed: removed})
	if !removed {
		old = nil
	}
	return &pb.RemoveSuppressionResponse{Removed: removed, Entry: old}, nil
}

// CheckSuppressions answers, per value, whether an entry is in force in
// the request's scope and which entries are stored under it.
func (s *SuppressionService) CheckSuppressions(ctx context.Context, req *pb.CheckSuppressionsRequest) (*pb.CheckSuppressionsResponse, error) {
	n := len(req.GetValues())
	if n == 0 {
		return nil, toStatus(s.log, badRequest("values", "must hold at least one value"))
	}
	if n > MaxSuppressionBatch {
		return nil, toStatus(s.log, tooMany("values", n))
	}
	set, err := s.store.View(ctx)
	if err != nil {
		return nil, toStatus(s.log, err)
	}
	h := set.Hasher()
	scope := strings.TrimSpace(req.GetScope())
	out := &pb.CheckSuppressionsResponse{Results: make([]*pb.SuppressionCheck, n)}
	for i, x := range req.GetValues() {
		r := &pb.SuppressionCheck{}
		out.Results[i] = r
		kind, raw, ok := inputValue(x.GetPhone(), x.GetEmail(), x.GetCpr(), x.GetCvr())
		if !ok {
			r.Error = "set exactly one of phone, email, cpr and cvr"
			continue
		}
		key, err := h.Key(kind, raw)
		if err != nil {
			r.Error = unreadable[kind]
			continue
		}
		_, r.Suppressed = set.Lookup(key, scope)
		for _, e := range set.Entries(key) {
			r.Entries = append(r.Entries, toSuppressionEntry(e))
		}
	}
	return out, nil
}

// ExportSuppressions streams every entry by pseudonym, 1000 a message.
func (s *SuppressionService) ExportSuppressions(_ *pb.ExportSuppressionsRequest, stream pb.SuppressionService_ExportSuppressionsServer) error {
	ctx := stream.Context()
	msg := &pb.ExportSuppressionsResponse{}
	total := 0
	err := s.store.Export(ctx, func(e suppress.Entry) error {
		msg.Entries = append(msg.Entries, toSuppressionEntry(e))
		total++
		if len(msg.Entries) == 1000 {
			if err := stream.Send(msg); err != nil {
				return err
			}
			msg = &pb.ExportSuppressionsResponse{}
		}
		return nil
	})
	if err == nil && len(msg.Entries) > 0 {
		err = stream.Send(msg)
	}
	if err != nil {
		return toStatus(s.log, err)
	}
	s.record(ctx, SuppressionEvent{Action: ActionSuppressionExport, Exported: total})
	return nil
}
