package engine

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/providers"
)

// Time gates: a step behind tlsa-before-cert waits until the records it
// relies on have been visible on every authoritative server long enough.

// passGate decides whether a gated step may run now. Without -wait a closed
// gate holds the step; with it, apply polls the authoritative servers until
// the records are visible everywhere and then counts down the wait.
func (r *Run) passGate(ctx context.Context, s plan.Step, o ApplyOptions, out *Outcome) (bool, error) {
	for {
		gate := r.resolveGate(s.Gate)
		open, visible, err := r.gateTime(gate, r.opts.Now())
		switch {
		case err != nil:
			return false, err
		case visible && !open.After(r.opts.Now()):
			return true, nil
		case !o.Wait && visible:
			if out.OpensAt.IsZero() || open.Before(out.OpensAt) {
				out.OpensAt = open
			}
			o.emit(EventNote, s.Index, "", "step %d: %s %s waits for %s until %s", s.Index, s.Address, s.Phase, s.Rule, open.UTC().Format(time.RFC3339))
			return false, nil
		case !o.Wait:
			out.Lagging = append(out.Lagging, r.lagging(gate)...)
			o.emit(EventNote, s.Index, "", "step %d: %s %s waits for %s: the new records are not served by every authoritative server yet (lagging: %s)",
				s.Index, s.Address, s.Phase, s.Rule, strings.Join(r.lagging(gate), ", "))
			return false, nil
		case !visible:
			lagging := strings.Join(r.lagging(gate), ", ")
			o.emit(EventWait, s.Index, "servers "+lagging, "step %d: waiting for every authoritative server to serve the new records (lagging: %s)", s.Index, lagging)
			select {
			case <-ctx.Done():
				return false, ctx.Err()
			case <-time.After(time.Second):
			}
			for _, g := range gate {
				r.record(ctx, r.g.Node(mustParse(g.Address)))
			}
		default:
			if err := waitUntil(ctx, open, s, o); err != nil {
				return false, err
			}
		}
	}
}

// lagging names the servers that do not serve the gate's RRsets yet.
func (r *Run) lagging(gate []plan.GateWait) []string {
	var out []string
	for _, g := range gate {
		if n := r.g.Node(mustParse(g.Address)); n != nil {
			if p, ok := n.Res.(providers.Propagating); ok {
				for _, l := range p.Lagging() {
					out = append(out, l+" for "+g.Address)
				}
			}
		}
	}
	return out
}

// resolveGate fills in records that were unknown when the plan was made
// (the staged key did not exist yet).
func (r *Run) resolveGate(gate []plan.GateWait) []plan.GateWait {
	out := slices.Clone(gate)
	for i, g := range out {
		if g.Record != "" {
			continue
		}
		if n := r.g.Node(mustParse(g.Address)); n != nil {
			if t, ok := n.Res.(providers.Targeted); ok {
				out[i].Record, _ = t.Target()
			}
		}
	}
	return out
}

// waitUntil blocks until a gate opens, with a countdown.
func waitUntil(ctx context.Context, open time.Time, s plan.Step, o ApplyOptions) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		left := time.Until(open)
		if left <= 0 {
			o.emit(EventNote, s.Index, "", "step %d: %s gate open", s.Index, s.Rule)
			return nil
		}
		o.emit(EventWait, s.Index, "gate", "step %d: %s %s waits for %s: %s left", s.Index, s.Address, s.Phase, s.Rule, left.Round(time.Second))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		case <-time.After(left):
		}
	}
}
