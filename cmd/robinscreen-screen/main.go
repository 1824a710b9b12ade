// Command robinscreen-screen screens a call list (CSV or XLSX) against a
// robinscreen server and writes every row back, in the original order, with
// the original columns plus decision, reasons and explanation.
//
// Usage:
//
//	robinscreen-screen --addr HOST:PORT --channel phone [flags] calllist.csv
//	robinscreen-screen web --listen 127.0.0.1:8080 --addr HOST:PORT [flags]
//	robinscreen-screen receipt verify --key PUB --receipt FILE --contacts CALLLIST --results SCREENED
//
// The second form serves a web page for call lists (web.go): a team lead
// signs in with a token, uploads a CSV or XLSX file, picks channel and
// purpose, watches the progress and downloads the screened file, screened
// by the same code as the first form.
//
// The third form checks a call list's signed receipt (receipt.go).
//
// It is a separate binary from robinscreen (the server) so that call
// centers get a small client without the server's storage engine, and so
// that client and server release independently. See clients/README.md.
//
// Every input row gives one output row, in order, blank rows included. The
// output is written under a temporary name and renamed only when the run is
// complete: a run that fails leaves nothing under the final name.
//
// Exit status: 0 when every row was screened, 1 when some rows could not be
// read or screened (decision ERROR in the output, listed in the errors
// file) or when no column can identify a person, 2 on a fatal error (bad
// flags, an unreadable input, the server refused the batch or stayed
// unavailable).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/robinscreen/robinscreen/clients"
	"github.com/robinscreen/robinscreen/internal/calllist"
	"github.com/robinscreen/robinscreen/internal/progress"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

// colFlags collects repeated --col FIELD=COLUMN.
type colFlags map[string]string

func (c colFlags) String() string { return fmt.Sprint(map[string]string(c)) }
func (c colFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want FIELD=COLUMN, got %q", s)
	}
	c[strings.TrimSpace(k)] = strings.TrimSpace(v)
	return nil
}

type config struct {
	addr, channel, purpose, out, errorsPath, format, inFormat, encoding, delimiter, sheet string
	split, errorsContent, receipt                                                         bool
	cols                                                                                  colFlags
	useTLS, insecure                                                                      bool
	ca, cert, key, serverName, tokenFile                                                  string
	chunk, streams, retries                                                               int
	timeout                                                                               time.Duration
	progress                                                                              string
	input                                                                                 string
	// token, when set, is the bearer token for the calls (the web page
	// passes the one its user typed); it wins over --token-file and
	// ROBINSCREEN_TOKEN.
	token string
}

const usageText = `usage: robinscreen-screen [flags] CALLLIST.(csv|xlsx)
       robinscreen-screen web [flags]   (a web page for call lists: web -h)

Screens every row of a call list against a robinscreen server and writes
CALLLIST.screened.(csv|xlsx): one row for every input row, in order and
blank rows included, with the original columns plus decision, reasons and
explanation (every finding). Columns are found from the header (Danish or
English names); override with --col FIELD=COLUMN. The CSV encoding is
decided over the whole file first; a first line sep=X is honoured. Rows
that cannot be read or screened get decision ERROR and are listed, by line
number and reason, in CALLLIST.errors.csv. Files are written under a
temporary name and renamed only when the run succeeds; every file written
has mode 0600: they hold personal data. With --receipt the server's signed
receipt is written beside the output; check it later with

  robinscreen-screen receipt verify --key PUB --receipt FILE --contacts CALLLIST --results SCREENED

flags:
`

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{cols: colFlags{}}
	fs := flag.NewFlagSet("robinscreen-screen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nfields for --col: %v\n", calllist.Fields)
	}
	fs.StringVar(&c.addr, "addr", "127.0.0.1:50051", "robinscreen server address")
	fs.StringVar(&c.channel, "channel", "", "channel for every row without a channel (kanal) column: phone, email, sms, post")
	fs.StringVar(&c.purpose, "purpose", "", "purpose for rows without a purpose (formål) column: other, books, periodical, insurance, rescue")
	fs.StringVar(&c.out, "o", "", "output file (default INPUT.screened.EXT)")
	fs.StringVar(&c.errorsPath, "errors", "", "errors file for unreadable and failed rows: line number and reason (default INPUT.errors.csv)")
	fs.BoolVar(&c.errorsContent, "errors-content", false, "also copy each failed row's text into the errors file (copies personal data: names, phone and CPR numbers)")
	fs.BoolVar(&c.split, "split", false, "also write INPUT.allowed/.blocked/.review files")
	fs.StringVar(&c.format, "format", "auto", "output format: auto (same as input), csv, xlsx")
	fs.StringVar(&c.inFormat, "input-format", "auto", "input format: auto (by extension), csv, xlsx")
	fs.StringVar(&c.encoding, "encoding", "auto", "CSV input encoding: auto (decided over the whole file), utf-8, windows-1252, iso-8859-1, utf-16le, utf-16be")
	fs.StringVar(&c.delimiter, "delimiter", "auto", "CSV delimiter: auto (a first line sep=X, else sniffed from the header), ';', ',', tab")
	fs.StringVar(&c.sheet, "sheet", "", "XLSX worksheet to read (default the active one; the summary names the others)")
	fs.Var(c.cols, "col", "map a field to a column: FIELD=HEADER or FIELD=NUMBER (repeatable; FIELD= unmaps)")
	fs.BoolVar(&c.useTLS, "tls", false, "connect with TLS 1.3 verified by the system roots (implied by --ca, --cert)")
	fs.StringVar(&c.ca, "ca", "", "PEM file of CA certificates to trust (default: system roots)")
	fs.StringVar(&c.cert, "cert", "", "PEM client certificate for mutual TLS")
	fs.StringVar(&c.key, "key", "", "PEM client key for mutual TLS")
	fs.StringVar(&c.serverName, "server-name", "", "TLS server name to verify (default from --addr)")
	fs.StringVar(&c.tokenFile, "token-file", "", "file holding a bearer token (or set ROBINSCREEN_TOKEN)")
	fs.BoolVar(&c.insecure, "insecure", false, "allow a plaintext connection to a non-loopback address (contacts cross the network unencrypted)")
	fs.IntVar(&c.chunk, "chunk", 1000, "contacts per request message (max 10000)")
	fs.IntVar(&c.streams, "streams", 2, "parallel streams")
	fs.IntVar(&c.retries, "retries", 10, "attempts while the server is unavailable")
	fs.DurationVar(&c.timeout, "timeout", 0, "give up after this long (0: no limit)")
	fs.StringVar(&c.progress, "progress", "auto", "progress bar on stderr: auto (when a terminal), always, never")
	fs.BoolVar(&c.receipt, "receipt", false, "ask the server for a signed receipt of the run and write it beside the output as OUTPUT.receipt.json (screens over one stream)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return nil, errors.New("need exactly one input file")
	}
	c.input = fs.Arg(0)
	if _, err := progress.ParseMode(c.progress); err != nil {
		return nil, fmt.Errorf("--%w", err)
	}
	return c, nil
}

// rowReader is CSVReader or XLSXReader.
type rowReader interface {
	Header() []string
	HeaderLine() int
	Read() (calllist.Record, *calllist.RowError, error)
}

// rowWriter writes an output file under a temporary name: Close renames it
// into place, Abort removes it.
type rowWriter interface {
	Write([]string) error
	Skip(n int) error
	Close() error
	Abort()
}

// cellWriter is a rowWriter that can write formulas as formulas (XLSX).
type cellWriter interface {
	WriteCells(fields []string, formulas map[int]string) error
}

// csvOut is a CSV writer on a pending file.
type csvOut struct {
	*calllist.CSVWriter
	f *calllist.PendingFile
}

func (c *csvOut) Close() error {
	if err := c.CSVWriter.Close(); err != nil {
		c.f.Abort()
		return err
	}
	return c.f.Commit()
}

func (c *csvOut) Abort() { c.f.Abort() }

// row is one input row on its way to the output.
type row struct {
	line     int
	fields   []string
	formulas map[int]string // cells that are formulas without a value
	blank    bool
	err      string // why the row was not screened
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "web" {
		return runWeb(ctx, args[1:], stderr)
	}
	if len(args) > 0 && args[0] == "receipt" {
		return receiptMain(args[1:], os.Stdout, stderr)
	}
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "robinscreen-screen:", err)
		return 2
	}
	return screen(ctx, cfg, stderr, nil)
}

// screen screens one call list as cfg says, writing its messages and
// summary to stderr, and returns the exit status. started, when not nil, is
// called with the run once its files are open and before the first row is
// read (the web page watches the run's progress through it).
func screen(ctx context.Context, cfg *config, stderr io.Writer, started func(*screenRun)) int {
	s, err := newScreening(cfg, stderr)
	if err != nil {
		s.abortAll()
		s.closeAll()
		fmt.Fprintln(stderr, "robinscreen-screen:", err)
		return 2
	}
	defer s.closeAll()
	if started != nil {
		started(s)
	}
	if err := s.run(ctx); err != nil {
		s.abortAll()
		s.bar.finish()
		fmt.Fprintln(stderr, "robinscreen-screen:", err)
		left := ""
		if _, err := os.Stat(s.outPath); err == nil {
			left = " (the file there is from an earlier run)"
		}
		fmt.Fprintf(stderr, "robinscreen-screen: stopped after %d rows; no output written to %s%s\n", s.written.Load(), s.outPath, left)
		return 2
	}
	s.bar.finish()
	s.summary(stderr)
	if s.unreadable.Load()+s.failed > 0 || s.noIdentity != "" {
		return 1
	}
	return 0
}

type screenRun struct {
	cfg      *config
	stderr   io.Writer
	in       rowReader
	closers  []func() error
	mapping  *calllist.Mapping
	header   []string
	width    int // columns of the input's header
	dialect  calllist.Dialect
	outFmt   string
	outPath  string
	out      rowWriter
	split    map[pb.Decision]rowWriter
	pending  []rowWriter // every output not yet renamed into place
	errsPath string
	errs     *calllist.CSVWriter
	errsFile *calllist.PendingFile
	bar      *progressBar
	counter  *countingReader
	size     int64
	sheet    string   // XLSX: the worksheet read
	others   []string // XLSX: the sheets not read
	// noIdentity says why no column can identify a person ("" when one
	// can).
	noIdentity string

	written     atomic.Int64
	unreadable  atomic.Int64
	failed      int64
	blankRows   int64
	otherUnread atomic.Int64 // unreadable cells outside the mapped columns
	decisions   map[string]int64
	reasons     map[string]int64
	datasets    map[string]*pb.DatasetRef
	start       time.Time
	stats       clients.Progress

	// The receipt (--receipt): the server's, once the batch is answered.
	receiptPath string
	receiptMu   sync.Mutex
	receipts    []*pb.ScreeningReceipt
	screened    int64  // contacts sent and answered
	receiptNote string // why no receipt was written ("" when one was)
	// pendingFiles are written whole and renamed with the outputs.
	pendingFiles []*calllist.PendingFile
}

func newScreening(cfg *config, stderr io.Writer) (*screenRun, error) {
	s := &screenRun{cfg: cfg, stderr: stderr, decisions: map[string]int64{}, reasons: map[string]int64{}, datasets: map[string]*pb.DatasetRef{}}
	inFmt := cfg.inFormat
	ext := strings.ToLower(filepath.Ext(cfg.input))
	if inFmt == "auto" {
		inFmt = "csv"
		if ext == ".xlsx" || ext == ".xlsm" {
			inFmt = "xlsx"
		}
	}
	base := strings.TrimSuffix(cfg.input, filepath.Ext(cfg.input))
	switch inFmt {
	case "csv":
		enc, err := calllist.ParseEncoding(cfg.encoding)
		if err != nil {
			return s, err
		}
		comma, err := calllist.ParseDelimiter(cfg.delimiter)
		if err != nil {
			return s, err
		}
		f, err := os.Open(cfg.input)
		if err != nil {
			return s, err
		}
		s.closers = append(s.closers, f.Close)
		if st, err := f.Stat(); err == nil {
			s.size = st.Size()
		}
		s.counter = &countingReader{r: f}
		cr, err := calllist.OpenCSV(s.counter, enc, comma)
		if err != nil {
			return s, fmt.Errorf("%s: %w", cfg.input, err)
		}
		if cfg.sheet != "" {
			fmt.Fprintf(stderr, "robinscreen-screen: %s: warning: --sheet applies to XLSX workbooks only; ignored\n", cfg.input)
		}
		for _, w := range cr.Warnings() {
			fmt.Fprintf(stderr, "robinscreen-screen: %s: warning: %s\n", cfg.input, w)
		}
		s.in, s.dialect = cr, cr.Dialect()
	case "xlsx":
		xr, err := calllist.OpenXLSX(cfg.input, cfg.sheet)
		if err != nil {
			return s, fmt.Errorf("%s: %w", cfg.input, err)
		}
		s.closers = append(s.closers, xr.Close)
		s.in = xr
		s.dialect = calllist.Dialect{Encoding: calllist.EncodingUTF8, BOM: true, Comma: ';', CRLF: true}
		s.size = int64(xr.TotalRows)
		s.sheet = xr.Sheet
		for i, o := range xr.OtherSheets {
			if xr.OtherHasData[i] {
				o = strconv.Quote(o) + " (holds data)"
			} else {
				o = strconv.Quote(o) + " (empty)"
			}
			s.others = append(s.others, o)
		}
		fmt.Fprintf(stderr, "robinscreen-screen: %s: worksheet %q%s\n", cfg.input, s.sheet, otherSheets(s.others))
	default:
		return s, fmt.Errorf("--input-format %q: want auto, csv or xlsx", inFmt)
	}
	m, err := calllist.MapColumns(s.in.Header(), cfg.cols)
	if err != nil {
		return s, err
	}
	if cfg.channel != "" {
		if m.Channel, err = calllist.ParseChannel(cfg.channel); err != nil {
			return s, fmt.Errorf("--channel: %w", err)
		}
	} else if !m.Has(calllist.FieldChannel) {
		return s, errors.New("give --channel (phone, email, sms, post) or a channel (kanal) column")
	}
	if m.Purpose, err = calllist.ParsePurpose(cfg.purpose); err != nil {
		return s, fmt.Errorf("--purpose: %w", err)
	}
	s.mapping = m
	fmt.Fprintf(stderr, "robinscreen-screen: %s: columns %s\n", cfg.input, m.Describe())
	if ok, why := m.IdentifiesPerson(); !ok {
		s.noIdentity = why
		fmt.Fprintf(stderr, "robinscreen-screen: %s: warning: no column can identify a person: %s; rows without consent will come back REVIEW. Map columns with --col FIELD=COLUMN (exit status 1)\n", cfg.input, why)
	}
	if inFmt == "csv" {
		d := s.dialect
		sep := ""
		if d.Sep {
			sep = " (from its sep= line)"
		}
		fmt.Fprintf(stderr, "robinscreen-screen: %s: %s%s, delimiter %q%s\n", cfg.input, d.Encoding, map[bool]string{true: " with BOM"}[d.BOM], d.Comma, sep)
	}

	s.outFmt = cfg.format
	if s.outFmt == "auto" {
		s.outFmt = inFmt
	}
	if s.outFmt != "csv" && s.outFmt != "xlsx" {
		return s, fmt.Errorf("--format %q: want auto, csv or xlsx", cfg.format)
	}
	outExt := "." + s.outFmt
	if inFmt == "csv" && s.outFmt == "csv" && ext != "" {
		// Keep the extension: Excel's "Unicode text" is a .txt file, and
		// opens as one again.
		outExt = filepath.Ext(cfg.input)
	}
	s.outPath = cfg.out
	if s.outPath == "" {
		s.outPath = base + ".screened" + outExt
	}
	s.width = len(s.in.Header())
	s.header = append(append([]string(nil), s.in.Header()...), calllist.OutputColumns(s.in.Header())...)
	if s.out, err = s.create(s.outPath); err != nil {
		return s, err
	}
	if cfg.split {
		s.split = map[pb.Decision]rowWriter{}
		for d, name := range map[pb.Decision]string{pb.Decision_DECISION_ALLOW: "allowed", pb.Decision_DECISION_BLOCK: "blocked", pb.Decision_DECISION_REVIEW: "review"} {
			if s.split[d], err = s.create(base + "." + name + outExt); err != nil {
				return s, err
			}
		}
	}
	if cfg.receipt {
		s.receiptPath = strings.TrimSuffix(s.outPath, filepath.Ext(s.outPath)) + ".receipt.json"
	}
	s.errsPath = cfg.errorsPath
	if s.errsPath == "" {
		s.errsPath = base + ".errors.csv"
	}
	_ = os.Remove(s.errsPath) // a stale errors file from an earlier run would mislead
	s.bar = newProgressBar(stderr, progress.Mode(cfg.progress))
	return s, nil
}

// otherSheets names the sheets not read (quoted, with their row counts),
// for the log and the summary.
func otherSheets(others []string) string {
	if len(others) == 0 {
		return " (the only sheet)"
	}
	return fmt.Sprintf("; not read: %s (choose with --sheet)", strings.Join(others, ", "))
}

// create starts an output file in the output format under a temporary
// name, with the header row on the input's header line.
func (s *screenRun) create(path string) (rowWriter, error) {
	if filepath.Clean(path) == filepath.Clean(s.cfg.input) {
		return nil, fmt.Errorf("output %s would overwrite the input", path)
	}
	var w rowWriter
	if s.outFmt == "xlsx" {
		xw, err := calllist.NewXLSXWriter(path, "Screened")
		if err != nil {
			return nil, err
		}
		w = xw
	} else {
		f, err := calllist.CreatePending(path)
		if err != nil {
			return nil, err
		}
		cw, err := calllist.NewCSVWriter(f, s.dialect)
		if err != nil {
			f.Abort()
			return nil, err
		}
		w = &csvOut{CSVWriter: cw, f: f}
	}
	s.pending = append(s.pending, w)
	skip := s.in.HeaderLine() - 1
	if s.outFmt == "csv" && s.dialect.Sep {
		skip-- // the writer wrote the sep line
	}
	if err := w.Skip(max(skip, 0)); err != nil {
		return nil, err
	}
	return w, w.Write(s.header)
}

// reportError writes a row to the errors file (created on first use): the
// line number and the reason, and the row's text only with --errors-content
// (it is personal data, and the errors file tends to be mailed around).
func (s *screenRun) reportError(line int, msg, raw string) error {
	if s.errs == nil {
		f, err := calllist.CreatePending(s.errsPath)
		if err != nil {
			return err
		}
		s.errsFile = f
		d := s.dialect
		d.Sep = false
		if s.outFmt == "xlsx" || d.Comma == 0 {
			d = calllist.Dialect{Encoding: calllist.EncodingUTF8, BOM: true, Comma: ';', CRLF: true}
		}
		if s.errs, err = calllist.NewCSVWriter(f, d); err != nil {
			return err
		}
		header := []string{"line", "error"}
		if s.cfg.errorsContent {
			header = append(header, "content")
		}
		if err := s.errs.Write(header); err != nil {
			return err
		}
	}
	rec := []string{strconv.Itoa(line), msg}
	if s.cfg.errorsContent {
		rec = append(rec, raw)
	}
	return s.errs.Write(rec)
}

func (s *screenRun) closeAll() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		_ = s.closers[i]()
	}
}

// abortAll removes every output not yet renamed into place.
func (s *screenRun) abortAll() {
	for _, w := range s.pending {
		w.Abort()
	}
	s.pending = nil
	for _, f := range s.pendingFiles {
		f.Abort()
	}
	s.pendingFiles = nil
	if s.errsFile != nil {
		s.errsFile.Abort()
	}
}

func (s *screenRun) dial() (*clients.Client, error) {
	cfg := s.cfg
	opts := []clients.Option{
		clients.WithChunkSize(cfg.chunk), clients.WithStreams(cfg.streams),
		clients.WithRetry(cfg.retries, 200*time.Millisecond, 5*time.Second),
	}
	if cfg.receipt {
		// One receipt covers one stream: the whole list goes over one.
		opts = append(opts, clients.WithStreams(1), clients.WithReceipts(func(rc *pb.ScreeningReceipt) {
			s.receiptMu.Lock()
			s.receipts = append(s.receipts, rc)
			s.receiptMu.Unlock()
		}))
	}
	// The clients' one connection policy (clients.Security): TLS 1.3 at
	// least, plaintext only to loopback unless --insecure.
	if cfg.useTLS || cfg.ca != "" || cfg.cert != "" || cfg.key != "" {
		tc, err := clients.TLSFiles{CA: cfg.ca, Cert: cfg.cert, Key: cfg.key, ServerName: cfg.serverName}.Config()
		if err != nil {
			return nil, err
		}
		opts = append(opts, clients.WithTLS(tc))
	}
	if cfg.insecure {
		opts = append(opts, clients.WithInsecurePlaintext())
	}
	token := os.Getenv("ROBINSCREEN_TOKEN")
	if cfg.token != "" {
		// The web page's user's own token.
		token = cfg.token
	} else if cfg.tokenFile != "" {
		b, err := os.ReadFile(cfg.tokenFile)
		if err != nil {
			return nil, err
		}
		token = strings.TrimSpace(string(b))
	}
	if token != "" {
		opts = append(opts, clients.WithBearerToken(token))
	}
	return clients.Dial(cfg.addr, opts...)
}

func (s *screenRun) run(ctx context.Context) error {
	if s.cfg.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.timeout)
		defer cancel()
	}
	c, err := s.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	s.start = time.Now()
	s.bar.start(s)
	// The source runs on the client's reader goroutine: it alone touches
	// the input and the errors file. Every input row becomes one item; a
	// row that is not sent (blank, unreadable) passes through with no
	// contact and reaches the sink in its place.
	src := clients.SourceFunc(func() (clients.Item, error) {
		rec, rerr, err := s.in.Read()
		if err != nil {
			return clients.Item{}, err
		}
		if rerr != nil {
			s.unreadable.Add(1)
			r := &row{line: rerr.Line, fields: s.fit(rerr.Fields), err: "not screened: " + rerr.Msg}
			if err := s.reportError(rerr.Line, rerr.Msg, rerr.Raw); err != nil {
				return clients.Item{}, err
			}
			return clients.Item{Tag: r}, nil
		}
		r := &row{line: rec.Line, fields: s.fit(rec.Fields), blank: rec.Blank}
		if rec.Blank {
			return clients.Item{Tag: r}, nil
		}
		var unread []string
		for _, u := range rec.Unread {
			if u.Formula != "" {
				if r.formulas == nil {
					r.formulas = map[int]string{}
				}
				r.formulas[u.Col] = u.Formula
			}
			if f, ok := s.mapping.FieldAt(u.Col); ok {
				unread = append(unread, fmt.Sprintf("%s (column %d) is %s", f, u.Col+1, u.Why))
			} else {
				s.otherUnread.Add(1)
			}
		}
		if len(unread) > 0 {
			// Never screen a row as if an identifying cell were empty: a
			// listed person could come back ALLOW.
			s.unreadable.Add(1)
			msg := strings.Join(unread, "; ")
			r.err = "not screened: " + msg
			if err := s.reportError(rec.Line, msg, strings.Join(rec.Fields, string(s.dialect.Comma))); err != nil {
				return clients.Item{}, err
			}
			return clients.Item{Tag: r}, nil
		}
		contact, ch, purpose, err := s.mapping.Contact(rec.Fields, strconv.Itoa(rec.Line))
		if err != nil {
			r.err = "not screened: " + err.Error()
			if err := s.reportError(rec.Line, err.Error(), strings.Join(rec.Fields, string(s.dialect.Comma))); err != nil {
				return clients.Item{}, err
			}
			return clients.Item{Tag: r}, nil
		}
		return clients.Item{Channel: ch, Purpose: purpose, Contact: contact, Tag: r}, nil
	})
	out := make([]string, 0, len(s.header))
	stats, err := c.ScreenStream(ctx, src, func(it clients.Item, res *pb.ScreeningResult) error {
		r := it.Tag.(*row)
		out = append(out[:0], r.fields...)
		var cols [3]string
		switch {
		case r.blank:
			cols = [3]string{"", "", "blank row: not screened"}
			s.blankRows++
		case res == nil:
			cols = [3]string{"ERROR", "", r.err}
			s.failed++
			s.decisions["ERROR"]++
		default:
			cols = calllist.ResultColumns(res)
			s.screened++
			s.decisions[cols[0]]++
			for _, x := range res.GetReasons() {
				s.reasons[strings.TrimPrefix(x.String(), "REASON_")]++
			}
			for _, d := range res.GetDatasets() {
				if _, ok := s.datasets[d.GetKind()+"\x00"+d.GetVersion()]; !ok {
					s.datasets[d.GetKind()+"\x00"+d.GetVersion()] = d
				}
			}
		}
		out = append(out, cols[:]...)
		if err := s.write(s.out, out, r.formulas); err != nil {
			return err
		}
		if res != nil && s.split != nil {
			if w := s.split[res.GetDecision()]; w != nil {
				if err := s.write(w, out, r.formulas); err != nil {
					return err
				}
			}
		}
		s.written.Add(1)
		return nil
	})
	s.stats = stats
	if err != nil {
		return err
	}
	if s.receiptPath != "" {
		if err := s.writeReceipt(); err != nil {
			return err
		}
	}
	// Only now, with every row written, do the files get their names.
	if s.errs != nil {
		if err := s.errs.Close(); err != nil {
			return err
		}
		if err := s.errsFile.Commit(); err != nil {
			return err
		}
	}
	for len(s.pending) > 0 {
		w := s.pending[0]
		s.pending = s.pending[1:]
		if err := w.Close(); err != nil {
			return err
		}
	}
	for len(s.pendingFiles) > 0 {
		f := s.pendingFiles[0]
		s.pendingFiles = s.pendingFiles[1:]
		if err := f.Commit(); err != nil {
			return err
		}
	}
	if err := s.removeStaleReceipt(); err != nil {
		return err
	}
	return nil
}

// fit pads a row to the header's width. A row wider than the header (a
// broken CSV line split at every delimiter, a worksheet row with cells past
// the sheet's dimension) loses its empty trailing cells, and whatever is
// still past the last column is joined into the last column, so that no
// text is dropped and the result columns stay in place.
func (s *screenRun) fit(fields []string) []string {
	for len(fields) > s.width && strings.TrimSpace(fields[len(fields)-1]) == "" {
		fields = fields[:len(fields)-1]
	}
	if len(fields) > s.width && s.width > 0 {
		tail := strings.Join(fields[s.width-1:], string(s.dialect.Comma))
		fields = append(fields[:s.width-1:s.width-1], tail)
	}
	for len(fields) < s.width {
		fields = append(fields, "")
	}
	return fields
}

// write writes a row; cells that are formulas without a value go out as
// formulas (XLSX) or as "=FORMULA" text (CSV), so that they are not lost.
func (s *screenRun) write(w rowWriter, fields []string, formulas map[int]string) error {
	if len(formulas) == 0 {
		return w.Write(fields)
	}
	if cw, ok := w.(cellWriter); ok {
		return cw.WriteCells(fields, formulas)
	}
	cp := append([]string(nil), fields...)
	for i, f := range formulas {
		if i < s.width {
			cp[i] = "=" + f
		}
	}
	return w.Write(cp)
}

func (s *screenRun) summary(w io.Writer) {
	el := time.Since(s.start)
	n := s.written.Load()
	fmt.Fprintf(w, "robinscreen-screen: %s, each written back in place, in %s (%.0f rows/s)\n", plural(n, "row"), el.Round(time.Millisecond), float64(n)/max(el.Seconds(), 1e-9))
	if s.sheet != "" {
		fmt.Fprintf(w, "  worksheet: %q%s\n", s.sheet, otherSheets(s.others))
	}
	for _, d := range []string{"ALLOW", "BLOCK", "REVIEW", "ERROR"} {
		if c := s.decisions[d]; c > 0 || d != "ERROR" {
			fmt.Fprintf(w, "  %-8s %10d\n", d, c)
		}
	}
	if s.blankRows > 0 {
		fmt.Fprintf(w, "  %-8s %10d (kept in place, not screened)\n", "blank", s.blankRows)
	}
	if len(s.reasons) > 0 {
		fmt.Fprintln(w, "  reasons:")
		keys := make([]string, 0, len(s.reasons))
		for k := range s.reasons {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			return s.reasons[keys[i]] > s.reasons[keys[j]] || s.reasons[keys[i]] == s.reasons[keys[j]] && keys[i] < keys[j]
		})
		for _, k := range keys {
			fmt.Fprintf(w, "    %-28s %10d\n", k, s.reasons[k])
		}
	}
	if len(s.datasets) > 0 {
		fmt.Fprintln(w, "  datasets used:")
		keys := make([]string, 0, len(s.datasets))
		for k := range s.datasets {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			d := s.datasets[k]
			stale := ""
			if d.GetStale() {
				stale = " STALE"
			}
			fmt.Fprintf(w, "    %-9s %s (published %s)%s\n", d.GetKind(), d.GetVersion(), d.GetPublished().AsTime().Format(time.DateOnly), stale)
		}
	}
	if s.stats.Reconnects > 0 {
		fmt.Fprintf(w, "  server unavailable %d times; %d chunks sent again\n", s.stats.Reconnects, s.stats.Resent)
	}
	fmt.Fprintf(w, "  output: %s\n", s.outPath)
	if u := s.otherUnread.Load(); u > 0 {
		fmt.Fprintf(w, "  %s in columns that are not screened could not be read (formulas without a saved value, error values, cells under merged cells); formulas are written back as formulas\n", plural(u, "cell"))
	}
	if u := s.unreadable.Load(); u+s.failed > 0 {
		fmt.Fprintf(w, "  %s could not be read or screened (decision ERROR in the output, each with its reason): see %s\n", plural(s.failed, "row"), s.errsPath)
	}
	if s.noIdentity != "" {
		fmt.Fprintf(w, "  warning: no column can identify a person: %s\n", s.noIdentity)
	}
	switch {
	case s.receiptPath == "":
	case s.receiptNote != "":
		fmt.Fprintf(w, "  warning: no receipt: %s\n", s.receiptNote)
	default:
		fmt.Fprintf(w, "  receipt: %s (verify with: robinscreen-screen receipt verify --key PUB --receipt %s --contacts %s --results %s)\n",
			s.receiptPath, s.receiptPath, s.cfg.input, s.outPath)
	}
}

// plural is "1 row", "2 rows".
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// countingReader counts the bytes read, for the progress bar; a seek (to
// the start, after the encoding scan) sets the count to the new offset.
type countingReader struct {
	r *os.File
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingReader) Seek(off int64, whence int) (int64, error) {
	pos, err := c.r.Seek(off, whence)
	if err == nil {
		c.n.Store(pos)
	}
	return pos, err
}

// progressBar shows a run's progress through the tools' one renderer
// (internal/progress): the share of the input read (bytes of a CSV file,
// rows of a worksheet) with the time left, and the rows screened so far.
type progressBar struct {
	bar  *progress.Bar
	stop chan struct{}
	done chan struct{}
}

func newProgressBar(w io.Writer, mode progress.Mode) *progressBar {
	return &progressBar{bar: progress.New(w, mode)}
}

// start draws the bar every 250 ms until finish.
func (p *progressBar) start(s *screenRun) {
	if !p.bar.On() {
		return
	}
	if s.counter != nil {
		p.bar.Start("screening", s.size, progress.Bytes)
	} else {
		p.bar.Start("screening", s.size, "rows")
	}
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.draw(s)
			}
		}
	}()
}

func (p *progressBar) draw(s *screenRun) {
	rows := s.written.Load()
	if s.counter != nil {
		p.bar.Set(s.counter.n.Load())
	} else {
		p.bar.Set(rows) // rows written approximate the worksheet rows read
	}
	desc := fmt.Sprintf("%d rows", rows)
	if u := s.unreadable.Load(); u > 0 {
		desc += fmt.Sprintf(", %d unreadable", u)
	}
	p.bar.Describe(desc)
}

// finish stops the drawing and erases the bar's line for the summary.
func (p *progressBar) finish() {
	if p.stop != nil {
		close(p.stop)
		<-p.done
		p.stop = nil
	}
	p.bar.Done()
}
