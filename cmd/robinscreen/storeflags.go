package main

import (
	"flag"
	"log/slog"
	"time"

	"github.com/robinscreen/robinscreen/store"
)

// storeFlags are the data-directory flags shared by serve and load.
type storeFlags struct {
	keyFile, encKeyFile       string
	robinsonMaxAge, cprMaxAge int
	streetsMaxAge             int
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.keyFile, "key-file", "", "pseudonym key file (default DIR/pseudonym.key; keep it elsewhere in production)")
	fs.StringVar(&f.encKeyFile, "encryption-key-file", "", "AES key file (32 hex-encoded bytes) encrypting the datasets at rest")
	fs.IntVar(&f.robinsonMaxAge, "robinson-max-age-days", 100, "days after publication a Robinson list may clear a contact")
	fs.IntVar(&f.cprMaxAge, "cpr-max-age-days", 100, "days after production a CPR extract may clear a contact")
	fs.IntVar(&f.streetsMaxAge, "streets-max-age-days", 100, "days after its date a road register is fresh")
}

// options returns the store options; it fails when the encryption key file
// cannot be read.
func (f *storeFlags) options(log *slog.Logger) (store.Options, error) {
	o := store.Options{
		KeyFile:        f.keyFile,
		Logger:         log,
		RobinsonMaxAge: time.Duration(f.robinsonMaxAge) * 24 * time.Hour,
		CPRMaxAge:      time.Duration(f.cprMaxAge) * 24 * time.Hour,
		StreetsMaxAge:  time.Duration(f.streetsMaxAge) * 24 * time.Hour,
	}
	if f.encKeyFile != "" {
		key, err := store.ReadKey(f.encKeyFile)
		if err != nil {
			return o, flagError(err, "--encryption-key-file", f.encKeyFile)
		}
		o.EncryptionKey = key
	}
	return o, nil
}
