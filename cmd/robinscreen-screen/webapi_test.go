package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/internal/demo"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/server"
	"github.com/robinscreen/robinscreen/store"
)

func TestUploadName(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            bool
	}{
		{name: "plain csv", in: "kaldeliste.csv", want: "kaldeliste.csv"},
		{name: "danish letters kept", in: "Forår København.xlsx", want: "Forår København.xlsx"},
		{name: "windows path", in: `C:\Users\lead\liste.csv`, want: "liste.csv"},
		{name: "unix path climbing", in: "../../etc/passwd.csv", want: "passwd.csv"},
		{name: "hidden name", in: ".liste.csv", want: "liste.csv"},
		{name: "only an extension", in: ".csv", want: "calllist.csv"},
		{name: "odd characters", in: "a;b$(c).txt", want: "a_b__c_.txt"},
		{name: "unicode text", in: "export.TXT", want: "export.TXT"},
		{name: "xls refused", in: "gammel.xls", err: true},
		{name: "no extension refused", in: "liste", err: true},
		{name: "empty refused", in: "", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := uploadName(tc.in)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("uploadName(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestWebFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		err  string // "" when accepted
	}{
		{name: "loopback plain http", args: []string{"--listen", "127.0.0.1:8080"}},
		{name: "localhost plain http", args: []string{"--listen", "localhost:8080"}},
		{name: "other address plain http refused", args: []string{"--listen", "0.0.0.0:8080"}, err: "not a loopback address"},
		{name: "other address allowed explicitly", args: []string{"--listen", "0.0.0.0:8080", "--listen-insecure"}},
		{name: "other address with https", args: []string{"--listen", "0.0.0.0:8443", "--listen-cert", "c.pem", "--listen-key", "k.pem"}},
		{name: "cert without key", args: []string{"--listen-cert", "c.pem"}, err: "both --listen-cert and --listen-key"},
		{name: "no jobs", args: []string{"--jobs", "0"}, err: "must be positive"},
		{name: "arguments refused", args: []string{"liste.csv"}, err: "no arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseWebFlags(tc.args, io.Discard)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("parseWebFlags(%q) = %v, want %q", tc.args, err, tc.err)
			}
		})
	}
}

// webClient calls the page's API with a token.
type webClient struct {
	t     *testing.T
	base  string
	token string
}

func (c webClient) call(method, path string, body io.Reader) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// wait polls a run until it ends and returns its last status.
func (c webClient) wait(id string) webStatus {
	c.t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		code, b := c.call("GET", "/api/jobs/"+id, nil)
		if code != http.StatusOK {
			c.t.Fatalf("status: %d %s", code, b)
		}
		var st webStatus
		if err := json.Unmarshal(b, &st); err != nil {
			c.t.Fatal(err)
		}
		if st.State == "done" || st.State == "failed" {
			return st
		}
	}
	c.t.Fatal("the run did not end in a minute")
	return webStatus{}
}

// TestWebAPI runs the page's API in-process against an in-process demo
// server: what is refused, a run from upload to download, a run that
// fails, and what another token may see.
func TestWebAPI(t *testing.T) {
	addr, pubFile := startSigningDemo(t)
	cfg, err := parseWebFlags([]string{"--addr", addr, "--dir", t.TempDir(), "--max-upload", "100000"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	w, err := newWebServer(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w)
	t.Cleanup(func() {
		srv.Close()
		if err := w.Close(); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(w.dir); !os.IsNotExist(err) {
			t.Errorf("working directory left after Close: %v", err)
		}
	})
	sample, err := os.ReadFile(filepath.Join("testdata", "kaldeliste_eksempel.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lead := webClient{t: t, base: srv.URL, token: "lead-token"}
	other := webClient{t: t, base: srv.URL, token: "someone-else"}
	anon := webClient{t: t, base: srv.URL}

	refusals := []struct {
		name   string
		c      webClient
		method string
		path   string
		body   string
		code   int
		msg    string
	}{
		{"sign in without a token", anon, "POST", "/api/signin", "", 401, "type the token"},
		{"upload without a token", anon, "POST", "/api/jobs?name=a.csv&channel=post", string(sample), 401, "sign in first"},
		{"old excel workbook", lead, "POST", "/api/jobs?name=a.xls&channel=post", "x", 400, "CSV"},
		{"unknown channel", lead, "POST", "/api/jobs?name=a.csv&channel=fax", string(sample), 400, "channel"},
		{"unknown purpose", lead, "POST", "/api/jobs?name=a.csv&channel=post&purpose=lottery", string(sample), 400, "purpose"},
		{"too large", lead, "POST", "/api/jobs?name=a.csv&channel=post", strings.Repeat("x", 100001), 413, "larger than"},
		{"unknown run", lead, "GET", "/api/jobs/0123456789abcdef0123456789abcdef", "", 404, "no such run"},
		{"unknown file", anon, "GET", "/files/0123456789abcdef0123456789abcdef/a.csv", "", 404, "no such file"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			code, b := tc.c.call(tc.method, tc.path, strings.NewReader(tc.body))
			if code != tc.code || !strings.Contains(string(b), tc.msg) {
				t.Errorf("%s %s: %d %s, want %d with %q", tc.method, tc.path, code, b, tc.code, tc.msg)
			}
		})
	}
	if entries, _ := os.ReadDir(w.dir); len(entries) != 0 {
		t.Errorf("refused uploads left %d entries in the working directory", len(entries))
	}

	t.Run("upload to download", func(t *testing.T) {
		code, b := lead.call("POST", "/api/jobs?name=kaldeliste.csv&channel=post&purpose=other", strings.NewReader(string(sample)))
		if code != http.StatusAccepted {
			t.Fatalf("upload: %d %s", code, b)
		}
		var job struct{ ID string }
		if err := json.Unmarshal(b, &job); err != nil {
			t.Fatal(err)
		}
		st := lead.wait(job.ID)
		if st.State != "done" || st.Exit != 0 || st.Decisions["BLOCK"] != 2 || st.Decisions["ALLOW"] != 3 || st.Rows != 5 {
			t.Fatalf("status %+v", st)
		}
		if strings.Contains(st.Log, w.dir) {
			t.Errorf("the messages name the server's directory: %s", st.Log)
		}
		if code, _ := other.call("GET", "/api/jobs/"+job.ID, nil); code != http.StatusNotFound {
			t.Errorf("another token sees the run: %d", code)
		}
		if len(st.Files) != 2 || st.Files[0].Name != "kaldeliste.screened.csv" || st.Files[1].Name != "kaldeliste.screened.receipt.json" {
			t.Fatalf("files %+v", st.Files)
		}
		code, out := anon.call("GET", st.Files[0].URL, nil)
		if code != http.StatusOK {
			t.Fatalf("download: %d", code)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != 6 || !strings.Contains(lines[1], "Søren Testesen") || !strings.Contains(lines[1], ";BLOCK;ROBINSON_LIST;") {
			t.Errorf("downloaded:\n%s", out)
		}
		// The downloaded receipt verifies over the call list and the
		// downloaded result, and fails once a decision is changed.
		code, rc := anon.call("GET", st.Files[1].URL, nil)
		if code != http.StatusOK {
			t.Fatalf("receipt download: %d", code)
		}
		dl := t.TempDir()
		paths := map[string][]byte{"kaldeliste.csv": sample, "kaldeliste.screened.csv": out, "kaldeliste.screened.receipt.json": rc}
		for name, b := range paths {
			if err := os.WriteFile(filepath.Join(dl, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		verify := func() (int, string) {
			var stderr strings.Builder
			code := run(t.Context(), []string{"receipt", "verify", "--key", pubFile, "--receipt", filepath.Join(dl, "kaldeliste.screened.receipt.json"),
				"--contacts", filepath.Join(dl, "kaldeliste.csv"), "--results", filepath.Join(dl, "kaldeliste.screened.csv")}, &stderr)
			return code, stderr.String()
		}
		if code, msg := verify(); code != 0 {
			t.Errorf("receipt verify: exit %d\n%s", code, msg)
		}
		changed := strings.Replace(string(out), ";BLOCK;ROBINSON_LIST;", ";ALLOW;;", 1)
		if err := os.WriteFile(filepath.Join(dl, "kaldeliste.screened.csv"), []byte(changed), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, msg := verify(); code == 0 {
			t.Errorf("receipt verify passes a changed decision:\n%s", msg)
		}
		if _, err := os.Stat(filepath.Join(w.dir, job.ID, "kaldeliste.csv")); !os.IsNotExist(err) {
			t.Errorf("the upload is kept after its run: %v", err)
		}
		if code, _ := other.call("DELETE", "/api/jobs/"+job.ID, nil); code != http.StatusNotFound {
			t.Errorf("another token removed the run: %d", code)
		}
		if code, _ := lead.call("DELETE", "/api/jobs/"+job.ID, nil); code != http.StatusNoContent {
			t.Errorf("delete: %d", code)
		}
		if code, _ := anon.call("GET", st.Files[0].URL, nil); code != http.StatusNotFound {
			t.Errorf("download after delete: %d", code)
		}
	})

	t.Run("rows that fail: the errors file offered too", func(t *testing.T) {
		broken, err := os.ReadFile(filepath.Join("testdata", "broken_quote.csv"))
		if err != nil {
			t.Fatal(err)
		}
		code, b := lead.call("POST", "/api/jobs?name=broken.csv&channel=post", strings.NewReader(string(broken)))
		if code != http.StatusAccepted {
			t.Fatalf("upload: %d %s", code, b)
		}
		var job struct{ ID string }
		if err := json.Unmarshal(b, &job); err != nil {
			t.Fatal(err)
		}
		st := lead.wait(job.ID)
		if st.State != "done" || st.Exit != 1 || st.Decisions["ERROR"] != 1 || len(st.Files) != 3 {
			t.Fatalf("status %+v", st)
		}
		if st.Files[0].Name != "broken.screened.csv" || st.Files[1].Name != "broken.screened.receipt.json" || st.Files[2].Name != "broken.errors.csv" {
			t.Errorf("files %+v", st.Files)
		}
		code, out := anon.call("GET", st.Files[2].URL, nil)
		if code != http.StatusOK || !strings.HasPrefix(strings.TrimPrefix(string(out), "\uFEFF"), "line;error") || !strings.Contains(string(out), "\n3;") {
			t.Errorf("errors file: %d\n%s", code, out)
		}
	})

	t.Run("a stopped run leaves nothing", func(t *testing.T) {
		big := filepath.Join(t.TempDir(), "stor.csv")
		bigCallList(t, big, 20000) // about 800 kB, over the test's --max-upload of 100 kB
		w.cfg.maxUpload = 1 << 30
		defer func() { w.cfg.maxUpload = 100000 }()
		f, err := os.Open(big)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		code, b := lead.call("POST", "/api/jobs?name=stor.csv&channel=post&purpose=other", f)
		if code != http.StatusAccepted {
			t.Fatalf("upload: %d %s", code, b)
		}
		var job struct{ ID string }
		if err := json.Unmarshal(b, &job); err != nil {
			t.Fatal(err)
		}
		if code, _ := lead.call("DELETE", "/api/jobs/"+job.ID, nil); code != http.StatusNoContent {
			t.Fatalf("delete: %d", code)
		}
		if code, _ := lead.call("GET", "/api/jobs/"+job.ID, nil); code != http.StatusNotFound {
			t.Errorf("the stopped run is still listed: %d", code)
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if _, err := os.Stat(filepath.Join(w.dir, job.ID)); os.IsNotExist(err) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the stopped run's directory is still there after 30 s")
			}
		}
	})

	t.Run("a run that fails writes nothing", func(t *testing.T) {
		// No channel picked and no kanal column.
		code, b := lead.call("POST", "/api/jobs?name=kaldeliste.csv&channel=&purpose=other", strings.NewReader(string(sample)))
		if code != http.StatusAccepted {
			t.Fatalf("upload: %d %s", code, b)
		}
		var job struct{ ID string }
		if err := json.Unmarshal(b, &job); err != nil {
			t.Fatal(err)
		}
		st := lead.wait(job.ID)
		if st.State != "failed" || st.Exit != 2 || len(st.Files) != 0 || !strings.Contains(st.Log, "give --channel") {
			t.Fatalf("status %+v", st)
		}
		entries, _ := os.ReadDir(filepath.Join(w.dir, job.ID))
		if len(entries) != 0 {
			t.Errorf("a failed run left %d files", len(entries))
		}
	})
}

// TestWebKeep: against a server that signs no receipts, a run asking for
// one fails and one without runs; a finished run's files are removed
// --keep after the run.
func TestWebKeep(t *testing.T) {
	addr := startDemo(t)
	cfg, err := parseWebFlags([]string{"--addr", addr, "--dir", t.TempDir(), "--keep", "1s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	w, err := newWebServer(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w)
	t.Cleanup(func() { srv.Close(); w.Close() })
	sample, err := os.ReadFile(filepath.Join("testdata", "kaldeliste_eksempel.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lead := webClient{t: t, base: srv.URL, token: "lead-token"}
	// This server signs no receipts: a run asking for one fails and
	// offers nothing; without one it runs.
	code, b := lead.call("POST", "/api/jobs?name=liste.csv&channel=post", strings.NewReader(string(sample)))
	if code != http.StatusAccepted {
		t.Fatalf("upload: %d %s", code, b)
	}
	var refused struct{ ID string }
	if err := json.Unmarshal(b, &refused); err != nil {
		t.Fatal(err)
	}
	if st := lead.wait(refused.ID); st.State != "failed" || len(st.Files) != 0 || !strings.Contains(st.Log, "RECEIPTS_UNAVAILABLE") {
		t.Fatalf("receipt from a server without a key: status %+v", st)
	}
	code, b = lead.call("POST", "/api/jobs?name=liste.csv&channel=post&receipt=0", strings.NewReader(string(sample)))
	if code != http.StatusAccepted {
		t.Fatalf("upload: %d %s", code, b)
	}
	var job struct{ ID string }
	if err := json.Unmarshal(b, &job); err != nil {
		t.Fatal(err)
	}
	if st := lead.wait(job.ID); st.State != "done" || len(st.Files) != 1 {
		t.Fatalf("status %+v", st)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		code, _ := lead.call("GET", "/api/jobs/"+job.ID, nil)
		_, err := os.Stat(filepath.Join(w.dir, job.ID))
		if code == http.StatusNotFound && os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run is still there 30 s after --keep 1s (status %d, directory %v)", code, err)
		}
	}
}

// TestWebCheckToken asks a server that requires tokens about a good and a
// wrong token, many times over: a refused token is always told as refused
// (never as an unreachable server, whichever of the stream's send and
// receive sees the refusal).
func TestWebCheckToken(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "data"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := demo.Load(t.Context(), st, time.Now().UTC().Truncate(24*time.Hour), false); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("good-token"))
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("screen:"+hex.EncodeToString(sum[:])+":lead\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	auth, err := server.LoadTokenFile(tokens)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{Data: st, Engine: &screening.Engine{}, Auth: auth})
	go srv.GRPC.Serve(lis)
	t.Cleanup(srv.GRPC.Stop)
	w := &webServer{cfg: &webConfig{screen: config{addr: lis.Addr().String()}}}
	tests := []struct {
		name, token string
		err         string // "" when accepted
	}{
		{"the right token", "good-token", ""},
		{"a wrong token", "bad-token", "does not accept this token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i < 50; i++ {
				err := w.checkToken(t.Context(), tc.token)
				if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
					t.Fatalf("try %d: %v, want %q", i, err, tc.err)
				}
			}
		})
	}
}
