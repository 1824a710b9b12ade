package robinson

import (
	"runtime"
	"sync"

	"github.com/robinscreen/robinscreen/ingest"
)

// parseBatchLines is how many lines a batch of the parse pipeline holds:
// enough that handing a batch between goroutines costs little next to
// parsing it.
const parseBatchLines = 512

// parsedLine is one physical line of the list as the pipeline read and
// parsed it.
type parsedLine struct {
	no      int
	text    string // the decoded line; "" for a line too long
	tooLong bool
	blank   bool
	rec     *Record
	err     error
}

// parseBatch is consecutive lines of the list; done is closed once every
// line of it is parsed.
type parseBatch struct {
	lines []parsedLine
	done  chan struct{}
}

// parsePipeline reads lines on one goroutine and parses batches of them on
// several, handing the batches back in file order (batches).
type parsePipeline struct {
	order chan *parseBatch // batches in file order, as read
	work  chan *parseBatch // batches to parse, in any order
	quit  chan struct{}    // closed by stop: the reader stops early
	free  sync.Pool
	wg    sync.WaitGroup
	once  sync.Once
	rerr  error // the reader's error; read after order is closed
}

// parseWorkers is how many goroutines parse: all the processors but the
// one that takes the records in order (at least one).
func parseWorkers() int { return max(1, runtime.GOMAXPROCS(0)-1) }

// startParsePipeline starts reading lines and parsing them.
func startParsePipeline(lines *ingest.Lines) *parsePipeline {
	workers := parseWorkers()
	p := &parsePipeline{
		order: make(chan *parseBatch, 4*workers),
		work:  make(chan *parseBatch, 4*workers),
		quit:  make(chan struct{}),
	}
	p.free.New = func() any { return &parseBatch{lines: make([]parsedLine, 0, parseBatchLines)} }
	for range workers {
		p.wg.Go(func() {
			for b := range p.work {
				for i := range b.lines {
					pl := &b.lines[i]
					switch {
					case pl.tooLong:
						pl.err = errLineTooLong
					case fileIsBlank(pl.text):
						pl.blank = true
					default:
						pl.rec, pl.err = ParseLine(pl.text, pl.no)
					}
				}
				close(b.done)
			}
		})
	}
	go func() {
		defer close(p.work)
		defer close(p.order)
		b := p.newBatch()
		// A batch goes to the workers before it goes into the order, so
		// that every batch in the order gets parsed (stop waits for them).
		send := func() bool {
			select {
			case p.work <- b:
			case <-p.quit:
				return false
			}
			select {
			case p.order <- b:
			case <-p.quit:
				return false
			}
			return true
		}
		for lines.Next() {
			pl := parsedLine{no: lines.Number(), tooLong: lines.TooLong()}
			if !pl.tooLong {
				pl.text = lines.Text()
			}
			b.lines = append(b.lines, pl)
			if len(b.lines) == parseBatchLines {
				if !send() {
					return
				}
				b = p.newBatch()
			}
		}
		p.rerr = lines.Err()
		if len(b.lines) > 0 {
			send()
		}
	}()
	return p
}

func (p *parsePipeline) newBatch() *parseBatch {
	b := p.free.Get().(*parseBatch)
	b.lines = b.lines[:0]
	b.done = make(chan struct{})
	return b
}

// batches yields the batches in file order, each once it is parsed.
func (p *parsePipeline) batches() func(yield func(*parseBatch) bool) {
	return func(yield func(*parseBatch) bool) {
		for b := range p.order {
			<-b.done
			if !yield(b) {
				return
			}
		}
	}
}

// release gives a batch taken from batches back for reuse: its records
// must no longer be needed (emit keeps none).
func (p *parsePipeline) release(b *parseBatch) {
	clear(b.lines)
	p.free.Put(b)
}

// err is the error that ended reading (nil at the end of the input); it
// is known once batches has yielded its last batch.
func (p *parsePipeline) err() error { return p.rerr }

// stop ends the pipeline early (or after its end) and waits for its
// goroutines.
func (p *parsePipeline) stop() {
	p.once.Do(func() { close(p.quit) })
	// Drain what the reader queued, so that it and the workers finish.
	for b := range p.order {
		<-b.done
	}
	p.wg.Wait()
}
