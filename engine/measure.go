package engine

import (
	"maps"

	"github.com/trustform/trustform/engine/metrics"
	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/providers"
)

// Measure is what the run observed as metrics (-metrics-file): what each
// resource measures of itself (providers.Measured), whether it drifted
// from what the last apply left, the pending steps held at a gate with
// when they may run (a plan's steps, an apply's held ones), and the
// revocations an approved -revoke still owes. Every sample carries its
// resource's address; nothing is asked of a server.
func (r *Run) Measure(pending []plan.Step) []providers.Sample {
	var out []providers.Sample
	for _, n := range r.g.Nodes {
		if r.cfg.Gone(n.Addr) {
			continue
		}
		addr := n.Addr.String()
		if m, ok := n.Res.(providers.Measured); ok && n.Observed != nil {
			for _, s := range m.Measure(n.Observed, n.Desired) {
				s.Labels = maps.Clone(s.Labels)
				if s.Labels == nil {
					s.Labels = map[string]string{}
				}
				s.Labels["address"] = addr
				out = append(out, s)
			}
		}
		gone, changed := r.drifted(n)
		out = append(out, providers.Sample{Name: metrics.Drift, Labels: map[string]string{"address": addr, "kind": n.Addr.Type}, Value: providers.Bool(gone || len(changed) > 0)})
		if owed := r.owed(addr); len(owed) > 0 {
			out = append(out, providers.Sample{Name: metrics.RevocationsPending, Labels: map[string]string{"address": addr}, Value: float64(len(owed))})
		}
	}
	for _, st := range pending {
		if st.NotBefore != nil {
			out = append(out, providers.Sample{Name: metrics.GateOpens, Labels: map[string]string{"address": st.Address, "phase": st.Phase}, Value: providers.Timestamp(*st.NotBefore)})
		}
	}
	return out
}
