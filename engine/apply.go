package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

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
	Failed   *plan.Step  // the step that failed, when one did
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
	EventDone EventKind = "done" // a step finished, what it made true recorded
)

func (o ApplyOptions) emit(kind EventKind, step int, key, format string, args ...any) {
	if o.Progress != nil {
		o.Progress(Event{Kind: kind, Step: step, Key: key, Text: fmt.Sprintf(format, args...)})
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
	r.recordImports(p, o)
	for _, a := range p.Forgets {
		if r.st.Forget(a) == nil {
			o.emit(EventNote, 0, "", "%s: forgotten (what it managed stays in place)", a)
		}
	}
	if err := o.Save(r.st); err != nil {
		return nil, err
	}
	held := map[int]bool{}
	steps := p.Steps
	reloads := r.reloadsAfter(steps)
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
				out.Failed = &s
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
				r.oweReloads(b, reloads)
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
			out.Failed = &s
			return out, fmt.Errorf("step %d (%s %s) failed: %w", s.Index, s.Address, s.Phase, err)
		}
		out.Applied += len(batch)
		for _, b := range batch {
			o.emit(EventDone, b.Index, "", "step %d/%d: %s %s done", b.Index, len(steps), b.Address, b.Phase)
		}
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

// reloadsAfter maps each resource to the reload steps of steps that wait
// for it (a service or vhost reloading to serve a redeployed certificate).
func (r *Run) reloadsAfter(steps []plan.Step) map[string][]plan.Step {
	out := map[string][]plan.Step{}
	for _, l := range steps {
		n := r.g.Node(mustParse(l.Address))
		if n == nil || n.Change == nil || !n.Change.Reload {
			continue
		}
		for _, d := range n.Change.After {
			out[d.Addr.String()] = append(out[d.Addr.String()], l)
		}
	}
	return out
}

// oweReloads marks the reloads that wait for a done step as owed (state's
// Pending) until they run. A service that reads its certificate whenever
// it starts a process (Postfix's smtpd) may show the new certificate to a
// probe while processes started before still serve the old one: a reload
// that was never run cannot be told from the world, so an apply stopped
// between the deployment and the reload runs the reload at the next one.
func (r *Run) oweReloads(done plan.Step, reloads map[string][]plan.Step) {
	for _, l := range reloads[done.Address] {
		if _, owed := r.st.Pending[l.Address]; l.Index > done.Index && !owed {
			r.st.Pending[l.Address] = l.Phase
		}
	}
}
