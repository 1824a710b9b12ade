package main

// BenchmarkServerBatch runs an in-process server (server.New over a store
// loaded with a synthetic list) and drives ScreenContacts through loopback
// TCP with the batch mode, so that `go test -cpuprofile` profiles the
// server under batch load (docs/benchmarks-e2e.md):
//
//	go test -run '^$' -bench ServerBatch -benchtime 3x -cpuprofile cpu.out ./loadtest
//	go tool pprof -top -focus 'robinscreen/(server|screening|store|robinson)' loadtest.test cpu.out
//
// LOADTEST_LIST_N (default 1000000) and LOADTEST_CONTACTS_N (default
// 200000) set the sizes. Client and server share the process, as they
// share the machine in the end-to-end runs; cpu-ns/contact is the
// process's CPU time (both, and the garbage collector) per contact.

import (
	"bufio"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/internal/proccpu"
	"github.com/robinscreen/robinscreen/internal/synth"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/server"
	"github.com/robinscreen/robinscreen/store"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func BenchmarkServerBatch(b *testing.B) {
	if testing.Short() {
		b.Skip("skipped under -short")
	}
	listN, contactsN := envInt("LOADTEST_LIST_N", 1_000_000), envInt("LOADTEST_CONTACTS_N", 200_000)
	dir := b.TempDir()
	gen := synth.NewGenerator(synth.Config{Seed: 1, Records: listN, Published: time.Now().UTC().Truncate(24 * time.Hour)})
	lp := filepath.Join(dir, "list.txt")
	f, err := os.Create(lp)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if _, err := gen.WriteRobinson(bw); err != nil {
		b.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	set := &contactSet{}
	err = gen.Contacts(contactsN, 0.1, 1, func(c synth.Contact) error {
		set.Contacts = append(set.Contacts, &pb.Contact{Ref: c.Ref, Name: c.Name, Address: c.Address, PostalCode: c.PostalCode})
		if c.Listed {
			set.Listed++
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "data"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.LoadRobinson(context.Background(), lp, store.LoadOptions{}); err != nil {
		b.Fatal(err)
	}
	srv := server.New(server.Config{Data: st, Engine: &screening.Engine{}})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.GRPC.Serve(lis)
	defer srv.GRPC.Stop()
	cfg := batchConfig{Addr: lis.Addr().String(), Chunk: 1000, Streams: 4, Window: 2, Channel: pb.Channel_CHANNEL_POST}
	b.ResetTimer()
	var screened int64
	cpu := proccpu.Seconds()
	for b.Loop() {
		res, err := runBatch(context.Background(), cfg, set)
		if err != nil {
			b.Fatal(err)
		}
		if res.Errors != 0 {
			b.Fatalf("%d errors: %v", res.Errors, res.ErrorsByCode)
		}
		screened += res.Results
	}
	b.ReportMetric(float64(screened)/b.Elapsed().Seconds(), "contacts/s")
	// The process's CPU time per contact: server, client and garbage
	// collector together; steadier than contacts/s on a shared machine.
	b.ReportMetric((proccpu.Seconds()-cpu)*1e9/float64(screened), "cpu-ns/contact")
}
