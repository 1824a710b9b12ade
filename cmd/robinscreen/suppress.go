package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/suppress"
)

const suppressUsage = `usage:
  robinscreen suppress add    --addr ADDR (--phone P | --email E | --cpr N | --cvr N)... [--reason R] [--source S] [--scope S]
  robinscreen suppress import --addr ADDR --file FILE [--source S] [--scope S]
  robinscreen suppress remove --addr ADDR (--phone P | --email E | --cpr N | --cvr N | --kind K --pseudonym HEX) [--scope S] --why TEXT
  robinscreen suppress check  --addr ADDR (--phone P | --email E | --cpr N | --cvr N)... [--scope S]
  robinscreen suppress export --addr ADDR [--out FILE]
reasons: requested (default), complaint, bounce, other
connection flags: --tls, --ca, --cert, --key, --server-name, --token, --token-file, --insecure
`

// importChunk is how many entries one ImportSuppressions message carries.
const importChunk = 5000

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// valueFlags are --phone, --email, --cpr and --cvr, each repeatable.
type valueFlags struct{ phone, email, cpr, cvr multiFlag }

func (v *valueFlags) register(fs *flag.FlagSet) {
	fs.Var(&v.phone, "phone", "phone number (repeatable)")
	fs.Var(&v.email, "email", "e-mail address (repeatable)")
	fs.Var(&v.cpr, "cpr", "personal number (repeatable)")
	fs.Var(&v.cvr, "cvr", "CVR number (repeatable)")
}

// inputs returns one SuppressionInput per value, in flag order by kind.
func (v *valueFlags) inputs() []*pb.SuppressionInput {
	var out []*pb.SuppressionInput
	for _, p := range v.phone {
		out = append(out, &pb.SuppressionInput{Phone: p})
	}
	for _, e := range v.email {
		out = append(out, &pb.SuppressionInput{Email: e})
	}
	for _, c := range v.cpr {
		out = append(out, &pb.SuppressionInput{Cpr: c})
	}
	for _, c := range v.cvr {
		out = append(out, &pb.SuppressionInput{Cvr: c})
	}
	return out
}

func toPBReason(r suppress.Reason) pb.SuppressionReason {
	return pb.SuppressionReason(r)
}

// suppressCmd runs robinscreen suppress add|import|remove|check|export.
func suppressCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, suppressUsage)
		return errUsage
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("suppress "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf clientFlags
	cf.register(fs)
	var vals valueFlags
	scope := fs.String("scope", "", "brand or campaign (empty: every scope)")
	usage := func() error { fmt.Fprint(stderr, suppressUsage); return errUsage }
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	switch cmd {
	case "add":
		vals.register(fs)
		reason := fs.String("reason", "requested", "requested, complaint, bounce or other")
		source := fs.String("source", "", "who or what adds the entries (default: the token's name)")
		if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
			return usage()
		}
		in := vals.inputs()
		if len(in) == 0 {
			return usage()
		}
		r, err := suppress.ParseReason(*reason)
		if err != nil {
			return flagError(err, "--reason", *reason)
		}
		for _, x := range in {
			x.Reason, x.Source, x.Scope = toPBReason(r), *source, *scope
		}
		c, done, err := suppressClient(&cf)
		if err != nil {
			return err
		}
		defer done()
		resp, err := c.AddSuppressions(ctx, &pb.AddSuppressionsRequest{Entries: in})
		if err != nil {
			return describeRPCError(err)
		}
		fmt.Fprintf(stdout, "added %d, already present %d, rejected %d\n", resp.GetAdded(), resp.GetAlreadyPresent(), len(resp.GetRejected()))
		for _, r := range resp.GetRejected() {
			fmt.Fprintf(stdout, "  value %d (--%s): %s\n", r.GetIndex()+1, r.GetField(), r.GetMessage())
		}
		if len(resp.GetRejected()) > 0 {
			return errors.New("some values were not added")
		}
		return nil
	case "import":
		file := fs.String("file", "", "CSV file (docs/data-formats.md section 7)")
		source := fs.String("source", "", "source for rows without one (default: the file's name)")
		if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *file == "" {
			return usage()
		}
		return importSuppressions(ctx, &cf, *file, *source, *scope, stdout)
	case "remove":
		vals.register(fs)
		kind := fs.String("kind", "", "kind of --pseudonym: phone, email, cpr or cvr")
		pseudonym := fs.String("pseudonym", "", "the entry's pseudonym, as export lists it")
		why := fs.String("why", "", "why the entry is removed (audited; no personal data)")
		if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *why == "" {
			return usage()
		}
		req := &pb.RemoveSuppressionRequest{Scope: *scope, Why: *why}
		in := vals.inputs()
		switch {
		case len(in) == 1 && *pseudonym == "":
			req.Phone, req.Email, req.Cpr, req.Cvr = in[0].GetPhone(), in[0].GetEmail(), in[0].GetCpr(), in[0].GetCvr()
		case len(in) == 0 && *pseudonym != "":
			k, err := suppress.ParseKind(*kind)
			if err != nil {
				return flagError(err, "--kind", *kind)
			}
			req.Kind, req.Pseudonym = pb.SuppressionKind(k), *pseudonym
		default:
			return usage()
		}
		c, done, err := suppressClient(&cf)
		if err != nil {
			return err
		}
		defer done()
		resp, err := c.RemoveSuppression(ctx, req)
		if err != nil {
			return describeRPCError(err)
		}
		if !resp.GetRemoved() {
			return errors.New("no such entry (check the scope)")
		}
		e := resp.GetEntry()
		fmt.Fprintf(stdout, "removed %s entry %s (scope %q, reason %s, added %s)\n", kindLabel(e.GetKind()), e.GetPseudonym(), e.GetScope(),
			reasonLabel(e.GetReason()), e.GetAdded().AsTime().Format(time.RFC3339))
		return nil
	case "check":
		vals.register(fs)
		if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
			return usage()
		}
		in := vals.inputs()
		if len(in) == 0 {
			return usage()
		}
		c, done, err := suppressClient(&cf)
		if err != nil {
			return err
		}
		defer done()
		resp, err := c.CheckSuppressions(ctx, &pb.CheckSuppressionsRequest{Values: in, Scope: *scope})
		if err != nil {
			return describeRPCError(err)
		}
		for i, r := range resp.GetResults() {
			switch {
			case r.GetError() != "":
				fmt.Fprintf(stdout, "value %d: %s\n", i+1, r.GetError())
			case r.GetSuppressed():
				fmt.Fprintf(stdout, "value %d: SUPPRESSED\n", i+1)
			default:
				fmt.Fprintf(stdout, "value %d: not suppressed\n", i+1)
			}
			for _, e := range r.GetEntries() {
				fmt.Fprintf(stdout, "  entry %s scope %q reason %s source %q added %s\n", e.GetPseudonym(), e.GetScope(), reasonLabel(e.GetReason()),
					e.GetSource(), e.GetAdded().AsTime().Format(time.RFC3339))
			}
		}
		return nil
	case "export":
		out := fs.String("out", "", "file to write (default: standard output)")
		if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
			return usage()
		}
		return exportSuppressions(ctx, &cf, *out, stdout)
	}
	return usage()
}

func suppressClient(cf *clientFlags) (pb.SuppressionServiceClient, func(), error) {
	conn, err := cf.dial()
	if err != nil {
		return nil, nil, err
	}
	return pb.NewSuppressionServiceClient(conn), func() { conn.Close() }, nil
}

func kindLabel(k pb.SuppressionKind) string {
	return strings.ToLower(strings.TrimPrefix(k.String(), "SUPPRESSION_KIND_"))
}

func reasonLabel(r pb.SuppressionReason) string {
	return strings.TrimPrefix(r.String(), "SUPPRESSION_REASON_")
}

// importSuppressions streams the rows of file in chunks. Every value of a
// row becomes an entry; rows the reader refuses are counted and listed by
// line, never by value.
func importSuppressions(ctx context.Context, cf *clientFlags, file, source, scope string, stdout io.Writer) error {
	f, err := os.Open(file)
	if err != nil {
		return flagError(err, "--file", file)
	}
	defer f.Close()
	ir, err := suppress.NewImportReader(f)
	if err != nil {
		return flagError(err, "--file", file)
	}
	if source == "" {
		source = filepath.Base(file)
	}
	c, done, err := suppressClient(cf)
	if err != nil {
		return err
	}
	defer done()
	stream, err := c.ImportSuppressions(ctx)
	if err != nil {
		return describeRPCError(err)
	}
	var refused []*suppress.RowError
	refusedCount := 0
	var lines []int // file line of each entry sent, for the server's rejects
	msg := &pb.ImportSuppressionsRequest{SourceName: filepath.Base(file)}
	send := func() error {
		if len(msg.Entries) == 0 {
			return nil
		}
		if err := stream.Send(msg); err != nil {
			return err
		}
		msg = &pb.ImportSuppressionsRequest{}
		return nil
	}
	for {
		row, err := ir.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *suppress.RowError
		if errors.As(err, &re) {
			refusedCount++
			if len(refused) < 100 {
				refused = append(refused, re)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("--file %s: %w", file, err)
		}
		for _, k := range suppress.Kinds {
			v, ok := row.Values[k]
			if !ok {
				continue
			}
			in := &pb.SuppressionInput{Reason: toPBReason(row.Reason), Source: row.Source, Scope: row.Scope}
			if in.Source == "" {
				in.Source = source
			}
			if in.Scope == "" {
				in.Scope = scope
			}
			if !row.Added.IsZero() {
				in.Added = timestamppb.New(row.Added)
			}
			switch k {
			case suppress.KindPhone:
				in.Phone = v
			case suppress.KindEmail:
				in.Email = v
			case suppress.KindCPR:
				in.Cpr = v
			case suppress.KindCVR:
				in.Cvr = v
			}
			msg.Entries = append(msg.Entries, in)
			lines = append(lines, row.Line)
		}
		if len(msg.Entries) >= importChunk {
			if err := send(); err != nil {
				break // the server's status comes with CloseAndRecv
			}
		}
	}
	send()
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return describeRPCError(err)
	}
	fmt.Fprintf(stdout, "imported: added %d, already present %d, rejected %d (rows) + %d (values)\n",
		resp.GetAdded(), resp.GetAlreadyPresent(), refusedCount, resp.GetRejectedCount())
	for _, re := range refused {
		fmt.Fprintf(stdout, "  %s\n", re.Error())
	}
	for _, r := range resp.GetRejected() {
		line := 0
		if i := int(r.GetIndex()); i >= 0 && i < len(lines) {
			line = lines[i]
		}
		fmt.Fprintf(stdout, "  line %d: %s %s\n", line, r.GetField(), r.GetMessage())
	}
	return nil
}

// exportSuppressions writes every entry as CSV: kind, pseudonym, reason,
// source, scope, added. No value is ever part of it.
func exportSuppressions(ctx context.Context, cf *clientFlags, out string, stdout io.Writer) (err error) {
	w := stdout
	if out != "" {
		f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return flagError(err, "--out", out)
		}
		defer func() {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}()
		w = f
	}
	c, done, err := suppressClient(cf)
	if err != nil {
		return err
	}
	defer done()
	stream, err := c.ExportSuppressions(ctx, &pb.ExportSuppressionsRequest{})
	if err != nil {
		return describeRPCError(err)
	}
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.Write([]string{"kind", "pseudonym", "reason", "source", "scope", "added"})
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return describeRPCError(err)
		}
		for _, e := range m.GetEntries() {
			cw.Write([]string{kindLabel(e.GetKind()), e.GetPseudonym(), reasonLabel(e.GetReason()), e.GetSource(), e.GetScope(),
				e.GetAdded().AsTime().UTC().Format(time.RFC3339)})
		}
	}
	cw.Flush()
	return cw.Error()
}
