package blockbloom

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

func TestNoFalseNegatives(t *testing.T) {
	for _, n := range []int{1, 10, 1000, 100000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			f := New(n, 12)
			for i := range n {
				f.Add([]byte(fmt.Sprintf("key-%d", i)))
			}
			for i := range n {
				if !f.Test([]byte(fmt.Sprintf("key-%d", i))) {
					t.Fatalf("key-%d added but tests false", i)
				}
			}
			if f.Keys() != uint64(n) {
				t.Errorf("Keys = %d, want %d", f.Keys(), n)
			}
		})
	}
}

func TestFalsePositiveRate(t *testing.T) {
	const n = 200000
	f := New(n, 12)
	for i := range n {
		f.Add([]byte(fmt.Sprintf("in-%d", i)))
	}
	fp := 0
	for i := range n {
		if f.Test([]byte(fmt.Sprintf("out-%d", i))) {
			fp++
		}
	}
	if rate := float64(fp) / n; rate > 0.01 {
		t.Errorf("false-positive rate %.4f at 12 bits per key, want under 1 %%", rate)
	} else {
		t.Logf("false-positive rate %.4f", rate)
	}
}

func TestRoundTrip(t *testing.T) {
	f := New(1000, 12)
	for i := range 1000 {
		f.Add([]byte{byte(i), byte(i >> 8)})
	}
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	g, err := ReadFrom(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if g.Keys() != f.Keys() || g.Bytes() != f.Bytes() {
		t.Fatalf("read back %d keys %d bytes, want %d, %d", g.Keys(), g.Bytes(), f.Keys(), f.Bytes())
	}
	for i := range 1000 {
		if !g.Test([]byte{byte(i), byte(i >> 8)}) {
			t.Fatalf("key %d lost in the round trip", i)
		}
	}
	raw := b.Bytes()
	for name, bad := range map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte("XXXXXXXX"), raw[8:]...),
		"truncated": raw[:len(raw)-1],
		"longer":    append(append([]byte(nil), raw...), 0),
		"header":    raw[:24],
	} {
		if _, err := ReadFrom(bad); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: ReadFrom err = %v, want ErrFormat", name, err)
		}
	}
}

func TestZeroFilter(t *testing.T) {
	var f Filter
	f.Add([]byte("x"))
	if f.Test([]byte("x")) {
		t.Error("the zero Filter tests true")
	}
}

func FuzzReadFrom(f *testing.F) {
	var b bytes.Buffer
	New(10, 12).WriteTo(&b)
	f.Add(b.Bytes())
	b.Reset()
	NewPaired(10, 12).WriteTo(&b)
	f.Add(b.Bytes())
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ReadFrom(data)
		if err != nil {
			return
		}
		g.Test(data)
		var out bytes.Buffer
		if _, err := g.WriteTo(&out); err != nil || !bytes.Equal(out.Bytes(), data) {
			t.Fatalf("round trip differs (err %v)", err)
		}
	})
}

func BenchmarkTest(b *testing.B) {
	f := New(1<<24, 12) // 24 MiB: larger than the caches
	key := []byte("r2900\x1f12A\x1fhansen\x00h")
	for i := range 1 << 20 {
		f.Add(fmt.Appendf(nil, "k%d", i))
	}
	for b.Loop() {
		key[len(key)-1]++
		f.Test(key)
	}
}

func TestGroups(t *testing.T) {
	f := New(10000, 12)
	for g := range 1000 {
		for k := range 10 {
			f.AddIn(fmt.Appendf(nil, "group-%d", g), []byte{byte(k)})
		}
	}
	for g := range 1000 {
		for k := range 10 {
			if !f.TestIn(fmt.Appendf(nil, "group-%d", g), []byte{byte(k)}) {
				t.Fatalf("group %d key %d lost", g, k)
			}
		}
	}
	fp := 0
	for g := range 1000 {
		for k := 10; k < 20; k++ {
			if f.TestIn(fmt.Appendf(nil, "group-%d", g), []byte{byte(k)}) {
				fp++
			}
		}
	}
	if rate := float64(fp) / 10000; rate > 0.05 {
		t.Errorf("false-positive rate %.4f for absent keys of present groups", rate)
	}
	if f.TestIn([]byte("group-1"), nil) || f.TestIn(nil, []byte("group-1")) {
		t.Log("(a group without key, or a key without group, may test positive by chance)")
	}
}

func TestAllIn(t *testing.T) {
	f := New(1000, 12)
	keys := []byte("aabbccdd")
	f.AddAllIn([]byte("g1"), keys, 2)
	for i := 0; i < len(keys); i += 2 {
		if !f.TestIn([]byte("g1"), keys[i:i+2]) {
			t.Errorf("key %q of AddAllIn tests false with TestIn", keys[i:i+2])
		}
	}
	if n := f.CountMissingIn([]byte("g1"), keys, 2); n != 0 {
		t.Errorf("CountMissingIn = %d for added keys", n)
	}
	if n := f.CountMissingIn([]byte("g2"), keys, 2); n == 0 {
		t.Error("CountMissingIn = 0 for another group (possible only by chance)")
	}
	f.AddAllIn(nil, []byte("xyz"), 3)
	if !f.Test([]byte("xyz")) || f.CountMissingIn(nil, []byte("xyz"), 3) != 0 || !f.TestAnyIn(nil, []byte("xyz"), 3) {
		t.Error("an ungrouped key of AddAllIn is lost")
	}
	for i := range 200 {
		k := fmt.Appendf(nil, "u%03d", i)
		f.AddIn(nil, k)
		if !f.TestAnyIn(nil, k, len(k)) {
			t.Fatalf("ungrouped key %q of AddIn not found by TestAnyIn", k)
		}
	}
	if f.Keys() != 205 {
		t.Errorf("Keys = %d, want 205", f.Keys())
	}
}

// TestPaired: the paired layout loses no key (grouped, ungrouped, Touch
// changes nothing), survives the round trip with its layout, and lets
// through fewer absent keys of a group with many keys than one block.
func TestPaired(t *testing.T) {
	const groups, perGroup = 2000, 60 // large groups: 60 keys fill a block
	build := func(f *Filter) *Filter {
		for g := range groups {
			group := fmt.Appendf(nil, "group-%d", g)
			f.Touch(group)
			for k := range perGroup {
				f.AddIn(group, fmt.Appendf(nil, "k%d", k))
			}
		}
		f.AddIn(nil, []byte("ungrouped"))
		return f
	}
	fpRate := func(f *Filter) float64 {
		fp := 0
		for g := range groups {
			if f.TestAnyIn(fmt.Appendf(nil, "group-%d", g), []byte("x1x2x3x4"), 2) {
				fp++
			}
		}
		return float64(fp) / groups
	}
	one, two := build(New(groups*perGroup, 16)), build(NewPaired(groups*perGroup, 16))
	if !two.Paired() || one.Paired() {
		t.Fatal("Paired() does not tell the layout")
	}
	var b bytes.Buffer
	if _, err := two.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFrom(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !back.Paired() {
		t.Fatal("the round trip lost the paired layout")
	}
	for _, f := range []*Filter{two, back} {
		for g := range groups {
			group := fmt.Appendf(nil, "group-%d", g)
			for k := range perGroup {
				if !f.TestIn(group, fmt.Appendf(nil, "k%d", k)) {
					t.Fatalf("group %d key %d lost", g, k)
				}
			}
		}
		if !f.Test([]byte("ungrouped")) {
			t.Fatal("the ungrouped key is lost")
		}
	}
	p1, p2 := fpRate(one), fpRate(two)
	t.Logf("absent keys let through: one block %.3f, a pair %.3f", p1, p2)
	if p2 >= p1 {
		t.Errorf("a pair of blocks lets through %.3f of absent keys of full groups, one block %.3f", p2, p1)
	}
	// A paired file with an odd number of blocks is not a filter.
	raw := append([]byte(nil), b.Bytes()...)
	raw[16]++ // one more block than the bytes hold
	if _, err := ReadFrom(raw); !errors.Is(err, ErrFormat) {
		t.Errorf("ReadFrom of a damaged paired header: %v, want ErrFormat", err)
	}
}

// TestHugeFilter: filters large enough for huge-page advice (adviseHuge:
// at least two 2 MiB pages) keep every key, and read back
// (where the advice collapses pages the Go heap may have used before) as
// the same bits, in both layouts. 1 Mi keys at 48 bits are 6 MiB.
func TestHugeFilter(t *testing.T) {
	const n = 1 << 20
	for _, tt := range []struct {
		Name string
		New  func(n, bitsPerKey int) *Filter
	}{{"Single", New}, {"Paired", NewPaired}} {
		t.Run(tt.Name, func(t *testing.T) {
			f := tt.New(n, 48)
			if f.Bytes() < 3*hugePage {
				t.Fatalf("filter of %d bytes, want at least %d", f.Bytes(), 3*hugePage)
			}
			key := make([]byte, 8)
			for i := 0; i < n; i += 7 {
				binary.LittleEndian.PutUint64(key, uint64(i))
				f.AddIn(key[:4], key)
			}
			var buf bytes.Buffer
			if _, err := f.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			g, err := ReadFrom(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < n; i += 7 {
				binary.LittleEndian.PutUint64(key, uint64(i))
				if !f.TestIn(key[:4], key) || !g.TestIn(key[:4], key) {
					t.Fatalf("key %d added but tests false", i)
				}
			}
			var again bytes.Buffer
			if _, err := g.WriteTo(&again); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again.Bytes(), buf.Bytes()) {
				t.Error("the filter read back writes other bytes")
			}
		})
	}
}

// TestTouchHashes: TouchHashes of the groups' hashes reads the words Touch
// of each group reads (the same blocks, in both layouts), and an empty
// filter reads nothing.
func TestTouchHashes(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    *Filter
	}{
		{"Single", New(5000, 16)},
		{"Paired", NewPaired(5000, 16)},
		{"Empty", &Filter{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.f
			var groups [][]byte
			for g := range 40 {
				group := fmt.Appendf(nil, "group-%d", g)
				groups = append(groups, group)
				if f.Bytes() > 0 {
					for k := range 30 {
						f.AddIn(group, fmt.Appendf(nil, "k%d", k))
					}
				}
			}
			var want uint64
			hs := make([]uint64, 0, len(groups))
			for _, g := range groups {
				want += f.Touch(g)
				hs = append(hs, f.GroupHash(g))
			}
			if got := f.TouchHashes(hs); got != want {
				t.Fatalf("TouchHashes read %d, Touch of each group %d", got, want)
			}
			if f.Bytes() > 0 && want == 0 {
				t.Fatal("the touched blocks read as empty: the test compares nothing")
			}
		})
	}
}
