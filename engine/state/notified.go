package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trustform/trustform/internal/files"
)

// Notified is what notify blocks sent and when, by finding (notifier,
// event, address and summary): a lasting finding is sent again only after
// the notifier's repeat_after. It is kept beside the state, not in it, so
// that a scheduled plan that notifies does not move the state's serial
// and make a reviewed plan stale.
type Notified map[string]time.Time

// Notes reads and writes Notified, under the store's lock.
type Notes interface {
	Notified(ctx context.Context) (Notified, error)
	SaveNotified(ctx context.Context, n Notified) error
}

var (
	_ Notes = (*DirStore)(nil)
	_ Notes = (*PostgresStore)(nil)
)

// Notified reads notified.json; none is an empty record.
func (d *DirStore) Notified(context.Context) (Notified, error) {
	b, err := files.ReadOptional(filepath.Join(d.Dir, "notified.json"))
	if err != nil || b == nil {
		return Notified{}, err
	}
	n := Notified{}
	if err := json.Unmarshal(b, &n); err != nil {
		return nil, fmt.Errorf("state: %s: %w", filepath.Join(d.Dir, "notified.json"), err)
	}
	return n, nil
}

// SaveNotified writes notified.json atomically (0600).
func (d *DirStore) SaveNotified(_ context.Context, n Notified) error {
	if d.ReadOnly {
		return errReadOnly
	}
	if err := d.Held(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(n, "", "  ")
	if err != nil {
		return err
	}
	return files.WriteAtomic(filepath.Join(d.Dir, "notified.json"), b, 0o600)
}

// Notified reads the state's row of the notified table.
func (p *PostgresStore) Notified(ctx context.Context) (Notified, error) {
	if err := p.open(ctx); err != nil {
		return nil, err
	}
	var doc []byte
	err := p.conn.QueryRow(ctx, "SELECT document FROM "+p.table("notified")+" WHERE name = $1", p.Name).Scan(&doc)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Notified{}, nil
	case err != nil:
		return nil, fmt.Errorf("state: reading from %s: %w", p.server(), err)
	}
	n := Notified{}
	if err := json.Unmarshal(doc, &n); err != nil {
		return nil, fmt.Errorf("state: the notified row of %q in %s: %w", p.Name, p.server(), err)
	}
	return n, nil
}

// SaveNotified writes the state's row of the notified table.
func (p *PostgresStore) SaveNotified(ctx context.Context, n Notified) error {
	if p.ReadOnly {
		return errReadOnly
	}
	if err := p.Held(); err != nil {
		return err
	}
	doc, err := json.Marshal(n)
	if err != nil {
		return err
	}
	if _, err := p.conn.Exec(ctx, "INSERT INTO "+p.table("notified")+` (name, document) VALUES ($1, $2::jsonb)
ON CONFLICT (name) DO UPDATE SET document = EXCLUDED.document`, p.Name, string(doc)); err != nil {
		return fmt.Errorf("state: writing to %s: %w", p.server(), err)
	}
	return nil
}
