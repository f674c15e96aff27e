package engine

import (
	"context"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/rules"
	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/schema"
)

// Options shape a plan.
type Options struct {
	Parallelism int              // observation at once; default 10
	Targets     []schema.Address // limit the plan to these and what they depend on
	Replace     []schema.Address // certificates whose key is replaced
	RefreshOnly bool             // report drift since the last apply instead of planning
	Now         func() time.Time
}

// Run is one plan or apply over a configuration.
type Run struct {
	cfg  *schema.Config
	st   *state.State
	opts Options
	w    *world
	live hcl.Diagnostics // what running servers answer against the rules
}

// New checks the rules that refuse a configuration and binds its blocks to
// their providers.
func New(cfg *schema.Config, st *state.State, opts Options) (*Run, hcl.Diagnostics) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Parallelism == 0 {
		opts.Parallelism = 10
	}
	diags := rules.Refuse(cfg)
	for _, r := range opts.Replace {
		if r.Type != "certificate" || cfg.Block(r) == nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid -replace", Detail: r.String() + " is not a certificate of this configuration; -replace forces a new key for a certificate."})
		}
	}
	for _, t := range opts.Targets {
		if cfg.Block(t) == nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid -target", Detail: t.String() + " is not declared in this configuration."})
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	w, d := bind(cfg, opts.Now)
	diags = append(diags, d...)
	if diags.HasErrors() {
		return nil, diags
	}
	return &Run{cfg: cfg, st: st, opts: opts, w: w}, diags
}

// Observe reads the live world (read-only, bounded-parallel).
func (r *Run) Observe(ctx context.Context) hcl.Diagnostics {
	diags := r.w.observe(ctx, r.opts.Parallelism)
	if !diags.HasErrors() {
		r.live = rules.Live(ctx, r.probed())
		r.checkDANE(ctx)
	}
	return diags
}
