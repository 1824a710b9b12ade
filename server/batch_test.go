package server

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/robinscreen/robinscreen/internal/demo"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/screening"
)

// batchContacts are contacts of every decision, in an order the results
// must keep.
var batchContacts = []*pb.Contact{
	listed,
	{Ref: "bad-cpr", Cpr: "31-02-90-1234", Name: "Karen Uopført", Address: "Ikkelistet Vej 3, 8000 Aarhus C"},
	{Ref: "clean", Name: "Karen Uopført", Address: "Ikkelistet Vej 3, 8000 Aarhus C"},
	{Ref: "protected", Cpr: demo.DemoProtected},
	{Ref: "deceased", Cpr: demo.DemoDeceased, Consent: true},
	{Ref: "clean-again", Name: "Karen Uopført", Address: "Ikkelistet Vej 3, 8000 Aarhus C"},
}

// TestScreenContactBatchSameAsStream: the unary batch gives, for every
// channel, exactly the results one ScreenContacts message gives, one per
// contact and in order.
func TestScreenContactBatchSameAsStream(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	tests := []struct {
		name    string
		channel pb.Channel
		purpose pb.Purpose
		want    []string
	}{
		{"post", pb.Channel_CHANNEL_POST, pb.Purpose_PURPOSE_UNSPECIFIED,
			[]string{"listed BLOCK", "bad-cpr REVIEW", "clean ALLOW", "protected BLOCK", "deceased BLOCK", "clean-again ALLOW"}},
		{"phone for insurance", pb.Channel_CHANNEL_PHONE, pb.Purpose_PURPOSE_INSURANCE, nil},
		{"email", pb.Channel_CHANNEL_EMAIL, pb.Purpose_PURPOSE_OTHER, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.client.ScreenContactBatch(ctx, &pb.ScreenContactBatchRequest{Channel: tt.channel, Purpose: tt.purpose, Contacts: batchContacts})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.GetResults()) != len(batchContacts) {
				t.Fatalf("%d results for %d contacts", len(got.GetResults()), len(batchContacts))
			}
			for i, r := range got.GetResults() {
				if r.GetRef() != batchContacts[i].GetRef() {
					t.Errorf("result %d is for %q, want %q", i, r.GetRef(), batchContacts[i].GetRef())
				}
			}
			if tt.want != nil {
				var short []string
				for _, r := range got.GetResults() {
					short = append(short, r.GetRef()+" "+r.GetDecision().String()[len("DECISION_"):])
				}
				if fmt.Sprint(short) != fmt.Sprint(tt.want) {
					t.Errorf("decisions = %v, want %v", short, tt.want)
				}
			}
			s, err := e.client.ScreenContacts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(&pb.ScreenContactsRequest{Channel: tt.channel, Purpose: tt.purpose, Contacts: batchContacts}); err != nil {
				t.Fatal(err)
			}
			s.CloseSend()
			streamed, err := s.Recv()
			if err != nil {
				t.Fatal(err)
			}
			for i := range batchContacts {
				if !proto.Equal(got.GetResults()[i], streamed.GetResults()[i]) {
					t.Errorf("contact %d: batch %v, stream %v", i, got.GetResults()[i], streamed.GetResults()[i])
				}
			}
		})
	}
}

func TestScreenContactBatchErrors(t *testing.T) {
	ctx := context.Background()
	loaded, empty := newEnv(t, true), newEnv(t, false)
	over := make([]*pb.Contact, MaxBatch+1)
	for i := range over {
		over[i] = &pb.Contact{Ref: fmt.Sprint(i)}
	}
	tests := []struct {
		name   string
		env    *env
		req    *pb.ScreenContactBatchRequest
		code   codes.Code
		reason pb.ErrorReason
		field  string
	}{
		{"missing channel", loaded, &pb.ScreenContactBatchRequest{Contacts: []*pb.Contact{listed}}, codes.InvalidArgument, ReasonInvalidRequest, "channel"},
		{"empty batch", loaded, &pb.ScreenContactBatchRequest{Channel: pb.Channel_CHANNEL_POST}, codes.InvalidArgument, ReasonInvalidRequest, "contacts"},
		{"over maximum", loaded, &pb.ScreenContactBatchRequest{Channel: pb.Channel_CHANNEL_POST, Contacts: over}, codes.InvalidArgument, ReasonBatchTooLarge, "contacts"},
		{"no dataset", empty, &pb.ScreenContactBatchRequest{Channel: pb.Channel_CHANNEL_POST, Contacts: []*pb.Contact{listed}}, codes.FailedPrecondition, ReasonNoDataset, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.env.client.ScreenContactBatch(ctx, tt.req)
			if resp != nil {
				t.Errorf("got results %v with an error expected", resp)
			}
			st := errorInfo(t, err, tt.code, tt.reason)
			if tt.field != "" {
				fieldViolation(t, st, tt.field)
			}
		})
	}
	t.Run("exactly the maximum", func(t *testing.T) {
		resp, err := loaded.client.ScreenContactBatch(ctx, &pb.ScreenContactBatchRequest{Channel: pb.Channel_CHANNEL_POST, Contacts: over[:MaxBatch]})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(resp.GetResults()); n != MaxBatch || resp.GetResults()[MaxBatch-1].GetRef() != fmt.Sprint(MaxBatch-1) {
			t.Errorf("%d results, last %q", n, resp.GetResults()[n-1].GetRef())
		}
	})
}

// TestScreenChunkReusesBuffers screens messages one after another through
// the same batchBuffers, as one ScreenContacts stream does: every response
// must equal the one fresh buffers give (nothing of an earlier message,
// findings, reasons or dataset references, left in a later one), and a
// stream of such messages must answer each in order.
func TestScreenChunkReusesBuffers(t *testing.T) {
	e := newEnv(t, true)
	svc := NewScreeningService(e.st, &screening.Engine{}, slog.New(slog.DiscardHandler), nopAuditor{})
	clean := []*pb.Contact{batchContacts[2], batchContacts[5]}
	tests := []struct {
		name   string
		chunks [][]*pb.Contact
	}{
		{"every decision, then only ALLOW", [][]*pb.Contact{batchContacts, clean}},
		{"only ALLOW, then every decision", [][]*pb.Contact{clean, batchContacts}},
		{"large, small, large", [][]*pb.Contact{batchContacts, batchContacts[:1], batchContacts}},
		{"reversed order", [][]*pb.Contact{batchContacts, {batchContacts[5], batchContacts[4], batchContacts[3], batchContacts[2], batchContacts[1], batchContacts[0]}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			buf := new(batchBuffers)
			stream, err := e.client.ScreenContacts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for i, chunk := range tt.chunks {
				req := &pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST, Contacts: chunk}
				fresh, err := svc.screenChunk(ctx, new(batchBuffers), req)
				if err != nil {
					t.Fatal(err)
				}
				want := proto.Clone(fresh)
				got, err := svc.screenChunk(ctx, buf, req)
				if err != nil {
					t.Fatal(err)
				}
				if !proto.Equal(got, want) {
					t.Errorf("message %d with reused buffers:\n%v\nwant\n%v", i, got, want)
				}
				if err := stream.Send(req); err != nil {
					t.Fatal(err)
				}
				resp, err := stream.Recv()
				if err != nil {
					t.Fatal(err)
				}
				if !proto.Equal(resp, want) {
					t.Errorf("stream message %d:\n%v\nwant\n%v", i, resp, want)
				}
			}
			stream.CloseSend()
		})
	}
}
