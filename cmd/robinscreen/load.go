package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/robinscreen/robinscreen/store"
)

func load(args []string, stdout, stderr io.Writer) error {
	// An offline load holds the whole parsed list until it is written, and
	// the parser's short-lived garbage on top of it: collecting at 50 %
	// growth instead of 100 % keeps a 6M-record load's peak RSS near
	// 1.5 GB instead of 2 GB, for a few percent more CPU. GOGC overrides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data", "", "data directory (required; must not be in use by a server)")
	robinsonFile := fs.String("robinson", "", "Robinson list file (CPR's published layout, ISO 8859-1 or UTF-8)")
	cprFile := fs.String("cpr", "", "CPR extract file (000/001/015/999 records)")
	streetsFile := fs.String("streets", "", "CPR road register file (vejregister: 001/004/016 records)")
	cvrFile := fs.String("cvr", "", "CVR advertising-protection file (JSON documents one per line, or CSV cvr|pnummer;reklamebeskyttet)")
	published := fs.String("published", "", "override the Robinson list's publication date (YYYY-MM-DD)")
	produced := fs.String("cpr-produced", "", "override the CPR extract's production date (YYYY-MM-DD)")
	streetsDate := fs.String("streets-date", "", "override the road register's date (default: its 000 header's; required without one)")
	extracted := fs.String("extracted", "", "the CVR data's extraction date (YYYY-MM-DD; default: the newest sidstOpdateret/sidstIndlaest; required for a CSV)")
	ratio := fs.Float64("max-reject-ratio", 0, "refuse a file when more than this share of its data lines is rejected (default 0.001)")
	allowShrink := fs.Bool("allow-shrink", false, "accept a file with fewer than 90 % of the records of the serving version (the shrink is expected)")
	var sf storeFlags
	sf.register(fs)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *dir == "" || (*robinsonFile == "" && *cprFile == "" && *streetsFile == "" && *cvrFile == "") || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "robinscreen load: --data and at least one of --robinson, --cpr, --streets, --cvr are required")
		fs.Usage()
		return errUsage
	}
	pub, err := parseDate("published", *published)
	if err != nil {
		return err
	}
	prod, err := parseDate("cpr-produced", *produced)
	if err != nil {
		return err
	}
	sdate, err := parseDate("streets-date", *streetsDate)
	if err != nil {
		return err
	}
	edate, err := parseDate("extracted", *extracted)
	if err != nil {
		return err
	}
	opts, err := sf.options(newLogger(stderr))
	if err != nil {
		return err
	}
	if opts.BuildCommand, err = buildCommand(); err != nil {
		return err
	}
	opts.BuildStderr = stderr
	st, err := store.Open(*dir, opts)
	if err != nil {
		return storeOpenError(err, *dir, sf.keyFile)
	}
	defer st.Close()
	ctx := context.Background()
	bar := newProgressBar(stderr)
	if *robinsonFile != "" {
		man, err := st.LoadRobinson(ctx, *robinsonFile, store.LoadOptions{Published: pub, MaxRejectRatio: *ratio, AllowShrink: *allowShrink, Progress: bar.update("robinson")})
		bar.done()
		if err != nil {
			return describeLoadError(err)
		}
		if !printUnchanged(stdout, "robinson", man) {
			fmt.Fprintf(stdout, "robinson: loaded version %s: %d records (%d current, %d previous), %d rejected lines, published %s, sha256 %s\n",
				man.Version, man.Records, man.Current, man.Previous, man.Rejected, man.Published.Format(time.DateOnly), man.SourceSHA256)
			printRejects(stdout, man.Rejects)
		}
	}
	if *cprFile != "" {
		man, err := st.LoadCPR(ctx, *cprFile, store.LoadOptions{Published: prod, MaxRejectRatio: *ratio, AllowShrink: *allowShrink, Progress: bar.update("cpr")})
		bar.done()
		if err != nil {
			return describeLoadError(err)
		}
		if !printUnchanged(stdout, "cpr", man) {
			fmt.Fprintf(stdout, "cpr: loaded version %s: %d persons, %d protections, %d skipped lines, %d rejected lines, produced %s, sha256 %s\n",
				man.Version, man.Persons, man.Protections, man.Skipped, man.Rejected, man.Published.Format(time.DateOnly), man.SourceSHA256)
			printRejects(stdout, man.Rejects)
		}
	}
	if *streetsFile != "" {
		man, err := st.LoadStreets(ctx, *streetsFile, store.LoadOptions{Published: sdate, MaxRejectRatio: *ratio, AllowShrink: *allowShrink, Progress: bar.update("streets")})
		bar.done()
		if err != nil {
			return describeLoadError(err)
		}
		if !printUnchanged(stdout, "streets", man) {
			fmt.Fprintf(stdout, "streets: loaded version %s: %d roads, %d postal districts, %d earlier names, %d skipped lines, %d rejected lines, dated %s, sha256 %s\n",
				man.Version, man.Roads, man.PostalDistricts, man.EarlierNames, man.Skipped, man.Rejected, man.Published.Format(time.DateOnly), man.SourceSHA256)
			printRejects(stdout, man.Rejects)
		}
	}
	if *cvrFile != "" {
		man, err := st.LoadCVR(ctx, *cvrFile, store.LoadOptions{Published: edate, MaxRejectRatio: *ratio, AllowShrink: *allowShrink, Progress: bar.update("cvr")})
		bar.done()
		if err != nil {
			return describeLoadError(err)
		}
		if !printUnchanged(stdout, "cvr", man) {
			fmt.Fprintf(stdout, "cvr: loaded version %s: %d companies, %d production units, %d with advertising protection, %d rejected, extracted %s, sha256 %s\n",
				man.Version, man.Companies, man.ProductionUnits, man.AdvertisingProtected, man.Rejected, man.Published.Format(time.DateOnly), man.SourceSHA256)
			printRejects(stdout, man.Rejects)
		}
	}
	return nil
}

// printUnchanged says so and reports true when a load found its version
// serving already (the same file, content-named: nothing changed).
func printUnchanged(w io.Writer, kind string, man *store.Manifest) bool {
	if !man.Unchanged {
		return false
	}
	fmt.Fprintf(w, "%s: version %s (the same file) serves already, loaded %s; nothing changed\n",
		kind, man.Version, man.LoadedAt.Format(time.RFC3339))
	return true
}

func printRejects(w io.Writer, rs []store.Reject) {
	for _, r := range rs {
		fmt.Fprintf(w, "  rejected line %d: %s\n", r.Line, strings.TrimPrefix(r.Reason, fmt.Sprintf("line %d: ", r.Line)))
	}
}

// describeLoadError adds the first rejected lines to a refusal. A damaged
// encoding names its lines in the error itself.
func describeLoadError(err error) error {
	if errors.Is(err, store.ErrNoSpace) {
		return errors.New(err.Error() + "; the data directory's previous dataset is unchanged")
	}
	var b strings.Builder
	b.WriteString(err.Error())
	if lines := store.RejectedLines(err); len(lines) > 0 {
		b.WriteString("\nfirst rejected lines:\n  " + strings.Join(lines, "\n  "))
	}
	b.WriteString("\nthe data directory's previous dataset is unchanged")
	return errors.New(b.String())
}

func parseDate(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s: want YYYY-MM-DD", name)
	}
	return t, nil
}
