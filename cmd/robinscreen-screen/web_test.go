package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

var update = flag.Bool("update", false, "rewrite the browser test's screenshots in testdata/screenshots")

// findChromium returns the path of a Chromium (or Chrome) binary, or "".
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// startWeb starts `robinscreen-screen web` against the screening server
// at addr, with its working directory in dir, and returns the page's URL
// once it answers, and its log.
func startWeb(t *testing.T, bin, addr, dir string) (string, *limitedBuffer) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := l.Addr().String()
	l.Close()
	log := &limitedBuffer{}
	cmd := exec.Command(bin, "web", "--listen", listen, "--addr", addr, "--dir", dir)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		t.Logf("web server log:\n%s", log.String())
	})
	url := "http://" + listen + "/"
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url, log
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the web page does not answer at %s: %v", url, err)
		}
	}
}

// bigCallList writes a CSV call list of n rows of people not on any list,
// the demo's listed person first and last, and a blank line in the middle.
// It returns the navn column of every row, "" for the blank one.
func bigCallList(t *testing.T, path string, n int) []string {
	t.Helper()
	var b strings.Builder
	b.WriteString("navn;adresse;postnr;by\r\n")
	names := make([]string, 0, n)
	listed := "Søren Testesen;Fiktivvej 12, 2. tv;2100;København Ø\r\n"
	for i := 0; i < n; i++ {
		switch {
		case i == 0 || i == n-1:
			b.WriteString(listed)
			names = append(names, "Søren Testesen")
		case i == n/2:
			b.WriteString("\r\n")
			names = append(names, "")
		default:
			fmt.Fprintf(&b, "Kunde%06d;Nyvej %d;2100;København Ø\r\n", i, i%90+10)
			names = append(names, fmt.Sprintf("Kunde%06d", i))
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return names
}

// browserRun is one browser tab on the page and where its downloads and
// screenshots go.
type browserRun struct {
	t         *testing.T
	ctx       context.Context
	downloads string
	shots     string // "" for no screenshots
}

func (b *browserRun) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browserRun) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("%s: %v", sel, err)
	}
	return s
}

// screenshot writes the whole page as NAME.png when screenshots are taken.
func (b *browserRun) screenshot(name string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// pageState is what the test reads of the page while a run goes on.
type pageState struct {
	Bar    float64 `json:"bar"`
	Rows   string  `json:"rows"`
	Text   string  `json:"text"`
	Result bool    `json:"result"`
	Error  string  `json:"error"`
}

// screenFile uploads path with the channel and purpose picked on the page,
// follows the progress, and downloads the screened file. It returns the
// downloaded file (saved under the name the page offered) and whether the
// page showed the screening part way (between 0 and 100%).
func (b *browserRun) screenFile(path, channel, purpose, shotPrefix string) (string, bool) {
	t := b.t
	t.Helper()
	b.do(
		chromedp.WaitVisible(chromedp.CSS("#upload-form")),
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{path}),
		chromedp.SetValue(chromedp.CSS("#channel"), channel),
		chromedp.SetValue(chromedp.CSS("#purpose"), purpose),
	)
	b.screenshot(shotPrefix + "1-upload")
	b.do(chromedp.Click(chromedp.CSS("#upload-button")))
	sawPart := false
	deadline := time.Now().Add(5 * time.Minute)
	for {
		st, err := chromedp.Run(b.ctx, chromedp.Evaluate[pageState](`({
			bar: document.getElementById("screen-bar").value,
			rows: document.getElementById("screen-bar").dataset.rows || "",
			text: document.getElementById("progress-text").textContent,
			result: !document.getElementById("result").hidden,
			error: document.getElementById("upload-error").hidden ? "" : document.getElementById("upload-error").textContent,
		})`))
		if err != nil {
			t.Fatal(err)
		}
		if st.Error != "" {
			t.Fatalf("the page refused the upload: %s", st.Error)
		}
		if st.Result {
			break
		}
		if st.Bar > 0 && st.Bar < 1 && st.Rows != "" && st.Rows != "0" && !sawPart {
			sawPart = true
			t.Logf("progress shown part way: %q (bar %.2f)", st.Text, st.Bar)
			b.screenshot(shotPrefix + "2-progress")
		}
		if time.Now().After(deadline) {
			t.Fatalf("no result after 5 minutes; the page says %q", st.Text)
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.screenshot(shotPrefix + "3-download")
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)) + ".screened" + filepath.Ext(path)
	return b.download(name), sawPart
}

// download clicks the page's link to the file name, as a person would,
// and returns where the browser saved it (under that name).
func (b *browserRun) download(name string) string {
	t := b.t
	t.Helper()
	sel := `#downloads a.download[download="` + name + `"]`
	if got := b.text(sel); got != name {
		t.Fatalf("the page offers %q, want %q", got, name)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
	defer cancel()
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	b.do(chromedp.Click(chromedp.CSS(sel)))
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download of %s: %v", name, err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatalf("download of %s canceled", name)
		}
		if ev.State != browser.DownloadProgressStateCompleted {
			continue
		}
		got := filepath.Join(b.downloads, name)
		if err := os.Rename(filepath.Join(b.downloads, ev.GUID), got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	t.Fatalf("download of %s did not complete", name)
	return ""
}

// TestWebBrowser drives the call-list page in headless Chromium against
// the built web binary and a built `robinscreen serve --demo` that requires
// a token: a wrong token is refused, then with the right one a CSV and an
// XLSX call list are uploaded, screened (the progress shown part way for
// the large CSV) and downloaded in their own format, and the downloaded
// files checked row by row; the CSV's signed receipt, downloaded too,
// verifies, and fails after one changed decision. With -update it rewrites the screenshots in
// testdata/screenshots; otherwise it takes them into a temporary
// directory.
func TestWebBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries and runs a browser")
	}
	chrome := findChromium()
	if chrome == "" {
		t.Skip("no chromium installed: scripts/chromium.sh installs Debian's chromium package (scripts/test.sh runs it first)")
	}
	screenBin, serverBin := buildBinaries(t)
	const token = "web-page-test-token-7Qx2"
	sum := sha256.Sum256([]byte(token))
	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte("screen:"+hex.EncodeToString(sum[:])+":teamlead\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, _ := serveDemo(t, serverBin, "--token-file", tokens)
	workDir := t.TempDir()
	url, webLog := startWeb(t, screenBin, addr, workDir)

	dir := t.TempDir()
	shots := filepath.Join(t.TempDir(), "screenshots")
	if *update {
		shots = filepath.Join("testdata", "screenshots")
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	const n = 200000
	csvPath := filepath.Join(dir, "kaldeliste.csv")
	names := bigCallList(t, csvPath, n)
	xlsxPath := filepath.Join(dir, "kampagne.xlsx")
	writeXLSX(t, xlsxPath)

	downloads := t.TempDir()
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.WindowSize(1000, 1100))...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	b := &browserRun{t: t, ctx: ctx, downloads: downloads, shots: shots}
	// The first run starts the browser: no timeout on it.
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: new(true),
		})
		return err
	}))

	// A wrong token is refused by the screening server.
	b.do(
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), "not-the-token"),
		chromedp.Click(chromedp.CSS("#signin-button")),
		chromedp.WaitVisible(chromedp.CSS("#signin-error")),
	)
	if got := b.text("#signin-error"); !strings.Contains(got, "does not accept this token") {
		t.Errorf("wrong token: the page says %q", got)
	}
	b.do(chromedp.SendKeys(chromedp.CSS("#token"), token)) // the page emptied the field
	b.screenshot("0-signin")
	b.do(
		chromedp.Click(chromedp.CSS("#signin-button")),
		chromedp.WaitVisible(chromedp.CSS("#upload-form")),
	)

	// The large CSV: every row back in place, the listed person BLOCK.
	got, sawPart := b.screenFile(csvPath, "post", "other", "")
	if !sawPart {
		t.Errorf("the page never showed the screening of %d rows part way", n)
	}
	if counts := b.text("#counts"); !strings.Contains(counts, "BLOCK2") || !strings.Contains(counts, fmt.Sprintf("ALLOW%d,%03d", (n-3)/1000, (n-3)%1000)) {
		t.Errorf("decision counts on the page: %q", counts)
	}
	rows := readOutput(t, got)
	if len(rows) != n+1 {
		t.Fatalf("downloaded CSV has %d rows, want %d (header and one per input row)", len(rows), n+1)
	}
	if h := strings.Join(rows[0], ";"); h != "navn;adresse;postnr;by;decision;reasons;explanation" {
		t.Errorf("header %q", h)
	}
	for i, name := range names {
		r := rows[i+1]
		want := "ALLOW"
		switch name {
		case "":
			want = ""
		case "Søren Testesen":
			want = "BLOCK"
		}
		if r[0] != name || r[4] != want {
			t.Fatalf("row %d: %q %q, want %q %q", i+2, r[0], r[4], name, want)
		}
		if want == "BLOCK" && r[5] != "ROBINSON_LIST" {
			t.Errorf("row %d: reasons %q, want ROBINSON_LIST", i+2, r[5])
		}
	}

	// Its signed receipt, downloaded from the page, verifies over the call
	// list and the downloaded result with the service's public key, and
	// fails once one decision is changed.
	receiptFile := b.download("kaldeliste.screened.receipt.json")
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pub, err := exec.Command(serverBin, "receipt", "key", "--addr", addr, "--token-file", tokenFile).Output()
	if err != nil {
		t.Fatalf("robinscreen receipt key: %v", err)
	}
	pubFile := filepath.Join(t.TempDir(), "receipt.pub")
	if err := os.WriteFile(pubFile, pub, 0o600); err != nil {
		t.Fatal(err)
	}
	verify := func() error {
		out, err := exec.Command(screenBin, "receipt", "verify", "--key", pubFile, "--receipt", receiptFile, "--contacts", csvPath, "--results", got).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}
	if err := verify(); err != nil {
		t.Errorf("the downloaded receipt does not verify: %v", err)
	}
	b2, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(b2), ";BLOCK;ROBINSON_LIST;", ";ALLOW;;", 1)
	if changed == string(b2) {
		t.Fatal("no BLOCK row to change")
	}
	if err := os.WriteFile(got, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := verify(); err == nil {
		t.Error("the receipt verifies a result with one decision changed")
	}

	// Then an XLSX workbook, with another channel and purpose.
	b.do(chromedp.Click(chromedp.CSS("#again")))
	got, _ = b.screenFile(xlsxPath, "phone", "insurance", "xlsx-")
	rows = readOutput(t, got)
	var summary []string
	for _, r := range rows[1:] {
		for len(r) < 10 {
			r = append(r, "")
		}
		summary = append(summary, r[1]+":"+r[8]+":"+r[9])
	}
	want := []string{"Søren Testesen:BLOCK:ROBINSON_LIST", "::", "Ole Nysen:ALLOW:", "Ukendt Person:BLOCK:CPR_MARKETING_PROTECTION"}
	if fmt.Sprint(summary) != fmt.Sprint(want) {
		t.Errorf("downloaded XLSX rows\n%q\nwant\n%q", summary, want)
	}
	// The token is never logged, nor written to disk by the web server
	// (its working directory holds the runs' files until it stops).
	if strings.Contains(webLog.String(), token) {
		t.Error("the web server's log holds the token")
	}
	// Its files hold personal data: only the owner may read them.
	files := 0
	err = filepath.WalkDir(workDir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if info, err := d.Info(); err == nil && p != workDir && info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v, want no access for others", p, info.Mode().Perm())
		}
		if d.IsDir() {
			return nil
		}
		files++
		b, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(b), token) {
			t.Errorf("%s holds the token", p)
		}
		return err
	})
	if err != nil {
		t.Error(err)
	}
	if files == 0 {
		t.Error("the web server's working directory holds no file of the run still kept")
	}
	if *update {
		t.Logf("screenshots written to %s", shots)
	}
}
