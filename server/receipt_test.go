package server

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/robinscreen/robinscreen/internal/demo"
	"github.com/robinscreen/robinscreen/internal/receiptpb"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/receipt"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/store"
)

// receiptClient starts a server over bufconn on the demo dataset, signing
// receipts with signer (nil: none).
func receiptClient(t *testing.T, signer *receipt.Signer) pb.ScreeningServiceClient {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "data"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	loadDemo(t, st, dir)
	srv := New(Config{Data: st, Engine: &screening.Engine{}, Logger: slog.New(slog.DiscardHandler), ReceiptSigner: signer})
	lis := bufconn.Listen(1 << 20)
	go srv.GRPC.Serve(lis)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.GRPC.Stop()
		st.Close()
	})
	return pb.NewScreeningServiceClient(conn)
}

func testSigner(t *testing.T) *receipt.Signer {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := receipt.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// streamed runs one ScreenContacts stream of reqs and returns the results
// in order and the receipt, if one came.
func streamed(t *testing.T, c pb.ScreeningServiceClient, reqs []*pb.ScreenContactsRequest) ([]*pb.ScreeningResult, *pb.ScreeningReceipt, error) {
	t.Helper()
	s, err := c.ScreenContacts(context.Background())
	if err != nil {
		return nil, nil, err
	}
	for _, r := range reqs {
		if err := s.Send(r); err != nil {
			t.Fatal(err)
		}
	}
	s.CloseSend()
	var results []*pb.ScreeningResult
	var rc *pb.ScreeningReceipt
	for {
		resp, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return results, rc, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if rc != nil {
			t.Fatal("a response after the receipt")
		}
		if resp.GetReceipt() != nil && len(resp.GetResults()) > 0 {
			t.Fatal("the receipt's response holds results")
		}
		results = append(results, resp.GetResults()...)
		rc = resp.GetReceipt()
	}
}

// verifyStream checks a stream's receipt against what was sent and
// received, through the conversions the offline verifier uses.
func verifyStream(pub ed25519.PublicKey, rc *pb.ScreeningReceipt, reqs []*pb.ScreenContactsRequest, results []*pb.ScreeningResult) error {
	r := receiptpb.FromProto(rc)
	b := receipt.NewBuilder(r.Nonce)
	i := 0
	for _, req := range reqs {
		for _, c := range req.GetContacts() {
			var rcon receipt.Contact
			var rres receipt.Result
			receiptpb.Contact(req.GetChannel(), req.GetPurpose(), req.GetScope(), c, &rcon)
			receiptpb.Result(results[i], &rres)
			b.Add(&rcon, &rres)
			i++
		}
	}
	return receipt.Verify(pub, r, b)
}

func TestScreenContactsReceipt(t *testing.T) {
	signer := testSigner(t)
	c := receiptClient(t, signer)
	reqs := func() []*pb.ScreenContactsRequest {
		return []*pb.ScreenContactsRequest{
			{Channel: pb.Channel_CHANNEL_PHONE, WantReceipt: true, Contacts: []*pb.Contact{
				{Ref: "1", Name: "Søren Testesen", Address: "Fiktivvej 12, 2. tv, 2100 København Ø"},
				{Ref: "2", Cpr: demo.DemoProtected},
			}},
			{Channel: pb.Channel_CHANNEL_EMAIL, Purpose: pb.Purpose_PURPOSE_BOOKS, Scope: "brand-a", Contacts: []*pb.Contact{
				{Ref: "3", Name: "Karen Uopført", Address: "Ikkelistet Vej 3, 8000 Aarhus C", Email: "karen@example.test", Consent: true},
			}},
		}
	}
	sent := reqs()
	results, rc, err := streamed(t, c, sent)
	if err != nil {
		t.Fatal(err)
	}
	if rc == nil || len(results) != 3 {
		t.Fatalf("%d results, receipt %v", len(results), rc)
	}
	if rc.GetContacts() != 3 || rc.GetDecisions()["DECISION_BLOCK"] != 2 || rc.GetKeyId() != signer.KeyID() || len(rc.GetDatasets()) == 0 {
		t.Errorf("receipt: %v", rc)
	}
	if len(rc.GetScopes()) != 2 {
		t.Errorf("scopes %v, want phone/unspecified and email/books", rc.GetScopes())
	}
	js, err := protojson.Marshal(rc)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"Testesen", "Fiktivvej", demo.DemoProtected, "karen@example.test", "Uopført"} {
		if strings.Contains(string(js), v) {
			t.Errorf("the receipt holds %q", v)
		}
	}

	key, err := c.GetReceiptKey(context.Background(), &pb.GetReceiptKeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := receipt.ParsePublicKey([]byte(key.GetPublicKeyPem()))
	if err != nil || !pub.Equal(ed25519.PublicKey(key.GetPublicKey())) || key.GetKeyId() != signer.KeyID() || key.GetAlgorithm() != "Ed25519" {
		t.Fatalf("GetReceiptKey: %v (%v)", key, err)
	}

	tests := []struct {
		name    string
		change  func(reqs []*pb.ScreenContactsRequest, results []*pb.ScreeningResult, rc *pb.ScreeningReceipt)
		wantErr error
	}{
		{"as received", func([]*pb.ScreenContactsRequest, []*pb.ScreeningResult, *pb.ScreeningReceipt) {}, nil},
		{"a contact's name", func(q []*pb.ScreenContactsRequest, _ []*pb.ScreeningResult, _ *pb.ScreeningReceipt) {
			q[0].Contacts[0].Name = "Søren Testesen Jr"
		}, receipt.ErrContacts},
		{"a contact's consent", func(q []*pb.ScreenContactsRequest, _ []*pb.ScreeningResult, _ *pb.ScreeningReceipt) {
			q[0].Contacts[1].Consent = true
		}, receipt.ErrContacts},
		{"a chunk's channel", func(q []*pb.ScreenContactsRequest, _ []*pb.ScreeningResult, _ *pb.ScreeningReceipt) {
			q[1].Channel = pb.Channel_CHANNEL_SMS
		}, receipt.ErrContacts},
		{"a chunk's suppression scope", func(q []*pb.ScreenContactsRequest, _ []*pb.ScreeningResult, _ *pb.ScreeningReceipt) {
			q[1].Scope = "brand-b"
		}, receipt.ErrContacts},
		{"a decision", func(_ []*pb.ScreenContactsRequest, r []*pb.ScreeningResult, _ *pb.ScreeningReceipt) {
			r[0].Decision = pb.Decision_DECISION_ALLOW
		}, receipt.ErrResults},
		{"a result's dataset version", func(_ []*pb.ScreenContactsRequest, r []*pb.ScreeningResult, _ *pb.ScreeningReceipt) {
			r[2].Datasets[0].Version = "20200101-0000000000000000"
		}, receipt.ErrDatasets},
		{"the receipt's dataset version", func(_ []*pb.ScreenContactsRequest, _ []*pb.ScreeningResult, rc *pb.ScreeningReceipt) {
			rc.Datasets[0].Version = "20200101-0000000000000000"
		}, receipt.ErrSignature},
		{"the receipt's count", func(_ []*pb.ScreenContactsRequest, _ []*pb.ScreeningResult, rc *pb.ScreeningReceipt) {
			rc.Contacts = 2
		}, receipt.ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := reqs()
			var rs []*pb.ScreeningResult
			for _, r := range results {
				rs = append(rs, cloneResult(r))
			}
			rcc := cloneReceipt(rc)
			tt.change(q, rs, rcc)
			err := verifyStream(pub, rcc, q, rs)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("verify: %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func cloneResult(r *pb.ScreeningResult) *pb.ScreeningResult {
	b, _ := protojson.Marshal(r)
	out := &pb.ScreeningResult{}
	protojson.Unmarshal(b, out)
	return out
}

func cloneReceipt(r *pb.ScreeningReceipt) *pb.ScreeningReceipt {
	b, _ := protojson.Marshal(r)
	out := &pb.ScreeningReceipt{}
	protojson.Unmarshal(b, out)
	return out
}

func TestReceiptsRefused(t *testing.T) {
	tests := []struct {
		name   string
		signer bool
		call   func(c pb.ScreeningServiceClient) (receipt bool, err error)
		code   codes.Code
	}{
		{"stream without a key", false, func(c pb.ScreeningServiceClient) (bool, error) {
			_, rc, err := streamed(t, c, []*pb.ScreenContactsRequest{{Channel: pb.Channel_CHANNEL_POST, WantReceipt: true, Contacts: []*pb.Contact{listed}}})
			return rc != nil, err
		}, codes.FailedPrecondition},
		{"key without a key", false, func(c pb.ScreeningServiceClient) (bool, error) {
			_, err := c.GetReceiptKey(context.Background(), &pb.GetReceiptKeyRequest{})
			return false, err
		}, codes.FailedPrecondition},
		{"stream not asking", true, func(c pb.ScreeningServiceClient) (bool, error) {
			_, rc, err := streamed(t, c, []*pb.ScreenContactsRequest{{Channel: pb.Channel_CHANNEL_POST, Contacts: []*pb.Contact{listed}}})
			return rc != nil, err
		}, codes.OK},
		{"asked for on a later message only", true, func(c pb.ScreeningServiceClient) (bool, error) {
			_, rc, err := streamed(t, c, []*pb.ScreenContactsRequest{
				{Channel: pb.Channel_CHANNEL_POST, Contacts: []*pb.Contact{listed}},
				{Channel: pb.Channel_CHANNEL_POST, WantReceipt: true, Contacts: []*pb.Contact{listed}},
			})
			return rc != nil, err
		}, codes.OK},
		{"a stream that fails", true, func(c pb.ScreeningServiceClient) (bool, error) {
			_, rc, err := streamed(t, c, []*pb.ScreenContactsRequest{
				{Channel: pb.Channel_CHANNEL_POST, WantReceipt: true, Contacts: []*pb.Contact{listed}},
				{Channel: pb.Channel_CHANNEL_POST}, // empty: refused
			})
			return rc != nil, err
		}, codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s *receipt.Signer
			if tt.signer {
				s = testSigner(t)
			}
			got, err := tt.call(receiptClient(t, s))
			if got {
				t.Error("a receipt came")
			}
			if tt.code == codes.OK {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			errorInfo(t, err, tt.code, map[codes.Code]pb.ErrorReason{codes.FailedPrecondition: ReasonReceiptsUnavailable, codes.InvalidArgument: ReasonInvalidRequest}[tt.code])
		})
	}
}

// BenchmarkReceiptAdd measures what a receipt costs a stream: digesting
// one 1000-contact message and its results (reported per contact).
func BenchmarkReceiptAdd(b *testing.B) {
	req := &pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_PHONE}
	resp := &pb.ScreenContactsResponse{}
	for i := range 1000 {
		req.Contacts = append(req.Contacts, &pb.Contact{Ref: strconv.Itoa(i), Name: "Søren Testesen", Address: "Fiktivvej 12, 2. tv", PostalCode: "2100", Phone: "11223344", Consent: i%2 == 0})
		resp.Results = append(resp.Results, &pb.ScreeningResult{Ref: strconv.Itoa(i), Decision: pb.Decision_DECISION_BLOCK, Reasons: []pb.Reason{pb.Reason_REASON_ROBINSON_LIST},
			Datasets: []*pb.DatasetRef{{Kind: "robinson", Version: "20261101-3f9a1c0e2b7d4a65"}}})
	}
	rb, err := newReceiptBatch()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		rb.add(req, resp)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/contact")
}
