package clientsit_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/internal/demo"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/server"
	"github.com/robinscreen/robinscreen/store"
)

// demoStore is a store loaded with the synthetic demo dataset, shared by the
// tests and examples; demoAddr is a server on it.
var (
	demoStore *store.Store
	demoAddr  string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "clients-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	demoStore, err = openDemoStore(filepath.Join(dir, "data"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo store:", err)
		return 1
	}
	defer demoStore.Close()
	srv, addr, err := serveOn(demoStore, "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer srv.GRPC.Stop()
	demoAddr = addr
	return m.Run()
}

// openDemoStore opens a store in dir and loads the demo dataset into it (as
// `robinscreen serve --demo` does).
func openDemoStore(dir string) (*store.Store, error) {
	st, err := openStore(dir)
	if err != nil {
		return nil, err
	}
	if err := demo.Load(context.Background(), st, time.Now().UTC().Truncate(24*time.Hour), false); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// serveOn starts a robinscreen server over data on addr and returns it with
// its actual address.
func serveOn(data server.Datasets, addr string) (*server.Server, string, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	srv := server.New(server.Config{Data: data, Engine: &screening.Engine{}})
	go srv.GRPC.Serve(lis)
	return srv, lis.Addr().String(), nil
}

func openStore(dir string) (*store.Store, error) { return store.Open(dir, store.Options{}) }
