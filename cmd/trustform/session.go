package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/internal/netpolicy"
	"github.com/trustform/trustform/kinds"
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

// store is where the configuration keeps its state, with the runner's pin
// (TRUSTFORM_PG_CONN_STR, -backend-config); read-only for an untrusted plan.
func (c *common) store(e env, cfg *schema.Config) (state.Store, error) {
	pin, err := state.ParsePin(e.getenv("TRUSTFORM_PG_CONN_STR"), c.backendConfig)
	if err != nil {
		return nil, err
	}
	return state.StoreOf(cfg.State, cfg.StateDir(), pin, c.untrusted != nil)
}

// loadStore loads the configuration and opens its state store, taking no
// lock and reading no server: what output, state and force-unlock need. A
// nil store is an error, said; the caller closes the store.
func (c *common) loadStore(e env) (*schema.Config, state.Store) {
	cfg, diags := c.load(e)
	if diags.HasErrors() {
		printDiags(e, c, cfg, diags, false)
		return cfg, nil
	}
	store, err := c.store(e, cfg)
	if err != nil {
		errorf(e, "%v", err)
		return cfg, nil
	}
	return cfg, store
}

// open loads the configuration, takes the lock, reads state and observes the
// world. On failure it has printed the diagnostics and returns nil.
func open(ctx context.Context, e env, c *common, op string, opts engine.Options) (*session, hcl.Diagnostics, bool) {
	cfg, diags := c.load(e)
	if diags.HasErrors() {
		printDiags(e, c, cfg, diags, false)
		return nil, diags, false
	}
	store, err := c.store(e, cfg)
	if err != nil {
		errorf(e, "%v", err)
		return nil, diags, false
	}
	s := &session{cfg: cfg, store: store}
	ctx = netpolicy.With(ctx, c.untrusted) // the state database too
	opts.Untrusted = c.untrusted
	if c.lock && c.untrusted == nil {
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
	run, d := engine.New(cfg, st, kinds.Bind, opts)
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
