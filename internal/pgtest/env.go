package pgtest

import "os"

func lookupEnv() string { return os.Getenv(Env) }
