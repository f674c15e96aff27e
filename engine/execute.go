package engine

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/providers"
)

// Carrying out steps: one at a time, batched into one transaction (the
// TLSA RRsets of a zone), or side by side (independent ACME orders).

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
			sn := r.g.Node(mustParse(s.Address))
			items[i] = providers.BatchItem{Resource: sn.Res, Change: sn.Change, Phase: s.Phase}
		}
		return b.ApplyBatch(ctx, items)
	}
	return nil, n.Res.Apply(ctx, n.Change, batch[0].Phase)
}
