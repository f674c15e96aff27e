package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/schema"
)

// session is a loaded configuration with its state locked.
type session struct {
	cfg   *schema.Config
	st    *state.State
	store state.Store
	run   *engine.Run
}

func (s *session) close() {
	if s.run != nil {
		s.run.Close()
	}
	if s.store != nil {
		s.store.Close()
	}
}

// save writes the state while the lock is still this run's.
func (s *session) save(st *state.State) error { return s.store.Save(context.Background(), st) }

// storeOf is where a configuration keeps its state: its state block's
// PostgreSQL, or .trustform/ beside it.
func storeOf(cfg *schema.Config) state.Store {
	if b := cfg.State; b != nil {
		return &state.PostgresStore{ConnStr: b.ConnStr, Schema: b.Schema, Name: b.Name}
	}
	return &state.DirStore{Dir: cfg.StateDir()}
}

// open loads the configuration, takes the lock, reads state and observes the
// world. On failure it has printed the diagnostics and returns nil.
func open(ctx context.Context, e env, c *common, op string, opts engine.Options) (*session, hcl.Diagnostics, bool) {
	cfg, diags := c.load(e)
	if diags.HasErrors() {
		printDiags(e, c, cfg, diags, false)
		return nil, diags, false
	}
	s := &session{cfg: cfg, store: storeOf(cfg)}
	if c.lock {
		if err := s.store.Lock(ctx, op, c.lockTimeout); err != nil {
			s.close()
			errorf(e, "%v", err)
			return nil, diags, false
		}
	}
	st, err := s.store.Load(ctx)
	if err != nil {
		s.close()
		errorf(e, "%v", err)
		return nil, diags, false
	}
	s.st = st
	opts.Now = e.clock()
	run, d := engine.New(cfg, st, opts)
	diags = append(diags, d...)
	if !d.HasErrors() {
		diags = append(diags, run.Observe(ctx)...)
	}
	if diags.HasErrors() {
		printDiags(e, c, cfg, diags, false)
		s.close()
		return nil, diags, false
	}
	s.run = run
	return s, diags, true
}

// interruptible cancels its context on Ctrl-C, so a waiting apply stops
// cleanly with its progress saved.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}
