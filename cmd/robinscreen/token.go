package main

import (
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/robinscreen/robinscreen/server"
)

// token generates a random bearer token and prints it with its token-file
// line. The token itself is stored nowhere; only the line goes into the
// server's --token-file.
func token(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "screen", "role of the token: screen or admin")
	name := fs.String("name", "", "name of the client in logs, audit log and rate limits ([A-Za-z0-9._@-])")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	if *role != "screen" && *role != "admin" {
		return fmt.Errorf("--role must be screen or admin, not %q", *role)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	line := *role + ":" + server.HashToken(tok)
	if *name != "" {
		line += ":" + *name
	}
	// Validate the line exactly as the server will.
	if _, err := server.ParseTokens(strings.NewReader(line)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "token:           %s\ntoken-file line: %s\n", tok, line)
	return nil
}
