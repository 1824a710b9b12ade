package clients_test

import (
	"os/exec"
	"strings"
	"testing"
)

// heavyModules are the server's dependencies that must never reach an
// integrator through the client module: the storage engine (Badger), the
// baseline benchmark's Redis client, the plotting library of the benchmark
// figures, the spreadsheet library of the call-list tool and the HTTP/JSON
// gateway's runtime (its generated code lives in the server's module).
var heavyModules = []string{
	"github.com/dgraph-io/badger",
	"github.com/redis/go-redis",
	"github.com/go-redis/redis",
	"gonum.org/v1/plot",
	"github.com/xuri/excelize",
	"github.com/grpc-ecosystem/grpc-gateway",
	"github.com/robinscreen/robinscreen ", // the server's module itself
}

// heavyIn returns the lines of a `go list -m all` listing naming one of
// heavyModules.
func heavyIn(listing string) []string {
	var found []string
	for _, line := range strings.Split(listing, "\n") {
		for _, m := range heavyModules {
			if strings.HasPrefix(line+" ", m) {
				found = append(found, line)
				break
			}
		}
	}
	return found
}

func TestHeavyIn(t *testing.T) {
	tests := []struct {
		name    string
		listing string
		want    int
	}{
		{"grpc only", "github.com/robinscreen/robinscreen/clients\ngoogle.golang.org/grpc v1.85.0\ngonum.org/v1/gonum v0.17.0", 0},
		{"badger", "github.com/robinscreen/robinscreen/clients\ngithub.com/dgraph-io/badger/v4 v4.9.6", 1},
		{"redis", "github.com/redis/go-redis/v9 v9.23.0", 1},
		{"plot", "gonum.org/v1/plot v0.17.0", 1},
		{"excelize", "github.com/xuri/excelize/v2 v2.11.1", 1},
		{"gateway runtime", "github.com/grpc-ecosystem/grpc-gateway/v2 v2.33.0", 1},
		{"google.api annotations are fine", "google.golang.org/genproto/googleapis/api v0.0.0-20261026165753-2ffab32bce7e", 0},
		{"server module", "github.com/robinscreen/robinscreen v0.1.0 => ../", 1},
		{"proto module is fine", "github.com/robinscreen/robinscreen/proto v0.1.0 => ../proto", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := heavyIn(tc.listing); len(got) != tc.want {
				t.Errorf("heavyIn = %q, want %d lines", got, tc.want)
			}
		})
	}
}

// TestModuleGraphIsLight fails when the client module's build list (what an
// integrator's `go get` pulls) gains one of heavyModules.
func TestModuleGraphIsLight(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	out, err := exec.Command("go", "list", "-m", "all").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -m all: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "google.golang.org/grpc ") {
		t.Fatalf("go list -m all lists no grpc: not the client module's graph?\n%s", out)
	}
	if found := heavyIn(string(out)); len(found) > 0 {
		t.Errorf("the client module pulls server dependencies: %q", found)
	}
}
