package engine

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/engine/rules"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/apt"
	"github.com/trustform/trustform/providers/certificate"
	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/providers/webserver"
	"github.com/trustform/trustform/schema"
)

// Plan diffs the observed world against the configuration and orders the
// changes. Observe must have run.
func (r *Run) Plan() (*plan.Plan, hcl.Diagnostics) {
	p := &plan.Plan{
		FormatVersion:  plan.FormatVersion,
		Mode:           "normal",
		CreatedAt:      r.opts.Now().UTC().Truncate(time.Second),
		ConfigDigest:   r.cfg.Digest,
		Lineage:        r.st.Lineage,
		Serial:         r.st.Serial,
		ObservedDigest: r.w.observedDigest(),
		Changes:        []plan.Change{},
		Steps:          []plan.Step{},
		Diagnostics:    []plan.Diagnostic{},
	}
	for _, a := range r.opts.Replace {
		p.Replace = append(p.Replace, a.String())
	}
	for _, a := range r.opts.Targets {
		p.Targets = append(p.Targets, a.String())
	}
	diags := append(r.forgotten(), r.dnsWarnings()...)
	diags = append(diags, r.caWarnings()...)
	diags = append(diags, r.live...)
	if r.opts.RefreshOnly {
		p.Mode = "refresh-only"
		r.drift(p)
		p.Tally()
		return p, diags
	}
	r.desire()
	l := r.buildSteps()
	ordered, err := r.order(l)
	if err != nil {
		return p, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot order the plan", Detail: err.Error()})
	}
	keep := r.targetSet()
	now := r.opts.Now()
	index := map[*step]int{}
	for _, s := range ordered {
		if keep != nil && !keep[s.addr] {
			continue
		}
		ps := plan.Step{
			Index:       len(p.Steps) + 1,
			Address:     s.addr.String(),
			Action:      s.action,
			Phase:       s.phase,
			Rule:        s.rule,
			DependsOn:   []int{},
			Description: s.desc,
			Gate:        s.gate,
		}
		index[s] = ps.Index
		for d := range s.deps {
			if i, ok := index[d]; ok {
				ps.DependsOn = append(ps.DependsOn, i)
			}
		}
		sort.Ints(ps.DependsOn)
		if len(s.gate) > 0 {
			t, _, err := r.gateTime(s.gate, now)
			if err != nil {
				return p, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot compute a gate", Detail: err.Error()})
			}
			if t.After(now) {
				t = t.UTC()
				ps.NotBefore = &t
			}
		}
		p.Steps = append(p.Steps, ps)
	}
	for _, n := range r.w.nodes {
		if n.change == nil || (keep != nil && !keep[n.addr]) {
			continue
		}
		after := n.desired
		if n.change.action == string(plan.Update) && len(l.byAddr[n.addr]) == 1 && l.byAddr[n.addr][0].phase == webserver.PhaseReload {
			after = n.observed
		}
		p.Changes = append(p.Changes, plan.Change{
			Address: n.addr.String(),
			Type:    n.addr.Type,
			Name:    n.addr.Name,
			Action:  plan.Action(n.change.action),
			Before:  n.observed,
			After:   after,
			Reasons: n.change.reasons,
		})
	}
	p.Tally()
	return p, diags
}

// targetSet is the -target addresses and everything they refer to, or nil
// for no restriction.
func (r *Run) targetSet() map[schema.Address]bool {
	if len(r.opts.Targets) == 0 {
		return nil
	}
	keep := map[schema.Address]bool{}
	var visit func(a schema.Address)
	visit = func(a schema.Address) {
		if keep[a] {
			return
		}
		keep[a] = true
		for _, ref := range r.cfg.Refs(a) {
			visit(ref.Address)
		}
	}
	for _, t := range r.opts.Targets {
		visit(t)
	}
	return keep
}

// drift lists what differs between the last apply (state) and the live
// world, plus certificates that are due for renewal.
func (r *Run) drift(p *plan.Plan) {
	for _, n := range r.w.nodes {
		sr := r.st.Get(n.addr.String())
		var ch *plan.Change
		switch {
		case sr == nil:
		case n.observed == nil:
			ch = &plan.Change{Action: plan.Delete, Before: sr.Value, Reasons: []string{"it was applied, but is gone now"}}
		default:
			if d := providers.Differs(sr.Value, n.observed); len(d) > 0 {
				ch = &plan.Change{Action: plan.Update, Before: sr.Value, After: n.observed, Reasons: []string{fmt.Sprintf("%v changed since the last apply", d)}}
			}
		}
		if k, ok := n.res.(*apt.Key); ok && n.observed != nil {
			if due, why := k.Due(); due {
				if ch == nil {
					ch = &plan.Change{Action: plan.Update, Before: n.observed, After: n.observed}
				}
				ch.Reasons = append(ch.Reasons, why)
			}
		}
		if c, ok := n.res.(*certificate.Certificate); ok && n.observed != nil {
			if in := c.Plan(n.addr.String(), false); in.Issue {
				if ch == nil {
					ch = &plan.Change{Action: plan.Update, Before: n.observed, After: n.observed}
				}
				ch.Reasons = append(ch.Reasons, in.Reasons...)
			}
		}
		if ch != nil {
			ch.Address, ch.Type, ch.Name = n.addr.String(), n.addr.Type, n.addr.Name
			p.Changes = append(p.Changes, *ch)
		}
	}
}

// dnsWarnings report TLSA RRsets that some authoritative server does not
// serve yet, or that lost their signatures.
func (r *Run) dnsWarnings() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, n := range r.w.nodes {
		t, ok := n.res.(*dns.TLSA)
		if !ok {
			continue
		}
		rng := schema.DeclRange(n.block)
		if len(t.Lagging) > 0 {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Subject: &rng,
				Summary: n.addr.String() + ": not every authoritative server serves the primary's RRset",
				Detail:  "Lagging: " + strings.Join(t.Lagging, ", ") + ". The " + rules.TLSABeforeCert.Name() + " gate counts only from when every server serves the new records."})
		}
		if n.observed != nil && n.observed["signed"].Str == "false" {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Subject: &rng,
				Summary: n.addr.String() + ": no valid RRSIG",
				Detail:  fmt.Sprintf("The zone requires DNSSEC, but the primary serves %s without a signature valid for %s more (or no DNSKEY at the apex): has the zone's signing stopped?", t.Owner, dns.SignatureMargin)})
		}
	}
	return diags
}

// forgotten warns about resources in state that the configuration no longer
// declares: trustform leaves the live object alone rather than delete keys,
// records or files on a guess.
func (r *Run) forgotten() hcl.Diagnostics {
	var diags hcl.Diagnostics
	var addrs []string
	for a := range r.st.Resources {
		if _, ok := r.w.by[mustParse(a)]; !ok {
			addrs = append(addrs, a)
		}
	}
	slices.Sort(addrs)
	for _, a := range addrs {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  a + " is no longer in the configuration",
			Detail:   "trustform leaves what it manages in place and forgets it at the next apply. Remove the live object by hand if it should go.",
		})
	}
	return diags
}

func mustParse(a string) schema.Address {
	addr, _ := schema.ParseAddress(a)
	return addr
}
