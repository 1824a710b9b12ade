package server

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/store"
)

// benchChunk returns a screening service over the demo dataset and a
// ScreenContacts request of 1000 contacts, 10 % of them listed; with
// postcodeField the postcode is sent in its own field, else at the end of
// the address.
func benchChunk(b *testing.B, postcodeField bool) (*ScreeningService, *pb.ScreenContactsRequest) {
	b.Helper()
	dir := b.TempDir()
	st, err := store.Open(filepath.Join(dir, "data"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	loadDemo(b, st, dir)
	svc := NewScreeningService(st, &screening.Engine{}, slog.New(slog.DiscardHandler), nopAuditor{})
	req := &pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST}
	for i := range 1000 {
		c := &pb.Contact{Ref: fmt.Sprint("kunde-", i), Name: fmt.Sprintf("Karen Uopført%d", i), Address: fmt.Sprintf("Ikkelistet Vej %d, 2. th", 1+i%300)}
		listed := &pb.Contact{Ref: fmt.Sprint("kunde-", i), Name: "Søren Testesen", Address: "Fiktivvej 12, 2. tv"}
		if postcodeField {
			c.PostalCode, listed.PostalCode = "8000", "2100"
		} else {
			c.Address += ", 8000 Aarhus C"
			listed.Address += ", 2100 København Ø"
		}
		if i%10 == 0 {
			c = listed
		}
		req.Contacts = append(req.Contacts, c)
	}
	return svc, req
}

// BenchmarkScreenChunk measures the server's work for one ScreenContacts
// request message of 1000 contacts (10 % listed): screening, converting
// and marshalling the response. Reported per contact.
func BenchmarkScreenChunk(b *testing.B) {
	svc, req := benchChunk(b, false)
	in, _ := proto.Marshal(req)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var r pb.ScreenContactsRequest
		if err := proto.Unmarshal(in, &r); err != nil {
			b.Fatal(err)
		}
		resp, err := svc.screenChunk(context.Background(), new(batchBuffers), &r)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := proto.Marshal(resp); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(req.Contacts)), "ns/contact")
}
