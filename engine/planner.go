package engine

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/engine/rules"
	"github.com/trustform/trustform/internal/version"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// Plan diffs the observed world against the configuration and orders the
// changes. Observe must have run.
func (r *Run) Plan() (*plan.Plan, hcl.Diagnostics) {
	p := &plan.Plan{
		FormatVersion:    plan.FormatVersion,
		TrustformVersion: version.String(),
		Mode:             "normal",
		CreatedAt:        r.opts.Now().UTC().Truncate(time.Second),
		ConfigDigest:     r.cfg.Digest,
		Variables:        r.cfg.VariableRecord(r.st.VariableKey),
		Lineage:          r.st.Lineage,
		Serial:           r.st.Serial,
		ObservedDigest:   observedDigest(r.g),
		Changes:          []plan.Change{},
		Steps:            []plan.Step{},
		Diagnostics:      []plan.Diagnostic{},
	}
	for _, a := range r.opts.Replace {
		p.Replace = append(p.Replace, a.String())
	}
	for _, a := range r.opts.Targets {
		p.Targets = append(p.Targets, a.String())
	}
	p.Revoke = r.opts.Revoke
	diags := append(r.forgotten(), r.gone...)
	if r.opts.RefreshOnly {
		diags = append(append(diags, r.warnings()...), r.live...)
		p.Mode = "refresh-only"
		r.drift(p)
		p.Tally()
		return p, diags
	}
	if r.opts.Destroy {
		p.Mode = "destroy"
	}
	r.desire()
	p.Forgets = r.forgets()
	diags = append(append(append(diags, r.goneWarnings()...), r.warnings()...), r.live...) // after desire: Warner resources have planned
	r.buildSteps()
	diags = append(diags, rules.Guard(r.g)...)
	ordered, err := r.g.Order()
	if err != nil {
		return p, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot order the plan", Detail: err.Error()})
	}
	keep := r.targetSet()
	kept, d := r.targetSteps(ordered, keep)
	diags = append(diags, d...)
	now := r.opts.Now()
	index := map[*graph.Step]int{}
	for _, s := range ordered {
		if kept != nil && !kept[s] {
			continue
		}
		ps := plan.Step{
			Index:        len(p.Steps) + 1,
			Address:      s.Addr.String(),
			Action:       s.Action,
			Phase:        s.Phase,
			Rule:         s.Rule,
			DependsOn:    []int{},
			Description:  s.Desc,
			Gate:         s.Gate,
			Irreversible: s.Irreversible,
		}
		index[s] = ps.Index
		for d := range s.Deps {
			if i, ok := index[d]; ok {
				ps.DependsOn = append(ps.DependsOn, i)
			}
		}
		sort.Ints(ps.DependsOn)
		if len(s.Gate) > 0 {
			t, _, err := r.gateTime(s.Gate, now)
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
	for _, n := range r.g.Nodes {
		if n.Change == nil || (keep != nil && !keep[n.Addr]) {
			continue
		}
		after := n.Desired
		if n.Change.Reload {
			after = n.Observed
		}
		p.Changes = append(p.Changes, plan.Change{
			Address: n.Addr.String(),
			Type:    n.Addr.Type,
			Name:    n.Addr.Base(),
			Index:   n.Addr.Key(),
			Action:  n.Change.Action,
			Before:  r.redact(n.Addr, n.Observed),
			After:   r.redact(n.Addr, after),
			Reasons: slices.Clone(n.Change.Reasons),
		})
	}
	r.explain(p)
	r.stateRepairs(p, keep)
	diags = append(diags, r.imports(p, keep)...)
	r.redactTexts(p)
	plan.MarkReview(p)
	p.Tally()
	return p, diags
}

// targetSteps are the steps a -target plan runs: those of the targeted
// resources, and every step they wait for, of whatever resource (a key
// rollover's deploy waits for the TLSA publish: left out, the rollover
// could never finish). The resources pulled in so are added to keep. The
// diagnostic says targeting is in effect, and what it pulled in.
func (r *Run) targetSteps(ordered []*graph.Step, keep map[schema.Address]bool) (map[*graph.Step]bool, hcl.Diagnostics) {
	if keep == nil {
		return nil, nil
	}
	kept := map[*graph.Step]bool{}
	var pulled []string
	var visit func(s *graph.Step, why string)
	visit = func(s *graph.Step, why string) {
		if kept[s] {
			return
		}
		kept[s] = true
		if !keep[s.Addr] && why != "" {
			pulled = append(pulled, why)
		}
		for d, rule := range s.Deps {
			visit(d, fmt.Sprintf("%s %s (%s %s waits for it%s)", d.Addr, d.Phase, s.Addr, s.Phase, map[bool]string{true: ", " + rule}[rule != ""]))
		}
	}
	for _, s := range ordered {
		if keep[s.Addr] {
			visit(s, "")
		}
	}
	for s := range kept {
		keep[s.Addr] = true
	}
	slices.Sort(pulled)
	detail := "The plan covers only the targeted resources and what they depend on; run plan without -target to see what else differs."
	if len(pulled) > 0 {
		detail += " Steps of other resources that targeted steps wait for are planned too: " + strings.Join(pulled, "; ") + "."
	}
	return kept, hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "Resource targeting is in effect", Detail: detail}}
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

// drifted says how n differs from what the last apply left: gone, or the
// attributes that changed; nothing for a resource never applied.
func (r *Run) drifted(n *graph.Node) (gone bool, changed []string) {
	sr := r.st.Get(n.Addr.String())
	switch {
	case sr == nil:
		return false, nil
	case n.Observed == nil:
		return true, nil
	}
	return false, providers.Differs(sr.Value, r.redact(n.Addr, n.Observed))
}

// drift lists what differs between the last apply (state) and the live
// world, plus certificates that are due for renewal.
func (r *Run) drift(p *plan.Plan) {
	for _, n := range r.g.Nodes {
		var ch *plan.Change
		switch gone, d := r.drifted(n); {
		case gone:
			ch = &plan.Change{Action: plan.Delete, Before: r.st.Get(n.Addr.String()).Value, Reasons: []string{"it was applied, but is gone now"}}
		case len(d) > 0:
			ch = &plan.Change{Action: plan.Update, Before: r.st.Get(n.Addr.String()).Value, After: r.redact(n.Addr, n.Observed), Reasons: []string{strings.Join(d, ", ") + " changed since the last apply"}}
		}
		for _, rt := range r.owed(n.Addr.String()) {
			if ch == nil {
				ch = &plan.Change{Action: plan.Update, Before: r.redact(n.Addr, n.Observed), After: r.redact(n.Addr, n.Observed)}
			}
			ch.Reasons = append(ch.Reasons, "the replaced certificate "+rt.Serial+" is still to revoke ("+rt.Reason+"): run apply")
		}
		if rn, ok := n.Res.(providers.Renewing); ok && n.Observed != nil {
			if due := rn.Due(); len(due) > 0 {
				if ch == nil {
					ch = &plan.Change{Action: plan.Update, Before: r.redact(n.Addr, n.Observed), After: r.redact(n.Addr, n.Observed)}
				}
				ch.Reasons = append(ch.Reasons, due...)
			}
		}
		if ch != nil {
			ch.Address, ch.Type, ch.Name, ch.Index = n.Addr.String(), n.Addr.Type, n.Addr.Base(), n.Addr.Key()
			p.Changes = append(p.Changes, *ch)
		}
	}
}

// warnings are what resources have to say about what was observed (a
// server lagging, signatures gone), pointed at their blocks.
func (r *Run) warnings() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, n := range r.g.Nodes {
		wr, ok := n.Res.(providers.Warner)
		if !ok || r.cfg.Gone(n.Addr) { // a removed block's findings do not matter: it goes
			continue
		}
		for _, w := range wr.Warnings() {
			rng, sev := schema.AttrRange(n.Block, w.Attr), hcl.DiagWarning
			if w.Error {
				sev = hcl.DiagError
			}
			diags = append(diags, &hcl.Diagnostic{Severity: sev, Subject: &rng, Summary: n.Addr.String() + ": " + w.Summary, Detail: w.Detail})
		}
	}
	return diags
}

// forgotten warns about resources in state that the configuration no longer
// declares and that cannot be planned for deletion (no block recorded for
// them, or a removed block asks to forget them): trustform leaves the live
// object alone and forgets it at the next apply.
func (r *Run) forgotten() hcl.Diagnostics {
	var diags hcl.Diagnostics
	var addrs []string
	for a := range r.st.Resources {
		if r.g.Node(mustParse(a)) == nil {
			addrs = append(addrs, a)
		}
	}
	slices.Sort(addrs)
	for _, a := range addrs {
		d := &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  a + " is no longer in the configuration",
			Detail:   "trustform leaves what it manages in place and forgets it at the next apply. Remove the live object by hand if it should go.",
		}
		if r.cfg.Forget(mustParse(a)) {
			d.Summary = a + " is forgotten, as its removed block asks"
			d.Detail = "destroy = false: what it managed stays in place, and trustform no longer manages it after the next apply."
		}
		diags = append(diags, d)
	}
	return diags
}

// forgets lists the state entries apply drops: those of blocks gone from
// the configuration that a removed block forgets (or that cannot be bound
// again), and those of gone blocks that manage nothing to delete (a
// service, an issuer).
func (r *Run) forgets() []string {
	var out []string
	for a := range r.st.Resources {
		n := r.g.Node(mustParse(a))
		if n == nil || (r.cfg.Gone(n.Addr) && n.Change == nil) {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

func mustParse(a string) schema.Address {
	addr, _ := schema.ParseAddress(a)
	return addr
}

// explain adds to each change what its resource has to say once the plan
// is ordered (providers.Explainer): a re-keyed certificate, until when its
// old key stays trusted.
func (r *Run) explain(p *plan.Plan) {
	var steps []providers.OrderedStep // made once, for every Explainer
	for i, c := range p.Changes {
		a := mustParse(c.Address)
		n := r.g.Node(a)
		e, ok := n.Res.(providers.Explainer)
		if !ok {
			continue
		}
		if steps == nil {
			steps = make([]providers.OrderedStep, len(p.Steps))
			for j, s := range p.Steps {
				sa := mustParse(s.Address)
				steps[j] = providers.OrderedStep{Index: s.Index, Address: sa, Phase: s.Phase}
				for _, ref := range r.cfg.Refs(sa) {
					steps[j].Refers = append(steps[j].Refers, ref.Address)
				}
			}
		}
		if says := e.Explain(a, steps, r.planOptions(n)); len(says) > 0 {
			p.Changes[i].Reasons = append(slices.Clone(c.Reasons), says...)
		}
	}
}
