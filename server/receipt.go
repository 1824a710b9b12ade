package server

import (
	"context"
	"time"

	"github.com/robinscreen/robinscreen/internal/receiptpb"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/receipt"
)

// receiptsUnavailable refuses a receipt, or the receipt key, on a server
// without a receipt key (RECEIPTS_UNAVAILABLE).
func receiptsUnavailable() *refusal {
	return &refusal{reason: ReasonReceiptsUnavailable, msg: "this server has no receipt key; it signs no receipts"}
}

// GetReceiptKey returns the public key receipts are verified with.
func (s *ScreeningService) GetReceiptKey(context.Context, *pb.GetReceiptKeyRequest) (*pb.GetReceiptKeyResponse, error) {
	if s.signer == nil {
		return nil, toStatus(s.log, receiptsUnavailable())
	}
	pub := s.signer.PublicKey()
	return &pb.GetReceiptKeyResponse{Algorithm: "Ed25519", PublicKey: pub,
		PublicKeyPem: string(receipt.MarshalPublicKey(pub)), KeyId: s.signer.KeyID()}, nil
}

// receiptBatch collects a stream's contacts and results for its receipt.
type receiptBatch struct {
	b *receipt.Builder
	c receipt.Contact
	r receipt.Result
}

// newReceiptBatch starts a receipt with a fresh random nonce.
func newReceiptBatch() (*receiptBatch, error) {
	nonce, err := receipt.NewNonce()
	if err != nil {
		return nil, err
	}
	return &receiptBatch{b: receipt.NewBuilder(nonce)}, nil
}

// add digests one request message and the response that answered it.
func (rb *receiptBatch) add(req *pb.ScreenContactsRequest, resp *pb.ScreenContactsResponse) {
	for i, c := range req.GetContacts() {
		receiptpb.Contact(req.GetChannel(), req.GetPurpose(), req.GetScope(), c, &rb.c)
		receiptpb.Result(resp.GetResults()[i], &rb.r)
		rb.b.Add(&rb.c, &rb.r)
	}
}

// sign returns the signed receipt of everything added.
func (rb *receiptBatch) sign(signer *receipt.Signer, now time.Time) *pb.ScreeningReceipt {
	r := rb.b.Receipt(now)
	signer.Sign(r)
	return receiptpb.ToProto(r)
}
