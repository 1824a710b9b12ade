package main

import (
	"errors"
	"testing"

	"github.com/robinscreen/robinscreen/clients"
)

// TestDialPolicy: the load generator dials through the clients' policy, so
// it sends its (synthetic) personal data in plaintext only to loopback
// unless --insecure.
func TestDialPolicy(t *testing.T) {
	tests := []struct {
		name     string
		addr     string
		insecure bool
		wantErr  error
	}{
		{"loopback", "127.0.0.1:50051", false, nil},
		{"remote refused", "10.1.2.3:50051", false, clients.ErrPlaintextRefused},
		{"remote with --insecure", "10.1.2.3:50051", true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conns, err := dial(tc.addr, 2, tc.insecure)
			closeAll(conns)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("dial(%q) = %v, want %v", tc.addr, err, tc.wantErr)
			}
			if err == nil && len(conns) != 2 {
				t.Fatalf("dial made %d connections, want 2", len(conns))
			}
		})
	}
}
