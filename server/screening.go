package server

import (
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"context"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/receipt"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/suppress"
)

// MaxBatch is the most contacts one ScreenContactsRequest or
// ScreenContactBatchRequest may carry.
const MaxBatch = 10000

// Datasets hands out consistent snapshots of the loaded datasets.
type Datasets interface {
	// Acquire returns a snapshot and the function that releases it.
	Acquire() (screening.Snapshot, func())
	// Ready reports whether a Robinson list is loaded.
	Ready() bool
}

// damageReporter is implemented by a Datasets (the store) that can tell
// that its serving Robinson version is damaged.
type damageReporter interface {
	// Usable returns an error (errors.Is store.ErrDamaged) when nothing
	// may be screened.
	Usable() error
}

// usable returns the damage of the serving Robinson version, if known.
func (s *ScreeningService) usable() error {
	if dr, ok := s.data.(damageReporter); ok {
		return dr.Usable()
	}
	return nil
}

// ScreeningService implements robinscreen.v1.ScreeningService.
type ScreeningService struct {
	pb.UnimplementedScreeningServiceServer
	data   Datasets
	engine *screening.Engine
	log    *slog.Logger
	audit  Auditor
	// sup is the suppression list; nil when the service keeps none.
	sup    suppress.Store
	signer *receipt.Signer // nil: no receipts
	now    func() time.Time
}

// NewScreeningService returns the service over data, deciding with engine.
func NewScreeningService(data Datasets, engine *screening.Engine, log *slog.Logger, audit Auditor) *ScreeningService {
	return &ScreeningService{data: data, engine: engine, log: log, audit: audit, now: time.Now}
}

// SetReceiptSigner makes the service sign receipts with signer
// (ScreenContactsRequest.want_receipt) and publish its key
// (GetReceiptKey); without one both are refused FAILED_PRECONDITION
// (RECEIPTS_UNAVAILABLE).
func (s *ScreeningService) SetReceiptSigner(signer *receipt.Signer) { s.signer = signer }

func validChannel(c pb.Channel) *refusal {
	if fromChannel(c) == screening.ChannelUnspecified {
		return badRequest("channel", "must be one of CHANNEL_PHONE, CHANNEL_EMAIL, CHANNEL_SMS, CHANNEL_POST")
	}
	return nil
}

// unaryScratch is what one unary call screens with: the engine's buffers
// and the contact. Both live here rather than in the handler's frame,
// which sits below the deepest calls of a screening (docs/benchmarks-e2e.md,
// "Fifth round").
type unaryScratch struct {
	sc screening.Scratch
	c  screening.Contact
}

// scratchPool holds the unary calls' buffers between calls, so that a call
// does not allocate them anew.
var scratchPool = sync.Pool{New: func() any { return new(unaryScratch) }}

// ScreenContact screens one contact.
func (s *ScreeningService) ScreenContact(ctx context.Context, req *pb.ScreenContactRequest) (*pb.ScreenContactResponse, error) {
	if re := validChannel(req.GetChannel()); re != nil {
		return nil, toStatus(s.log, re)
	}
	if req.GetContact() == nil {
		return nil, toStatus(s.log, badRequest("contact", "is required"))
	}
	if err := s.usable(); err != nil {
		return nil, toStatus(s.log, err)
	}
	snap, release, err := s.acquire(ctx)
	if err != nil {
		return nil, toStatus(s.log, err)
	}
	defer release()
	u := scratchPool.Get().(*unaryScratch)
	fromContact(req.GetContact(), req.GetScope(), &u.c)
	res, err := s.engine.ScreenInto(&u.sc, snap, fromChannel(req.GetChannel()), fromPurpose(req.GetPurpose()), &u.c)
	var out *pb.ScreeningResult
	if err == nil {
		out = toResult(res) // copies what it keeps: the scratch can go back
	}
	u.c = screening.Contact{} // the pool keeps no request's strings
	scratchPool.Put(u)
	if err != nil {
		return nil, toStatus(s.log, err)
	}
	s.audit.Screened(ctx, pb.ScreeningService_ScreenContact_FullMethodName, []*pb.ScreeningResult{out})
	return &pb.ScreenContactResponse{Result: out}, nil
}

// ScreenContacts screens a stream of chunks; each response carries the
// results of one request, one per contact, in order. When the first
// request asks for a receipt, a last response after the client's end of
// the stream carries it: signed over every contact and result of the
// stream (a stream that fails gets no receipt).
func (s *ScreeningService) ScreenContacts(stream pb.ScreeningService_ScreenContactsServer) error {
	var rb *receiptBatch
	// Reused by every message: Send marshals the response before it
	// returns, and nothing holds a request or response after that, so the
	// next message is decoded into the same request (its contacts too,
	// see contactSlots) and screened into the same buffers.
	buf := new(batchBuffers)
	req := new(pb.ScreenContactsRequest)
	for first := true; ; first = false {
		err := stream.RecvMsg(req)
		if errors.Is(err, io.EOF) {
			if rb == nil {
				return nil
			}
			return stream.Send(&pb.ScreenContactsResponse{Receipt: rb.sign(s.signer, s.now())})
		}
		if err != nil {
			return toStatus(s.log, err)
		}
		if first && req.GetWantReceipt() {
			if s.signer == nil {
				return toStatus(s.log, receiptsUnavailable())
			}
			if rb, err = newReceiptBatch(); err != nil {
				return toStatus(s.log, err)
			}
		}
		resp, err := s.screenChunk(stream.Context(), buf, req)
		if err != nil {
			return toStatus(s.log, err)
		}
		if rb != nil {
			rb.add(req, resp)
		}
		s.audit.Screened(stream.Context(), pb.ScreeningService_ScreenContacts_FullMethodName, resp.Results)
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}

// acquire returns a snapshot of the datasets with the suppression list as
// it is now (suppress.Store.View): an entry added anywhere before this
// call is in it. It returns the View's errors (the list cannot be reached:
// nothing is screened, so nothing is cleared).
func (s *ScreeningService) acquire(ctx context.Context) (screening.Snapshot, func(), error) {
	var set *suppress.Set
	if s.sup != nil {
		var err error
		if set, err = s.sup.View(ctx); err != nil {
			return screening.Snapshot{}, nil, err
		}
	}
	snap, release := s.data.Acquire()
	if set != nil {
		snap.Suppressions = set
	}
	return snap, release, nil
}

// ScreenContactBatch screens a whole batch in one unary call (clients that
// cannot stream, the HTTP/JSON gateway): one result per contact, in order.
// It validates and screens exactly as one ScreenContacts message and returns
// the same errors: INVALID_ARGUMENT (INVALID_REQUEST) for a missing channel
// or an empty batch, INVALID_ARGUMENT (BATCH_TOO_LARGE) above MaxBatch
// contacts, FAILED_PRECONDITION (NO_DATASET) with no dataset loaded, and
// those of reaching the suppression list.
func (s *ScreeningService) ScreenContactBatch(ctx context.Context, req *pb.ScreenContactBatchRequest) (*pb.ScreenContactBatchResponse, error) {
	results, err := s.screenBatch(ctx, new(batchBuffers), req.GetChannel(), req.GetPurpose(), req.GetScope(), req.GetContacts())
	if err != nil {
		return nil, toStatus(s.log, err)
	}
	s.audit.Screened(ctx, pb.ScreeningService_ScreenContactBatch_FullMethodName, results)
	return &pb.ScreenContactBatchResponse{Results: results}, nil
}

// batchBuffers is what screenBatch reuses from one call to the next: the
// engine's scratch and the converter's arenas. The results of one call are
// overwritten by the next.
type batchBuffers struct {
	sc   screening.Scratch
	conv converter
}

// screenChunk screens one ScreenContacts request message (screenBatch)
// into buf; the response is valid until buf is used again.
func (s *ScreeningService) screenChunk(ctx context.Context, buf *batchBuffers, req *pb.ScreenContactsRequest) (*pb.ScreenContactsResponse, error) {
	results, err := s.screenBatch(ctx, buf, req.GetChannel(), req.GetPurpose(), req.GetScope(), req.GetContacts())
	if err != nil {
		return nil, err
	}
	return &pb.ScreenContactsResponse{Results: results}, nil
}

// screenBatch validates a batch and screens its contacts, under the
// suppression scope, on one snapshot, returning one result per contact in
// order, built in buf (valid until buf is used again). It returns a
// *refusal for an invalid request, and the errors of the datasets' state,
// of reaching the suppression list and of the engine.
func (s *ScreeningService) screenBatch(ctx context.Context, buf *batchBuffers, channel pb.Channel, purpose pb.Purpose, scope string, contacts []*pb.Contact) ([]*pb.ScreeningResult, error) {
	if re := validChannel(channel); re != nil {
		return nil, re
	}
	n := len(contacts)
	if n == 0 {
		return nil, badRequest("contacts", "must hold at least one contact")
	}
	if n > MaxBatch {
		re := badRequest("contacts", "must hold at most "+strconv.Itoa(MaxBatch)+" contacts per message")
		re.reason = ReasonBatchTooLarge
		re.meta = map[string]string{"max_contacts": strconv.Itoa(MaxBatch), "contacts": strconv.Itoa(n)}
		return nil, re
	}
	if err := s.usable(); err != nil {
		return nil, err
	}
	snap, release, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	ch, p := fromChannel(channel), fromPurpose(purpose)
	conv := &buf.conv
	conv.reset(n)
	var c screening.Contact
	for i, pc := range contacts {
		fromContact(pc, scope, &c)
		res, err := s.engine.ScreenInto(&buf.sc, snap, ch, p, &c)
		if err != nil {
			return nil, err
		}
		conv.out[i] = conv.convert(i, res)
	}
	return conv.out, nil
}
