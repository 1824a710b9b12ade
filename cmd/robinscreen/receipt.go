package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/robinscreen/robinscreen/internal/receiptpb"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/receipt"
)

// DefaultReceiptKeyFile is where serve keeps its receipt key unless
// --receipt-key-file says otherwise: inside the data directory, like the
// pseudonym key, so that serve works with no flags.
func DefaultReceiptKeyFile(dir string) string { return filepath.Join(dir, "receipt.key") }

// receiptSigner reads serve's receipt key (creating the default one when
// missing) and returns its signer. Its errors name --receipt-key-file.
func receiptSigner(path, data string, demo bool, log *slog.Logger) (*receipt.Signer, error) {
	flagged := path != ""
	if !flagged {
		path = DefaultReceiptKeyFile(data)
	}
	var key []byte
	var err error
	if flagged {
		// A configured key is never made up: a missing file is a mistake.
		key, err = receipt.ReadKeyFile(path)
	} else {
		var created bool
		key, created, err = receipt.LoadOrCreateKeyFile(path)
		if created {
			log.Info("created a receipt key", "file", path)
		}
		if err == nil && !demo {
			log.Warn("the receipt key lies inside the data directory: anyone with a copy of the directory can sign receipts as this service; keep it elsewhere in production (--receipt-key-file)")
		}
	}
	if err != nil {
		return nil, flagError(err, "--receipt-key-file", path)
	}
	signer, err := receipt.NewSigner(key)
	if err != nil {
		return nil, flagError(err, "--receipt-key-file", path)
	}
	log.Info("signing receipts", "key_id", signer.KeyID())
	return signer, nil
}

// receiptKey runs `robinscreen receipt-key --out FILE`: it makes a new
// receipt key (never over an existing file) and prints its public key.
func receiptKey(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("receipt-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "the new key file (required; must not exist); give it to serve --receipt-key-file")
	pubOut := fs.String("public-out", "", "also write the public key (PEM) to this file")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *out == "" {
		if *out == "" {
			fmt.Fprintln(stderr, "robinscreen receipt-key: --out is required")
		}
		return errUsage
	}
	key, err := receipt.CreateKeyFile(*out)
	if err != nil {
		return flagError(err, "--out", *out)
	}
	signer, err := receipt.NewSigner(key)
	if err != nil {
		return err
	}
	pem := receipt.MarshalPublicKey(signer.PublicKey())
	if *pubOut != "" {
		if err := os.WriteFile(*pubOut, pem, 0o644); err != nil {
			return flagError(err, "--public-out", *pubOut)
		}
	}
	fmt.Fprintf(stdout, "receipt key %s written to %s (key id %s); its public key:\n%s", "Ed25519", *out, signer.KeyID(), pem)
	return nil
}

// receiptCmd runs `robinscreen receipt key|verify`.
func receiptCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: robinscreen receipt key --addr ADDR | verify --key PUB --receipt FILE --contacts FILE --results FILE")
		return errUsage
	}
	switch args[0] {
	case "verify":
		return receiptVerify(args[1:], stdout, stderr)
	case "key":
		return receiptFetchKey(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "robinscreen receipt: unknown command %q (key, verify)\n", args[0])
	return errUsage
}

// receiptFetchKey prints the service's receipt public key (PEM), fetched
// with GetReceiptKey.
func receiptFetchKey(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("receipt key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf clientFlags
	cf.register(fs)
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	conn, err := cf.dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := pb.NewScreeningServiceClient(conn).GetReceiptKey(ctx, &pb.GetReceiptKeyRequest{})
	if err != nil {
		return describeRPCError(err)
	}
	fmt.Fprint(stdout, resp.GetPublicKeyPem())
	return nil
}

// receiptVerify runs `robinscreen receipt verify`: exit 0 and "receipt
// verified" when the receipt is the service's and describes exactly the
// contacts and results given, else exit 1 naming what differs.
func receiptVerify(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("receipt verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key", "", "the service's receipt public key: PEM (robinscreen receipt key), hex or base64")
	receiptFile := fs.String("receipt", "", "the receipt (JSON, as the service sent it)")
	contactsFile := fs.String("contacts", "", "the contacts screened, in order: JSON lines, each a ScreenContactRequest (channel, purpose, contact) or a ScreenContactsRequest")
	resultsFile := fs.String("results", "", "their results, in order: JSON lines, each a ScreeningResult or a ScreenContactsResponse")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *keyFile == "" || *receiptFile == "" || *contactsFile == "" || *resultsFile == "" {
		fmt.Fprintln(stderr, "robinscreen receipt verify: --key, --receipt, --contacts and --results are required")
		return errUsage
	}
	kb, err := os.ReadFile(*keyFile)
	if err != nil {
		return flagError(err, "--key", *keyFile)
	}
	pub, err := receipt.ParsePublicKey(kb)
	if err != nil {
		return flagError(err, "--key", *keyFile)
	}
	rb, err := os.ReadFile(*receiptFile)
	if err != nil {
		return flagError(err, "--receipt", *receiptFile)
	}
	r, err := ReadReceipt(rb)
	if err != nil {
		return flagError(err, "--receipt", *receiptFile)
	}
	b := receipt.NewBuilder(r.Nonce)
	if err := digestFiles(b, *contactsFile, *resultsFile); err != nil {
		return err
	}
	if err := receipt.Verify(pub, r, b); err != nil {
		return fmt.Errorf("receipt NOT verified: %w", err)
	}
	fmt.Fprintf(stdout, "receipt verified: %d contacts screened %s against %s (key %s)\n",
		r.Contacts, r.IssuedAt.Format(time.RFC3339), datasetList(r.Datasets), r.KeyID)
	return nil
}

func datasetList(ds []receipt.Dataset) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, d.Kind+" "+d.Version)
	}
	if len(parts) == 0 {
		return "no datasets"
	}
	return strings.Join(parts, ", ")
}

// ReadReceipt reads a receipt as JSON: a ScreeningReceipt, or a
// ScreenContactsResponse that carries one. It returns protojson's errors
// and an error when there is no receipt.
func ReadReceipt(b []byte) (*receipt.Receipt, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, fmt.Errorf("not a JSON receipt: %w", err)
	}
	var p pb.ScreeningReceipt
	if raw, ok := keys["receipt"]; ok {
		b = raw
	}
	if err := protojson.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("not a receipt: %w", err)
	}
	return receiptpb.FromProto(&p), nil
}

// digestFiles reads the contacts and results files in step and adds each
// pair to b. Its errors name the file and line; they never quote a line
// (a contact is personal data).
func digestFiles(b *receipt.Builder, contactsFile, resultsFile string) error {
	cf, err := os.Open(contactsFile)
	if err != nil {
		return flagError(err, "--contacts", contactsFile)
	}
	defer cf.Close()
	rf, err := os.Open(resultsFile)
	if err != nil {
		return flagError(err, "--results", resultsFile)
	}
	defer rf.Close()
	contacts := newJSONLines(cf, contactsFile, readContacts)
	results := newJSONLines(rf, resultsFile, readResults)
	var c receipt.Contact
	var r receipt.Result
	for {
		cOK, err := contacts.next(func(item any) {
			con := item.(contactItem)
			receiptpb.Contact(con.ch, con.purpose, con.scope, con.c, &c)
		})
		if err != nil {
			return err
		}
		rOK, err := results.next(func(item any) { receiptpb.Result(item.(*pb.ScreeningResult), &r) })
		if err != nil {
			return err
		}
		switch {
		case !cOK && !rOK:
			return nil
		case !cOK:
			return fmt.Errorf("receipt NOT verified: %s holds more results than %s holds contacts", resultsFile, contactsFile)
		case !rOK:
			return fmt.Errorf("receipt NOT verified: %s holds fewer results than %s holds contacts", resultsFile, contactsFile)
		}
		b.Add(&c, &r)
	}
}

type contactItem struct {
	ch      pb.Channel
	purpose pb.Purpose
	scope   string
	c       *pb.Contact
}

// jsonLines reads items from a JSON-lines file; a line may hold several
// (a request or response message of a batch).
type jsonLines struct {
	sc      *bufio.Scanner
	name    string
	line    int
	pending []any
	parse   func([]byte) ([]any, error)
}

func newJSONLines(r io.Reader, name string, parse func([]byte) ([]any, error)) *jsonLines {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 64<<20)
	return &jsonLines{sc: sc, name: name, parse: parse}
}

// next hands the next item to fn and reports true, or reports false at
// the end of the file.
func (j *jsonLines) next(fn func(any)) (bool, error) {
	for len(j.pending) == 0 {
		if !j.sc.Scan() {
			if err := j.sc.Err(); err != nil {
				return false, fmt.Errorf("%s: %w", j.name, err)
			}
			return false, nil
		}
		j.line++
		line := strings.TrimSpace(j.sc.Text())
		if line == "" {
			continue
		}
		items, err := j.parse([]byte(line))
		if err != nil {
			return false, fmt.Errorf("%s line %d: %s", j.name, j.line, jsonErrorText(err))
		}
		j.pending = items
	}
	fn(j.pending[0])
	j.pending = j.pending[1:]
	return true, nil
}

// jsonErrorText says what is wrong with a line without quoting it.
func jsonErrorText(err error) string {
	if errors.Is(err, errNotObject) {
		return err.Error()
	}
	return "not the expected JSON message"
}

var errNotObject = errors.New("not a JSON object (a call list and its screened output, CSV or XLSX, are verified with: robinscreen-screen receipt verify, same flags)")

// readContacts reads a contacts line: a ScreenContactRequest (channel,
// purpose, contact) or a ScreenContactsRequest (channel, purpose,
// contacts).
func readContacts(b []byte) ([]any, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, errNotObject
	}
	if _, ok := keys["contacts"]; ok {
		var req pb.ScreenContactsRequest
		if err := protojson.Unmarshal(b, &req); err != nil {
			return nil, err
		}
		out := make([]any, 0, len(req.GetContacts()))
		for _, c := range req.GetContacts() {
			out = append(out, contactItem{req.GetChannel(), req.GetPurpose(), req.GetScope(), c})
		}
		return out, nil
	}
	var req pb.ScreenContactRequest
	if err := protojson.Unmarshal(b, &req); err != nil {
		return nil, err
	}
	if req.GetContact() == nil {
		// A request message without contacts (JSON leaves out an empty
		// list); the service screens no contact without one.
		return nil, nil
	}
	return []any{contactItem{req.GetChannel(), req.GetPurpose(), req.GetScope(), req.GetContact()}}, nil
}

// readResults reads a results line: a ScreeningResult, a
// ScreenContactResponse (result) or a ScreenContactsResponse (results; a
// receipt in it is skipped).
func readResults(b []byte) ([]any, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, errNotObject
	}
	_, hasResults := keys["results"]
	_, hasReceipt := keys["receipt"]
	if len(keys) == 0 {
		return nil, nil // a response without results (JSON leaves out an empty list)
	}
	if hasResults || hasReceipt {
		var resp pb.ScreenContactsResponse
		if err := protojson.Unmarshal(b, &resp); err != nil {
			return nil, err
		}
		out := make([]any, 0, len(resp.GetResults()))
		for _, r := range resp.GetResults() {
			out = append(out, r)
		}
		return out, nil
	}
	if raw, ok := keys["result"]; ok {
		b = raw
	}
	var r pb.ScreeningResult
	if err := protojson.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	return []any{&r}, nil
}
