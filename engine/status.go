package engine

import (
	"time"

	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/engine/status"
	"github.com/trustform/trustform/providers"
)

// Status is the status page of what the run observed and planned (show
// -html): the inventory's certificates with their renewal windows, the
// DANE matrix, the steps of p held at a gate, the revocations owed, the
// drift, and the runs given.
func (r *Run) Status(p *plan.Plan, held []Holding, runs []status.Run) status.Page {
	page := status.Page{Generated: r.opts.Now().UTC(), Runs: runs}
	window := map[string]time.Time{}
	for _, s := range r.Measure(nil) {
		if s.Name == providers.MetricRenewalWindowStart {
			window[s.Labels["address"]] = time.Unix(int64(s.Value), 0).UTC()
		}
	}
	for _, h := range held {
		c := status.Certificate{Address: h.Address, Domains: h.Domains, Issuer: h.Issuer, NotBefore: h.NotBefore, NotAfter: h.NotAfter,
			RenewFrom: h.RenewFrom, UsedBy: h.UsedBy, PinnedBy: h.PinnedBy}
		if w, ok := window[h.Address]; ok {
			c.RenewFrom = &w
		}
		page.Certificates = append(page.Certificates, c)
		for _, rt := range r.owed(h.Address) {
			page.Revocations = append(page.Revocations, status.Revocation{Address: h.Address, Serial: rt.Serial, Reason: rt.Reason})
		}
	}
	for _, n := range r.g.Nodes {
		if d, ok := n.Res.(providers.DANEReporter); ok && !r.cfg.Gone(n.Addr) {
			page.DANE = append(page.DANE, d.DANECells()...)
		}
	}
	for _, s := range p.Steps {
		if s.NotBefore != nil || len(s.Gate) > 0 {
			page.Gates = append(page.Gates, status.Gate{Address: s.Address, Phase: s.Phase, OpensAt: s.NotBefore})
		}
	}
	for _, f := range r.Findings(Ended{}) {
		if f.Event == providers.EventDrift {
			page.Drift = append(page.Drift, f)
		}
	}
	return page
}
