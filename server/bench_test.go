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

// BenchmarkScreenChunk measures the server's work for one ScreenContacts
// request message of 1000 contacts (10 % listed): screening, converting
// and marshalling the response. Reported per contact.
func BenchmarkScreenChunk(b *testing.B) {
	dir := b.TempDir()
	st, err := store.Open(filepath.Join(dir, "data"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	loadDemo(b, st, dir)
	svc := NewScreeningService(st, &screening.Engine{}, slog.New(slog.DiscardHandler), nopAuditor{})
	req := &pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST}
	for i := 0; i < 1000; i++ {
		c := &pb.Contact{Ref: fmt.Sprint(i), Name: fmt.Sprintf("Karen Uopført%d", i), Address: fmt.Sprintf("Ikkelistet Vej %d, 2. th, 8000 Aarhus C", 1+i%300)}
		if i%10 == 0 {
			c = &pb.Contact{Ref: fmt.Sprint(i), Name: "Søren Testesen", Address: "Fiktivvej 12, 2. tv, 2100 København Ø"}
		}
		req.Contacts = append(req.Contacts, c)
	}
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
