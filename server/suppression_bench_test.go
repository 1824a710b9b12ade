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
	bigSetOnce [2]sync.Once
	bigSet     [2]*suppress.Set // untagged, tagged
)

// millionEntries returns a list of 1 000 000 entries: 600 000 phones,
// 300 000 e-mail addresses, 50 000 personal numbers and 50 000 CVR numbers,
// none of them a benchmark contact's, each with its tag as the server adds
// it, or (tagged false) without tags, as entries stored before tags
// existed: every value is then pseudonymised.
func millionEntries(b *testing.B, tagged bool) *suppress.Set {
	t := 0
	if tagged {
		t = 1
	}
	bigSetOnce[t].Do(func() {
		h, err := suppress.NewHasher([]byte(strings.Repeat("b", 32)))
		if err != nil {
			b.Fatal(err)
		}
		set := suppress.NewSet(h)
		added := time.Unix(1700000000, 0)
		put := func(k suppress.Kind, v string) {
			key, tag, err := h.KeyTag(k, v)
			if err != nil {
				b.Fatalf("%v %q: %v", k, v, err)
			}
			if !tagged {
				tag = 0
			}
			set.Insert(suppress.Entry{Key: key, Reason: suppress.ReasonRequested, Source: "bench", Added: added, Tag: tag})
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
		bigSet[t] = set
	})
	return bigSet[t]
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

// suppressionCases are the lists of the suppression benchmarks: none (as
// before issue 12), 1 M entries with tags (as the server adds them), and
// the same without tags (every value pseudonymised, as before the tag
// pre-filter).
var suppressionCases = []struct {
	name    string
	entries bool
	tagged  bool
}{{"list=none", false, false}, {"list=1M", true, true}, {"list=1M-untagged", true, false}}

func suppressionBenchService(b *testing.B, entries, tagged bool) *ScreeningService {
	dir := b.TempDir()
	st, err := store.Open(filepath.Join(dir, "data"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	loadDemo(b, st, dir)
	svc := NewScreeningService(st, &screening.Engine{}, slog.New(slog.DiscardHandler), nopAuditor{})
	if entries {
		svc.sup = setStore{millionEntries(b, tagged)}
	}
	return svc
}

// BenchmarkSuppressionBatch is BenchmarkScreenChunk (one 1000-contact
// ScreenContacts message: unmarshal, screen, convert, marshal) with
// contacts that carry a phone and an e-mail, with each of
// suppressionCases.
func BenchmarkSuppressionBatch(b *testing.B) {
	req := &pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST, Contacts: suppressionContacts()}
	in, _ := proto.Marshal(req)
	for _, tc := range suppressionCases {
		b.Run(tc.name, func(b *testing.B) {
			svc := suppressionBenchService(b, tc.entries, tc.tagged)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := proccpu.Seconds()
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
			b.ReportMetric((proccpu.Seconds()-cpu)*1e9/float64(b.N*len(req.Contacts)), "cpu-ns/contact")
		})
	}
}

// BenchmarkSuppressionUnary is one ScreenContact call in process
// (unmarshal, the service's handler, marshal), same cases.
func BenchmarkSuppressionUnary(b *testing.B) {
	cs := suppressionContacts()
	ins := make([][]byte, len(cs))
	for i, c := range cs {
		ins[i], _ = proto.Marshal(&pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_POST, Contact: c})
	}
	for _, tc := range suppressionCases {
		b.Run(tc.name, func(b *testing.B) {
			svc := suppressionBenchService(b, tc.entries, tc.tagged)
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
