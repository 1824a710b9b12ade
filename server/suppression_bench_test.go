package server

import (
	"context"
	"fmt"
	"github.com/robinscreen/robinscreen/internal/proccpu"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/store"
	"github.com/robinscreen/robinscreen/suppress"
)

// setStore is a suppress.Store over an in-memory Set, for benchmarks of
// the screening path (which reads only View).
type setStore struct{ set *suppress.Set }

func (s setStore) Add(context.Context, []suppress.Entry) (int, error)     { return 0, nil }
func (s setStore) Remove(context.Context, suppress.Removal) (bool, error) { return false, nil }
func (s setStore) View(context.Context) (*suppress.Set, error)            { return s.set, nil }
func (s setStore) Export(context.Context, func(suppress.Entry) error) error {
	return nil
}
func (s setStore) Hasher() *suppress.Hasher { return s.set.Hasher() }
func (s setStore) Close() error             { return nil }

var (
	bigSetOnce sync.Once
	bigSet     *suppress.Set
)

// millionEntries returns a list of 1 000 000 entries: 600 000 phones,
// 300 000 e-mail addresses, 50 000 personal numbers and 50 000 CVR numbers,
// none of them a benchmark contact's.
func millionEntries(b *testing.B) *suppress.Set {
	bigSetOnce.Do(func() {
		h, err := suppress.NewHasher([]byte(strings.Repeat("b", 32)))
		if err != nil {
			b.Fatal(err)
		}
		set := suppress.NewSet(h)
		added := time.Unix(1700000000, 0)
		put := func(k suppress.Kind, v string) {
			key, err := h.Key(k, v)
			if err != nil {
				b.Fatalf("%v %q: %v", k, v, err)
			}
			set.Insert(suppress.Entry{Key: key, Reason: suppress.ReasonRequested, Source: "bench", Added: added})
		}
		for i := 0; i < 600000; i++ {
			put(suppress.KindPhone, strconv.Itoa(90000000+i))
		}
		for i := 0; i < 300000; i++ {
			put(suppress.KindEmail, "optout"+strconv.Itoa(i)+"@example.test")
		}
		for i := 0; i < 50000; i++ {
			put(suppress.KindCPR, fmt.Sprintf("0101%02d%04d", 50+i/10000, i%10000))
		}
		for i := 0; i < 50000; i++ {
			put(suppress.KindCVR, strconv.Itoa(60000000+i))
		}
		bigSet = set
	})
	return bigSet
}

// suppressionContacts are BenchmarkScreenChunk's contacts, each with a
// phone number and an e-mail address (written as call lists do) that are
// not on the list: every contact is hashed and looked up twice and then
// screened in full.
func suppressionContacts() []*pb.Contact {
	var cs []*pb.Contact
	for i := 0; i < 1000; i++ {
		c := &pb.Contact{Ref: fmt.Sprint(i), Name: fmt.Sprintf("Karen Uopført%d", i), Address: fmt.Sprintf("Ikkelistet Vej %d, 2. th, 8000 Aarhus C", 1+i%300)}
		if i%10 == 0 {
			c = &pb.Contact{Ref: fmt.Sprint(i), Name: "Søren Testesen", Address: "Fiktivvej 12, 2. tv, 2100 København Ø"}
		}
		c.Phone = fmt.Sprintf("+45 %02d %02d %02d %02d", 20+i%70, i%100, (i/100)%100, 17)
		c.Email = fmt.Sprintf("Kunde.%d@Example.dk", i)
		cs = append(cs, c)
	}
	return cs
}

func suppressionBenchService(b *testing.B, entries bool) *ScreeningService {
	dir := b.TempDir()
	st, err := store.Open(filepath.Join(dir, "data"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	loadDemo(b, st, dir)
	svc := NewScreeningService(st, &screening.Engine{}, slog.New(slog.DiscardHandler), nopAuditor{})
	if entries {
		svc.sup = setStore{millionEntries(b)}
	}
	return svc
}

// BenchmarkSuppressionBatch is BenchmarkScreenChunk (one 1000-contact
// ScreenContacts message: unmarshal, screen, convert, marshal) with
// contacts that carry a phone and an e-mail, without a suppression list
// (list=none, as before issue 12) and with 1 000 000 entries loaded.
func BenchmarkSuppressionBatch(b *testing.B) {
	req := &pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST, Contacts: suppressionContacts()}
	in, _ := proto.Marshal(req)
	for _, tc := range []struct {
		name    string
		entries bool
	}{{"list=none", false}, {"list=1M", true}} {
		b.Run(tc.name, func(b *testing.B) {
			svc := suppressionBenchService(b, tc.entries)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := proccpu.Seconds()
			for i := 0; i < b.N; i++ {
				var r pb.ScreenContactsRequest
				if err := proto.Unmarshal(in, &r); err != nil {
					b.Fatal(err)
				}
				resp, err := svc.screenChunk(context.Background(), &r)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := proto.Marshal(resp); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(req.Contacts)), "ns/contact")
			b.ReportMetric((proccpu.Seconds()-cpu)*1e9/float64(b.N*len(req.Contacts)), "cpu-ns/contact")
		})
	}
}

// BenchmarkSuppressionUnary is one ScreenContact call in process
// (unmarshal, the service's handler, marshal), same two cases.
func BenchmarkSuppressionUnary(b *testing.B) {
	cs := suppressionContacts()
	ins := make([][]byte, len(cs))
	for i, c := range cs {
		ins[i], _ = proto.Marshal(&pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_POST, Contact: c})
	}
	for _, tc := range []struct {
		name    string
		entries bool
	}{{"list=none", false}, {"list=1M", true}} {
		b.Run(tc.name, func(b *testing.B) {
			svc := suppressionBenchService(b, tc.entries)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			cpu := proccpu.Seconds()
			for i := 0; i < b.N; i++ {
				var r pb.ScreenContactRequest
				if err := proto.Unmarshal(ins[i%len(ins)], &r); err != nil {
					b.Fatal(err)
				}
				resp, err := svc.ScreenContact(ctx, &r)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := proto.Marshal(resp); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((proccpu.Seconds()-cpu)*1e9/float64(b.N), "cpu-ns/op")
		})
	}
}
