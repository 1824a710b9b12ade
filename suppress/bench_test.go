package suppress

import (
	"fmt"
	"github.com/robinscreen/robinscreen/internal/proccpu"
	"strconv"
	"testing"
)

// BenchmarkMatch is the suppression step for one contact with a phone
// number and an e-mail address that are not on a list of n entries:
// normalise, pseudonymise and look up both.
func BenchmarkMatch(b *testing.B) {
	h := testHasher(b)
	for _, n := range []int{0, 1000000} {
		set := NewSet(h)
		for i := 0; i < n; i++ {
			k := KindPhone
			v := strconv.Itoa(90000000 + i)
			if i%3 == 2 {
				k, v = KindEmail, "optout"+strconv.Itoa(i)+"@example.test"
			}
			key, err := h.Key(k, v)
			if err != nil {
				b.Fatal(err)
			}
			set.Insert(Entry{Key: key, Reason: ReasonRequested})
		}
		vals := make([]Values, 1024)
		for i := range vals {
			vals[i] = Values{Phone: fmt.Sprintf("+45 %02d %02d %02d %02d", 20+i%70, i%100, (i/100)%100, 17), Email: fmt.Sprintf("Kunde.%d@Example.dk", i)}
		}
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
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
