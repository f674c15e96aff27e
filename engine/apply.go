package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/providers"
)

// ApplyOptions shape an apply.
type ApplyOptions struct {
	Wait bool // wait at time gates instead of stopping there
	// Progress receives what the apply does as it goes (nil: nothing);
	// the command line shows it as fits where it is read.
	Progress func(Event)
	// Save persists state; it is called after every step.
	Save func(*state.State) error
	// AfterStep, if set, is called after each step (or batch) has been
	// carried out and state saved; AfterWrite after each step has written
	// and before what it made true is recorded: the CLI's test-only fault
	// hooks.
	AfterStep, AfterWrite func(plan.Step)
	// PropagationWait is how long apply polls the authoritative servers
	// after a DNS change before it moves on (a later gate then waits for
	// the stragglers); default 30s.
	PropagationWait time.Duration
}

// Outcome says what an apply did.
type Outcome struct {
	Applied  int
	Repaired int         // state entries rewritten from what is live (plan.StateRepairs)
	Held     []plan.Step // steps held back by a time gate, or by a step so held
	OpensAt  time.Time   // when the earliest held gate opens; zero while records still propagate
	Lagging  []string    // authoritative servers that do not serve the new records yet
}

// Event is one thing an apply reports while it runs.
type Event struct {
	Kind EventKind
	Step int // the step's index, 0 for none
	// Key names what a wait waits for; it stays the same while the reason
	// does (the countdown in Text changes every second, the key does not).
	Key  string
	Text string
}

// EventKind is what an Event reports.
type EventKind string

// Event kinds.
const (
	EventStep EventKind = "step" // a step starts
	EventWait EventKind = "wait" // a step waits, again and again while it does
	EventNote EventKind = "note" // once: a gate opened, servers still behind
)

func (o ApplyOptions) emit(kind EventKind, step int, key, format string, args ...any) {
	if o.Progress != nil {
		o.Progress(Event{Kind: kind, Step: step, Key: key, Text: fmt.Sprintf(format, args...)})
	}
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
			o.emit(EventNote, s.Index, "", "step %d: %s %s waits for %s until %s", s.Index, s.Address, s.Phase, s.Rule, open.UTC().Format(time.RFC3339))
			return false, nil
		case !o.Wait:
			out.Lagging = append(out.Lagging, r.lagging(gate)...)
			o.emit(EventNote, s.Index, "", "step %d: %s %s waits for %s: the new TLSA records are not served by every authoritative server yet (lagging: %s)",
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

// Apply carries out p in order. It saves state after every step, batches
// consecutive TLSA steps of one zone into one transaction, stops at the
// first failure (naming the step), and holds back steps behind a gate that
// is not open yet unless o.Wait is set. Observe must have run.
func (r *Run) Apply(ctx context.Context, p *plan.Plan, o ApplyOptions) (*Outcome, error) {
	if p.Mode == "refresh-only" {
		return nil, errors.New("a refresh-only plan reports drift and changes nothing; run plan and apply without -refresh-only to repair it")
	}
	r.desire() // intents of certificates, for TLSA records computed at apply time
	keep := r.targetSet()
	for _, n := range r.g.Nodes {
		if keep == nil || keep[n.Addr] {
			r.retire(n) // approved: -revoke is recorded before the first step
		}
	}
	r.noteVisible()
	out := &Outcome{Repaired: r.repairState(p, o)}
	if err := o.Save(r.st); err != nil {
		return nil, err
	}
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
			o.emit(EventStep, b.Index, "", "step %d/%d: %s %s %s", b.Index, len(steps), b.Action.Glyph(), b.Address, b.Phase)
		}
		if r.st.Pending == nil {
			r.st.Pending = map[string]string{}
		}
		for _, b := range batch {
			r.st.Pending[b.Address] = b.Phase
		}
		if err := o.Save(r.st); err != nil {
			return out, fmt.Errorf("saving state: %w", err)
		}
		var errs []error // each step's outcome
		var stale []providers.Resource
		if r.parallel(s) {
			errs = r.executeParallel(ctx, batch)
		} else {
			var err error
			stale, err = r.execute(ctx, batch)
			errs = slices.Repeat([]error{err}, len(batch)) // one transaction: all or none
		}
		if o.AfterWrite != nil {
			o.AfterWrite(batch[len(batch)-1])
		}
		observed := map[string]error{}
		for _, n := range r.touched(batch, stale) {
			observed[n.Addr.String()] = r.record(ctx, n)
		}
		// Each step's outcome on its own: an order that succeeded beside one
		// that failed is not ordered again. A step is done once what it made
		// true is recorded: one that ran but could not be observed afterwards
		// stays pending, and the next apply runs it again.
		for i, b := range batch {
			if errs[i] == nil && observed[b.Address] != nil {
				errs[i] = fmt.Errorf("%s %s was carried out, but observing it afterwards failed, so state cannot record what it made true (it runs again at the next apply): %w", b.Address, b.Phase, observed[b.Address])
			}
			if errs[i] == nil {
				delete(r.st.Pending, b.Address)
			}
		}
		err := errors.Join(slices.Compact(errs)...)
		if err == nil {
			r.awaitPropagation(ctx, batch, o, o.PropagationWait)
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
		for _, n := range r.g.Nodes {
			if f, ok := n.Res.(providers.Finisher); ok {
				if err := f.Finish(ctx); err != nil {
					return out, fmt.Errorf("%s: tidying up after the apply: %w", n.Addr, err)
				}
				r.retire(n)
			}
		}
		for a := range r.st.Retiring {
			if r.g.Node(mustParse(a)) == nil || r.cfg.Gone(mustParse(a)) {
				delete(r.st.Retiring, a)
			}
		}
		for a, sr := range r.st.Resources {
			addr := mustParse(a)
			switch n := r.g.Node(addr); {
			case n == nil || r.cfg.Gone(addr):
				delete(r.st.Resources, a)
			default:
				sr.Block = r.cfg.Source(addr) // what a later removal of the block deletes
			}
		}
		for a := range r.st.Pending {
			if r.g.Node(mustParse(a)) == nil {
				delete(r.st.Pending, a)
			}
		}
		if err := o.Save(r.st); err != nil {
			return out, err
		}
	}
	return out, nil
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

// resolveGate fills in records that were unknown when the plan was made
// (the staged key did not exist yet).
func (r *Run) resolveGate(gate []plan.GateWait) []plan.GateWait {
	out := slices.Clone(gate)
	for i, g := range out {
		if g.Record != "" {
			continue
		}
		if n := r.g.Node(mustParse(g.Address)); n != nil {
			if pin, ok := n.Res.(providers.Pin); ok {
				out[i].Record, _ = pin.Target()
			}
		}
	}
	return out
}

// parallel: a step that takes long on a remote system (an ACME order) and
// no gate; independent ones run side by side.
func (r *Run) parallel(s plan.Step) bool {
	n := r.g.Node(mustParse(s.Address))
	p, ok := n.Res.(providers.Parallel)
	return ok && p.Parallel(s.Phase) && len(s.Gate) == 0
}

// executeParallel runs independent issue steps at most opts.Parallelism at
// a time; every one is carried out even when another fails, and each
// step's outcome is returned (nil or its error, naming the step).
func (r *Run) executeParallel(ctx context.Context, batch []plan.Step) []error {
	if len(batch) == 1 {
		_, err := r.execute(ctx, batch)
		return []error{err}
	}
	sem := make(chan struct{}, max(r.opts.Parallelism, 1))
	errs := make([]error, len(batch))
	var wg sync.WaitGroup
	for i, s := range batch {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if _, err := r.execute(ctx, []plan.Step{s}); err != nil {
				errs[i] = fmt.Errorf("step %d (%s %s): %w", s.Index, s.Address, s.Phase, err)
			}
		}()
	}
	wg.Wait()
	return errs
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
	if r.parallel(batch[0]) {
		return r.parallel(next) && independent()
	}
	key := func(s plan.Step) string {
		if b, ok := r.g.Node(mustParse(s.Address)).Res.(providers.Batched); ok {
			return b.BatchKey()
		}
		return ""
	}
	if k := key(batch[0]); k == "" || key(next) != k || len(next.Gate) > 0 {
		return false
	}
	for _, d := range next.DependsOn {
		if held[d] || slices.ContainsFunc(batch, func(b plan.Step) bool { return b.Index == d }) {
			return false
		}
	}
	return true
}

// execute carries out one step, or one batch of steps that share a
// transaction; it returns what else the batch made stale.
func (r *Run) execute(ctx context.Context, batch []plan.Step) ([]providers.Resource, error) {
	n := r.g.Node(mustParse(batch[0].Address))
	if b, ok := n.Res.(providers.Batched); ok {
		items := make([]providers.BatchItem, len(batch))
		for i, s := range batch {
			items[i] = providers.BatchItem{Resource: r.g.Node(mustParse(s.Address)).Res, Phase: s.Phase}
		}
		return b.ApplyBatch(ctx, items)
	}
	return nil, n.Res.Apply(ctx, batch[0].Phase)
}

// record observes a resource again after a step and writes it into state;
// planning it again lets later steps see what the step did (a certificate's
// new key, for the TLSA records computed from it).
func (r *Run) record(ctx context.Context, n *graph.Node) error {
	if n == nil {
		return nil
	}
	v, err := n.Res.Observe(ctx)
	if err != nil {
		return err // state keeps what it had: nothing is recorded that was not seen
	}
	n.Observed = v
	if _, ok := n.Res.(providers.KeyDeployer); ok {
		r.retire(n) // what the step retired (a revocation done), before planning from state again
		r.plan(n)
	}
	now := r.opts.Now()
	if v == nil {
		delete(r.st.Resources, n.Addr.String())
		return nil
	}
	sr := r.st.Set(n.Addr.String(), n.Addr.Type, r.redact(n.Addr, v), now)
	if !r.cfg.Gone(n.Addr) {
		sr.Block = r.cfg.Source(n.Addr)
	}
	if p, ok := n.Res.(providers.Propagating); ok {
		sr.SeeRecords(p.Visible(), now)
	}
	return nil
}

// touched lists what a batch changed: its resources, what it reported
// stale, and what overlaps them (RRsets at one owner name see each other's
// records).
func (r *Run) touched(batch []plan.Step, stale []providers.Resource) []*graph.Node {
	var out []*graph.Node
	seen := map[*graph.Node]bool{}
	add := func(n *graph.Node) {
		if n != nil && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, b := range batch {
		add(r.g.Node(mustParse(b.Address)))
	}
	for _, res := range stale {
		add(r.g.NodeOf(res))
	}
	keys := map[string]bool{}
	for _, n := range out {
		if o, ok := n.Res.(overlapper); ok {
			keys[o.OverlapKey()] = true
		}
	}
	if len(keys) > 0 {
		for _, n := range r.g.Nodes {
			if o, ok := n.Res.(overlapper); ok && keys[o.OverlapKey()] {
				add(n)
			}
		}
	}
	return out
}

// overlapper is a resource whose observation the change of another with the
// same key makes stale (TLSA RRsets at one owner name).
type overlapper interface {
	OverlapKey() string
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
