package suppresspg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/robinscreen/robinscreen/suppress"
)

// Channel is the NOTIFY channel announcing a new version.
const Channel = "robinscreen_suppressions"

const schema = `
CREATE TABLE IF NOT EXISTS robinscreen_suppression_meta (
  id smallint PRIMARY KEY CHECK (id = 1),
  version bigint NOT NULL,
  key_fingerprint text NOT NULL
);
CREATE TABLE IF NOT EXISTS robinscreen_suppressions (
  kind smallint NOT NULL,
  pseudonym bytea NOT NULL,
  scope text NOT NULL,
  reason smallint NOT NULL,
  source text NOT NULL,
  added timestamptz NOT NULL,
  seq bigint NOT NULL,
  tag bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, pseudonym, scope)
);
CREATE INDEX IF NOT EXISTS robinscreen_suppressions_seq ON robinscreen_suppressions (seq);
CREATE TABLE IF NOT EXISTS robinscreen_suppression_removals (
  seq bigint PRIMARY KEY,
  kind smallint NOT NULL,
  pseudonym bytea NOT NULL,
  scope text NOT NULL,
  reason smallint NOT NULL,
  source text NOT NULL,
  added timestamptz NOT NULL,
  removed_by text NOT NULL,
  why text NOT NULL,
  removed_at timestamptz NOT NULL
);`

// Options configure Open.
type Options struct {
	// Timeout bounds each database round trip of View (default 2 s); when
	// it passes, the request fails with suppress.ErrUnavailable.
	Timeout time.Duration
	// Logger receives operational messages (never personal data).
	Logger *slog.Logger
}

// Store is the PostgreSQL suppression list. It implements suppress.Store.
type Store struct {
	pool    *pgxpool.Pool
	log     *slog.Logger
	timeout time.Duration

	// tags says whether the table has the tag column (suppress.Tag):
	// created with it, or added at Open by a role allowed to. Without it
	// entries are stored and read without tags, and screening computes
	// the HMAC of every value (exact, slower).
	tags bool

	syncMu  sync.Mutex // one catch-up at a time
	set     *suppress.Set
	version atomic.Int64 // the version set reflects

	closed atomic.Bool
	stop   context.CancelFunc
	done   chan struct{}
}

var _ suppress.Store = (*Store)(nil)

// Open connects to dsn, creates the tables when missing, checks the
// pseudonym key's fingerprint (suppress.ErrKeyMismatch when the database
// was written under another key), reads the list and starts listening for
// changes. It returns suppress.ErrUnavailable (wrapped) when the database
// cannot be reached, and pgx's errors for a bad DSN.
func Open(ctx context.Context, dsn string, h *suppress.Hasher, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("suppresspg: the PostgreSQL URL cannot be parsed")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", suppress.ErrUnavailable, err)
	}
	s := &Store{pool: pool, log: opts.Logger, timeout: opts.Timeout, set: suppress.NewSet(h), done: make(chan struct{})}
	if err := s.init(ctx, h.Fingerprint()); err != nil {
		pool.Close()
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go s.listen(lctx)
	return s, nil
}

func unavailable(err error) error {
	if errors.Is(err, suppress.ErrUnavailable) || errors.Is(err, suppress.ErrKeyMismatch) {
		return err
	}
	return fmt.Errorf("%w: %v", suppress.ErrUnavailable, err)
}

func (s *Store) init(ctx context.Context, fp string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Replicas starting together create the tables once.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(7305937712)"); err != nil {
			return err
		}
		// Create the tables only when missing: CREATE ... IF NOT EXISTS
		// would still need the CREATE privilege on every start.
		var tables int
		if err := tx.QueryRow(ctx, `SELECT count(to_regclass(t)) FROM unnest(ARRAY['robinscreen_suppression_meta',
  'robinscreen_suppressions', 'robinscreen_suppressions_seq', 'robinscreen_suppression_removals']) AS t`).Scan(&tables); err != nil {
			return err
		}
		if tables < 4 {
			if _, err := tx.Exec(ctx, schema); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "INSERT INTO robinscreen_suppression_meta (id, version, key_fingerprint) VALUES (1, 0, $1) ON CONFLICT DO NOTHING", fp); err != nil {
			return err
		}
		var have string
		if err := tx.QueryRow(ctx, "SELECT key_fingerprint FROM robinscreen_suppression_meta WHERE id = 1").Scan(&have); err != nil {
			return err
		}
		if have != fp {
			return suppress.ErrKeyMismatch
		}
		return s.tagColumn(ctx, tx)
	})
	if err != nil {
		return unavailable(err)
	}
	return s.catchUp(ctx)
}

// tagColumn sets s.tags, adding the tag column to a table created before
// it existed when the role may (in a savepoint: a role without the
// privilege carries on without tags, and says so in the log). Old rows
// get tag 0, no tag. It returns the database's other errors.
func (s *Store) tagColumn(ctx context.Context, tx pgx.Tx) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM pg_attribute
WHERE attrelid = 'robinscreen_suppressions'::regclass AND attname = 'tag' AND NOT attisdropped`).Scan(&n); err != nil {
		return err
	}
	if n == 1 {
		s.tags = true
		return nil
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	if _, err := sp.Exec(ctx, "ALTER TABLE robinscreen_suppressions ADD COLUMN IF NOT EXISTS tag bigint NOT NULL DEFAULT 0"); err != nil {
		sp.Rollback(ctx)
		s.log.Warn("suppression list: the table has no tag column and this role cannot add it; screening hashes every value (slower, still exact) until a role owning the table starts once", "error", err.Error())
		return nil
	}
	if err := sp.Commit(ctx); err != nil {
		return err
	}
	s.tags = true
	return nil
}

// catchUp applies every change after the cached version, in one
// repeatable-read snapshot, and advances the cached version to the
// snapshot's. It returns the database's errors.
func (s *Store) catchUp(ctx context.Context) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	from := s.version.Load()
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	var to int64
	if err := tx.QueryRow(ctx, "SELECT version FROM robinscreen_suppression_meta WHERE id = 1").Scan(&to); err != nil {
		return err
	}
	if to <= from {
		return nil
	}
	tag := "0::bigint"
	if s.tags {
		tag = "tag"
	}
	rows, err := tx.Query(ctx, `
SELECT seq, false, kind, pseudonym, scope, reason, source, added, `+tag+` FROM robinscreen_suppressions WHERE seq > $1 AND seq <= $2
UNION ALL
SELECT seq, true, kind, pseudonym, scope, reason, source, added, 0::bigint FROM robinscreen_suppression_removals WHERE seq > $1 AND seq <= $2
ORDER BY 1`, from, to)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			seq     int64
			removal bool
			kind    int16
			pseud   []byte
			e       suppress.Entry
			reason  int16
			tag     int64
		)
		if err := rows.Scan(&seq, &removal, &kind, &pseud, &e.Scope, &reason, &e.Source, &e.Added, &tag); err != nil {
			return err
		}
		e.Tag = suppress.Tag(tag)
		if len(pseud) != suppress.PseudonymSize {
			return errors.New("suppresspg: stored pseudonym of the wrong length")
		}
		e.Key.Kind, e.Reason = suppress.Kind(kind), suppress.Reason(reason)
		copy(e.Key.Pseudonym[:], pseud)
		e.Added = e.Added.UTC()
		if removal {
			s.set.Delete(e.Key, e.Scope)
		} else {
			s.set.Insert(e)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	s.version.Store(to)
	return nil
}

// View implements suppress.Store.View: one round trip reads the committed
// version; when it is newer than the cached list, the changes are fetched
// before View returns.
func (s *Store) View(ctx context.Context) (*suppress.Set, error) {
	if s.closed.Load() {
		return nil, suppress.ErrClosed
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var v int64
	if err := s.pool.QueryRow(ctx, "SELECT version FROM robinscreen_suppression_meta WHERE id = 1").Scan(&v); err != nil {
		return nil, unavailable(err)
	}
	if v > s.version.Load() {
		if err := s.catchUp(ctx); err != nil {
			return nil, unavailable(err)
		}
	}
	return s.set, nil
}

// bump locks the version row for the transaction and returns the next
// version; the changes of tx carry it.
func bump(ctx context.Context, tx pgx.Tx) (int64, error) {
	var v int64
	err := tx.QueryRow(ctx, "UPDATE robinscreen_suppression_meta SET version = version + 1 WHERE id = 1 RETURNING version").Scan(&v)
	return v, err
}

// Add implements suppress.Store.Add: one transaction inserts the entries
// that are not there yet (ON CONFLICT DO NOTHING: an entry is never
// changed); it is committed, and so durable, before Add returns.
func (s *Store) Add(ctx context.Context, entries []suppress.Entry) (int, error) {
	for i := range entries {
		if err := entries[i].Check(); err != nil {
			return 0, err
		}
	}
	if s.closed.Load() {
		return 0, suppress.ErrClosed
	}
	if len(entries) == 0 {
		return 0, nil
	}
	kinds := make([]int16, len(entries))
	pseuds := make([][]byte, len(entries))
	scopes := make([]string, len(entries))
	reasons := make([]int16, len(entries))
	sources := make([]string, len(entries))
	added := make([]time.Time, len(entries))
	tags := make([]int64, len(entries))
	for i, e := range entries {
		kinds[i], pseuds[i], scopes[i] = int16(e.Key.Kind), e.Key.Pseudonym[:], e.Scope
		reasons[i], sources[i], added[i] = int16(e.Reason), e.Source, e.Added.UTC()
		if s.tags {
			tags[i] = int64(e.Tag)
		}
	}
	insert := `
INSERT INTO robinscreen_suppressions (kind, pseudonym, scope, reason, source, added, seq)
SELECT k, p, sc, r, so, a, $7 FROM unnest($1::smallint[], $2::bytea[], $3::text[], $4::smallint[], $5::text[], $6::timestamptz[]) AS u(k, p, sc, r, so, a)
ON CONFLICT DO NOTHING`
	args := []any{kinds, pseuds, scopes, reasons, sources, added, nil} // $7: the version, below
	if s.tags {
		insert = `
INSERT INTO robinscreen_suppressions (kind, pseudonym, scope, reason, source, added, seq, tag)
SELECT k, p, sc, r, so, a, $7, t FROM unnest($1::smallint[], $2::bytea[], $3::text[], $4::smallint[], $5::text[], $6::timestamptz[], $8::bigint[]) AS u(k, p, sc, r, so, a, t)
ON CONFLICT DO NOTHING`
		args = append(args, tags)
	}
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		v, err := bump(ctx, tx)
		if err != nil {
			return err
		}
		args[6] = v
		tag, err := tx.Exec(ctx, insert, args...)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		_, err = tx.Exec(ctx, "SELECT pg_notify($1, $2)", Channel, strconv.FormatInt(v, 10))
		return err
	})
	if err != nil {
		return 0, unavailable(err)
	}
	s.refresh(ctx)
	return int(n), nil
}

// refresh catches up after a change of this replica's own; a failure is
// left to the next View, which retries.
func (s *Store) refresh(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	if err := s.catchUp(ctx); err != nil {
		s.log.Warn("suppression list: catching up failed; the next request retries", "error", err.Error())
	}
}

// Remove implements suppress.Store.Remove: the deletion and the removal
// record are one transaction.
func (s *Store) Remove(ctx context.Context, r suppress.Removal) (bool, error) {
	if s.closed.Load() {
		return false, suppress.ErrClosed
	}
	removed := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		v, err := bump(ctx, tx)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
WITH gone AS (DELETE FROM robinscreen_suppressions WHERE kind = $1 AND pseudonym = $2 AND scope = $3 RETURNING kind, pseudonym, scope, reason, source, added)
INSERT INTO robinscreen_suppression_removals (seq, kind, pseudonym, scope, reason, source, added, removed_by, why, removed_at)
SELECT $4, kind, pseudonym, scope, reason, source, added, $5, $6, $7 FROM gone`,
			int16(r.Key.Kind), r.Key.Pseudonym[:], r.Scope, v, r.By, r.Why, r.At.UTC())
		if err != nil {
			return err
		}
		removed = tag.RowsAffected() == 1
		_, err = tx.Exec(ctx, "SELECT pg_notify($1, $2)", Channel, strconv.FormatInt(v, 10))
		return err
	})
	if err != nil {
		return false, unavailable(err)
	}
	s.refresh(ctx)
	return removed, nil
}

// Export implements suppress.Store.Export from the current list.
func (s *Store) Export(ctx context.Context, fn func(suppress.Entry) error) error {
	set, err := s.View(ctx)
	if err != nil {
		return err
	}
	return set.Export(fn)
}

// Hasher implements suppress.Store.Hasher.
func (s *Store) Hasher() *suppress.Hasher { return s.set.Hasher() }

// listen catches up whenever another replica announces a change, so that
// View usually finds nothing to fetch. It reconnects after errors until
// Close.
func (s *Store) listen(ctx context.Context) {
	defer close(s.done)
	for ctx.Err() == nil {
		err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("suppression list: LISTEN connection lost; requests still check the version", "error", err.Error())
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (s *Store) listenOnce(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	defer func() {
		// A pooled connection must not keep listening.
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := conn.Exec(c, "UNLISTEN *"); err != nil {
			conn.Conn().Close(c)
		}
	}()
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if v, err := strconv.ParseInt(n.Payload, 10, 64); err == nil && v <= s.version.Load() {
			continue
		}
		s.refresh(ctx)
	}
}

// Close stops listening and closes the pool; later calls return
// suppress.ErrClosed.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.stop()
	<-s.done
	s.pool.Close()
	return nil
}
