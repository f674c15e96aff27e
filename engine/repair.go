package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// A state entry says what trustform last made true of a resource. When it
// disagrees with a world that needs no change (a step recorded something
// other than what it wrote, or apply was stopped between a write and its
// record), every scheduled drift check would report drift that is not
// there. Plan lists such entries, and apply rewrites them from what is
// live, touching nothing in the world: the resource is already as
// configured.

// stateRepairs lists the entries of resources without a change (within
// the -target set) that differ from what was observed.
func (r *Run) stateRepairs(p *plan.Plan, keep map[schema.Address]bool) {
	for _, n := range r.g.Nodes {
		if n.Change != nil || n.Observed == nil || r.cfg.Gone(n.Addr) || (keep != nil && !keep[n.Addr]) {
			continue
		}
		sr := r.st.Get(n.Addr.String())
		if sr == nil {
			continue
		}
		live := r.redact(n.Addr, n.Observed)
		differs := providers.Differs(sr.Value, live)
		if len(differs) == 0 {
			continue
		}
		p.StateRepairs = append(p.StateRepairs, plan.Change{
			Address: n.Addr.String(), Type: n.Addr.Type, Name: n.Addr.Base(), Index: n.Addr.Key(),
			Action: plan.Update, Before: r.redact(n.Addr, sr.Value), After: live,
			Reasons: []string{fmt.Sprintf("the state's %s differ from what is live, and what is live is as configured", strings.Join(differs, ", "))},
		})
	}
	slices.SortFunc(p.StateRepairs, func(a, b plan.Change) int { return strings.Compare(a.Address, b.Address) })
}

// repairState rewrites the entries the plan lists from what was observed,
// and says so for each.
func (r *Run) repairState(p *plan.Plan, o ApplyOptions) int {
	repaired := 0
	for _, c := range p.StateRepairs {
		n := r.g.Node(mustParse(c.Address))
		if n == nil || n.Observed == nil {
			continue
		}
		r.remember(n, n.Observed)
		repaired++
		o.emit(EventNote, 0, "", "%s: state repaired from what is live (its %s differed); nothing was changed in the world", c.Address, strings.Join(providers.Differs(c.Before, c.After), ", "))
	}
	return repaired
}
