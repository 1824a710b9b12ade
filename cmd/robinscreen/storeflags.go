package main

import (
	"flag"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/store"
)

// storeFlags are the data-directory flags shared by serve and load.
type storeFlags struct {
	keyFile, encKeyFile       string
	robinsonMaxAge, cprMaxAge int
	streetsMaxAge, cvrMaxAge  int
	allowLongerMaxAge         bool
}

// day is the unit of the --*-max-age-days flags.
const day = 24 * time.Hour

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.keyFile, "key-file", "", "pseudonym key file (default DIR/pseudonym.key; keep it elsewhere in production)")
	fs.StringVar(&f.encKeyFile, "encryption-key-file", "", "AES key file (32 hex-encoded bytes) encrypting the datasets at rest")
	fs.IntVar(&f.robinsonMaxAge, "robinson-max-age-days", int(screening.DefaultRobinsonMaxAge/day), "days after publication a Robinson list may clear a contact (may be lowered; longer only with --allow-longer-max-age)")
	fs.IntVar(&f.cprMaxAge, "cpr-max-age-days", int(screening.DefaultCPRMaxAge/day), "days after production a CPR extract may clear a contact (may be lowered; longer only with --allow-longer-max-age)")
	fs.IntVar(&f.streetsMaxAge, "streets-max-age-days", int(screening.DefaultStreetsMaxAge/day), "days after its date a road register is fresh (may be lowered; longer only with --allow-longer-max-age)")
	fs.IntVar(&f.cvrMaxAge, "cvr-max-age-days", int(screening.DefaultCVRMaxAge/day), "days after extraction CVR data may clear a business contact (may be lowered; longer only with --allow-longer-max-age)")
	fs.BoolVar(&f.allowLongerMaxAge, "allow-longer-max-age", false, "explicit override: let a --*-max-age-days flag exceed its default (screening rule 2.7; logged at start)")
}

// options returns the store options. It fails, naming the flag, when a
// maximum age is not allowed (maxAge) or the encryption key file cannot be
// read.
func (f *storeFlags) options(log *slog.Logger) (store.Options, error) {
	o := store.Options{KeyFile: f.keyFile, Logger: log, AllowLongerMaxAge: f.allowLongerMaxAge}
	var err error
	if o.RobinsonMaxAge, err = f.maxAge("--robinson-max-age-days", f.robinsonMaxAge, screening.DefaultRobinsonMaxAge); err != nil {
		return o, err
	}
	if o.CPRMaxAge, err = f.maxAge("--cpr-max-age-days", f.cprMaxAge, screening.DefaultCPRMaxAge); err != nil {
		return o, err
	}
	if o.StreetsMaxAge, err = f.maxAge("--streets-max-age-days", f.streetsMaxAge, screening.DefaultStreetsMaxAge); err != nil {
		return o, err
	}
	if o.CVRMaxAge, err = f.maxAge("--cvr-max-age-days", f.cvrMaxAge, screening.DefaultCVRMaxAge); err != nil {
		return o, err
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

// maxAge checks a --*-max-age-days flag against screening rule 2.7 and
// returns its duration: at least one day, and at most the default unless
// --allow-longer-max-age is given (store.Open then logs the override). Its
// error names the flag and the value.
func (f *storeFlags) maxAge(name string, days int, def time.Duration) (time.Duration, error) {
	switch {
	case days < 1:
		return 0, fmt.Errorf("%s %d: a maximum age must be at least 1 day", name, days)
	case int64(days) > math.MaxInt64/int64(day):
		return 0, fmt.Errorf("%s %d: too large", name, days)
	case time.Duration(days)*day > def && !f.allowLongerMaxAge:
		return 0, fmt.Errorf("%s %d: longer than the default of %d days; screening rule 2.7 lets an operator shorten a maximum age, and lengthen it only with the explicit override --allow-longer-max-age, which is logged",
			name, days, def/day)
	}
	return time.Duration(days) * day, nil
}
