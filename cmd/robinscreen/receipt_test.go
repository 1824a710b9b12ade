package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/robinscreen/robinscreen/internal/demo"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// receiptFiles is what a caller keeps of a screened stream: the requests
// sent, the responses received and the receipt, as JSON lines.
type receiptFiles struct {
	reqs  []*pb.ScreenContactsRequest
	resps []*pb.ScreenContactsResponse
	rc    *pb.ScreeningReceipt
}

func writeJSONLines[M proto.Message](t *testing.T, path string, ms []M) {
	t.Helper()
	var b bytes.Buffer
	for _, m := range ms {
		line, err := protojson.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestReceiptThroughBinary: serve signs a stream's receipt with the key
// made by robinscreen receipt-key; robinscreen receipt key fetches the
// public key; robinscreen receipt verify accepts the receipt with the
// contacts and results as they were, and refuses it after one changed
// cell of a contact, a result, a count or a version.
func TestReceiptThroughBinary(t *testing.T) {
	tmp := t.TempDir()
	keyFile := filepath.Join(tmp, "keys", "receipt.key")
	code, out, errOut := runCLI(t, "receipt-key", "--out", keyFile)
	if code != 0 || !strings.Contains(out, "BEGIN PUBLIC KEY") {
		t.Fatalf("receipt-key: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "receipt-key", "--out", keyFile); code != 1 || !strings.Contains(errOut, "--out") {
		t.Errorf("receipt-key over an existing key: exit %d, %q", code, errOut)
	}
	addr := freeAddr(t)
	p := startProc(t, exec.Command(binary(t), "serve", "--demo", "--data", filepath.Join(tmp, "data"), "--listen", addr, "--receipt-key-file", keyFile), addr)

	pubFile := filepath.Join(tmp, "receipt.pub")
	code, out, errOut = runCLI(t, "receipt", "key", "--addr", addr)
	if code != 0 {
		t.Fatalf("receipt key: exit %d\n%s", code, errOut)
	}
	if err := os.WriteFile(pubFile, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}

	f := receiptFiles{reqs: []*pb.ScreenContactsRequest{
		{Channel: pb.Channel_CHANNEL_PHONE, WantReceipt: true, Contacts: []*pb.Contact{
			{Ref: "1", Name: "Søren Testesen", Address: "Fiktivvej 12, 2. tv, 2100 København Ø"},
			{Ref: "2", Cpr: demo.DemoProtected},
		}},
		{Channel: pb.Channel_CHANNEL_POST, Contacts: []*pb.Contact{
			{Ref: "3", Name: "Karen Uopført", Address: "Ikkelistet Vej 3, 8000 Aarhus C"},
		}},
	}}
	s, err := p.screen.ScreenContacts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range f.reqs {
		if err := s.Send(r); err != nil {
			t.Fatal(err)
		}
	}
	s.CloseSend()
	for {
		resp, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		f.resps = append(f.resps, resp)
		if resp.GetReceipt() != nil {
			f.rc = resp.GetReceipt()
		}
	}
	if f.rc == nil {
		t.Fatal("no receipt")
	}

	tests := []struct {
		name   string
		change func(f *receiptFiles)
		want   string // in the output; "" = verified
	}{
		{"as received", func(*receiptFiles) {}, ""},
		{"a contact's name", func(f *receiptFiles) { f.reqs[0].Contacts[0].Name = "Søren Testesen-Hansen" }, "contacts are not the ones screened"},
		{"a contact's postcode", func(f *receiptFiles) { f.reqs[1].Contacts[0].PostalCode = "8200" }, "contacts are not the ones screened"},
		{"a contact left out", func(f *receiptFiles) {
			f.reqs[1].Contacts = nil
			f.resps[1].Results = nil
		}, "2 contacts, the receipt says 3"},
		{"a result's decision", func(f *receiptFiles) { f.resps[0].Results[0].Decision = pb.Decision_DECISION_ALLOW }, "results are not the ones given"},
		{"a result's reason", func(f *receiptFiles) { f.resps[0].Results[1].Reasons = []pb.Reason{pb.Reason_REASON_CONSENT} }, "results are not the ones given"},
		{"a result's dataset version", func(f *receiptFiles) { f.resps[1].Results[0].Datasets[0].Version = "20200101-0000000000000000" }, "other dataset versions"},
		{"the receipt's count", func(f *receiptFiles) { f.rc.Contacts = 4 }, "signature does not match"},
		{"the receipt's dataset version", func(f *receiptFiles) { f.rc.Datasets[0].Version = "20200101-0000000000000000" }, "signature does not match"},
		{"the receipt's decision count", func(f *receiptFiles) { f.rc.Decisions["DECISION_ALLOW"]++ }, "signature does not match"},
		{"a result more", func(f *receiptFiles) {
			f.resps = append(f.resps, &pb.ScreenContactsResponse{Results: f.resps[1].GetResults()})
		}, "more results"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := receiptFiles{rc: proto.Clone(f.rc).(*pb.ScreeningReceipt)}
			for _, r := range f.reqs {
				c.reqs = append(c.reqs, proto.Clone(r).(*pb.ScreenContactsRequest))
			}
			for _, r := range f.resps {
				c.resps = append(c.resps, proto.Clone(r).(*pb.ScreenContactsResponse))
			}
			tt.change(&c)
			dir := t.TempDir()
			contacts, results, rcFile := filepath.Join(dir, "contacts.jsonl"), filepath.Join(dir, "results.jsonl"), filepath.Join(dir, "receipt.json")
			writeJSONLines(t, contacts, c.reqs)
			writeJSONLines(t, results, c.resps)
			writeJSONLines(t, rcFile, []*pb.ScreeningReceipt{c.rc})
			code, out, errOut := runCLI(t, "receipt", "verify", "--key", pubFile, "--receipt", rcFile, "--contacts", contacts, "--results", results)
			if tt.want == "" {
				if code != 0 || !strings.Contains(out, "receipt verified: 3 contacts") {
					t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
				}
				return
			}
			if code != 1 || !strings.Contains(errOut, "NOT verified") || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit 1 naming %q", code, errOut, tt.want)
			}
			for _, v := range []string{"Testesen", "Fiktivvej", demo.DemoProtected, "Uopført"} {
				if strings.Contains(errOut, v) {
					t.Errorf("the refusal quotes %q", v)
				}
			}
		})
	}
}

// TestReceiptKeyFlag: serve refuses a receipt key file others may read, or
// one that is missing when named, in one line naming the flag; without
// the flag it creates DIR/receipt.key (mode 0600) and keeps it.
func TestReceiptKeyFlag(t *testing.T) {
	open := filepath.Join(t.TempDir(), "open.key")
	if code, _, errOut := runCLI(t, "receipt-key", "--out", open); code != 0 {
		t.Fatal(errOut)
	}
	if err := os.Chmod(open, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		file string
		want string
	}{
		{"readable by others", open, "chmod 600"},
		{"missing", filepath.Join(t.TempDir(), "none.key"), "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, "serve", "--demo", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--receipt-key-file", tt.file)
			if code != 1 || !strings.Contains(errOut, "--receipt-key-file") || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q", code, errOut)
			}
		})
	}
	t.Run("default", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		addr := freeAddr(t)
		p := startProc(t, exec.Command(binary(t), "serve", "--demo", "--data", data, "--listen", addr), addr)
		k1, err := p.screen.GetReceiptKey(context.Background(), &pb.GetReceiptKeyRequest{})
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(data, "receipt.key"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("DIR/receipt.key: %v %v", fi, err)
		}
		p.kill()
		p = startProc(t, exec.Command(binary(t), "serve", "--demo", "--data", data, "--listen", addr), addr)
		k2, err := p.screen.GetReceiptKey(context.Background(), &pb.GetReceiptKeyRequest{})
		if err != nil || k2.GetKeyId() != k1.GetKeyId() {
			t.Errorf("after a restart: key %s (%v), want the same %s", k2.GetKeyId(), err, k1.GetKeyId())
		}
	})
}
