package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

const adminUsage = `usage:
  robinscreen admin load     --addr ADDR [--robinson FILE] [--cpr FILE] [--streets FILE] [--cvr FILE] [--published YYYY-MM-DD]
                             [--cpr-produced YYYY-MM-DD] [--streets-date YYYY-MM-DD] [--extracted YYYY-MM-DD]
                             [--max-reject-ratio R] [--allow-shrink] [--import]
  robinscreen admin load     --addr ADDR --addr ADDR ... --rolling [the flags above]
  robinscreen admin load     --addr ADDR --attach LOAD-ID
  robinscreen admin status   --addr ADDR [--addr ADDR ...]
  robinscreen admin versions --addr ADDR [--addr ADDR ...] --kind robinson|cpr|streets|cvr
  robinscreen admin rollback --addr ADDR [--addr ADDR ...] --kind robinson|cpr|streets|cvr
--addr may be repeated, or name one DNS name that resolves to several
addresses: the commands then run on every replica (load only with --rolling,
replica by replica, stopping at the first refusal).
connection flags: --ca, --cert, --key, --token, --token-file, --insecure
`

// admin runs the online administration commands against a server.
func admin(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, adminUsage)
		return errUsage
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("admin "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf clientFlags
	cf.register(fs)
	switch cmd {
	case "load":
		robinsonFile := fs.String("robinson", "", "Robinson list file to upload")
		cprFile := fs.String("cpr", "", "CPR extract file to upload")
		streetsFile := fs.String("streets", "", "CPR road register file to upload")
		cvrFile := fs.String("cvr", "", "CVR advertising-protection file to upload")
		published := fs.String("published", "", "override the Robinson list's publication date (YYYY-MM-DD)")
		produced := fs.String("cpr-produced", "", "override the CPR extract's production date (YYYY-MM-DD)")
		streetsDate := fs.String("streets-date", "", "override the road register's date (YYYY-MM-DD)")
		extracted := fs.String("extracted", "", "the CVR data's extraction date (YYYY-MM-DD; required for a CSV)")
		ratio := fs.Float64("max-reject-ratio", 0, "reject threshold (default 0.001)")
		allowShrink := fs.Bool("allow-shrink", false, "accept a file with fewer than 90 % of the records of the serving version (the shrink is expected)")
		named := fs.Bool("import", false, "do not upload: the files are names inside the server's --import-dir")
		attach := fs.String("attach", "", "follow a load already running on the server (its ID, from admin status) until it ends")
		rolling := fs.Bool("rolling", false, "with several replicas: load them one after the other, stopping at the first refusal (the rest keep their versions)")
		if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
			fmt.Fprint(stderr, adminUsage)
			return errUsage
		}
		if files := *robinsonFile != "" || *cprFile != "" || *streetsFile != "" || *cvrFile != ""; files == (*attach != "") {
			fmt.Fprintln(stderr, "robinscreen admin load: give files to load, or --attach LOAD-ID, not both")
			fmt.Fprint(stderr, adminUsage)
			return errUsage
		}
		reps, err := cf.replicas(context.Background())
		if err != nil {
			return err
		}
		if len(reps) > 1 && (*attach != "" || !*rolling) {
			fmt.Fprintf(stderr, "robinscreen admin load: %d replicas (%s): give --rolling to load them one by one (--attach follows one server's load)\n", len(reps), replicaAddrs(reps))
			return errUsage
		}
		if *attach != "" {
			c, done, err := adminClient(&reps[0])
			if err != nil {
				return err
			}
			defer done()
			return attachLoad(c, *attach, stdout, newProgressBar(stderr), 500*time.Millisecond)
		}
		load := func(c pb.DatasetServiceClient, prefix string) error {
			return loadJobs(c, prefix, loadFiles{robinson: *robinsonFile, cpr: *cprFile, streets: *streetsFile, cvr: *cvrFile,
				published: *published, produced: *produced, streetsDate: *streetsDate, extracted: *extracted}, *ratio, *allowShrink, *named, stdout, stderr)
		}
		if len(reps) == 1 {
			c, done, err := adminClient(&reps[0])
			if err != nil {
				return err
			}
			defer done()
			return load(c, "")
		}
		return rollingLoad(reps, load, stdout)
	case "status":
		if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
			return errUsage
		}
		reps, err := cf.replicas(context.Background())
		if err != nil {
			return err
		}
		if len(reps) > 1 {
			return printFleet(stdout, fleetStatus(reps, fleetTimeout))
		}
		c, done, err := adminClient(&reps[0])
		if err != nil {
			return err
		}
		defer done()
		resp, err := c.GetDatasetStatus(context.Background(), &pb.GetDatasetStatusRequest{})
		if err != nil {
			return describeRPCError(err)
		}
		printStatus(stdout, resp)
		return nil
	case "versions", "rollback":
		kind := fs.String("kind", "", "robinson, cpr or streets")
		if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
			return errUsage
		}
		k, ok := map[string]pb.DatasetKind{"robinson": pb.DatasetKind_DATASET_KIND_ROBINSON, "cpr": pb.DatasetKind_DATASET_KIND_CPR, "streets": pb.DatasetKind_DATASET_KIND_STREETS, "cvr": pb.DatasetKind_DATASET_KIND_CVR}[*kind]
		if !ok {
			fmt.Fprintln(stderr, "robinscreen admin "+cmd+": --kind robinson|cpr|streets|cvr is required")
			return errUsage
		}
		reps, err := cf.replicas(context.Background())
		if err != nil {
			return err
		}
		for i, r := range reps {
			prefix := ""
			if len(reps) > 1 {
				prefix = r.addr + ": "
				if cmd == "versions" {
					fmt.Fprintf(stdout, "== %s\n", r.addr)
				}
			}
			err := versionsOrRollback(&r, cmd, k, *kind, prefix, stdout)
			if err != nil && len(reps) > 1 && cmd == "rollback" {
				printFleet(stdout, fleetStatus(reps, fleetTimeout))
				return fmt.Errorf("%s%v; stopped: %s not rolled back", prefix, err, orNone(replicaAddrs(reps[i+1:])))
			}
			if err != nil {
				return err
			}
		}
		if len(reps) > 1 && cmd == "rollback" {
			return printFleet(stdout, fleetStatus(reps, fleetTimeout))
		}
		return nil
	}
	fmt.Fprintf(stderr, "robinscreen admin: unknown command %q\n%s", cmd, adminUsage)
	return errUsage
}

// fleetTimeout bounds each replica's answer to a status request.
const fleetTimeout = 10 * time.Second

// replicaAddrs joins the replicas' addresses.
func replicaAddrs(reps []clientFlags) string {
	a := make([]string, len(reps))
	for i, r := range reps {
		a[i] = r.addr
	}
	return strings.Join(a, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// rollingLoad runs load on each replica in turn. At the first failure —
// the server refusing a file, or the replica not answering — it stops:
// the replicas after it are not asked and keep their versions. It then
// prints the fleet's versions side by side and returns the failure naming
// the replica and those left; after a complete run, it prints them too and
// returns errFleetDisagrees when they differ.
func rollingLoad(reps []clientFlags, load func(pb.DatasetServiceClient, string) error, stdout io.Writer) error {
	for i, r := range reps {
		fmt.Fprintf(stdout, "== replica %d of %d: %s\n", i+1, len(reps), r.addr)
		c, done, err := adminClient(&r)
		if err == nil {
			err = load(c, r.addr+": ")
			done()
		}
		if err != nil {
			printFleet(stdout, fleetStatus(reps, fleetTimeout))
			return fmt.Errorf("%s: %v; rolling load stopped: %s not loaded (they keep their versions)", r.addr, err, orNone(replicaAddrs(reps[i+1:])))
		}
	}
	return printFleet(stdout, fleetStatus(reps, fleetTimeout))
}

// loadFiles are admin load's files and their date flags.
type loadFiles struct {
	robinson, cpr, streets, cvr                 string
	published, produced, streetsDate, extracted string
}

// loadJobs loads the files given (Robinson, CPR, road register, CVR, in
// that order) into one server, printing each new version prefixed by
// prefix. It returns the first failure (describeRPCError's form for the
// server's).
func loadJobs(c pb.DatasetServiceClient, prefix string, f loadFiles, ratio float64, allowShrink, named bool, stdout, stderr io.Writer) error {
	for _, job := range []struct {
		kind pb.DatasetKind
		file string
		date string
		flag string
	}{{pb.DatasetKind_DATASET_KIND_ROBINSON, f.robinson, f.published, "published"}, {pb.DatasetKind_DATASET_KIND_CPR, f.cpr, f.produced, "cpr-produced"},
		{pb.DatasetKind_DATASET_KIND_STREETS, f.streets, f.streetsDate, "streets-date"}, {pb.DatasetKind_DATASET_KIND_CVR, f.cvr, f.extracted, "extracted"}} {
		if job.file == "" {
			continue
		}
		d, err := parseDate(job.flag, job.date)
		if err != nil {
			return err
		}
		start := &pb.LoadDatasetStart{Kind: job.kind, MaxRejectRatio: ratio, AllowShrink: allowShrink}
		if !d.IsZero() {
			start.Published = timestamppb.New(d)
		}
		resp, err := uploadDataset(c, start, job.file, named, newProgressBar(stderr))
		if err != nil {
			return describeRPCError(err)
		}
		v := resp.GetVersion()
		if resp.GetUnchanged() {
			fmt.Fprintf(stdout, prefix+"%s: version %s (the same file) serves already, loaded %s; nothing changed\n",
				kindName(v.GetKind()), v.GetVersion(), v.GetLoadedAt().AsTime().Format(time.RFC3339))
			continue
		}
		fmt.Fprintf(stdout, prefix+"%s: now serving version %s: %d records, %d rejected lines, published %s, sha256 %s\n",
			kindName(v.GetKind()), v.GetVersion(), v.GetRecords(), v.GetRejectedLines(), v.GetPublished().AsTime().Format(time.DateOnly), v.GetSourceSha256())
	}
	return nil
}

// versionsOrRollback runs admin versions or admin rollback of kind on one
// server; a rollback's line starts with prefix. It returns the server's
// error in describeRPCError's form.
func versionsOrRollback(cf *clientFlags, cmd string, k pb.DatasetKind, kind, prefix string, stdout io.Writer) error {
	c, done, err := adminClient(cf)
	if err != nil {
		return err
	}
	defer done()
	ctx := context.Background()
	if cmd == "rollback" {
		resp, err := c.RollbackDataset(ctx, &pb.RollbackDatasetRequest{Kind: k})
		if err != nil {
			return describeRPCError(err)
		}
		fmt.Fprintf(stdout, "%s%s: rolled back; now serving version %s\n", prefix, kind, resp.GetVersion().GetVersion())
		return nil
	}
	resp, err := c.ListDatasetVersions(ctx, &pb.ListDatasetVersionsRequest{Kind: k})
	if err != nil {
		return describeRPCError(err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSERVING\tRECORDS\tREJECTED\tPUBLISHED\tLOADED\tSHA256")
	for _, v := range resp.GetVersions() {
		fmt.Fprintf(tw, "%s\t%v\t%d\t%d\t%s\t%s\t%.12s\n", v.GetVersion(), v.GetServing(), v.GetRecords(), v.GetRejectedLines(),
			v.GetPublished().AsTime().Format(time.DateOnly), v.GetLoadedAt().AsTime().Format(time.RFC3339), v.GetSourceSha256())
	}
	return tw.Flush()
}

func adminClient(cf *clientFlags) (pb.DatasetServiceClient, func(), error) {
	conn, err := cf.dial()
	if err != nil {
		return nil, nil, err
	}
	return pb.NewDatasetServiceClient(conn), func() { conn.Close() }, nil
}

func kindName(k pb.DatasetKind) string {
	return strings.ToLower(strings.TrimPrefix(k.String(), "DATASET_KIND_"))
}

// uploadDataset streams a file (or names it in the server's import
// directory) and follows the load's progress until it is done.
func uploadDataset(c pb.DatasetServiceClient, start *pb.LoadDatasetStart, file string, named bool, bar *progressBar) (*pb.LoadDatasetResponse, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := c.LoadDataset(ctx)
	if err != nil {
		return nil, err
	}
	kind := kindName(start.GetKind())
	var size int64
	if named {
		start.ImportPath = file
	} else {
		fi, err := os.Stat(file)
		if err != nil {
			return nil, err
		}
		size = fi.Size()
		start.FileName = filepath.Base(file)
	}
	if err := stream.Send(&pb.LoadDatasetRequest{Msg: &pb.LoadDatasetRequest_Start{Start: start}}); err != nil {
		return nil, recvErr(stream, err)
	}
	if !named {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		buf := make([]byte, 1<<20)
		var sent int64
		for {
			n, rerr := f.Read(buf)
			if n > 0 {
				if err := stream.Send(&pb.LoadDatasetRequest{Msg: &pb.LoadDatasetRequest_Chunk{Chunk: buf[:n]}}); err != nil {
					return nil, recvErr(stream, err)
				}
				sent += int64(n)
				bar.bytes(kind, sent, size)
			}
			if errors.Is(rerr, io.EOF) {
				break
			}
			if rerr != nil {
				return nil, rerr
			}
		}
	}
	if err := stream.CloseSend(); err != nil {
		return nil, err
	}
	defer bar.done()
	var id string
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil, errNoResult
		}
		if c := status.Code(err); id != "" && (c == codes.Unavailable || c == codes.Canceled || c == codes.DeadlineExceeded) {
			return nil, &detachedError{id: id, err: err}
		}
		if err != nil {
			return nil, err
		}
		if resp.GetLoadId() != "" {
			id = resp.GetLoadId()
		}
		bar.phase(kind, strings.ToLower(strings.TrimPrefix(resp.GetPhase().String(), "LOAD_PHASE_")), resp.GetLinesRead())
		if resp.GetPhase() == pb.LoadPhase_LOAD_PHASE_DONE {
			return resp, nil
		}
	}
}

// detachedError: the connection ended while the server ran the load
// (which goes on there).
type detachedError struct {
	id  string
	err error
}

func (e *detachedError) Error() string { return e.err.Error() }

func (e *detachedError) Unwrap() error { return e.err }

// attachLoad follows the load with the given ID through GetDatasetStatus,
// polling every interval, until it ends; it prints the new version, or
// returns the load's refusal as an error (and errors of the RPC).
func attachLoad(c pb.DatasetServiceClient, id string, stdout io.Writer, bar *progressBar, interval time.Duration) error {
	defer bar.done()
	for {
		resp, err := c.GetDatasetStatus(context.Background(), &pb.GetDatasetStatusRequest{})
		if err != nil {
			return describeRPCError(err)
		}
		var l *pb.LoadInfo
		for _, x := range resp.GetLoads() {
			if x.GetId() == id {
				l = x
			}
		}
		if l == nil {
			return fmt.Errorf("the server has no load %s (it keeps the running loads and the last ones since it started)", id)
		}
		kind := kindName(l.GetKind())
		switch l.GetState() {
		case pb.LoadState_LOAD_STATE_LOADED:
			bar.done()
			fmt.Fprintf(stdout, "%s: load %s done: now serving version %s: %d records, %d rejected lines\n", kind, id, l.GetVersion(), l.GetRecordsAccepted(), l.GetLinesRejected())
			return nil
		case pb.LoadState_LOAD_STATE_FAILED:
			return fmt.Errorf("%s: load %s failed: %s: %s", kind, id, l.GetErrorReason(), l.GetErrorMessage())
		}
		bar.phase(kind, strings.ToLower(strings.TrimPrefix(l.GetPhase().String(), "LOAD_PHASE_")), l.GetLinesRead())
		time.Sleep(interval)
	}
}

// errNoResult: the server ended a load's stream without an error and
// without the DONE message.
var errNoResult = errors.New("the server ended the load without a result")

// recvErr returns the server's status when a Send failed because the
// server ended the stream (Send then returns io.EOF). The progress messages
// the server sent before ending it (RECEIVING while the upload ran) are
// read past: the status comes after them.
func recvErr(stream pb.DatasetService_LoadDatasetClient, sendErr error) error {
	if !errors.Is(sendErr, io.EOF) {
		return sendErr
	}
	for {
		_, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return errNoResult
		}
		if err != nil {
			return err
		}
	}
}

func printStatus(w io.Writer, resp *pb.GetDatasetStatusResponse) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DATASET\tVERSION\tPUBLISHED\tAGE\tSTALE\tRECORDS\tREJECTED\tLOADED")
	for _, d := range resp.GetDatasets() {
		v := d.GetServing()
		if v == nil {
			fmt.Fprintf(tw, "%s\t(none)\t\t\t\t\t\t\n", kindName(d.GetKind()))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%dd\t%v\t%d\t%d\t%s\n", kindName(d.GetKind()), v.GetVersion(), v.GetPublished().AsTime().Format(time.DateOnly),
			int(v.GetAge().AsDuration().Hours()/24), v.GetStale(), v.GetRecords(), v.GetRejectedLines(), v.GetLoadedAt().AsTime().Format(time.RFC3339))
	}
	tw.Flush()
	if loads := resp.GetLoads(); len(loads) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "LOAD\tDATASET\tSTATE\tPHASE\tLINES\tSTARTED\tFILE\tRESULT")
		for _, l := range loads {
			result := l.GetVersion()
			if l.GetState() == pb.LoadState_LOAD_STATE_FAILED {
				result = l.GetErrorReason() + ": " + l.GetErrorMessage()
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", l.GetId(), kindName(l.GetKind()), strings.ToLower(strings.TrimPrefix(l.GetState().String(), "LOAD_STATE_")),
				strings.ToLower(strings.TrimPrefix(l.GetPhase().String(), "LOAD_PHASE_")), l.GetLinesRead(), l.GetStartedAt().AsTime().Format(time.RFC3339), l.GetSourceName(), result)
		}
		tw.Flush()
	}
	for _, d := range resp.GetDatasets() {
		if d.GetLoading() {
			fmt.Fprintf(w, "%s: a load is running\n", kindName(d.GetKind()))
		}
		if dmg := d.GetDamaged(); dmg != "" {
			fmt.Fprintf(w, "%s: DAMAGED, not screened against: %s\n", kindName(d.GetKind()), dmg)
		}
		if r := d.GetLastRefused(); r != nil {
			fmt.Fprintf(w, "%s: last refused load %s at %s: %s\n", kindName(d.GetKind()), r.GetSourceName(), r.GetAt().AsTime().Format(time.RFC3339), r.GetError())
		}
	}
}

// describeRPCError turns a gRPC status into a one-line message with its
// code, ErrorInfo reason and message: "FailedPrecondition FILE_REFUSED:
// cpr file x.txt refused: ...".
func describeRPCError(err error) error {
	var de *detachedError
	if errors.As(err, &de) {
		return fmt.Errorf("%v; the load goes on on the server: follow it with robinscreen admin load --attach %s", describeRPCError(de.err), de.id)
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok && ei.GetReason() != "" {
			return fmt.Errorf("%s %s: %s", st.Code(), ei.GetReason(), st.Message())
		}
	}
	return fmt.Errorf("%s: %s", st.Code(), st.Message())
}
