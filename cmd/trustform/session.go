package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"

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

// backend is the state store the runner pins outside the configuration,
// as Terraform's partial backend configuration: TRUSTFORM_PG_CONN_STR, then
// -backend-config=conn_str=…, schema=…, name=…, the later winning. A
// configuration from a pull request then cannot send the runner's database
// password to a server of its choosing.
type backend struct{ connStr, schema, name string }

func (c *common) backend(e env) (backend, error) {
	b := backend{connStr: e.getenv("TRUSTFORM_PG_CONN_STR")}
	for _, kv := range c.backendConfig {
		k, v, ok := strings.Cut(kv, "=")
		switch {
		case !ok:
			return b, fmt.Errorf("-backend-config=%s: want KEY=VALUE", k)
		case k == "conn_str":
			b.connStr = v
		case k == "schema":
			b.schema = v
		case k == "name":
			b.name = v
		default:
			return b, fmt.Errorf("-backend-config: %q is not a setting of the postgres state (conn_str, schema, name)", k)
		}
	}
	return b, nil
}

// storeOf is where a configuration keeps its state: PostgreSQL (pinned by
// the runner, or the state block's), or .trustform/ beside it. Where the
// runner pins a server, a state block naming another is refused before
// anything is contacted.
func storeOf(cfg *schema.Config, pin backend) (state.Store, error) {
	b := cfg.State
	if pin.connStr == "" {
		switch {
		case pin.schema != "" || pin.name != "":
			return nil, fmt.Errorf("-backend-config sets schema or name, but no conn_str pins a PostgreSQL state")
		case b == nil:
			return &state.DirStore{Dir: cfg.StateDir()}, nil
		case b.ConnStr == "":
			return nil, fmt.Errorf("%s: state \"postgres\" has no conn_str: set it, or give it with -backend-config=conn_str=… or TRUSTFORM_PG_CONN_STR", b.DeclRange)
		}
		return &state.PostgresStore{ConnStr: b.ConnStr, Schema: b.Schema, Name: b.Name}, nil
	}
	store := &state.PostgresStore{ConnStr: pin.connStr, Schema: pin.schema, Name: pin.name}
	if b != nil {
		if b.ConnStr != "" && b.ConnStr != pin.connStr {
			return nil, fmt.Errorf("%s: this configuration keeps its state on another PostgreSQL server than the one this runner pins (TRUSTFORM_PG_CONN_STR or -backend-config=conn_str): refused, nothing was contacted. Remove conn_str from the state block, or make it the pinned one", b.ConnStrRange)
		}
		store.Schema, store.Name = cmp.Or(pin.schema, b.Schema), cmp.Or(pin.name, b.Name)
	}
	return store, nil
}

// store is storeOf with the runner's pin; read-only for an untrusted plan.
func (c *common) store(e env, cfg *schema.Config) (state.Store, error) {
	pin, err := c.backend(e)
	if err != nil {
		return nil, err
	}
	store, err := storeOf(cfg, pin)
	if c.untrusted != nil {
		switch s := store.(type) {
		case *state.DirStore:
			s.ReadOnly = true
		case *state.PostgresStore:
			s.ReadOnly = true
		}
	}
	return store, err
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
