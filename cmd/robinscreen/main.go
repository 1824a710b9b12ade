// Command robinscreen serves and loads the robinscreen screening datasets.
//
//	robinscreen serve [--data DIR] [--listen ADDR] [--demo]
//	robinscreen load --data DIR [--robinson FILE] [--cpr FILE] [--streets FILE] [--cvr FILE]
//
// The command only wires packages together: parsing and matching live in
// robinson, cprcheck, roads and cvr, decisions in screening, storage in
// store, the gRPC adapter in server and the HTTP/JSON gateway in
// server/gateway.
package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

const usage = `usage:
  robinscreen serve [--data DIR] [--listen ADDR] [--demo] [--key-file FILE]
                    [--http-listen ADDR]
                    [--tls-cert FILE --tls-key FILE [--client-ca FILE]] [--insecure]
                    [--token-file FILE] [--audit-log FILE] [--metrics-listen ADDR]
                    [--rate-limit N [--rate-burst N]] [--max-streams N] [--receipt-key-file FILE]
                    [--suppressions postgres://... [--suppressions-timeout D]]
                    [--max-connection-age D] [--plaintext-health] [--seed-from ADDR [--seed-ca FILE] [--seed-token-file FILE]]
  robinscreen load  --data DIR [--robinson FILE] [--cpr FILE] [--streets FILE] [--cvr FILE] [--published YYYY-MM-DD]
                    [--cpr-produced YYYY-MM-DD] [--streets-date YYYY-MM-DD] [--extracted YYYY-MM-DD]
                    [--max-reject-ratio R] [--key-file FILE]
                    [--encryption-key-file FILE] [--allow-shrink]
  robinscreen admin load|status|versions|rollback --addr ADDR [--addr ADDR ...] ...
  robinscreen rotate-key --data DIR --old-key FILE --new-key FILE
  robinscreen suppress add|import|remove|check|export --addr ADDR ...
  robinscreen token [--role screen|admin] [--name NAME]
  robinscreen receipt-key --out FILE [--public-out FILE]
  robinscreen receipt key --addr ADDR
  robinscreen receipt verify --key PUB --receipt FILE --contacts FILE --results FILE

Run "robinscreen COMMAND -h" for the flags of one command.
`

// errUsage marks a command-line mistake (exit status 2).
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:], stderr)
	case "load":
		err = load(args[1:], stdout, stderr)
	case "admin":
		err = admin(args[1:], stdout, stderr)
	case "rotate-key":
		err = rotateKey(args[1:], stdout, stderr)
	case "suppress":
		err = suppressCmd(args[1:], stdout, stderr)
	case "token":
		err = token(args[1:], stdout, stderr)
	case "receipt-key":
		err = receiptKey(args[1:], stdout, stderr)
	case "receipt":
		err = receiptCmd(args[1:], stdout, stderr)
	case buildVersionCommand: // hidden: run by serve and load
		err = buildVersion(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "robinscreen: unknown command %q\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(stderr, "robinscreen: %s\n", strings.TrimSpace(err.Error()))
		return 1
	}
}

// newLogger returns the structured logger; log lines never carry personal
// data, only counts, versions, methods and codes.
func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
