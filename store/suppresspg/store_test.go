package suppresspg

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/robinscreen/robinscreen/internal/pgtest"
	"github.com/robinscreen/robinscreen/internal/tcpproxy"
	"github.com/robinscreen/robinscreen/suppress"
)

func hasher(t *testing.T, c string) *suppress.Hasher {
	h, err := suppress.NewHasher([]byte(strings.Repeat(c, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func open(t *testing.T, dsn string, h *suppress.Hasher) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, h, Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func phone(t *testing.T, h *suppress.Hasher, n int, scope string) suppress.Entry {
	k, err := h.Key(suppress.KindPhone, fmt.Sprintf("%08d", 20000000+n))
	if err != nil {
		t.Fatal(err)
	}
	return suppress.Entry{Key: k, Scope: scope, Reason: suppress.ReasonRequested, Source: "test", Added: time.Unix(1700000000, 0).UTC()}
}

// TestReplicasSeeEachOthersChanges: two stores on one database (two
// replicas). Every entry one adds is in the other's very next View, with
// no wait for the notification; so is every removal.
func TestReplicasSeeEachOthersChanges(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Database(t)
	h := hasher(t, "a")
	a, b := open(t, dsn, h), open(t, dsn, h)
	for i := 0; i < 50; i++ {
		w, r := a, b
		if i%2 == 1 {
			w, r = b, a
		}
		e := phone(t, h, i, "")
		if n, err := w.Add(ctx, []suppress.Entry{e}); err != nil || n != 1 {
			t.Fatalf("add %d: %d, %v", i, n, err)
		}
		set, err := r.View(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !set.Contains(e.Key, "") {
			t.Fatalf("entry %d added on one replica missing from the other's next view", i)
		}
	}
	e := phone(t, h, 7, "")
	ok, err := a.Remove(ctx, suppress.Removal{Key: e.Key, By: "admin", Why: "test", At: time.Now()})
	if err != nil || !ok {
		t.Fatalf("remove: %v %v", ok, err)
	}
	set, err := b.View(ctx)
	if err != nil || set.Contains(e.Key, "") || set.Len() != 49 {
		t.Fatalf("after removal on a: b holds %d entries (removed one present: %v), %v", set.Len(), set.Contains(e.Key, ""), err)
	}
	// Added again after the removal: back in force everywhere.
	if n, err := b.Add(ctx, []suppress.Entry{e}); err != nil || n != 1 {
		t.Fatalf("re-add: %d %v", n, err)
	}
	if set, _ := a.View(ctx); !set.Contains(e.Key, "") {
		t.Fatal("re-added entry missing on a")
	}
	// A third replica starting now reads the same list.
	c := open(t, dsn, h)
	if set, _ := c.View(ctx); set.Len() != 50 {
		t.Fatalf("new replica: %d entries, want 50", set.Len())
	}
}

// TestAddNeverChanges: adding an entry that exists (an import) leaves it
// as it was.
func TestAddNeverChanges(t *testing.T) {
	ctx := context.Background()
	h := hasher(t, "a")
	s := open(t, pgtest.Database(t), h)
	first := phone(t, h, 1, "brand")
	first.Reason = suppress.ReasonComplaint
	again := first
	again.Reason, again.Source = suppress.ReasonOther, "import"
	tests := []struct {
		name    string
		entries []suppress.Entry
		want    int
	}{
		{"new", []suppress.Entry{first}, 1},
		{"again with another reason", []suppress.Entry{again}, 0},
		{"twice in one call", []suppress.Entry{phone(t, h, 2, ""), phone(t, h, 2, "")}, 1},
	}
	for _, tc := range tests {
		n, err := s.Add(ctx, tc.entries)
		if err != nil || n != tc.want {
			t.Fatalf("%s: %d, %v; want %d", tc.name, n, err, tc.want)
		}
	}
	set, _ := s.View(ctx)
	if got := set.Entries(first.Key); len(got) != 1 || got[0].Reason != suppress.ReasonComplaint || got[0].Source != "test" {
		t.Fatalf("entry changed: %+v", got)
	}
}

func TestKeyMismatch(t *testing.T) {
	dsn := pgtest.Database(t)
	open(t, dsn, hasher(t, "a"))
	if _, err := Open(context.Background(), dsn, hasher(t, "b"), Options{}); !errors.Is(err, suppress.ErrKeyMismatch) {
		t.Fatalf("another key: %v", err)
	}
}

// TestDatabaseDown: once the database cannot be reached, View fails with
// ErrUnavailable (so nothing is screened), and so do Add and Remove; when
// it is back, the list is served again.
func TestDatabaseDown(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Database(t)
	h := hasher(t, "a")
	p, err := tcpproxy.Start(pgtest.Host(t, dsn))
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, pgtest.WithHost(t, dsn, p.Addr()), h)
	if _, err := s.Add(ctx, []suppress.Entry{phone(t, h, 1, "")}); err != nil {
		t.Fatal(err)
	}
	p.Stop()
	start := time.Now()
	if _, err := s.View(ctx); !errors.Is(err, suppress.ErrUnavailable) {
		t.Fatalf("View with the database down: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("View took %v with the database down", d)
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := s.Add(cctx, []suppress.Entry{phone(t, h, 2, "")}); !errors.Is(err, suppress.ErrUnavailable) {
		t.Fatalf("Add with the database down: %v", err)
	}
	// Back up (a new proxy on another port stands for the restarted
	// server): a new store reads the list.
	s2 := open(t, dsn, h)
	if set, err := s2.View(ctx); err != nil || set.Len() != 1 {
		t.Fatalf("after recovery: %v", err)
	}
}

// BenchmarkView is the per-request cost of the shared list when nothing
// changed: one round trip reading the version.
func BenchmarkView(b *testing.B) {
	dsn := pgtest.Database(b)
	h, err := suppress.NewHasher([]byte(strings.Repeat("a", 32)))
	if err != nil {
		b.Fatal(err)
	}
	s, err := Open(context.Background(), dsn, h, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.View(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLeastPrivilege: once the tables exist, a role with only SELECT,
// INSERT, UPDATE and DELETE on them (no CREATE) runs a replica.
func TestLeastPrivilege(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Database(t)
	h := hasher(t, "a")
	open(t, dsn, h).Close() // creates the tables as the owner
	s := open(t, limitedRole(t, dsn), h)
	if n, err := s.Add(ctx, []suppress.Entry{phone(t, h, 1, "")}); err != nil || n != 1 {
		t.Fatalf("add as the limited role: %d %v", n, err)
	}
	if ok, err := s.Remove(ctx, suppress.Removal{Key: phone(t, h, 1, "").Key, By: "x", Why: "y", At: time.Now()}); err != nil || !ok {
		t.Fatalf("remove as the limited role: %v %v", ok, err)
	}
}

// limitedRole creates a role with only SELECT, INSERT, UPDATE and DELETE
// on the existing tables and returns dsn for it.
func limitedRole(t *testing.T, dsn string) string {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	role := fmt.Sprintf("rs_app_%d", time.Now().UnixNano())
	for _, q := range []string{
		"CREATE ROLE " + role + " LOGIN",
		"REVOKE CREATE ON SCHEMA public FROM PUBLIC",
		"GRANT USAGE ON SCHEMA public TO " + role,
		"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " + role,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			return
		}
		defer conn.Close(context.Background())
		conn.Exec(context.Background(), "DROP OWNED BY "+role)
		conn.Exec(context.Background(), "DROP ROLE "+role)
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	return u.String()
}

// taggedPhone is phone with the tag the server gives it.
func taggedPhone(t *testing.T, h *suppress.Hasher, n int) suppress.Entry {
	e := phone(t, h, n, "")
	e.Tag = h.Tag(suppress.KindPhone, fmt.Sprintf("+45%08d", 20000000+n))
	return e
}

// TestTags: tags written by one replica reach the other. On a table
// created before tags existed, a role that cannot alter it stores entries
// without tags (still found), and the owner's next start adds the column;
// old entries stay without a tag, new ones carry theirs (read by replicas
// started after the column was added), and every one is found in every
// replica.
func TestTags(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Database(t)
	h := hasher(t, "a")
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	old := strings.Replace(schema, "  tag bigint NOT NULL DEFAULT 0,\n", "", 1)
	if old == schema {
		t.Fatal("the schema has no tag column to leave out")
	}
	if _, err := conn.Exec(ctx, old); err != nil {
		t.Fatal(err)
	}
	limited := open(t, limitedRole(t, dsn), h)
	if limited.tags {
		t.Fatal("the limited role reports a tag column on the old table")
	}
	if n, err := limited.Add(ctx, []suppress.Entry{taggedPhone(t, h, 1)}); err != nil || n != 1 {
		t.Fatalf("add without the column: %d %v", n, err)
	}
	owner := open(t, dsn, h)
	if !owner.tags {
		t.Fatal("the owner did not add the tag column")
	}
	if n, err := owner.Add(ctx, []suppress.Entry{taggedPhone(t, h, 2)}); err != nil || n != 1 {
		t.Fatalf("add with the column: %d %v", n, err)
	}
	fresh := open(t, dsn, h)
	for _, r := range []struct {
		name string
		s    *Store
	}{{"limited role", limited}, {"owner", owner}, {"new replica", fresh}} {
		set, err := r.s.View(ctx)
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		for n, want := range map[int]suppress.Tag{1: 0, 2: taggedPhone(t, h, 2).Tag} {
			if r.s == limited {
				want = 0 // started before the column existed: reads no tags
			}
			e := phone(t, h, n, "")
			got := set.Entries(e.Key)
			if len(got) != 1 || got[0].Tag != want {
				t.Errorf("%s: entry %d: %+v, want tag %x", r.name, n, got, want)
			}
			v := suppress.Values{Phone: fmt.Sprintf("+45 %08d", 20000000+n)}
			if _, ok := set.Match(&v, ""); !ok {
				t.Errorf("%s: entry %d not found by Match", r.name, n)
			}
		}
	}
}
