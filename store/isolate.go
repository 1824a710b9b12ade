package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/robinscreen/robinscreen/cprcheck"
	"github.com/robinscreen/robinscreen/cvr"
	"github.com/robinscreen/robinscreen/ingest"
	"github.com/robinscreen/robinscreen/roads"
	"github.com/robinscreen/robinscreen/robinson"
)

// A build process (Options.BuildCommand) parses a source file and writes
// a version's files into a build directory the loading process created;
// the loading process then commits the version (manifest, rename,
// test-open, switch) as it does for a build of its own. Its protocol:
//
//   - stdin: one JSON buildSpec line; then stdin stays open, and its end
//     means the loading process is gone (the build process exits);
//   - stdout: JSON buildMessage lines, progress and then one result;
//   - fd 3 (written by the build process) and fd 4 (read by it): reads of
//     the source file, served by the loading process (sourceServer), so
//     that an upload staged encrypted never leaves that process's keys;
//   - stderr: log lines (JSON) and failpoint messages, passed on; anything
//     else (a crash report) describes a failure.
//
// Keys travel only over the stdin pipe, never on the command line or in
// the environment.

// buildSpec is everything a build process needs to build one version.
type buildSpec struct {
	Kind           string    `json:"kind"`
	Dir            string    `json:"dir"`
	SourceName     string    `json:"source_name"`
	SourceSize     int64     `json:"source_size"`
	Published      time.Time `json:"published"`
	Now            time.Time `json:"now"`
	MaxRejectRatio float64   `json:"max_reject_ratio,omitempty"`
	Synthetic      bool      `json:"synthetic,omitempty"`
	Shrink         shrinkRef `json:"shrink"`
	EncryptionKey  []byte    `json:"encryption_key,omitempty"`
	PseudonymKey   []byte    `json:"pseudonym_key"`
}

// buildMessage is one line a build process writes to its stdout.
type buildMessage struct {
	Progress *Progress   `json:"progress,omitempty"`
	Result   *buildReply `json:"result,omitempty"`
}

// buildReply is a build's outcome: a manifest, a refusal or an error.
type buildReply struct {
	Manifest *Manifest      `json:"manifest,omitempty"`
	Refused  *remoteRefusal `json:"refused,omitempty"`
	Error    string         `json:"error,omitempty"`
	NoSpace  bool           `json:"no_space,omitempty"`
}

// remoteRefusal carries a refusal across the process boundary: its
// message, the sentinel errors it matched, the first rejected lines of a
// reject ratio over the limit, and the rejected lines.
type remoteRefusal struct {
	Message string   `json:"message"`
	Is      []string `json:"is,omitempty"`
	First   []string `json:"first,omitempty"`
	Rejects []Reject `json:"rejects,omitempty"`
}

// refusalSentinels are the errors a refusal may match, by a stable name.
var refusalSentinels = map[string]error{
	"future-date": ErrFutureDate, "shrink": ErrShrink, "no-streets-date": ErrNoStreetsDate,
	"robinson-empty": robinson.ErrEmpty, "robinson-no-records": robinson.ErrNoRecords,
	"robinson-no-date": robinson.ErrNoPublicationDate,
	"cpr-empty":        cprcheck.ErrEmpty, "cpr-truncated": cprcheck.ErrTruncated, "cpr-no-start": cprcheck.ErrNoStart,
	"cpr-counter": cprcheck.ErrCounter, "cpr-duplicate-start": cprcheck.ErrDuplicateStart, "cpr-after-end": cprcheck.ErrAfterEnd,
	"roads-none": roads.ErrNoRoads, "cvr-no-records": cvr.ErrNoRecords, "cvr-csv-header": cvr.ErrCSVHeader, "no-cvr-date": ErrNoCVRDate,
	"damaged-encoding": ingest.ErrDamagedEncoding, "too-many-rejects": ingest.ErrTooManyRejects,
}

// remoteError is a refusal made in a build process: its message, and
// errors.Is holds for the sentinels it matched there.
type remoteError struct {
	msg   string
	is    []error
	first []string
}

func (e *remoteError) Error() string { return e.msg }

// Is reports whether the refusal matched target in the build process.
func (e *remoteError) Is(target error) bool {
	for _, s := range e.is {
		if s == target {
			return true
		}
	}
	return false
}

// RejectedLines returns the first rejected lines ("line N: reason") of a
// refusal for too many rejected lines (an *ingest.RejectError, or one
// made in a build process), or nil.
func RejectedLines(err error) []string {
	var re *ingest.RejectError // also robinson's, cprcheck's and roads' RejectError
	if errors.As(err, &re) {
		var lines []string
		for _, le := range re.First {
			lines = append(lines, le.Error())
		}
		return lines
	}
	var rm *remoteError
	if errors.As(err, &rm) {
		return rm.first
	}
	return nil
}

func toRemoteRefusal(r *refusal) *remoteRefusal {
	out := &remoteRefusal{Message: r.err.Error(), First: RejectedLines(r.err), Rejects: r.rejects}
	for name, s := range refusalSentinels {
		if errors.Is(r.err, s) {
			out.Is = append(out.Is, name)
		}
	}
	return out
}

func (r *remoteRefusal) refusal() *refusal {
	e := &remoteError{msg: r.Message, first: r.First}
	for _, name := range r.Is {
		if s, ok := refusalSentinels[name]; ok {
			e.is = append(e.is, s)
		}
	}
	return &refusal{err: e, rejects: r.Rejects}
}

// buildIsolated runs s.build in a build process (Options.BuildCommand)
// and returns what it returns. A build process that dies (a fault on a
// memory-mapped file when the disk fills, the kernel's OOM killer) is an
// error: a *NoSpaceError when it died for want of space, else one naming
// how it ended. ctx's end kills it.
func (s *Store) buildIsolated(ctx context.Context, kind string, src Source, build string, opt *LoadOptions, base shrinkRef) (*Manifest, *refusal, error) {
	spec := buildSpec{
		Kind: kind, Dir: build, SourceName: src.Name, SourceSize: src.Size,
		Published: opt.Published, Now: opt.now(), MaxRejectRatio: opt.MaxRejectRatio, Synthetic: opt.Synthetic,
		Shrink: base, EncryptionKey: s.opts.EncryptionKey, PseudonymKey: s.pseudKey,
	}
	specLine, err := json.Marshal(spec)
	if err != nil {
		return nil, nil, err
	}
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	respR, respW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		reqW.Close()
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, s.opts.BuildCommand[0], s.opts.BuildCommand[1:]...)
	cmd.ExtraFiles = []*os.File{reqW, respR}
	// The build process dies with this one (and also exits when its stdin
	// ends), so that a killed server leaves no build writing behind it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second
	errOut := &buildStderr{w: s.opts.BuildStderr}
	if errOut.w == nil {
		errOut.w = os.Stderr
	}
	cmd.Stderr = errOut
	childEnds := func() { reqW.Close(); respR.Close() } // the build process holds its own copies
	parentEnds := func() { reqR.Close(); respW.Close() }
	stdin, err := cmd.StdinPipe()
	var stdout io.ReadCloser
	if err == nil {
		stdout, err = cmd.StdoutPipe()
	}
	if err == nil {
		err = cmd.Start()
	}
	childEnds()
	if err != nil {
		parentEnds()
		return nil, nil, fmt.Errorf("store: start the build process: %w", err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		serveSource(src.R, reqR, respW)
	}()
	// src is the caller's again only once serveSource has stopped reading
	// it: after the build process is gone, closing the pipes ends it.
	defer func() {
		parentEnds()
		<-served
	}()
	if _, err := stdin.Write(append(specLine, '\n')); err != nil {
		s.log.Warn("build process: send the build", "err", err)
	}
	var reply *buildReply
	dec := json.NewDecoder(stdout)
	for {
		var m buildMessage
		if err := dec.Decode(&m); err != nil {
			io.Copy(io.Discard, stdout) // whatever else it writes, until it exits
			break
		}
		if m.Progress != nil {
			opt.report(*m.Progress)
		}
		if m.Result != nil {
			reply = m.Result
		}
	}
	waitErr := cmd.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	switch {
	case reply == nil:
		return nil, nil, s.buildDied(build, src.Size, waitErr, errOut.tail())
	case reply.Refused != nil:
		return nil, reply.Refused.refusal(), nil
	case reply.Error != "":
		err := errors.New("store: build process: " + reply.Error)
		if reply.NoSpace {
			free, _ := statFree(build)
			err = &NoSpaceError{Dir: filepath.Dir(build), Free: free, Err: err}
		}
		return nil, nil, err
	case reply.Manifest == nil:
		return nil, nil, errors.New("store: the build process returned no manifest")
	}
	return reply.Manifest, nil, nil
}

// buildDied describes a build process that ended without a result.
func (s *Store) buildDied(build string, size int64, waitErr error, tail string) error {
	how := "ended without a result"
	if waitErr != nil {
		how = "failed: " + waitErr.Error()
	}
	var fatal []string
	for _, l := range strings.Split(tail, "\n") {
		if strings.HasPrefix(l, "fatal error:") || strings.HasPrefix(l, "[signal ") || strings.HasPrefix(l, "panic:") {
			fatal = append(fatal, strings.TrimSpace(l))
		}
	}
	if len(fatal) > 0 {
		how += " (" + strings.Join(fatal, " ") + ")"
	}
	err := fmt.Errorf("store: the build process %s", how)
	s.log.Warn("build process failed", "err", err.Error())
	free, ferr := statFree(build)
	// A fault on a memory-mapped file is how a full disk ends a Badger
	// write; so is a plain ENOSPC in its crash report.
	sigbus := strings.Contains(tail, "SIGBUS")
	if strings.Contains(tail, "no space left on device") || sigbus && ferr == nil && free < spaceNeeded(size) {
		return &NoSpaceError{Dir: filepath.Dir(build), Free: free, Err: err}
	}
	return err
}

// buildStderr passes a build process's log lines (JSON) and failpoint
// messages on to w and keeps the last 64 KiB of everything else.
type buildStderr struct {
	w    io.Writer
	mu   sync.Mutex
	line []byte
	rest []byte
}

const buildStderrTail = 64 << 10

func (b *buildStderr) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.line = append(b.line, p...)
	for {
		i := bytes.IndexByte(b.line, '\n')
		if i < 0 {
			break
		}
		l := b.line[:i+1]
		if bytes.HasPrefix(l, []byte("{")) || bytes.HasPrefix(l, []byte("FAILPOINT ")) {
			b.w.Write(l)
		} else {
			b.rest = append(b.rest, l...)
			if len(b.rest) > buildStderrTail {
				b.rest = append(b.rest[:0], b.rest[len(b.rest)-buildStderrTail:]...)
			}
		}
		b.line = b.line[i+1:]
	}
	if len(b.line) > buildStderrTail {
		b.line = b.line[len(b.line)-buildStderrTail:]
	}
	return len(p), nil
}

func (b *buildStderr) tail() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.rest) + string(b.line)
}

// Source reads across the process boundary: the build process asks for
// (offset, length) on one pipe, the loading process answers (length,
// status) and the bytes on the other.
const (
	sourceChunk = 1 << 20
	sourceOK    = 0
	sourceEOF   = 1
	sourceErr   = 2
)

// serveSource answers the build process's reads of r until it closes its
// end of req.
func serveSource(r io.ReadSeeker, req io.Reader, resp io.Writer) {
	var hdr [12]byte
	buf := make([]byte, sourceChunk)
	for {
		if _, err := io.ReadFull(req, hdr[:]); err != nil {
			return
		}
		off := int64(binary.BigEndian.Uint64(hdr[:8]))
		n := min(int(binary.BigEndian.Uint32(hdr[8:])), sourceChunk)
		got, st := 0, byte(sourceOK)
		_, err := r.Seek(off, io.SeekStart)
		if err == nil {
			got, err = io.ReadFull(r, buf[:n])
		}
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			st = sourceEOF
		case err != nil:
			st, got = sourceErr, 0
		}
		var out [5]byte
		binary.BigEndian.PutUint32(out[:4], uint32(got))
		out[4] = st
		if _, err := resp.Write(out[:]); err != nil {
			return
		}
		if _, err := resp.Write(buf[:got]); err != nil {
			return
		}
	}
}

// remoteSource reads the source file from the loading process.
type remoteSource struct {
	mu   sync.Mutex
	req  io.Writer
	resp io.Reader
}

// errRemoteSource means the loading process could not read the source.
var errRemoteSource = errors.New("store: the loading process could not read the source file")

// ReadAt implements io.ReaderAt.
func (r *remoteSource) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for n < len(p) {
		want := min(len(p)-n, sourceChunk)
		var hdr [12]byte
		binary.BigEndian.PutUint64(hdr[:8], uint64(off+int64(n)))
		binary.BigEndian.PutUint32(hdr[8:], uint32(want))
		if _, err := r.req.Write(hdr[:]); err != nil {
			return n, err
		}
		var in [5]byte
		if _, err := io.ReadFull(r.resp, in[:]); err != nil {
			return n, err
		}
		got := int(binary.BigEndian.Uint32(in[:4]))
		if got > want {
			return n, errRemoteSource
		}
		if _, err := io.ReadFull(r.resp, p[n:n+got]); err != nil {
			return n, err
		}
		n += got
		switch in[4] {
		case sourceEOF:
			return n, io.EOF
		case sourceErr:
			return n, errRemoteSource
		}
	}
	return n, nil
}

// ServeBuild is the build process (Options.BuildCommand): it reads one
// build from in, reads the source file through srcReq and srcResp (the
// loading process's fds 3 and 4), builds the version's files and writes
// progress and the result to out. orphaned is called when in ends (the
// loading process is gone); it should exit. ServeBuild returns an error
// only when it cannot read the build or write its result; a refused file
// or a failed build is a result.
func ServeBuild(in io.Reader, out io.Writer, srcReq io.Writer, srcResp io.Reader, log *slog.Logger, orphaned func()) error {
	br := bufio.NewReader(in)
	line, err := br.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("store: read the build: %w", err)
	}
	var spec buildSpec
	if err := json.Unmarshal(line, &spec); err != nil {
		return fmt.Errorf("store: read the build: %w", err)
	}
	go func() {
		io.Copy(io.Discard, br)
		orphaned()
	}()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var mu sync.Mutex
	enc := json.NewEncoder(out)
	send := func(m buildMessage) error {
		mu.Lock()
		defer mu.Unlock()
		return enc.Encode(m)
	}
	reply := buildSpecRun(spec, srcReq, srcResp, log, func(p Progress) { send(buildMessage{Progress: &p}) })
	return send(buildMessage{Result: reply})
}

// buildSpecRun builds spec's version and returns the reply.
func buildSpecRun(spec buildSpec, srcReq io.Writer, srcResp io.Reader, log *slog.Logger, progress func(Progress)) *buildReply {
	fail := func(err error) *buildReply {
		return &buildReply{Error: err.Error(), NoSpace: isNoSpace(err)}
	}
	s := &Store{opts: Options{EncryptionKey: spec.EncryptionKey}, log: log}
	if len(spec.PseudonymKey) > 0 {
		p, err := NewPseudonymizer(spec.PseudonymKey)
		if err != nil {
			return fail(err)
		}
		s.pseud = p
	}
	parse, err := s.parser(spec.Kind)
	if err != nil {
		return fail(err)
	}
	var last time.Time
	opt := &LoadOptions{
		Published: spec.Published, MaxRejectRatio: spec.MaxRejectRatio, Synthetic: spec.Synthetic,
		Now: func() time.Time { return spec.Now },
		Progress: func(p Progress) {
			if p.Phase == PhaseReading && time.Since(last) < 100*time.Millisecond {
				return
			}
			last = time.Now()
			progress(p)
		},
	}
	rs := &remoteSource{req: srcReq, resp: srcResp}
	src := Source{R: io.NewSectionReader(rs, 0, spec.SourceSize), Size: spec.SourceSize, Name: spec.SourceName}
	man, ref, err := s.build(context.Background(), src, spec.Dir, opt, spec.Shrink, parse)
	switch {
	case err != nil:
		return fail(err)
	case ref != nil:
		return &buildReply{Refused: toRemoteRefusal(ref)}
	}
	return &buildReply{Manifest: man}
}
