package store

import (
	"fmt"
	"time"
	"encoding/csv"
	"os"
	"testing"

	"github.com/robinscreen/robinscreen/robinson"
	"github.com/robinscreen/robinscreen/screening"
)

func TestZZDiag(t *testing.T) {
	dir, cf := os.Getenv("DIAG_DATA"), os.Getenv("DIAG_CONTACTS")
	if dir == "" {
		t.Skip()
	}
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f, _ := os.Open(cf)
	cr := csv.NewReader(f)
	cr.Comma = ';'
	rows, _ := cr.ReadAll()
	snap, release := st.Acquire()
	defer release()
	rl := snap.Robinson
	d := st.serving[screening.KindRobinson]
	var exactReads, nearCalls, nearScans, probesNone int
	for _, r := range rows[1:] {
		name, err := robinson.ParseContactName(r[1])
		if err != nil {
			continue
		}
		addr, _ := robinson.ParseAddress(r[2])
		if r[3] != "" {
			addr.Postcode = r[3]
		}
		if addr.Postcode == "" || addr.HouseNumber == "" {
			continue
		}
		p := robinson.NewProbe(name, addr, nil)
		if p.None() {
			probesNone++
			continue
		}
		before := d.reads.Load()
		for _, sn := range name.Surnames {
			rl.Candidates(robinson.AppendKey(nil, addr.Postcode, addr.HouseNumber, sn), &p, func(*robinson.Record) {})
		}
		exactReads += int(d.reads.Load() - before)
		if r[5] == "true" {
			continue
		}
		before = d.reads.Load()
		nearCalls++
		rl.NearCandidates(&p, func(*robinson.Record) {})
		nearScans += int(d.reads.Load() - before)
	}
	var ne, nn int
	var buf [256]byte
	for _, r := range rows[1:] {
		name, err := robinson.ParseContactName(r[1])
		if err != nil {
			continue
		}
		addr, _ := robinson.ParseAddress(r[2])
		if r[3] != "" {
			addr.Postcode = r[3]
		}
		p := robinson.NewProbe(name, addr, nil)
		for _, sn := range name.Surnames {
			p.MayMatchExact(robinson.AppendKey(nil, addr.Postcode, addr.HouseNumber, sn), buf[:0], ff(func(k []byte) bool { ne++; return false }))
		}
		p.MayMatchNear(buf[:0], ff(func(k []byte) bool { nn++; return false }))
	}
	t.Logf("exact tests %d near tests %d", ne, nn)
	t.Logf("contacts %d exactReads %d nearCalls %d nearReads %d none %d", len(rows)-1, exactReads, nearCalls, nearScans, probesNone)
}

func TestZZFilterSpeed(t *testing.T) {
	dir := os.Getenv("DIAG_DATA")
	if dir == "" {
		t.Skip()
	}
	st, _ := Open(dir, Options{})
	defer st.Close()
	d := st.serving[screening.KindRobinson]
	keys := make([][]byte, 1<<16)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("r2%03d\x1f%d\x1fhansen\x00%c", i%1000, i%200, 'a'+i%26))
	}
	start := time.Now()
	n := 0
	for i := 0; i < 3_000_000; i++ {
		if d.filter.Test(keys[i&(1<<16-1)]) {
			n++
		}
	}
	t.Logf("3M tests: %v (%d positive)", time.Since(start), n)
}

type ff func([]byte) bool

func (f ff) Test(k []byte) bool { return f(k) }
