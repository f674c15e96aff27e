package main

import (
	"context"

	"github.com/trustform/trustform/engine/metrics"
	"github.com/trustform/trustform/engine/status"
)

// showHTML prints the status page (show -html): it observes as a plan
// does, without the lock and without writing anything, and reads the last
// runs from the metrics file the scheduled runs write.
func showHTML(e env, c *common, metricsFile string) int {
	s, code := readOnly(e, c)
	if s == nil {
		return code
	}
	defer s.close()
	ctx := context.Background()
	if d := s.run.Observe(ctx); d.HasErrors() {
		printDiags(e, c, s.cfg, d, false)
		return 1
	}
	p, d := s.run.Plan()
	if d.HasErrors() {
		printDiags(e, c, s.cfg, d, false)
		return 1
	}
	held, err := s.run.Inventory(ctx)
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
	return errIf(e, status.WriteHTML(e.stdout, s.run.Status(p, held, runs)))
}
