package main

import (
	"io"
	"sync"

	"github.com/robinscreen/robinscreen/internal/progress"
	"github.com/robinscreen/robinscreen/store"
)

// progressBar shows a load's progress (upload, then the phases with the
// lines read) on stderr when it is a terminal, through the tools' one
// renderer (internal/progress). The store and the server only count.
type progressBar struct {
	bar   *progress.Bar
	mu    sync.Mutex
	stage string // label of the stage on the line
}

func newProgressBar(w io.Writer) *progressBar {
	return &progressBar{bar: progress.New(w, progress.ModeAuto)}
}

// update returns a store.LoadOptions.Progress callback for a local load.
func (p *progressBar) update(kind string) func(store.Progress) {
	return func(pr store.Progress) { p.phase(kind, pr.Phase, int64(pr.Lines)) }
}

// bytes shows upload progress: sent of size bytes.
func (p *progressBar) bytes(kind string, sent, size int64) {
	p.enter(kind+": uploading", size, progress.Bytes)
	p.bar.Set(sent)
}

// phase shows a load's phase and the lines read so far.
func (p *progressBar) phase(kind, phase string, lines int64) {
	p.enter(kind+": "+phase, 0, "lines")
	p.bar.Set(lines)
}

// enter starts a stage labelled label unless it is the one on the line.
func (p *progressBar) enter(label string, total int64, unit progress.Unit) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stage != label {
		p.stage = label
		p.bar.Start(label, total, unit)
	}
}

// done erases the bar's line.
func (p *progressBar) done() {
	p.mu.Lock()
	p.stage = ""
	p.mu.Unlock()
	p.bar.Done()
}
