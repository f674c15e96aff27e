package engine

import (
	"fmt"

	"github.com/trustform/trustform/engine/plan"
)

// Stale says why a saved plan may no longer be applied, or "" when it may:
// apply PLANFILE carries out exactly what was reviewed, so the configuration,
// the state and the observed world must all be those the plan was made from.
// Observe must have run.
func (r *Run) Stale(p *plan.Plan) string {
	switch {
	case p.Mode == "refresh-only":
		return "a refresh-only plan only reports drift"
	case p.ConfigDigest != r.cfg.Digest:
		return "the configuration changed since the plan was made"
	case p.Lineage == "" && r.st.Lineage != "":
		return fmt.Sprintf("the state changed since the plan was made (it was empty then; now at serial %d)", r.st.Serial)
	case p.Lineage != r.st.Lineage:
		return "the state belongs to another lineage than the plan's"
	case p.Serial != r.st.Serial:
		return fmt.Sprintf("the state changed since the plan was made (serial %d, the plan was made at %d)", r.st.Serial, p.Serial)
	case p.ObservedDigest != observedDigest(r.g):
		return "the live world changed since the plan was made (a record, file or key differs from what the plan observed)"
	}
	return ""
}
