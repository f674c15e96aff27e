package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/providers/acme"
	"github.com/trustform/trustform/providers/apt"
	"github.com/trustform/trustform/providers/certificate"
	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/providers/localca"
	"github.com/trustform/trustform/providers/webserver"
	"github.com/trustform/trustform/schema"
)

// ApplyOptions shape an apply.
type ApplyOptions struct {
	Wait bool      // wait at time gates instead of stopping there
	Log  io.Writer // progress, one line per step, and gate countdowns
	// Save persists state; it is called after every step.
	Save func(*state.State) error
	// AfterStep, if set, is called after each step (or batch) has been
	// carried out and state saved: the CLI's test-only fault hook.
	AfterStep func(plan.Step)
	// PropagationWait is how long apply polls the authoritative servers
	// after a DNS change before it moves on (a later gate then waits for
	// the stragglers); default 30s.
	PropagationWait time.Duration
}

// Outcome says what an apply did.
type Outcome struct {
	Applied int
	Held    []plan.Step // steps held back by a time gate, or by a step so held
	OpensAt time.Time   // when the earliest held gate opens; zero while records still propagate
	Lagging []string    // authoritative servers that do not serve the new records yet
}

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
			fmt.Fprintf(o.Log, "step %d: %s %s waits for %s until %s\n", s.Index, s.Address, s.Phase, s.Rule, open.UTC().Format(time.RFC3339))
			return false, nil
		case !o.Wait:
			out.Lagging = append(out.Lagging, r.lagging(gate)...)
			fmt.Fprintf(o.Log, "step %d: %s %s waits for %s: the new TLSA records are not served by every authoritative server yet (lagging: %s)\n",
				s.Index, s.Address, s.Phase, s.Rule, strings.Join(r.lagging(gate), ", "))
			return false, nil
		case !visible:
			fmt.Fprintf(o.Log, "\rstep %d: waiting for every authoritative server to serve the new records (lagging: %s) ", s.Index, strings.Join(r.lagging(gate), ", "))
			select {
			case <-ctx.Done():
				return false, ctx.Err()
			case <-time.After(time.Second):
			}
			for _, g := range gate {
				r.record(ctx, mustParse(g.Address))
			}
		default:
			if err := waitUntil(ctx, open, s, o.Log); err != nil {
				return false, err
			}
		}
	}
}

// lagging names the servers that do not serve the gate's RRsets yet.
func (r *Run) lagging(gate []plan.GateWait) []string {
	var out []string
	for _, g := range gate {
		if n := r.w.by[mustParse(g.Address)]; n != nil {
			for _, l := range n.res.(*dns.TLSA).Lagging {
				out = append(out, l+" for "+g.Address)
			}
		}
	}
	return out
}

// awaitPropagation polls, after a TLSA batch, until every authoritative
// server serves what was written (recording visible_at then), for at most
// limit; a later gate waits for servers still behind.
func (r *Run) awaitPropagation(ctx context.Context, batch []plan.Step, log io.Writer, limit time.Duration) {
	if limit == 0 {
		limit = 30 * time.Second
	}
	deadline := time.Now().Add(limit)
	for {
		var behind []string
		for _, b := range batch {
			n := r.w.by[mustParse(b.Address)]
			t, ok := n.res.(*dns.TLSA)
			if !ok || n.observed == nil {
				continue
			}
			if len(t.Lagging) > 0 || !slices.Equal(t.Visible, n.observed["records"].List) {
				behind = append(behind, t.Lagging...)
			}
		}
		if len(behind) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			if len(behind) > 0 {
				fmt.Fprintf(log, "not yet served everywhere after %s (lagging: %s); the gate will wait for them\n", limit, strings.Join(slices.Compact(behind), ", "))
			}
			return
		}
		time.Sleep(200 * time.Millisecond)
		for _, b := range batch {
			r.record(ctx, mustParse(b.Address))
		}
	}
}

// Apply carries out p in order. It saves state after every step, batches
// consecutive TLSA steps of one zone into one transaction, stops at the
// first failure (naming the step), and holds back steps behind a gate that
// is not open yet unless o.Wait is set. Observe must have run.
func (r *Run) Apply(ctx context.Context, p *plan.Plan, o ApplyOptions) (*Outcome, error) {
	if p.Mode == "refresh-only" {
		return nil, errors.New("a refresh-only plan reports drift and changes nothing; run plan and apply without -refresh-only to repair it")
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	r.desire() // intents of certificates, for TLSA records computed at apply time
	r.noteVisible()
	if err := o.Save(r.st); err != nil {
		return nil, err
	}
	out := &Outcome{}
	held := map[int]bool{}
	steps := p.Steps
	for i := 0; i < len(steps); i++ {
		s := steps[i]
		if slices.ContainsFunc(s.DependsOn, func(d int) bool { return held[d] }) {
			held[s.Index] = true
			out.Held = append(out.Held, s)
			continue
		}
		if len(s.Gate) > 0 {
			passed, err := r.passGate(ctx, s, o, out)
			if err != nil {
				return out, fmt.Errorf("step %d (%s %s): %w", s.Index, s.Address, s.Phase, err)
			}
			if !passed {
				held[s.Index] = true
				out.Held = append(out.Held, s)
				continue
			}
		}
		batch := []plan.Step{s}
		for i+1 < len(steps) && r.batchable(batch, steps[i+1], held) {
			i++
			batch = append(batch, steps[i])
		}
		for _, b := range batch {
			fmt.Fprintf(o.Log, "step %d/%d: %s %s %s\n", b.Index, len(steps), b.Action.Glyph(), b.Address, b.Phase)
		}
		var err error
		if isIssue(s) {
			err = r.executeParallel(ctx, batch)
		} else {
			err = r.execute(ctx, batch)
		}
		for _, b := range batch {
			addr := mustParse(b.Address)
			if addr.Type == "certificate" && b.Phase != certificate.PhaseStageKey {
				// The key is replaced now; -replace must not ask for yet another.
				r.opts.Replace = slices.DeleteFunc(r.opts.Replace, func(a schema.Address) bool { return a == addr })
			}
		}
		for _, addr := range r.touched(batch) {
			r.record(ctx, addr)
		}
		if err == nil {
			r.awaitPropagation(ctx, batch, o.Log, o.PropagationWait)
		}
		if serr := o.Save(r.st); serr != nil {
			return out, errors.Join(err, fmt.Errorf("saving state: %w", serr))
		}
		if err != nil {
			return out, fmt.Errorf("step %d (%s %s) failed: %w", s.Index, s.Address, s.Phase, err)
		}
		out.Applied += len(batch)
		if o.AfterStep != nil {
			o.AfterStep(batch[len(batch)-1])
		}
	}
	if len(out.Held) == 0 {
		for a := range r.st.Resources {
			if _, ok := r.w.by[mustParse(a)]; !ok {
				delete(r.st.Resources, a)
			}
		}
		if err := o.Save(r.st); err != nil {
			return out, err
		}
	}
	return out, nil
}

// noteVisible starts the clock for TLSA records already published (by an
// earlier run, or by hand): their visibility is first seen now.
func (r *Run) noteVisible() {
	now := r.opts.Now()
	for _, n := range r.w.nodes {
		if n.addr.Type != "tlsa" || n.observed == nil {
			continue
		}
		sr := r.st.Get(n.addr.String())
		if sr == nil {
			sr = r.st.Set(n.addr.String(), n.addr.Type, n.observed, now)
		}
		sr.SeeRecords(n.res.(*dns.TLSA).Visible, now)
	}
}

// resolveGate fills in records that were unknown when the plan was made
// (the staged key did not exist yet).
func (r *Run) resolveGate(gate []plan.GateWait) []plan.GateWait {
	out := slices.Clone(gate)
	for i, g := range out {
		if g.Record != "" {
			continue
		}
		if n := r.w.by[mustParse(g.Address)]; n != nil {
			out[i].Record = r.tlsaRecords(n.block.(*schema.TLSA)).target
		}
	}
	return out
}

// isIssue: a step that obtains a certificate, which may take seconds (an
// ACME order); independent ones run side by side.
func isIssue(s plan.Step) bool {
	return strings.HasPrefix(s.Address, "certificate.") && (s.Phase == certificate.PhaseIssue || s.Phase == certificate.PhaseIssueNewKey) && len(s.Gate) == 0
}

// executeParallel runs independent issue steps at most opts.Parallelism at
// a time; every one is carried out even when another fails, and the first
// failure is reported, naming its step.
func (r *Run) executeParallel(ctx context.Context, batch []plan.Step) error {
	if len(batch) == 1 {
		return r.execute(ctx, batch)
	}
	sem := make(chan struct{}, max(r.opts.Parallelism, 1))
	errs := make([]error, len(batch))
	var wg sync.WaitGroup
	for i, s := range batch {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := r.execute(ctx, []plan.Step{s}); err != nil {
				errs[i] = fmt.Errorf("step %d (%s %s): %w", s.Index, s.Address, s.Phase, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// batchable reports whether next joins the batch: TLSA steps of the same
// zone that do not depend on each other share one DNS transaction, and so
// do independent certificate issues run side by side.
func (r *Run) batchable(batch []plan.Step, next plan.Step, held map[int]bool) bool {
	independent := func() bool {
		for _, d := range next.DependsOn {
			if held[d] || slices.ContainsFunc(batch, func(b plan.Step) bool { return b.Index == d }) {
				return false
			}
		}
		return true
	}
	if isIssue(batch[0]) {
		return isIssue(next) && independent()
	}
	zoneOf := func(s plan.Step) (schema.Address, bool) {
		t, ok := r.cfg.Block(mustParse(s.Address)).(*schema.TLSA)
		if !ok {
			return schema.Address{}, false
		}
		return t.Zone.Address, true
	}
	z, ok := zoneOf(batch[0])
	nz, nok := zoneOf(next)
	if !ok || !nok || z != nz || len(next.Gate) > 0 {
		return false
	}
	for _, d := range next.DependsOn {
		if held[d] || slices.ContainsFunc(batch, func(b plan.Step) bool { return b.Index == d }) {
			return false
		}
	}
	return true
}

// execute carries out one step, or one batch of TLSA steps.
func (r *Run) execute(ctx context.Context, batch []plan.Step) error {
	first := batch[0]
	n := r.w.by[mustParse(first.Address)]
	switch res := n.res.(type) {
	case *localca.CA:
		return res.Create(ctx)
	case *acme.Account:
		return res.Register(ctx)
	case *certificate.Certificate:
		var in certificate.Intent
		if n.change != nil {
			in = n.change.intent
		}
		return res.Apply(ctx, first.Phase, in)
	case *webserver.Vhost:
		return res.Apply(ctx, first.Phase, res.ServedDesired(r.servedLeaf(n.block.(*schema.Vhost))))
	case *apt.Key:
		return res.Apply(ctx, first.Phase)
	case *apt.Source:
		return res.Apply(ctx, first.Phase)
	case *dns.TLSA:
		changes := map[*dns.TLSA][]string{}
		for _, s := range batch {
			tn := r.w.by[mustParse(s.Address)]
			t := tn.block.(*schema.TLSA)
			var published []string
			if tn.observed != nil {
				published = tn.observed["records"].List
			}
			want, err := r.tlsaRecords(t).write(s.Phase, published)
			if err != nil {
				return fmt.Errorf("%s: %w", s.Address, err)
			}
			if (s.Phase == phasePublish || s.Phase == phasePrune) && slices.Equal(want, published) {
				continue // a publish or prune that finds its records in place
			}
			changes[tn.res.(*dns.TLSA)] = want
		}
		sets := dns.Combine(changes)
		if len(sets) == 0 {
			return nil
		}
		t := n.block.(*schema.TLSA)
		if err := r.w.zones[t.Zone.Address].Update(ctx, sets); err != nil {
			return fmt.Errorf("zone %s: %w", t.Zone.Address, err)
		}
		return nil
	}
	return fmt.Errorf("%s: nothing to apply", first.Address)
}

// record re-observes a resource after its step and writes it into state.
// A certificate's intent is recomputed so later TLSA steps see the new key.
func (r *Run) record(ctx context.Context, addr schema.Address) {
	n := r.w.by[addr]
	v, err := n.res.Observe(ctx)
	if err != nil {
		return // the step's own error, if any, is what the user needs
	}
	n.observed = v
	r.w.derive(n)
	r.checkServedTLSA(ctx, n)
	now := r.opts.Now()
	if c, ok := n.res.(*certificate.Certificate); ok {
		in := c.Plan(addr.String(), slices.Contains(r.opts.Replace, addr))
		n.change = &changeInfo{intent: in}
		if !in.Issue && !in.StageNext {
			n.change = nil
		}
	}
	if v == nil {
		delete(r.st.Resources, addr.String())
		return
	}
	sr := r.st.Set(addr.String(), addr.Type, v, now)
	if t, ok := n.res.(*dns.TLSA); ok {
		sr.SeeRecords(t.Visible, now)
	}
}

// touched lists what a batch changed: its resources, and the TLSA resources
// that share an owner name with one of them (their view of the other
// records at that owner is stale now).
func (r *Run) touched(batch []plan.Step) []schema.Address {
	var out []schema.Address
	owners := map[string]bool{}
	for _, b := range batch {
		addr := mustParse(b.Address)
		out = append(out, addr)
		if t, ok := r.cfg.Block(addr).(*schema.TLSA); ok {
			owners[t.FQDN] = true
		}
	}
	if len(owners) == 0 {
		return out
	}
	for _, t := range r.cfg.TLSAs {
		addr := schema.Address{Type: "tlsa", Name: t.Name}
		if owners[t.FQDN] && !slices.Contains(out, addr) {
			out = append(out, addr)
		}
	}
	return out
}

// waitUntil blocks until a gate opens, with a countdown.
func waitUntil(ctx context.Context, open time.Time, s plan.Step, log io.Writer) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		left := time.Until(open)
		if left <= 0 {
			fmt.Fprintf(log, "\rstep %d: %s gate open%30s\n", s.Index, s.Rule, "")
			return nil
		}
		fmt.Fprintf(log, "\rstep %d: %s %s waits for %s: %s left ", s.Index, s.Address, s.Phase, s.Rule, left.Round(time.Second))
		select {
		case <-ctx.Done():
			fmt.Fprintln(log)
			return ctx.Err()
		case <-tick.C:
		case <-time.After(left):
		}
	}
}
