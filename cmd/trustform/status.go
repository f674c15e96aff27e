package main

import (
	"context"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/metrics"
	"github.com/trustform/trustform/engine/status"
	"github.com/trustform/trustform/kinds"
)

// showHTML prints the status page (show -html): it observes as a plan
// does, without the lock and without writing anything, and reads the last
// runs from the metrics file the scheduled runs write.
func showHTML(e env, c *common, metricsFile string) int {
	cfg, diags := c.load(e)
	if diags.HasErrors() {
		printDiags(e, c, cfg, diags, false)
		return 1
	}
	store, err := c.store(e, cfg)
	if err != nil {
		return errorf(e, "%v", err)
	}
	defer store.Close()
	ctx := context.Background()
	st, err := store.Load(ctx)
	if err != nil {
		return errorf(e, "%v", err)
	}
	run, d := engine.New(cfg, st, kinds.Bind, engine.Options{Now: e.clock()})
	if d.HasErrors() {
		printDiags(e, c, cfg, d, false)
		return 1
	}
	defer run.Close()
	if d := run.Observe(ctx); d.HasErrors() {
		printDiags(e, c, cfg, d, false)
		return 1
	}
	p, d := run.Plan()
	if d.HasErrors() {
		printDiags(e, c, cfg, d, false)
		return 1
	}
	held, err := run.Inventory(ctx)
	if err != nil {
		return errorf(e, "%v", err)
	}
	var runs []status.Run
	if metricsFile != "" {
		rs, err := metrics.Runs(metricsFile)
		if err != nil {
			return errorf(e, "-metrics-file: %v", err)
		}
		for _, r := range rs {
			runs = append(runs, status.Run{Command: r.Command, At: r.At, OK: r.OK})
		}
	}
	return errIf(e, status.WriteHTML(e.stdout, run.Status(p, held, runs)))
}
