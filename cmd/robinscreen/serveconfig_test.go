package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/robinscreen/robinscreen/store"
)

// TestServeConfigErrors starts the real binary with one start-up
// configuration error each: it must exit non-zero with one line naming the
// flag and the file or address, never a panic or a stack trace.
func TestServeConfigErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	_, cert, key := writeTestPKI(t, dir)
	missing := filepath.Join(dir, "missing")
	badTokens := write("tokens.txt", "screen\n")
	notPEM := write("not.pem", "not a certificate\n")
	auditDir := filepath.Join(dir, "audit-dir")
	if err := os.Mkdir(auditDir, 0o700); err != nil {
		t.Fatal(err)
	}
	badKey := write("bad.key", "not hex\n")
	notDir := write("file", "")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyAddr := busy.Addr().String()
	lockedData := filepath.Join(dir, "locked")
	held, err := store.Open(lockedData, store.Options{KeyFile: filepath.Join(dir, "held.key")})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	tests := []struct {
		name   string
		args   []string
		prefix string // the message: "robinscreen: " + prefix
		detail string // and then, somewhere
	}{
		{"missing token file", []string{"--token-file", missing + ".tok"}, "--token-file " + missing + ".tok: ", "no such file"},
		{"malformed token file", []string{"--token-file", badTokens}, "--token-file " + badTokens + ": ", "line 1: want role:sha256hex"},
		{"missing TLS certificate", []string{"--tls-cert", missing + ".pem", "--tls-key", key}, "--tls-cert " + missing + ".pem: ", "no such file"},
		{"missing TLS key", []string{"--tls-cert", cert, "--tls-key", missing + ".key"}, "--tls-key " + missing + ".key: ", "no such file"},
		{"TLS certificate not PEM", []string{"--tls-cert", notPEM, "--tls-key", key}, "--tls-cert " + notPEM + ": ", "PEM"},
		{"client CA not PEM", []string{"--tls-cert", cert, "--tls-key", key, "--client-ca", notPEM}, "--client-ca " + notPEM + ": ", "no PEM certificate"},
		{"missing client CA", []string{"--tls-cert", cert, "--tls-key", key, "--client-ca", missing + ".ca"}, "--client-ca " + missing + ".ca: ", "no such file"},
		{"audit log is a directory", []string{"--audit-log", auditDir}, "--audit-log " + auditDir + ": ", "is a directory"},
		{"audit log in a missing directory", []string{"--audit-log", filepath.Join(missing, "audit.log")}, "--audit-log " + filepath.Join(missing, "audit.log") + ": ", "no such file"},
		{"busy metrics port", []string{"--metrics-listen", busyAddr}, "--metrics-listen " + busyAddr + ": ", "address already in use"},
		{"bad metrics address", []string{"--metrics-listen", "nowhere"}, "--metrics-listen nowhere: ", "missing port"},
		{"busy listen port", []string{"--listen", busyAddr}, "--listen " + busyAddr + ": ", "address already in use"},
		{"missing encryption key file", []string{"--encryption-key-file", missing + ".aes"}, "--encryption-key-file " + missing + ".aes: ", "no such file"},
		{"malformed encryption key file", []string{"--encryption-key-file", badKey}, "--encryption-key-file " + badKey + ": ", "32 hex-encoded bytes"},
		{"malformed pseudonym key file", []string{"--key-file", badKey}, "--key-file " + badKey + ": ", "32 hex-encoded bytes"},
		{"pseudonym key file is a directory", []string{"--key-file", auditDir}, "--key-file " + auditDir + ": ", "is a directory"},
		{"data directory cannot be created", []string{"--data", filepath.Join(notDir, "data")}, "--data " + filepath.Join(notDir, "data") + ": ", "not a directory"},
		{"maximum age above its default without override", []string{"--cpr-max-age-days", "365"}, "--cpr-max-age-days 365: ", "--allow-longer-max-age"},
		{"data directory in use", []string{"--data", lockedData, "--key-file", filepath.Join(dir, "held.key")}, "--data " + lockedData + ": ", "lock"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"serve", "--data", filepath.Join(dir, "data", string(rune('a'+i))), "--listen", "127.0.0.1:0"}
			code, _, stderr := runCLI(t, append(args, tt.args...)...)
			if code == 0 {
				t.Fatalf("exit 0; stderr:\n%s", stderr)
			}
			for _, bad := range []string{"panic", "goroutine", ".go:"} {
				if strings.Contains(stderr, bad) {
					t.Fatalf("stderr holds %q:\n%s", bad, stderr)
				}
			}
			// Apart from structured log lines, exactly one line: the error.
			var msgs []string
			for _, l := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
				var v map[string]any
				if l == "" || json.Unmarshal([]byte(l), &v) == nil {
					continue
				}
				msgs = append(msgs, l)
			}
			if len(msgs) != 1 {
				t.Fatalf("want one message line, got %d:\n%s", len(msgs), stderr)
			}
			if want := "robinscreen: " + tt.prefix; !strings.HasPrefix(msgs[0], want) || !strings.Contains(msgs[0][len(want):], tt.detail) {
				t.Errorf("message %q, want %q…%q", msgs[0], want, tt.detail)
			}
		})
	}
}
