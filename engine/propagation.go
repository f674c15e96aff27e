package engine

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/providers"
)

// Propagation: when every authoritative server serves what a step wrote,
// which is when the clock of a gate starts.

// awaitPropagation polls, after a TLSA batch, until every authoritative
// server serves what was written (recording visible_at then), for at most
// limit; a later gate waits for servers still behind.
func (r *Run) awaitPropagation(ctx context.Context, batch []plan.Step, o ApplyOptions, limit time.Duration) {
	if limit == 0 {
		limit = 30 * time.Second
	}
	deadline := time.Now().Add(limit)
	for {
		var behind []string
		waiting := false
		for _, b := range batch {
			n := r.g.Node(mustParse(b.Address))
			p, ok := n.Res.(providers.Propagating)
			if !ok || n.Observed == nil || p.Everywhere() {
				continue
			}
			waiting = true
			behind = append(behind, p.Lagging()...)
		}
		if !waiting || time.Now().After(deadline) || ctx.Err() != nil {
			if len(behind) > 0 {
				o.emit(EventNote, batch[0].Index, "", "not yet served everywhere after %s (lagging: %s); the gate will wait for them", limit, strings.Join(slices.Compact(behind), ", "))
			}
			return
		}
		time.Sleep(200 * time.Millisecond)
		for _, b := range batch {
			r.record(ctx, r.g.Node(mustParse(b.Address)))
		}
	}
}

// noteVisible starts the clock for records already published (by an
// earlier run, or by hand): their visibility is first seen now.
func (r *Run) noteVisible() {
	now := r.opts.Now()
	for _, n := range r.g.Nodes {
		p, ok := n.Res.(providers.Propagating)
		if !ok || n.Observed == nil {
			continue
		}
		sr := r.st.Get(n.Addr.String())
		if sr == nil {
			sr = r.st.Set(n.Addr.String(), n.Addr.Type, r.redact(n.Addr, n.Observed), now)
		}
		sr.SeeRecords(p.Visible(), now)
	}
}
