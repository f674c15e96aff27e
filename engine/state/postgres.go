package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trustform/trustform/internal/netpolicy"
)

// SchemaVersion is the version of the tables trustform keeps in PostgreSQL.
const SchemaVersion = 1

// migrationKey is the advisory lock under which the tables are created.
const migrationKey int64 = 0x7472757374666f72 // "trustfor"

// PostgresStore is the state in PostgreSQL, shared by every runner (CI
// jobs, timers, laptops): one row per state name with its lineage, serial
// and the same JSON document as state.json. The lock is a transaction
// advisory lock held by a transaction left open on a connection of its
// own, for the whole run: it frees itself when its holder's connection
// ends, however the holder died, and it holds through a pooler in
// transaction mode (pgbouncer keeps an open transaction on one server
// connection), where a session lock would be taken on one backend and
// checked on another. A table says who holds it. Statements are sent in
// pgx's exec mode (unnamed statements, which poolers accept) unless the
// connection string chooses another mode, and every mode works: JSON
// travels as text. The password never is in the
// connection string: libpq's PGPASSWORD, PGPASSFILE and ~/.pgpass apply
// (pgx reads them).
type PostgresStore struct {
	ConnStr string
	Schema  string // default "trustform"
	Name    string // default "default"
	// ReadOnly (an untrusted plan): no table is created, no lock taken,
	// nothing written; missing tables are an empty state.
	ReadOnly bool

	conn *pgx.Conn
	// lock is the open transaction that holds the lock, on a connection
	// of its own; nil when this run holds none.
	lock   pgx.Tx
	serial int64 // the serial last loaded or saved: a save from another one lost a race
}

var _ Store = (*PostgresStore)(nil)

// server names the database server for errors, without user or password.
func (p *PostgresStore) server() string {
	cfg, err := pgx.ParseConfig(p.ConnStr)
	if err != nil {
		return "the PostgreSQL server"
	}
	return fmt.Sprintf("PostgreSQL at %s:%d (database %s)", cfg.Host, cfg.Port, cfg.Database)
}

func (p *PostgresStore) table(name string) string {
	return pgx.Identifier{p.Schema, name}.Sanitize()
}

// open connects once and creates or migrates the tables.
func (p *PostgresStore) open(ctx context.Context) error {
	if p.conn != nil {
		return nil
	}
	if p.Schema == "" {
		p.Schema = "trustform"
	}
	if p.Name == "" {
		p.Name = "default"
	}
	conn, err := p.connect(ctx)
	if err != nil {
		return err
	}
	p.conn = conn
	if p.ReadOnly {
		return nil
	}
	// Two runners creating the tables at once would collide (CREATE ...
	// IF NOT EXISTS is not safe against a concurrent CREATE): one at a time,
	// under a transaction's advisory lock.
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("state: %s: %w", p.server(), err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationKey); err != nil {
		return fmt.Errorf("state: %s: %w", p.server(), err)
	}
	_, err = tx.Exec(ctx, fmt.Sprintf(`CREATE SCHEMA IF NOT EXISTS %[1]s;
CREATE TABLE IF NOT EXISTS %[2]s (version int NOT NULL);
CREATE TABLE IF NOT EXISTS %[3]s (name text PRIMARY KEY, lineage text NOT NULL, serial bigint NOT NULL, document jsonb NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS %[4]s (name text PRIMARY KEY, holder jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS %[6]s (name text PRIMARY KEY, document jsonb NOT NULL);
INSERT INTO %[2]s (version) SELECT %[5]d WHERE NOT EXISTS (SELECT 1 FROM %[2]s);`,
		pgx.Identifier{p.Schema}.Sanitize(), p.table("schema_version"), p.table("states"), p.table("locks"), SchemaVersion, p.table("notified")))
	if err != nil {
		return fmt.Errorf("state: creating trustform's tables in %s: %w", p.server(), err)
	}
	var v int
	if err := tx.QueryRow(ctx, "SELECT max(version) FROM "+p.table("schema_version")).Scan(&v); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("state: creating trustform's tables in %s: %w", p.server(), err)
	}
	if v > SchemaVersion {
		return fmt.Errorf("state: the tables in %s schema %s are of version %d, made by a newer trustform; this one knows version %d", p.server(), p.Schema, v, SchemaVersion)
	}
	return nil
}

// connect opens a connection to the server: the password only where
// connConfig allows it, through the run's network policy, in exec mode
// unless the connection string names a mode.
func (p *PostgresStore) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := connConfig(p.ConnStr)
	if err != nil {
		return nil, err
	}
	cfg.DialFunc = netpolicy.Dialer(&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 5 * time.Minute}).DialContext
	if !strings.Contains(p.ConnStr, "default_query_exec_mode") {
		cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("state: cannot reach %s: %w", p.server(), err)
	}
	return conn, nil
}

// key is the advisory lock of this state name.
func (p *PostgresStore) key() int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "trustform\x00%s\x00%s", p.Schema, p.Name)
	return int64(h.Sum64())
}

// Lock takes the advisory lock, polling until timeout, and records the
// holder; giving up, it names who holds it.
func (p *PostgresStore) Lock(ctx context.Context, operation string, timeout time.Duration) error {
	if p.ReadOnly {
		return errReadOnly
	}
	if err := p.open(ctx); err != nil {
		return err
	}
	conn, err := p.connect(ctx)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		tx, err := conn.Begin(ctx)
		if err != nil {
			conn.Close(context.Background())
			return fmt.Errorf("state: locking in %s: %w", p.server(), err)
		}
		var ok bool
		if err := tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock($1)", p.key()).Scan(&ok); err != nil {
			conn.Close(context.Background())
			return fmt.Errorf("state: locking in %s: %w", p.server(), err)
		}
		if ok {
			p.lock = tx
			break
		}
		tx.Rollback(ctx)
		if time.Now().After(deadline) {
			var h Holder
			var raw []byte
			conn.Close(context.Background())
			if p.conn.QueryRow(ctx, "SELECT holder::text FROM "+p.table("locks")+" WHERE name = $1", p.Name).Scan(&raw) == nil && json.Unmarshal(raw, &h) == nil {
				return fmt.Errorf("%w by %s; waited %s (raise -lock-timeout to wait longer; only if that run hangs: trustform force-unlock %s)", ErrLocked, h, timeout, h.ID)
			}
			return fmt.Errorf("%w by another trustform; waited %s", ErrLocked, timeout)
		}
		select {
		case <-ctx.Done():
			conn.Close(context.Background())
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	holder, _ := json.Marshal(NewHolder(operation))
	_, err = p.conn.Exec(ctx, "INSERT INTO "+p.table("locks")+" (name, holder) VALUES ($1, $2::jsonb) ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder", p.Name, string(holder))
	return err
}

// ForceUnlock ends the database session that holds the lock (its
// transaction holds the advisory lock), when id is the holder's lock ID:
// the holder, should it wake, finds its connection lost (Held) and writes
// no state. The role needs the right to end that session: its own, or
// pg_signal_backend's.
func (p *PostgresStore) ForceUnlock(ctx context.Context, id string) error {
	if p.ReadOnly {
		return errReadOnly
	}
	if err := p.open(ctx); err != nil {
		return err
	}
	key := uint64(p.key())
	var pid int
	err := p.conn.QueryRow(ctx, "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND classid = $1 AND objid = $2 AND objsubid = 1",
		uint32(key>>32), uint32(key)).Scan(&pid)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotLocked
	}
	if err != nil {
		return fmt.Errorf("state: finding the lock's holder in %s: %w", p.server(), err)
	}
	var h Holder
	var raw []byte
	if p.conn.QueryRow(ctx, "SELECT holder::text FROM "+p.table("locks")+" WHERE name = $1", p.Name).Scan(&raw) == nil {
		json.Unmarshal(raw, &h)
	}
	if err := checkHolder(h, id); err != nil {
		return err
	}
	var ended bool
	if err := p.conn.QueryRow(ctx, "SELECT pg_terminate_backend($1)", pid).Scan(&ended); err != nil || !ended {
		return fmt.Errorf("state: ending the session that holds the lock in %s (backend %d): %v", p.server(), pid, err)
	}
	return nil
}

// Held fails when the connection that holds the lock is gone: then the
// lock is gone with it.
func (p *PostgresStore) Held() error {
	if p.lock == nil {
		return nil
	}
	// A statement in the holding transaction: the transaction is alive,
	// and the lock with it (and no idle timeout ends it meanwhile).
	if _, err := p.lock.Exec(context.Background(), "SELECT 1"); err != nil {
		return fmt.Errorf("state: the connection to %s that held the lock is lost (%v); another trustform may hold it now, so this one stops here", p.server(), err)
	}
	return nil
}

// Load reads the state of Name; none yet is a new, empty state.
func (p *PostgresStore) Load(ctx context.Context) (*State, error) {
	if err := p.open(ctx); err != nil {
		return nil, err
	}
	if p.ReadOnly {
		var exists bool
		if err := p.conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", p.table("states")).Scan(&exists); err != nil {
			return nil, fmt.Errorf("state: %s: %w", p.server(), err)
		}
		if !exists {
			return &State{Version: Version, Resources: map[string]*Resource{}}, nil
		}
	}
	var doc []byte
	err := p.conn.QueryRow(ctx, "SELECT document::text FROM "+p.table("states")+" WHERE name = $1", p.Name).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		p.serial = 0
		return &State{Version: Version, Resources: map[string]*Resource{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state: reading %q from %s: %w", p.Name, p.server(), err)
	}
	st, err := decode(doc, fmt.Sprintf("the state %q in %s", p.Name, p.server()))
	if err != nil {
		return nil, err
	}
	p.serial = st.Serial
	return st, nil
}

// Save writes the next serial of st in one transaction that checks the
// serial stored is still the one loaded: a writer that lost a race fails
// loudly and overwrites nothing.
func (p *PostgresStore) Save(ctx context.Context, st *State) error {
	if p.ReadOnly {
		return errReadOnly
	}
	if err := p.Held(); err != nil {
		return err
	}
	tx, err := p.conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("state: writing to %s: %w", p.server(), err)
	}
	defer tx.Rollback(ctx)
	var stored int64
	err = tx.QueryRow(ctx, "SELECT serial FROM "+p.table("states")+" WHERE name = $1 FOR UPDATE", p.Name).Scan(&stored)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		stored = 0
	case err != nil:
		return fmt.Errorf("state: writing to %s: %w", p.server(), err)
	}
	if stored != p.serial {
		return fmt.Errorf("state: %q in %s is at serial %d, not %d as this run read it: another trustform wrote it meanwhile; nothing was overwritten", p.Name, p.server(), stored, p.serial)
	}
	serial, lineage := st.Serial, st.Lineage
	doc, err := st.next()
	if err != nil {
		return err
	}
	defer func() {
		if p.serial != st.Serial { // not committed: st stays the state that is stored
			st.Serial, st.Lineage = serial, lineage
		}
	}()
	if _, err := tx.Exec(ctx, "INSERT INTO "+p.table("states")+` (name, lineage, serial, document, updated_at) VALUES ($1, $2, $3, $4::jsonb, now())
ON CONFLICT (name) DO UPDATE SET lineage = EXCLUDED.lineage, serial = EXCLUDED.serial, document = EXCLUDED.document, updated_at = now()`,
		p.Name, st.Lineage, st.Serial, string(doc)); err != nil {
		return fmt.Errorf("state: writing to %s: %w", p.server(), err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("state: writing to %s: %w", p.server(), err)
	}
	p.serial = st.Serial
	return nil
}

// Close ends the connection, and with it the lock.
func (p *PostgresStore) Close() error {
	if p.lock != nil {
		p.lock.Rollback(context.Background())
		p.lock.Conn().Close(context.Background())
		p.lock = nil
	}
	if p.conn == nil {
		return nil
	}
	return p.conn.Close(context.Background())
}
