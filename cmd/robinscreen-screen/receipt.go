package main

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/robinscreen/robinscreen/internal/calllist"
	"github.com/robinscreen/robinscreen/internal/receiptpb"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/receipt"
)

// receiptFile is what the call-list tool writes beside its output: the
// server's signed receipt and, unsigned, how the call list was read, so
// that `robinscreen-screen receipt verify` reads it the same way. A wrong
// reading only makes verification fail; the signature covers the digests.
type receiptFile struct {
	Receipt  json.RawMessage `json:"receipt"`
	CallList callListInfo    `json:"call_list"`
}

// callListInfo is how a call list was read: the settings that decide
// which contact each row becomes.
type callListInfo struct {
	Input       string            `json:"input"`
	Output      string            `json:"output"`
	InputFormat string            `json:"input_format,omitempty"`
	Sheet       string            `json:"sheet,omitempty"`
	Encoding    string            `json:"encoding,omitempty"`
	Delimiter   string            `json:"delimiter,omitempty"`
	Columns     map[string]string `json:"columns,omitempty"`
	Channel     string            `json:"channel,omitempty"`
	Purpose     string            `json:"purpose,omitempty"`
}

// writeReceipt writes the receipt file under a temporary name, renamed
// with the outputs. A run without one receipt covering every contact sent
// (the server has no receipts, or was unavailable mid-run so that no one
// stream carried the whole list) writes none and says why in the summary;
// a receipt of an earlier run is removed, since it does not describe the
// new output. It returns the file system's errors.
func (s *screenRun) writeReceipt() error {
	s.receiptMu.Lock()
	rcs := s.receipts
	s.receiptMu.Unlock()
	switch {
	case s.screened == 0:
		s.receiptNote = "no row was screened"
	case len(rcs) == 0:
		s.receiptNote = "the server sent none (a robinscreen without receipts?)"
	case len(rcs) > 1 || rcs[0].GetContacts() != s.screened:
		s.receiptNote = fmt.Sprintf("the server was unavailable during the run, so no one receipt covers all %d rows screened; screen the list again for one", s.screened)
	}
	if s.receiptNote != "" {
		return nil // removeStaleReceipt, once the outputs have their names
	}
	rc, err := protojson.Marshal(rcs[0])
	if err != nil {
		return err
	}
	cfg := s.cfg
	info := callListInfo{
		Input: filepath.Base(cfg.input), Output: filepath.Base(s.outPath), InputFormat: cfg.inFormat,
		Sheet: s.sheet, Encoding: cfg.encoding, Delimiter: cfg.delimiter, Columns: maps.Clone(cfg.cols),
		Channel: cfg.channel, Purpose: cfg.purpose,
	}
	b, err := json.MarshalIndent(receiptFile{Receipt: rc, CallList: info}, "", "  ")
	if err != nil {
		return err
	}
	f, err := calllist.CreatePending(s.receiptPath)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Abort()
		return err
	}
	s.pendingFiles = append(s.pendingFiles, f)
	return nil
}

// removeStaleReceipt removes the receipt of an earlier run when this run,
// whose outputs have replaced that run's, wrote none: it would not
// describe them. It returns the file system's errors.
func (s *screenRun) removeStaleReceipt() error {
	if s.receiptPath == "" || s.receiptNote == "" {
		return nil
	}
	if err := os.Remove(s.receiptPath); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// receiptMain runs `robinscreen-screen receipt verify`: it checks a call
// list's receipt against the call list and the screened output, read as
// the run read them. Exit status 0 when verified, 1 when not (the message
// names what differs, never a cell's content), 2 for bad flags or files
// that cannot be read.
func receiptMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, "usage: robinscreen-screen receipt verify --key PUB --receipt FILE --contacts CALLLIST --results SCREENED")
		return 2
	}
	cols := colFlags{}
	fs := flag.NewFlagSet("robinscreen-screen receipt verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key", "", "the service's receipt public key: PEM (robinscreen receipt key), hex or base64")
	receiptPath := fs.String("receipt", "", "the receipt file the run wrote (OUTPUT.receipt.json)")
	contactsPath := fs.String("contacts", "", "the call list screened (CSV or XLSX)")
	resultsPath := fs.String("results", "", "the screened output (default: the one the receipt file names, beside the call list)")
	// Readings of the call list; by default the run's, from the receipt file.
	inFormat := fs.String("input-format", "", "input format as the run read it (default: the receipt file's)")
	encoding := fs.String("encoding", "", "CSV encoding as the run read it (default: the receipt file's)")
	delimiter := fs.String("delimiter", "", "CSV delimiter as the run read it (default: the receipt file's)")
	sheet := fs.String("sheet", "", "XLSX worksheet as the run read it (default: the receipt file's)")
	channel := fs.String("channel", "", "--channel of the run (default: the receipt file's)")
	purpose := fs.String("purpose", "", "--purpose of the run (default: the receipt file's)")
	fs.Var(cols, "col", "--col of the run (default: the receipt file's)")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 || *keyFile == "" || *receiptPath == "" || *contactsPath == "" {
		fmt.Fprintln(stderr, "robinscreen-screen receipt verify: --key, --receipt and --contacts are required")
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "robinscreen-screen:", err)
		return 2
	}
	kb, err := os.ReadFile(*keyFile)
	if err != nil {
		return fail(err)
	}
	pub, err := receipt.ParsePublicKey(kb)
	if err != nil {
		return fail(fmt.Errorf("--key %s: %w", *keyFile, err))
	}
	rc, info, err := readReceiptFile(*receiptPath)
	if err != nil {
		return fail(fmt.Errorf("--receipt %s: %w", *receiptPath, err))
	}
	set := func(dst *string, flagVal string) {
		if flagVal != "" {
			*dst = flagVal
		}
	}
	set(&info.InputFormat, *inFormat)
	set(&info.Encoding, *encoding)
	set(&info.Delimiter, *delimiter)
	set(&info.Sheet, *sheet)
	set(&info.Channel, *channel)
	set(&info.Purpose, *purpose)
	if len(cols) > 0 {
		info.Columns = cols
	}
	if *resultsPath == "" {
		if info.Output == "" {
			return fail(errors.New("--results: the receipt file names no output; give the screened file"))
		}
		*resultsPath = filepath.Join(filepath.Dir(*contactsPath), info.Output)
	}
	v, err := verifyCallList(pub, rc, info, *contactsPath, *resultsPath)
	if err != nil {
		return fail(err)
	}
	if v != nil {
		fmt.Fprintf(stderr, "robinscreen-screen: receipt NOT verified: %v\n", v)
		return 1
	}
	var ds []string
	for _, d := range rc.Datasets {
		ds = append(ds, d.Kind+" "+d.Version)
	}
	fmt.Fprintf(stdout, "receipt verified: %d rows of %s screened %s against %s (key %s)\n",
		rc.Contacts, filepath.Base(*contactsPath), rc.IssuedAt.Format(time.RFC3339), strings.Join(ds, ", "), rc.KeyID)
	return 0
}

// readReceiptFile reads a receipt file: the tool's (receipt and how the
// list was read) or a bare ScreeningReceipt. It returns JSON errors.
func readReceiptFile(path string) (*receipt.Receipt, callListInfo, error) {
	var info callListInfo
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, info, err
	}
	var f receiptFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, info, fmt.Errorf("not a receipt file: %w", err)
	}
	raw := []byte(f.Receipt)
	if len(raw) == 0 {
		raw = b
	}
	var p pb.ScreeningReceipt
	if err := protojson.Unmarshal(raw, &p); err != nil {
		return nil, info, fmt.Errorf("not a receipt: %w", err)
	}
	return receiptpb.FromProto(&p), f.CallList, nil
}

// callListRows reads a call list as the run read it and yields the rows
// it sent, as contacts, in order.
type callListRows struct {
	in      rowReader
	mapping *calllist.Mapping
	close   func()
}

// openCallList opens path with the run's readings. It returns the
// readers' errors and those of the column mapping.
func openCallList(path string, info callListInfo, sheet string) (*callListRows, error) {
	inFmt := info.InputFormat
	if inFmt == "" || inFmt == "auto" {
		inFmt = "csv"
		if ext := strings.ToLower(filepath.Ext(path)); ext == ".xlsx" || ext == ".xlsm" {
			inFmt = "xlsx"
		}
	}
	c := &callListRows{close: func() {}}
	switch inFmt {
	case "csv":
		enc, err := calllist.ParseEncoding(orAuto(info.Encoding))
		if err != nil {
			return nil, err
		}
		comma, err := calllist.ParseDelimiter(orAuto(info.Delimiter))
		if err != nil {
			return nil, err
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		cr, err := calllist.OpenCSV(f, enc, comma)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		c.in, c.close = cr, func() { f.Close() }
	case "xlsx":
		xr, err := calllist.OpenXLSX(path, sheet)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		c.in, c.close = xr, func() { xr.Close() }
	default:
		return nil, fmt.Errorf("input format %q: want csv or xlsx", inFmt)
	}
	return c, nil
}

func orAuto(s string) string {
	if s == "" {
		return "auto"
	}
	return s
}

// mapColumns maps the list's columns as the run did.
func (c *callListRows) mapColumns(info callListInfo) error {
	m, err := calllist.MapColumns(c.in.Header(), info.Columns)
	if err != nil {
		return err
	}
	if info.Channel != "" {
		if m.Channel, err = calllist.ParseChannel(info.Channel); err != nil {
			return fmt.Errorf("channel: %w", err)
		}
	}
	if m.Purpose, err = calllist.ParsePurpose(info.Purpose); err != nil {
		return fmt.Errorf("purpose: %w", err)
	}
	c.mapping = m
	return nil
}

// next returns the next row the run sent as a contact, and its line; ok
// is false at the end. Rows the run did not send (blank, unreadable, a
// mapped cell that could not be read, a row that makes no contact) are
// skipped as the run skipped them.
func (c *callListRows) next() (contact *pb.Contact, ch pb.Channel, purpose pb.Purpose, line int, ok bool, err error) {
	for {
		rec, rerr, err := c.in.Read()
		if errors.Is(err, io.EOF) {
			return nil, 0, 0, 0, false, nil
		}
		if err != nil {
			return nil, 0, 0, 0, false, err
		}
		if rerr != nil || rec.Blank {
			continue
		}
		unread := false
		for _, u := range rec.Unread {
			if _, mapped := c.mapping.FieldAt(u.Col); mapped {
				unread = true
			}
		}
		if unread {
			continue
		}
		contact, ch, purpose, err := c.mapping.Contact(rec.Fields, strconv.Itoa(rec.Line))
		if err != nil {
			continue
		}
		return contact, ch, purpose, rec.Line, true, nil
	}
}

// screenedRows reads a screened output and yields the rows that got a
// decision, with their cells.
type screenedRows struct {
	*callListRows
}

// next returns the next screened row's cells, decision and reasons; ok is
// false at the end.
func (s *screenedRows) next() (fields []string, decision string, reasons []string, ok bool, err error) {
	h := s.in.Header()
	if len(h) < 3 {
		return nil, "", nil, false, errors.New("the screened output has no decision, reasons and explanation columns")
	}
	for {
		rec, rerr, err := s.in.Read()
		if errors.Is(err, io.EOF) {
			return nil, "", nil, false, nil
		}
		if err != nil {
			return nil, "", nil, false, err
		}
		if rerr != nil || rec.Blank {
			continue
		}
		f := rec.Fields
		for len(f) < len(h) {
			f = append(f, "")
		}
		d := strings.TrimSpace(f[len(h)-3])
		if d != "ALLOW" && d != "BLOCK" && d != "REVIEW" {
			continue // blank, ERROR: not screened
		}
		for _, x := range strings.Split(f[len(h)-2], "|") {
			if x = strings.TrimSpace(x); x != "" {
				reasons = append(reasons, "REASON_"+x)
			}
		}
		return f[:len(h)-3], "DECISION_" + d, reasons, true, nil
	}
}

// verifyCallList digests the call list's contacts with the output's
// results, and, when the output is another file, the output's own copy of
// the contacts' cells with them, and verifies both against the receipt.
// It returns the receipt's refusal (nil when verified) or an error
// reading the files.
func verifyCallList(pub ed25519.PublicKey, rc *receipt.Receipt, info callListInfo, contactsPath, resultsPath string) (verr error, err error) {
	list, err := openCallList(contactsPath, info, info.Sheet)
	if err != nil {
		return nil, err
	}
	defer list.close()
	if err := list.mapColumns(info); err != nil {
		return nil, err
	}
	outInfo := info
	outInfo.InputFormat = ""
	out, err := openCallList(resultsPath, outInfo, "")
	if err != nil {
		return nil, err
	}
	defer out.close()
	outRows := &screenedRows{out}
	same := filepath.Clean(contactsPath) == filepath.Clean(resultsPath)
	fromList, fromOutput := receipt.NewBuilder(rc.Nonce), receipt.NewBuilder(rc.Nonce)
	var c receipt.Contact
	var r receipt.Result
	for {
		contact, ch, purpose, line, cOK, err := list.next()
		if err != nil {
			return nil, err
		}
		fields, decision, reasons, rOK, err := outRows.next()
		if err != nil {
			return nil, err
		}
		switch {
		case !cOK && !rOK:
			if err := receipt.Verify(pub, rc, fromList); err != nil {
				return err, nil
			}
			if !same {
				if err := receipt.Verify(pub, rc, fromOutput); err != nil {
					return fmt.Errorf("the output's copy of the call list's columns: %w", err), nil
				}
			}
			return nil, nil
		case !cOK:
			return fmt.Errorf("%w: the output holds more screened rows than the call list rows to screen", receipt.ErrResults), nil
		case !rOK:
			return fmt.Errorf("%w: the output holds fewer screened rows than the call list rows to screen (line %d on)", receipt.ErrResults, line), nil
		}
		r = receipt.Result{Ref: contact.GetRef(), Decision: decision, Reasons: reasons}
		receiptpb.Contact(ch, purpose, "", contact, &c) // the tool names no scope
		fromList.Add(&c, &r)
		if !same {
			oc, och, opurpose, err := list.mapping.Contact(fields, contact.GetRef())
			if err != nil {
				oc, och, opurpose = &pb.Contact{}, ch, purpose // differs: the digest says so
			}
			receiptpb.Contact(och, opurpose, "", oc, &c)
			fromOutput.Add(&c, &r)
		}
	}
}
