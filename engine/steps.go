package engine

import (
	"time"

	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/engine/rules"
)

// buildSteps turns every change into steps: laid out by a rule where one
// claims it (a key rollover), else the change's own phases; then the rules
// add their steps, edges and gates.
func (r *Run) buildSteps() {
	g := r.g
	g.ResetSteps()
	var layouters []rules.Layouter
	for _, rl := range rules.All() {
		if l, ok := rl.(rules.Layouter); ok {
			layouters = append(layouters, l)
		}
	}
	for _, n := range g.Nodes {
		if n.Change == nil || g.IsLaidOut(n.Addr) || laidOut(layouters, g, n) {
			continue
		}
		g.AddPhases(n)
	}
	for _, o := range rules.Orderers() {
		o.Order(g)
	}
	orderDeletions(g)
}

func laidOut(ls []rules.Layouter, g *graph.Graph, n *graph.Node) bool {
	for _, l := range ls {
		if l.Layout(g, n) {
			return true
		}
	}
	return false
}

// gateTime is when a gate of tlsa-before-cert opens, from the visibility
// times in state.
func (r *Run) gateTime(gate []plan.GateWait, now time.Time) (time.Time, bool, error) {
	return rules.TLSABeforeCert.Opens(gate, func(addr, record string) (time.Time, bool) {
		sr := r.st.Get(addr)
		if sr == nil {
			return time.Time{}, false
		}
		t, ok := sr.VisibleAt[record]
		return t, ok
	}, now)
}
