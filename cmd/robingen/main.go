// Command robingen writes synthetic robinscreen data sets: a Robinson list,
// a CPR extract, a CPR road register, CVR advertising-protection data and
// CRM contact lists, deterministic by seed.
//
// Usage:
//
//	robingen robinson -n N [-seed S] [-published YYYY-MM-DD] -o FILE
//	robingen cpr -n N [-seed S] [-protected 0.05] [-deceased 0.01] [-published YYYY-MM-DD] -o FILE
//	robingen streets [-published YYYY-MM-DD] -o FILE
//	robingen cvr -n N [-seed S] [-protected 0.1] [-format json|csv] [-published YYYY-MM-DD] -o FILE
//	robingen contacts -n N -listed 0.1 [-seed S] [-list-n N] [-contact-seed S] [-published YYYY-MM-DD] -o FILE
//
// -messy (every command) writes the data matching v2 is about
// (synth.Config.Messy); give it to robinson, streets and contacts alike.
// robingen contacts -messy writes half listed contacts with the columns
// ref;name;address;postal_code;expected_listed;expected;class;variant,
// where expected is the outcome screening-rules.md section 3 prescribes.
//
// For contacts, -seed and -list-n (and -published) must be those of the
// list the contacts refer to. The road register covers every synthetic
// street (the Kommunekode and Vejkode the list's records carry), whatever
// the list's seed and size; -published dates its 000 header. -o - writes to standard output. The default
// publication date is today (UTC), so give -published for byte-identical
// output across days. For cvr, -n counts companies (about one in two has
// production units), -published is the extraction date (the newest
// sidstOpdateret of the JSON documents; a CSV carries none, so load it with
// --extracted).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/robinscreen/robinscreen/internal/synth"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "robingen:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  robingen robinson -n N [-seed S] [-published YYYY-MM-DD] -o FILE
  robingen cpr -n N [-seed S] [-protected F] [-deceased F] [-published YYYY-MM-DD] -o FILE
  robingen streets [-published YYYY-MM-DD] -o FILE
  robingen cvr -n N [-seed S] [-protected F] [-format json|csv] [-published YYYY-MM-DD] -o FILE
  robingen contacts -n N -listed F [-seed S] [-list-n N] [-contact-seed S] [-published YYYY-MM-DD] -o FILE
  (every command takes -messy: the data of synth.Config.Messy; contacts -messy ignores -listed)`

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("missing command\n%s", usage)
	}
	cmd := args[0]
	fs := flag.NewFlagSet("robingen "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 0, "number of records (robinson), persons (cpr) or contacts (contacts)")
	seed := fs.Uint64("seed", 1, "seed")
	published := fs.String("published", "", "publication/production date YYYY-MM-DD (default today, UTC)")
	out := fs.String("o", "", "output file (- for standard output)")
	messy := fs.Bool("messy", false, "messy data for matching v2 (synth.Config.Messy): give it to robinson, streets and contacts alike; contacts are then half listed, written the ways section 3 covers, with the rule-derived expected outcome")
	var (
		protected, deceased, listed *float64
		listN                       *int
		contactSeed                 *uint64
		format                      *string
	)
	switch cmd {
	case "robinson", "streets":
	case "cpr":
		protected = fs.Float64("protected", 0.05, "share of persons with an active marketing protection (0003)")
		deceased = fs.Float64("deceased", 0.01, "share of deceased persons (status 90)")
	case "cvr":
		protected = fs.Float64("protected", 0.1, "share of companies and production units with advertising protection")
		format = fs.String("format", "json", "json (documents one per line) or csv")
	case "contacts":
		listed = fs.Float64("listed", 0.1, "share of contacts who are listed persons")
		listN = fs.Int("list-n", 100000, "records of the Robinson list the contacts refer to (its -n)")
		contactSeed = fs.Uint64("contact-seed", 0, "seed of the contact stream (default: -seed)")
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *n < 0 {
		return fmt.Errorf("-n must not be negative")
	}
	if *out == "" {
		return fmt.Errorf("-o FILE is required")
	}
	pub := time.Now().UTC()
	pub = time.Date(pub.Year(), pub.Month(), pub.Day(), 0, 0, 0, 0, time.UTC)
	if *published != "" {
		t, err := time.Parse("2006-01-02", *published)
		if err != nil {
			return fmt.Errorf("-published: %v", err)
		}
		pub = t
	}
	cfg := synth.Config{Seed: *seed, Published: pub, Messy: *messy}

	return withOutput(*out, stdout, func(w io.Writer) error {
		switch cmd {
		case "robinson":
			cfg.Records = *n
			_, err := synth.NewGenerator(cfg).WriteRobinson(w)
			return err
		case "cpr":
			return synth.NewGenerator(cfg).WriteCPRExtract(w, *n, *protected, *deceased)
		case "streets":
			_, err := synth.NewGenerator(cfg).WriteStreets(w)
			return err
		case "cvr":
			_, err := synth.NewGenerator(cfg).WriteCVR(w, *n, *protected, *format)
			return err
		default:
			cfg.Records = *listN
			cs := *seed
			if *contactSeed != 0 {
				cs = *contactSeed
			}
			if *messy {
				return synth.NewGenerator(cfg).WriteMessyContactsCSV(w, *n, cs)
			}
			return synth.NewGenerator(cfg).WriteContactsCSV(w, *n, *listed, cs)
		}
	})
}

// withOutput runs write on the named file (created or truncated) or on
// stdout for "-", and reports close errors.
func withOutput(name string, stdout io.Writer, write func(io.Writer) error) error {
	if name == "-" {
		bw := bufio.NewWriter(stdout)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
