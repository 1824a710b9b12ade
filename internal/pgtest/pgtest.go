// Package pgtest gives tests a fresh PostgreSQL database on the server
// named by $ROBINSCREEN_TEST_POSTGRES (scripts/postgres.sh starts one and
// sets it; scripts/test.sh does so for CI). Without it the tests skip.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env names the variable holding the server's URL.
const Env = "ROBINSCREEN_TEST_POSTGRES"

// Database creates a new, empty database, drops it when the test ends and
// returns its URL. It skips the test when Env is unset and fails it when
// the server cannot be reached.
func Database(t testing.TB) string {
	t.Helper()
	base := lookupEnv()
	if base == "" {
		t.Skip("PostgreSQL tests skipped: set " + Env + " (source scripts/postgres.sh, or run scripts/test.sh)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", Env, err)
	}
	defer conn.Close(context.Background())
	var rnd [6]byte
	rand.Read(rnd[:])
	name := "robinscreen_test_" + hex.EncodeToString(rnd[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest: %s is not a URL: %v", Env, err)
	}
	u.Path = "/" + name
	return u.String()
}

// WithHost returns dsn with its host:port replaced (to go through a
// tcpproxy).
func WithHost(t testing.TB, dsn, hostport string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = hostport
	return u.String()
}

// Host returns the host:port of dsn.
func Host(t testing.TB, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}
