package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/robinscreen/robinscreen/store"
	"github.com/robinscreen/robinscreen/store/suppressbadger"
	"github.com/robinscreen/robinscreen/store/suppresspg"
	"github.com/robinscreen/robinscreen/suppress"
)

// suppressionFlags choose where serve keeps the suppression list.
type suppressionFlags struct {
	spec    string
	timeout time.Duration
}

func (f *suppressionFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.spec, "suppressions", "", "where the suppression list is kept: empty for DIR/suppressions (embedded), or a postgres://... URL shared by every replica")
	fs.DurationVar(&f.timeout, "suppressions-timeout", 2*time.Second, "with PostgreSQL: how long a request waits for the list's version check before it fails UNAVAILABLE")
}

// open opens the suppression list. The pseudonym key is the data
// directory's (--key-file), so every replica sharing a PostgreSQL list
// must use the same key; a different one is refused. It returns the
// stores' errors, naming the flag at fault.
func (f *suppressionFlags) open(dir, keyFile string, encKey []byte, log *slog.Logger) (suppress.Store, error) {
	if keyFile == "" {
		keyFile = store.DefaultKeyFile(dir)
	}
	key, err := store.LoadOrCreateKey(keyFile, false)
	if err != nil {
		return nil, flagError(err, "--key-file", keyFile)
	}
	h, err := suppress.NewHasher(key)
	if err != nil {
		return nil, flagError(err, "--key-file", keyFile)
	}
	switch {
	case f.spec == "":
		p := filepath.Join(dir, "suppressions")
		s, err := suppressbadger.Open(p, h, suppressbadger.Options{EncryptionKey: encKey, Logger: log})
		if errors.Is(err, suppress.ErrKeyMismatch) {
			return nil, flagError(err, "--key-file", keyFile)
		}
		if err != nil {
			return nil, flagError(err, "--data", dir)
		}
		return s, nil
	case strings.HasPrefix(f.spec, "postgres://"), strings.HasPrefix(f.spec, "postgresql://"):
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s, err := suppresspg.Open(ctx, f.spec, h, suppresspg.Options{Timeout: f.timeout, Logger: log})
		if errors.Is(err, suppress.ErrKeyMismatch) {
			return nil, flagError(err, "--key-file", keyFile)
		}
		if err != nil {
			// The URL may hold a password: never repeat it.
			return nil, flagError(err, "--suppressions", "postgres://…")
		}
		return s, nil
	}
	return nil, flagError(errors.New("want empty or a postgres:// URL"), "--suppressions", "")
}
