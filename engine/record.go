package engine

import (
	"context"

	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/providers"
)

// Recording: after a step, what it made true is observed and written into
// state, with what else the step made stale.

// record observes a resource again after a step and writes it into state;
// planning it again lets later steps see what the step did (a certificate's
// new key, for the TLSA records computed from it).
func (r *Run) record(ctx context.Context, n *graph.Node) error {
	if n == nil {
		return nil
	}
	v, err := n.Res.Observe(ctx)
	if err != nil {
		return err // state keeps what it had: nothing is recorded that was not seen
	}
	n.Observed = v
	if _, ok := n.Res.(providers.KeyDeployer); ok {
		r.retire(n) // what the step retired (a revocation done), before planning from state again
		r.plan(n)
	}
	if v == nil {
		delete(r.st.Resources, n.Addr.String())
		return nil
	}
	r.remember(n, v)
	return nil
}

// remember writes what was observed of n into its state entry: the value,
// the block it was applied from, and when its records became visible.
func (r *Run) remember(n *graph.Node, v providers.Value) {
	now := r.opts.Now()
	sr := r.st.Set(n.Addr.String(), n.Addr.Type, r.redact(n.Addr, v), now)
	if !r.cfg.Gone(n.Addr) {
		sr.Block = r.cfg.Source(n.Addr)
	}
	if p, ok := n.Res.(providers.Propagating); ok {
		sr.SeeRecords(p.Visible(), now)
	}
}

// touched lists what a batch changed: its resources, what it reported
// stale, and what overlaps them (RRsets at one owner name see each other's
// records).
func (r *Run) touched(batch []plan.Step, stale []providers.Resource) []*graph.Node {
	var out []*graph.Node
	seen := map[*graph.Node]bool{}
	add := func(n *graph.Node) {
		if n != nil && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, b := range batch {
		add(r.g.Node(mustParse(b.Address)))
	}
	for _, res := range stale {
		add(r.g.NodeOf(res))
	}
	keys := map[string]bool{}
	for _, n := range out {
		if o, ok := n.Res.(overlapper); ok {
			keys[o.OverlapKey()] = true
		}
	}
	if len(keys) > 0 {
		for _, n := range r.g.Nodes {
			if o, ok := n.Res.(overlapper); ok && keys[o.OverlapKey()] {
				add(n)
			}
		}
	}
	return out
}

// overlapper is a resource whose observation the change of another with the
// same key makes stale (TLSA RRsets at one owner name).
type overlapper interface {
	OverlapKey() string
}
