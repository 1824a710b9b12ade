package clients

import (
	"container/heap"
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// Item is one contact of a batch with the channel and purpose to screen it
// for.
type Item struct {
	Channel pb.Channel
	Purpose pb.Purpose
	// Contact is the contact to screen. A nil Contact is not sent: the
	// item passes through and reaches the sink in its place with a nil
	// result (for rows the caller could not turn into a contact).
	Contact *pb.Contact
	// Tag is the caller's data (a row, an index), handed back unchanged.
	Tag any
}

// Source yields the items of a batch; it returns io.EOF after the last one.
// Next is called from a goroutine of its own, never concurrently.
type Source interface {
	Next() (Item, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func() (Item, error)

// Next calls f.
func (f SourceFunc) Next() (Item, error) { return f() }

// Sink receives every item with its result, in input order, exactly once.
// It runs on the goroutine that called ScreenStream; an error it returns
// aborts the batch and is returned as is.
type Sink func(Item, *pb.ScreeningResult) error

// Progress is the state of a batch.
type Progress struct {
	// Items handed to the sink so far (screened plus passed through).
	Items int64
	// Screened is the number of results received and handed to the sink.
	Screened int64
	// Chunks answered and handed to the sink.
	Chunks int64
	// Resent counts chunks sent again after a stream failed before
	// answering them.
	Resent int64
	// Reconnects counts streams re-opened after UNAVAILABLE or RATE_LIMITED.
	Reconnects int64
}

// ScreenContacts screens contacts (any number) for one channel and purpose
// and returns their results in the same order. Errors are as for
// ScreenStream.
func (c *Client) ScreenContacts(ctx context.Context, channel pb.Channel, purpose pb.Purpose, contacts []*pb.Contact) ([]*pb.ScreeningResult, error) {
	out := make([]*pb.ScreeningResult, len(contacts))
	i := 0
	src := SourceFunc(func() (Item, error) {
		if i == len(contacts) {
			return Item{}, io.EOF
		}
		it := Item{Channel: channel, Purpose: purpose, Contact: contacts[i], Tag: i}
		i++
		return it, nil
	})
	_, err := c.ScreenStream(ctx, src, func(it Item, r *pb.ScreeningResult) error {
		out[it.Tag.(int)] = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ScreenStream reads items from src until io.EOF, screens them in chunks
// over ScreenContacts streams and calls sink for every item in input order.
// UNAVAILABLE is retried on a new stream, re-sending only chunks that were
// not answered, so sink sees each item exactly once.
//
// It returns the final Progress and: the error of src (other than io.EOF)
// or sink as is; *Error for a failed RPC (errors.Is matches
// ErrInvalidRequest, ErrNoDataset, ErrBatchTooLarge, ErrMessageTooLarge,
// ErrUnavailable once retries are exhausted, context.Canceled,
// context.DeadlineExceeded); an error matching ErrProtocol when the server
// answers with a wrong number of results or foreign refs. On error, items
// not yet handed to sink are lost to this call; ScreenStream waits for its
// goroutines (including a src.Next in progress) before returning.
func (c *Client) ScreenStream(ctx context.Context, src Source, sink Sink) (Progress, error) {
	ictx, cancel := context.WithCancel(ctx)
	b := &batch{
		c:        c,
		ctx:      ictx,
		q:        newChunkQueue(),
		slots:    make(chan struct{}, 2*c.o.streams*c.o.window),
		done:     make(chan *chunk, 2*c.o.streams*c.o.window),
		readDone: make(chan int64, 1),
		errc:     make(chan error, c.o.streams+1),
	}
	var readers, workers sync.WaitGroup
	readers.Add(1)
	go func() { defer readers.Done(); b.read(src) }()
	for range c.o.streams {
		workers.Add(1)
		go func() {
			defer workers.Done()
			if err := b.worker(); err != nil {
				b.errc <- err
			}
		}()
	}
	err := b.emit(ctx, sink)
	if err == nil {
		// Let the streams half-close and end cleanly, then cancel anything
		// left (a worker waiting for an unreachable server).
		b.q.finish()
		wait := make(chan struct{})
		go func() { workers.Wait(); close(wait) }()
		select {
		case <-wait:
		case <-time.After(5 * time.Second):
		}
	}
	cancel()
	workers.Wait()
	readers.Wait()
	b.p.Resent = b.resent.Load()
	b.p.Reconnects = b.reconnects.Load()
	return b.p, err
}

type chunk struct {
	seq     int64
	items   []Item
	req     *pb.ScreenContactsRequest
	results []*pb.ScreeningResult
}

type batch struct {
	c        *Client
	ctx      context.Context
	q        *chunkQueue
	slots    chan struct{} // chunks read but not yet emitted
	done     chan *chunk   // answered (or pass-through) chunks
	readDone chan int64    // total number of chunks
	errc     chan error

	p          Progress
	resent     atomic.Int64
	reconnects atomic.Int64
}

// read cuts the source into chunks and queues them.
func (b *batch) read(src Source) {
	var (
		cur   *chunk
		bytes int
		seq   int64
	)
	flush := func() bool {
		if cur == nil {
			return true
		}
		select {
		case b.slots <- struct{}{}:
		case <-b.ctx.Done():
			return false
		}
		if len(cur.req.Contacts) == 0 {
			select {
			case b.done <- cur:
			case <-b.ctx.Done():
				return false
			}
		} else {
			b.q.push(cur)
		}
		cur, bytes = nil, 0
		seq++
		return true
	}
	for {
		it, err := src.Next()
		if errors.Is(err, io.EOF) {
			if flush() {
				b.readDone <- seq
			}
			return
		}
		if err != nil {
			b.errc <- err
			return
		}
		size := 0
		if it.Contact != nil {
			size = proto.Size(it.Contact) + 8
		}
		if cur != nil && (len(cur.items) >= b.c.o.chunkSize ||
			(it.Contact != nil && len(cur.req.Contacts) > 0 &&
				(bytes+size > maxChunkBytes || it.Channel != cur.req.Channel || it.Purpose != cur.req.Purpose))) {
			if !flush() {
				return
			}
		}
		if cur == nil {
			cur = &chunk{seq: seq, req: &pb.ScreenContactsRequest{}}
		}
		if it.Contact != nil {
			if len(cur.req.Contacts) == 0 {
				cur.req.Channel, cur.req.Purpose = it.Channel, it.Purpose
			}
			cur.req.Contacts = append(cur.req.Contacts, it.Contact)
			bytes += size
		}
		cur.items = append(cur.items, it)
	}
}

// emit hands answered chunks to sink in sequence order.
func (b *batch) emit(ctx context.Context, sink Sink) error {
	pending := map[int64]*chunk{}
	var next int64
	total := int64(-1)
	for total < 0 || next < total {
		select {
		case ch := <-b.done:
			pending[ch.seq] = ch
			for {
				ch, ok := pending[next]
				if !ok {
					break
				}
				delete(pending, next)
				ri := 0
				for _, it := range ch.items {
					var res *pb.ScreeningResult
					if it.Contact != nil {
						res = ch.results[ri]
						ri++
						b.p.Screened++
					}
					if err := sink(it, res); err != nil {
						return err
					}
					b.p.Items++
				}
				b.p.Chunks++
				next++
				<-b.slots
				if b.c.o.progress != nil {
					p := b.p
					p.Resent, p.Reconnects = b.resent.Load(), b.reconnects.Load()
					b.c.o.progress(p)
				}
			}
		case t := <-b.readDone:
			total = t
		case err := <-b.errc:
			return err
		case <-ctx.Done():
			return toError(ctx.Err())
		}
	}
	return nil
}

// worker runs streams until the queue is finished, re-opening them after
// UNAVAILABLE with back-off and after RATE_LIMITED with the server's delay.
func (b *batch) worker() error {
	attempts := 0
	for {
		progressed, err := b.runStream()
		if err == nil || b.q.finished() {
			return nil
		}
		if b.ctx.Err() != nil {
			return toError(b.ctx.Err())
		}
		var e *Error
		if !errors.As(err, &e) {
			return err // protocol errors
		}
		if progressed {
			attempts = 0
		}
		attempts++
		e.Attempts = attempts
		if !e.Retryable() || attempts >= b.c.o.maxAttempts {
			return e
		}
		wait, ok := b.c.retryWait(b.ctx, e, attempts)
		if !ok {
			return e
		}
		b.reconnects.Add(1)
		if err := b.c.sleep(b.ctx, wait); err != nil {
			return toError(err)
		}
	}
}

// runStream sends queued chunks on one stream and receives their answers.
// On failure it puts every unanswered chunk back on the queue. progressed
// tells whether any chunk was answered.
func (b *batch) runStream() (progressed bool, err error) {
	sctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	// The stream is opened once there is a chunk to send, so that a slow
	// source does not hold an idle stream open (the server closes one after
	// its stream idle timeout, STREAM_IDLE, and the worker comes back here).
	first := b.q.pop(sctx)
	if first == nil {
		if b.q.finished() {
			return false, nil
		}
		return false, toError(b.ctx.Err())
	}
	stream, err := b.c.svc.ScreenContacts(sctx)
	if err != nil {
		b.q.pushBack([]*chunk{first})
		return false, toError(err)
	}
	w := b.c.o.window
	inflight := make(chan *chunk, w) // sent (or being sent), unanswered, FIFO
	window := make(chan struct{}, w)
	sendDone := make(chan struct{})
	go func() {
		defer close(sendDone)
		for isFirst := true; ; isFirst = false {
			select {
			case window <- struct{}{}:
			case <-sctx.Done():
				return
			}
			ch := first
			if ch == nil {
				ch = b.q.pop(sctx)
			}
			first = nil
			if ch == nil {
				if b.q.finished() {
					_ = stream.CloseSend()
				}
				return
			}
			inflight <- ch
			req := ch.req
			if isFirst && b.c.o.receipt != nil {
				// The stream's first message asks for its receipt; the
				// chunk itself is left as it is (it may be sent again on
				// another stream).
				req = &pb.ScreenContactsRequest{Channel: req.GetChannel(), Purpose: req.GetPurpose(), Contacts: req.GetContacts(), WantReceipt: true}
			}
			if err := stream.Send(req); err != nil {
				return // the stream's error is reported by Recv
			}
		}
	}()
	fail := func(err error) (bool, error) {
		cancel()
		<-sendDone
		var back []*chunk
		for {
			select {
			case ch := <-inflight:
				back = append(back, ch)
				continue
			default:
			}
			break
		}
		b.resent.Add(int64(len(back)))
		b.q.pushBack(back)
		return progressed, err
	}
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			if len(inflight) == 0 && b.q.finished() {
				<-sendDone
				return progressed, nil
			}
			return fail(toError(status.Error(codes.Unavailable, "stream ended before every chunk was answered")))
		}
		if err != nil {
			return fail(toError(err))
		}
		if rc := resp.GetReceipt(); rc != nil && len(resp.GetResults()) == 0 && b.c.o.receipt != nil && len(inflight) == 0 {
			b.c.o.receipt(rc) // the stream's last message
			continue
		}
		var ch *chunk
		select {
		case ch = <-inflight:
		default:
			return fail(protocolError("response message without a request"))
		}
		<-window
		if err := check(ch, resp); err != nil {
			return fail(err)
		}
		ch.results = resp.GetResults()
		progressed = true
		select {
		case b.done <- ch:
		case <-b.ctx.Done():
			return fail(toError(b.ctx.Err()))
		}
	}
}

// check verifies that resp answers ch: one result per contact, refs equal.
func check(ch *chunk, resp *pb.ScreenContactsResponse) error {
	rs, cs := resp.GetResults(), ch.req.GetContacts()
	if len(rs) != len(cs) {
		return protocolError("%d results for %d contacts", len(rs), len(cs))
	}
	for i, r := range rs {
		if r.GetRef() != cs[i].GetRef() {
			// Positions only: refs are the caller's and may be personal
			// data (a customer number, a phone number).
			return protocolError("result %d of %d has a different ref than contact %d", i, len(rs), i)
		}
	}
	return nil
}

// chunkQueue is a priority queue of chunks by sequence number, so chunks
// put back after a failure are sent before newer ones.
type chunkQueue struct {
	mu    sync.Mutex
	h     chunkHeap
	done  bool
	avail chan struct{}
}

func newChunkQueue() *chunkQueue { return &chunkQueue{avail: make(chan struct{}, 1)} }

func (q *chunkQueue) signal() {
	select {
	case q.avail <- struct{}{}:
	default:
	}
}

func (q *chunkQueue) push(ch *chunk) {
	q.mu.Lock()
	heap.Push(&q.h, ch)
	q.mu.Unlock()
	q.signal()
}

func (q *chunkQueue) pushBack(chs []*chunk) {
	if len(chs) == 0 {
		return
	}
	q.mu.Lock()
	for _, ch := range chs {
		heap.Push(&q.h, ch)
	}
	q.mu.Unlock()
	q.signal()
}

// finish marks every chunk answered: pop returns nil from now on.
func (q *chunkQueue) finish() {
	q.mu.Lock()
	q.done = true
	q.mu.Unlock()
	q.signal()
}

func (q *chunkQueue) finished() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.done
}

// pop returns the lowest-numbered chunk, waiting for one; nil when the queue
// is finished or ctx is done.
func (q *chunkQueue) pop(ctx context.Context) *chunk {
	for {
		q.mu.Lock()
		if q.done {
			q.mu.Unlock()
			q.signal() // wake the next waiter
			return nil
		}
		if q.h.Len() > 0 {
			ch := heap.Pop(&q.h).(*chunk)
			more := q.h.Len() > 0
			q.mu.Unlock()
			if more {
				q.signal()
			}
			return ch
		}
		q.mu.Unlock()
		select {
		case <-q.avail:
		case <-ctx.Done():
			return nil
		}
	}
}

type chunkHeap []*chunk

func (h chunkHeap) Len() int           { return len(h) }
func (h chunkHeap) Less(i, j int) bool { return h[i].seq < h[j].seq }
func (h chunkHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *chunkHeap) Push(x any)        { *h = append(*h, x.(*chunk)) }
func (h *chunkHeap) Pop() any {
	old := *h
	ch := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return ch
}
