package suppress

import (
	"fmt"
	"github.com/robinscreen/robinscreen/internal/proccpu"
	"strconv"
	"testing"
	"unsafe"
)

// BenchmarkMatch is the suppression step for one contact with a phone
// number and an e-mail address that are not on a list of n entries:
// normalise, tag, pseudonymise when the tag may be on the list, and look
// up both. "-untagged" is a list of entries without tags (stored before
// tags existed): every value is pseudonymised.
func BenchmarkMatch(b *testing.B) {
	h := testHasher(b)
	for _, c := range []struct {
		n      int
		tagged bool
	}{{0, true}, {1000000, true}, {1000000, false}} {
		n := c.n
		set := NewSet(h)
		for i := 0; i < n; i++ {
			k := KindPhone
			v := strconv.Itoa(90000000 + i)
			if i%3 == 2 {
				k, v = KindEmail, "optout"+strconv.Itoa(i)+"@example.test"
			}
			key, tag, err := h.KeyTag(k, v)
			if err != nil {
				b.Fatal(err)
			}
			if !c.tagged {
				tag = 0
			}
			set.Insert(Entry{Key: key, Reason: ReasonRequested, Tag: tag})
		}
		// Every contact is new, as in a batch run: its values are written
		// into a buffer (in the cache, as a request's just read), but their
		// tags and pseudonyms land anywhere in the list's tables.
		pb := []byte("+45 00 00 00 00")
		eb := make([]byte, 0, 40)
		next := func(i int) Values {
			x := 20000000 + uint32(i)*2654435761%70000000
			for _, at := range [...]int{14, 13, 11, 10, 8, 7, 5, 4} {
				pb[at] = byte('0' + x%10)
				x /= 10
			}
			eb = append(strconv.AppendInt(append(eb[:0], "Kunde."...), int64(i), 10), "@Example.dk"...)
			return Values{Phone: unsafe.String(&pb[0], len(pb)), Email: unsafe.String(&eb[0], len(eb))}
		}
		name := fmt.Sprintf("entries=%d", n)
		if !c.tagged {
			name += "-untagged"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := proccpu.Seconds()
			for i := 0; i < b.N; i++ {
				v := next(i)
				if _, ok := set.Match(&v, ""); ok {
					b.Fatal("matched")
				}
			}
			b.ReportMetric((proccpu.Seconds()-cpu)*1e9/float64(b.N), "cpu-ns/op")
		})
	}
}
