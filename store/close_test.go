package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestCloseWaitsForLoads closes the store while loads are paused mid-file:
// Close must not return while they run, the loads must fail with ErrClosed
// once they go on, and then Close returns. Run it under -race.
func TestCloseWaitsForLoads(t *testing.T) {
	tests := []struct {
		name  string
		kinds []string // loads paused when Close is called
	}{
		{"no load running", nil},
		{"one Robinson load", []string{"robinson"}},
		{"Robinson and CPR loads", []string{"robinson", "cpr"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dir := t.TempDir(), t.TempDir()
			s, err := Open(dir, Options{KeyFile: t.TempDir() + "/pseudonym.key"})
			if err != nil {
				t.Fatal(err)
			}
			files := map[string]string{"robinson": robinsonFile(t, src, entries), "cpr": cprFile(t, src, true)}
			proceed := make(chan struct{})
			errc := make(chan error, len(tt.kinds))
			for _, kind := range tt.kinds {
				started := make(chan struct{})
				first := true
				opt := LoadOptions{Progress: func(Progress) {
					if first {
						first = false
						close(started)
						<-proceed
					}
				}}
				go func() {
					var err error
					if kind == "cpr" {
						_, err = s.LoadCPR(context.Background(), files[kind], opt)
					} else {
						_, err = s.LoadRobinson(context.Background(), files[kind], opt)
					}
					errc <- err
				}()
				<-started
			}

			closed := make(chan error, 1)
			go func() { closed <- s.Close() }()
			if len(tt.kinds) > 0 {
				select {
				case err := <-closed:
					t.Fatalf("Close returned (%v) while %d loads were running", err, len(tt.kinds))
				case <-time.After(200 * time.Millisecond):
				}
				// A load cannot begin on a closing store.
				if _, err := s.LoadRobinson(context.Background(), files["robinson"], LoadOptions{}); !errors.Is(err, ErrClosed) && !errors.Is(err, ErrLoadInProgress) {
					t.Errorf("load during Close: %v, want ErrClosed or ErrLoadInProgress", err)
				}
			}
			close(proceed)
			for range tt.kinds {
				if err := <-errc; !errors.Is(err, ErrClosed) {
					t.Errorf("load interrupted by Close: %v, want ErrClosed", err)
				}
			}
			select {
			case err := <-closed:
				if err != nil {
					t.Fatalf("Close: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Close did not return after the loads ended")
			}
			if s.Ready() {
				t.Error("a closed store reports Ready")
			}
			if err := s.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}
