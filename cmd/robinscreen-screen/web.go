package main

// The call-list web page: `robinscreen-screen web` serves an embedded page
// (html/template, a little vanilla JavaScript, no build step) on which a
// team lead signs in with a token, uploads a CSV or XLSX call list, picks
// channel and purpose, watches the progress and downloads the screened file
// in the same format with its signed receipt (and the errors file, when
// rows failed).
//
// Everything streams: the upload is copied to a private temporary
// directory as it arrives, screened by the same code as the command line
// (screen, newScreening: the same calllist readers and writers, the output
// renamed into place only when complete), and sent back with
// http.ServeContent from disk. A run holds only the chunks in flight, so a
// 1-million-row list takes constant memory.
//
// The token the user types stays in the page's memory and in this
// process's memory for the length of a run; it is never logged and never
// written to disk. The screening server is dialled through the clients'
// one connection policy (clients.Security) with that token.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/robinscreen/robinscreen/clients"
	"github.com/robinscreen/robinscreen/internal/calllist"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
)

//go:embed web
var webFiles embed.FS

// webConfig is the web server's flags; screen holds the connection and
// throughput flags every run gets.
type webConfig struct {
	listen, dir, tlsCert, tlsKey string
	insecureListen               bool
	maxUpload                    int64
	jobs                         int
	keep                         time.Duration
	screen                       config
}

const webUsageText = `usage: robinscreen-screen web [flags]

Serves a web page for call lists: sign in with a token, upload a CSV or
XLSX call list, pick channel and purpose, watch the progress, download the
screened file (same format) and the errors file. Uploads and results are
kept under a private temporary directory (mode 0700, files 0600) and
removed --keep after the run, and all of them when the server stops.

flags:
`

func parseWebFlags(args []string, stderr io.Writer) (*webConfig, error) {
	c := &webConfig{}
	c.screen.cols = colFlags{}
	fs := flag.NewFlagSet("robinscreen-screen web", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, webUsageText)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8080", "address the web page is served on")
	fs.StringVar(&c.tlsCert, "listen-cert", "", "PEM certificate: serve the page over HTTPS (with --listen-key)")
	fs.StringVar(&c.tlsKey, "listen-key", "", "PEM key for --listen-cert")
	fs.BoolVar(&c.insecureListen, "listen-insecure", false, "allow plain HTTP on an address that is not loopback (tokens and call lists cross the network unencrypted)")
	fs.StringVar(&c.dir, "dir", os.TempDir(), "directory for the uploads and results (a private subdirectory is made in it)")
	fs.Int64Var(&c.maxUpload, "max-upload", 4<<30, "largest call list accepted, in bytes")
	fs.IntVar(&c.jobs, "jobs", 2, "call lists screened at once (more wait their turn)")
	fs.DurationVar(&c.keep, "keep", time.Hour, "how long a finished run's files stay for download")
	s := &c.screen
	fs.StringVar(&s.addr, "addr", "127.0.0.1:50051", "robinscreen server address")
	fs.BoolVar(&s.useTLS, "tls", false, "connect with TLS 1.3 verified by the system roots (implied by --ca, --cert)")
	fs.StringVar(&s.ca, "ca", "", "PEM file of CA certificates to trust (default: system roots)")
	fs.StringVar(&s.cert, "cert", "", "PEM client certificate for mutual TLS")
	fs.StringVar(&s.key, "key", "", "PEM client key for mutual TLS")
	fs.StringVar(&s.serverName, "server-name", "", "TLS server name to verify (default from --addr)")
	fs.BoolVar(&s.insecure, "insecure", false, "allow a plaintext connection to a non-loopback screening server (contacts cross the network unencrypted)")
	fs.IntVar(&s.chunk, "chunk", 1000, "contacts per request message (max 10000)")
	fs.IntVar(&s.streams, "streams", 2, "parallel streams per run")
	fs.IntVar(&s.retries, "retries", 10, "attempts while the server is unavailable")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return nil, errors.New("web takes no arguments")
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return nil, errors.New("give both --listen-cert and --listen-key, or neither")
	}
	if c.tlsCert == "" && !c.insecureListen && !clients.IsLoopbackTarget(c.listen) {
		return nil, fmt.Errorf("refusing to serve the page on %s, which is not a loopback address, over plain HTTP: tokens and call lists would cross the network unencrypted; give --listen-cert and --listen-key (or --listen-insecure)", c.listen)
	}
	if c.jobs < 1 || c.maxUpload < 1 || c.keep <= 0 {
		return nil, errors.New("--jobs, --max-upload and --keep must be positive")
	}
	return c, nil
}

// runWeb serves the page until ctx ends; it returns the exit status.
func runWeb(ctx context.Context, args []string, stderr io.Writer) int {
	cfg, err := parseWebFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "robinscreen-screen web:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	w, err := newWebServer(cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, "robinscreen-screen web:", err)
		return 2
	}
	defer w.Close()
	l, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		fmt.Fprintln(stderr, "robinscreen-screen web:", err)
		return 2
	}
	srv := &http.Server{Handler: w, ReadHeaderTimeout: 10 * time.Second}
	scheme := "http"
	if cfg.tlsCert != "" {
		scheme = "https"
	}
	log.Info("serving the call-list page", "url", scheme+"://"+l.Addr().String()+"/", "screening_server", cfg.screen.addr)
	errc := make(chan error, 1)
	go func() {
		if cfg.tlsCert != "" {
			errc <- srv.ServeTLS(l, cfg.tlsCert, cfg.tlsKey)
		} else {
			errc <- srv.Serve(l)
		}
	}()
	select {
	case err := <-errc:
		fmt.Fprintln(stderr, "robinscreen-screen web:", err)
		return 2
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	log.Info("stopped; removing the uploads and results")
	return 0
}

// webServer is the page's HTTP handler and its runs.
type webServer struct {
	cfg  *webConfig
	log  *slog.Logger
	dir  string // private working directory, removed by Close
	mux  *http.ServeMux
	page *template.Template
	sem  chan struct{} // one slot per run screening at once

	ctx    context.Context // ends when the server closes: runs stop
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	jobs map[string]*webJob
}

// Channels and purposes offered by the page, as the tool's flags spell
// them.
var (
	webChannels = []string{"phone", "email", "sms", "post"}
	webPurposes = []string{"other", "books", "periodical", "insurance", "rescue"}
)

// newWebServer makes the private working directory and the handler. It
// returns the error of creating the directory or parsing the page.
func newWebServer(cfg *webConfig, log *slog.Logger) (*webServer, error) {
	page, err := template.ParseFS(webFiles, "web/index.html")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(cfg.dir, "robinscreen-web-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	w := &webServer{cfg: cfg, log: log, dir: dir, mux: http.NewServeMux(), page: page,
		sem: make(chan struct{}, cfg.jobs), jobs: map[string]*webJob{}}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	static, _ := fs.Sub(webFiles, "web/static")
	w.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	w.mux.HandleFunc("GET /{$}", w.handlePage)
	w.mux.HandleFunc("POST /api/signin", w.handleSignin)
	w.mux.HandleFunc("POST /api/jobs", w.handleUpload)
	w.mux.HandleFunc("GET /api/jobs/{id}", w.handleStatus)
	w.mux.HandleFunc("DELETE /api/jobs/{id}", w.handleDelete)
	w.mux.HandleFunc("GET /files/{id}/{name}", w.handleDownload)
	w.wg.Add(1)
	go w.janitor()
	return w, nil
}

// Close stops the runs and removes every upload and result.
func (w *webServer) Close() error {
	w.cancel()
	w.wg.Wait()
	return os.RemoveAll(w.dir)
}

func (w *webServer) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	h := rw.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	w.mux.ServeHTTP(rw, r)
}

func (w *webServer) handlePage(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	err := w.page.Execute(rw, map[string]any{
		"Server":    w.cfg.screen.addr,
		"Channels":  webChannels,
		"Purposes":  webPurposes,
		"MaxUpload": humanBytes(w.cfg.maxUpload),
	})
	if err != nil {
		w.log.Error("page", "err", err)
	}
}

// webError is the JSON body of every refused API call.
type webError struct {
	Error string `json:"error"`
}

func writeJSON(rw http.ResponseWriter, code int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(code)
	_ = json.NewEncoder(rw).Encode(v)
}

// bearerToken returns the request's "Authorization: Bearer TOKEN", or "".
func bearerToken(r *http.Request) string {
	v := r.Header.Get("Authorization")
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return ""
}

// checkToken asks the screening server whether it accepts token, with a
// call that any valid token may make (server reflection lists the
// services). It returns nil when the token is accepted, and otherwise an
// error whose text is for the user (it never holds the token).
func (w *webServer) checkToken(ctx context.Context, token string) error {
	sec, err := w.security(token)
	if err != nil {
		return err
	}
	opts, err := sec.DialOptions(w.cfg.screen.addr)
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient(w.cfg.screen.addr, opts...)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err == nil {
		// A Send on a stream the server has already ended (a refused
		// token) returns io.EOF; the status comes with the Recv.
		if err = stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err == nil || errors.Is(err, io.EOF) {
			_, err = stream.Recv()
		}
		_ = stream.CloseSend()
	}
	switch status.Code(err) {
	case codes.OK:
		return nil
	case codes.Unauthenticated, codes.PermissionDenied:
		return errors.New("the screening server does not accept this token")
	case codes.Unimplemented:
		// A server without reflection: the token is checked on the
		// first run.
		return nil
	default:
		return fmt.Errorf("the screening server cannot be reached (%s)", status.Code(err))
	}
}

// security is the clients' connection policy for a call with token.
func (w *webServer) security(token string) (clients.Security, error) {
	c := w.cfg.screen
	sec := clients.Security{InsecurePlaintext: c.insecure, Token: token}
	if c.useTLS || c.ca != "" || c.cert != "" || c.key != "" {
		tc, err := clients.TLSFiles{CA: c.ca, Cert: c.cert, Key: c.key, ServerName: c.serverName}.Config()
		if err != nil {
			return sec, err
		}
		sec.TLS = tc
	}
	return sec, nil
}

func (w *webServer) handleSignin(rw http.ResponseWriter, r *http.Request) {
	token := bearerToken(r)
	if token == "" {
		writeJSON(rw, http.StatusUnauthorized, webError{"type the token you were given"})
		return
	}
	if err := w.checkToken(r.Context(), token); err != nil {
		w.log.Info("sign-in refused")
		writeJSON(rw, http.StatusUnauthorized, webError{err.Error()})
		return
	}
	writeJSON(rw, http.StatusOK, map[string]string{"server": w.cfg.screen.addr})
}

// webJob is one uploaded call list and its run.
type webJob struct {
	id        string
	tokenHash [32]byte
	dir       string
	input     string // the upload, under its own (cleaned) name
	cancel    context.CancelFunc

	mu       sync.Mutex
	state    string // "waiting", "screening", "done", "failed"
	run      *screenRun
	log      limitedBuffer
	exit     int
	err      string
	files    []webFile
	finished time.Time
}

// webFile is a file of a finished run offered for download.
type webFile struct {
	Label string `json:"label"`
	Name  string `json:"name"`
	URL   string `json:"url"`
	path  string
}

// limitedBuffer keeps the first 64 KiB of a run's messages (its summary
// and warnings name columns and counts, never cell values).
type limitedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := 64<<10 - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(len(p), room)]...)
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// uploadName cleans the uploaded file's name: its base name, with
// characters other than letters, digits, '-', '_', '.' and ' ' replaced by
// '_', and an extension the tool reads (.csv, .txt, .tsv, .xlsx, .xlsm).
// It returns an error for any other extension.
func uploadName(name string) (string, error) {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.', r == ' ',
			r == 'æ', r == 'ø', r == 'å', r == 'Æ', r == 'Ø', r == 'Å':
			return r
		}
		return '_'
	}, name)
	ext := filepath.Ext(name)
	switch strings.ToLower(ext) {
	case ".csv", ".txt", ".tsv", ".xlsx", ".xlsm":
	default:
		return "", errors.New("choose a CSV (.csv, .txt, .tsv) or XLSX (.xlsx) call list")
	}
	// No hidden file, and room for ".screened" in the outputs' names.
	stem := strings.TrimLeft(strings.TrimSuffix(name, ext), ". ")
	if r := []rune(stem); len(r) > 100 {
		stem = string(r[len(r)-100:])
	}
	if stem == "" {
		stem = "calllist"
	}
	return stem + ext, nil
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// handleUpload streams the request body (the call list itself, not a
// multipart form) to a private file, then screens it in the background.
// The query names the file (name), the channel and purpose (channel
// empty: from the file's kanal column), and whether to ask for a signed
// receipt (receipt=0: not).
func (w *webServer) handleUpload(rw http.ResponseWriter, r *http.Request) {
	token := bearerToken(r)
	if token == "" {
		writeJSON(rw, http.StatusUnauthorized, webError{"sign in first"})
		return
	}
	q := r.URL.Query()
	name, err := uploadName(q.Get("name"))
	if err != nil {
		writeJSON(rw, http.StatusBadRequest, webError{err.Error()})
		return
	}
	channel, purpose := q.Get("channel"), q.Get("purpose")
	if channel != "" {
		if _, err := calllist.ParseChannel(channel); err != nil {
			writeJSON(rw, http.StatusBadRequest, webError{"channel: " + err.Error()})
			return
		}
	}
	if _, err := calllist.ParsePurpose(purpose); err != nil {
		writeJSON(rw, http.StatusBadRequest, webError{"purpose: " + err.Error()})
		return
	}
	if r.ContentLength > w.cfg.maxUpload {
		writeJSON(rw, http.StatusRequestEntityTooLarge, webError{fmt.Sprintf("the file is larger than the %d bytes this page accepts", w.cfg.maxUpload)})
		return
	}
	j := &webJob{id: newID(), tokenHash: sha256.Sum256([]byte(token)), state: "waiting"}
	j.dir = filepath.Join(w.dir, j.id)
	if err := os.Mkdir(j.dir, 0o700); err != nil {
		w.log.Error("upload", "err", err)
		writeJSON(rw, http.StatusInternalServerError, webError{"the upload could not be stored"})
		return
	}
	j.input = filepath.Join(j.dir, name)
	var size int64
	f, err := os.OpenFile(j.input, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		size, err = io.Copy(f, http.MaxBytesReader(rw, r.Body, w.cfg.maxUpload))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		os.RemoveAll(j.dir)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeJSON(rw, http.StatusRequestEntityTooLarge, webError{fmt.Sprintf("the file is larger than the %d bytes this page accepts", w.cfg.maxUpload)})
			return
		}
		w.log.Info("upload stopped", "err", err)
		writeJSON(rw, http.StatusBadRequest, webError{"the upload stopped before the end of the file"})
		return
	}
	cfg := w.cfg.screen // a copy: the run's own
	cfg.cols = colFlags{}
	cfg.input, cfg.channel, cfg.purpose, cfg.token = j.input, channel, purpose, token
	cfg.tokenFile = ""
	cfg.format, cfg.inFormat, cfg.encoding, cfg.delimiter, cfg.progress = "auto", "auto", "auto", "auto", "never"
	// The server's signed receipt beside the output, unless the user
	// turned it off (receipt=0).
	cfg.receipt = q.Get("receipt") != "0"
	var ctx context.Context
	ctx, j.cancel = context.WithCancel(w.ctx)
	w.mu.Lock()
	w.jobs[j.id] = j
	w.mu.Unlock()
	w.wg.Add(1)
	go w.screenJob(ctx, j, &cfg)
	w.log.Info("call list received", "job", j.logID(), "bytes", size)
	writeJSON(rw, http.StatusAccepted, map[string]string{"id": j.id})
}

// screenJob waits for a free slot and screens the job's file.
func (w *webServer) screenJob(ctx context.Context, j *webJob, cfg *config) {
	defer w.wg.Done()
	defer j.cancel()
	select {
	case w.sem <- struct{}{}:
		defer func() { <-w.sem }()
	case <-ctx.Done():
		j.finish(2, "stopped before it started", nil)
		return
	}
	j.mu.Lock()
	j.state = "screening"
	j.mu.Unlock()
	start := time.Now()
	code := screen(ctx, cfg, &j.log, func(s *screenRun) {
		j.mu.Lock()
		j.run = s
		j.mu.Unlock()
	})
	cfg.token = "" // not kept past the run
	var files []webFile
	if code != 2 {
		j.mu.Lock()
		s := j.run
		j.mu.Unlock()
		for _, f := range []struct{ label, path string }{
			{"Screened call list", s.outPath},
			{"Signed receipt (verify with robinscreen-screen receipt verify)", s.receiptPath},
			{"Rows not screened (line and reason)", s.errsPath},
		} {
			if _, err := os.Stat(f.path); err == nil {
				name := filepath.Base(f.path)
				files = append(files, webFile{Label: f.label, Name: name, URL: "/files/" + j.id + "/" + name, path: f.path})
			}
		}
	}
	// The upload itself is no longer needed.
	_ = os.Remove(j.input)
	msg := ""
	if code == 2 {
		msg = "the call list was not screened; see the messages below"
		if ctx.Err() != nil {
			msg = "the run was stopped"
		}
	}
	j.finish(code, msg, files)
	w.log.Info("call list screened", "job", j.logID(), "exit", code, "took", time.Since(start).Round(time.Millisecond))
}

// logID names the job in the log: a short hash of its id, because the id
// itself is the capability that downloads the job's files (the screened
// list names people), and a log line must not hand it out.
func (j *webJob) logID() string {
	sum := sha256.Sum256([]byte(j.id))
	return hex.EncodeToString(sum[:6])
}

func (j *webJob) finish(code int, msg string, files []webFile) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.exit, j.err, j.files, j.finished = code, msg, files, time.Now()
	j.state = "done"
	if code == 2 {
		j.state = "failed"
	}
}

// job returns the job named in the path when the request carries the token
// that uploaded it; otherwise it answers the request and returns nil.
func (w *webServer) job(rw http.ResponseWriter, r *http.Request) *webJob {
	w.mu.Lock()
	j := w.jobs[r.PathValue("id")]
	w.mu.Unlock()
	h := sha256.Sum256([]byte(bearerToken(r)))
	if j == nil || subtle.ConstantTimeCompare(h[:], j.tokenHash[:]) != 1 {
		writeJSON(rw, http.StatusNotFound, webError{"no such run (finished runs are removed after a while)"})
		return nil
	}
	return j
}

// webStatus is a run's progress as the page polls it.
type webStatus struct {
	State      string           `json:"state"`
	Rows       int64            `json:"rows"`
	Done       int64            `json:"done"`
	Total      int64            `json:"total"`
	Unit       string           `json:"unit"`
	Unreadable int64            `json:"unreadable"`
	Decisions  map[string]int64 `json:"decisions,omitempty"`
	Blank      int64            `json:"blank,omitempty"`
	Exit       int              `json:"exit"`
	Error      string           `json:"error,omitempty"`
	Log        string           `json:"log"`
	Files      []webFile        `json:"files,omitempty"`
}

func (w *webServer) handleStatus(rw http.ResponseWriter, r *http.Request) {
	j := w.job(rw, r)
	if j == nil {
		return
	}
	j.mu.Lock()
	st := webStatus{State: j.state, Exit: j.exit, Error: j.err, Files: j.files}
	s := j.run
	j.mu.Unlock()
	// The messages name the upload by its path on this server; the user
	// knows it by its name.
	st.Log = strings.ReplaceAll(j.log.String(), j.dir+string(filepath.Separator), "")
	if s != nil {
		st.Rows, st.Unreadable, st.Total = s.written.Load(), s.unreadable.Load(), s.size
		if s.counter != nil {
			st.Done, st.Unit = s.counter.n.Load(), "bytes"
		} else {
			st.Done, st.Unit = min(st.Rows, s.size), "rows"
		}
		if st.State == "done" {
			// The run has ended: its counts no longer change.
			st.Decisions, st.Blank, st.Done = s.decisions, s.blankRows, st.Total
		}
	}
	writeJSON(rw, http.StatusOK, st)
}

// handleDelete stops a run and removes its files.
func (w *webServer) handleDelete(rw http.ResponseWriter, r *http.Request) {
	j := w.job(rw, r)
	if j == nil {
		return
	}
	w.remove(j)
	rw.WriteHeader(http.StatusNoContent)
}

// remove stops j's run, forgets it and removes its files.
func (w *webServer) remove(j *webJob) {
	w.mu.Lock()
	delete(w.jobs, j.id)
	w.mu.Unlock()
	j.cancel()
	go func() {
		// The run removes its temporary files as it stops; then the rest.
		for {
			j.mu.Lock()
			done := j.state == "done" || j.state == "failed"
			j.mu.Unlock()
			if done {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = os.RemoveAll(j.dir)
	}()
}

// handleDownload streams a finished run's file from disk. The job id in
// the path is a 128-bit random name given only to the uploader (the page
// fetched it with the token), so that a plain link can download a large
// file without holding it in the browser's memory.
func (w *webServer) handleDownload(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	j := w.jobs[r.PathValue("id")]
	w.mu.Unlock()
	var file *webFile
	if j != nil {
		j.mu.Lock()
		for i := range j.files {
			if j.files[i].Name == r.PathValue("name") {
				file = &j.files[i]
			}
		}
		j.mu.Unlock()
	}
	if file == nil {
		http.Error(rw, "no such file (finished runs are removed after a while)", http.StatusNotFound)
		return
	}
	f, err := os.Open(file.path)
	if err != nil {
		http.Error(rw, "the file is gone", http.StatusNotFound)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		http.Error(rw, "the file is gone", http.StatusNotFound)
		return
	}
	ctype := "text/csv; charset=utf-8"
	switch strings.ToLower(filepath.Ext(file.Name)) {
	case ".xlsx", ".xlsm":
		ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case ".txt", ".tsv":
		ctype = "text/plain"
	}
	rw.Header().Set("Content-Type", ctype)
	rw.Header().Set("Cache-Control", "no-store")
	rw.Header().Set("Content-Disposition", mimeAttachment(file.Name))
	http.ServeContent(rw, r, "", st.ModTime(), f)
}

// mimeAttachment is a Content-Disposition header for name (RFC 6266, with
// the UTF-8 form for names outside ASCII).
func mimeAttachment(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	enc := strings.Builder{}
	for _, b := range []byte(name) {
		if b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("-._", b) >= 0 {
			enc.WriteByte(b)
		} else {
			fmt.Fprintf(&enc, "%%%02X", b)
		}
	}
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, enc.String())
}

// janitor removes finished runs older than --keep.
func (w *webServer) janitor() {
	defer w.wg.Done()
	t := time.NewTicker(max(min(w.cfg.keep/2, time.Minute), 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-t.C:
		}
		var old []*webJob
		w.mu.Lock()
		for _, j := range w.jobs {
			j.mu.Lock()
			if !j.finished.IsZero() && time.Since(j.finished) > w.cfg.keep {
				old = append(old, j)
			}
			j.mu.Unlock()
		}
		w.mu.Unlock()
		for _, j := range old {
			w.remove(j)
		}
	}
}

// humanBytes is n in B, KiB, MiB or GiB, for the page.
func humanBytes(n int64) string {
	units := []string{"bytes", "KiB", "MiB", "GiB", "TiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d %s", int64(v), units[i])
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
