package clientsit_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/robinscreen/robinscreen/clients"
	"github.com/robinscreen/robinscreen/internal/receiptpb"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/receipt"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/server"
)

// TestBatchReceipt: a batch over one stream with WithReceipts gets one
// receipt that verifies against every contact sent and result received,
// in order, across several chunks and channels.
func TestBatchReceipt(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := receipt.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{Data: demoStore, Engine: &screening.Engine{}, ReceiptSigner: signer})
	go srv.GRPC.Serve(lis)
	defer srv.GRPC.Stop()

	tests := []struct {
		name     string
		n, chunk int
		streams  int
		want     int // receipts at most: one per stream that got a chunk
	}{
		{"one chunk", 5, 100, 1, 1},
		{"many chunks on one stream", 95, 10, 1, 1},
		{"two streams, a receipt each", 95, 10, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []*pb.ScreeningReceipt
			c, err := clients.Dial(lis.Addr().String(), clients.WithChunkSize(tt.chunk), clients.WithStreams(tt.streams),
				clients.WithReceipts(func(rc *pb.ScreeningReceipt) { mu.Lock(); got = append(got, rc); mu.Unlock() }))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			type sent struct {
				it  clients.Item
				res *pb.ScreeningResult
			}
			var all []sent
			i := 0
			src := clients.SourceFunc(func() (clients.Item, error) {
				if i == tt.n {
					return clients.Item{}, io.EOF
				}
				ch := pb.Channel_CHANNEL_PHONE
				if i%30 >= 20 {
					ch = pb.Channel_CHANNEL_POST // another chunk, another scope
				}
				it := clients.Item{Channel: ch, Contact: contactN(i)}
				i++
				return it, nil
			})
			if _, err := c.ScreenStream(context.Background(), src, func(it clients.Item, r *pb.ScreeningResult) error {
				all = append(all, sent{it, r})
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 || len(got) > tt.want || tt.streams == 1 && len(got) != 1 {
				t.Fatalf("%d receipts, want 1 to %d", len(got), tt.want)
			}
			if tt.streams > 1 {
				var n int64
				for _, rc := range got {
					n += rc.GetContacts()
				}
				if n != int64(tt.n) {
					t.Errorf("the receipts cover %d contacts, want %d", n, tt.n)
				}
				return
			}
			r := receiptpb.FromProto(got[0])
			b := receipt.NewBuilder(r.Nonce)
			for _, s := range all {
				var rc receipt.Contact
				var rr receipt.Result
				receiptpb.Contact(s.it.Channel, s.it.Purpose, "", s.it.Contact, &rc)
				receiptpb.Result(s.res, &rr)
				b.Add(&rc, &rr)
			}
			if err := receipt.Verify(signer.PublicKey(), r, b); err != nil {
				t.Errorf("verify: %v", err)
			}
			if r.Contacts != int64(tt.n) {
				t.Errorf("receipt of %d contacts, want %d", r.Contacts, tt.n)
			}
		})
	}
}
