package suppress

import (
	"fmt"
	"github.com/robinscreen/robinscreen/internal/proccpu"
	"strconv"
	"testing"
)

// BenchmarkMatch is the suppression step for one contact with a phone
// number and an e-mail address that are not on a list of n entries:
// normalise, tag, pseudonymise when the tag may be on the list, and look
// up both. "untagged" is a list of entries without tags (stored before
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
		vals := make([]Values, 1024)
		for i := range vals {
			vals[i] = Values{Phone: fmt.Sprintf("+45 %02d %02d %02d %02d", 20+i%70, i%100, (i/100)%100, 17), Email: fmt.Sprintf("Kunde.%d@Example.dk", i)}
		}
		name := fmt.Sprintf("entries=%d", n)
		if !c.tagged {
			name += "/untagged"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := proccpu.Seconds()
			for i := 0; i < b.N; i++ {
				if _, ok := set.Match(&vals[i&1023], ""); ok {
					b.Fatal("matched")
				}
			}
			b.ReportMetric((proccpu.Seconds()-cpu)*1e9/float64(b.N), "cpu-ns/op")
		})
	}
}
