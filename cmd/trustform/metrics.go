package main

import (
	"time"

	"github.com/trustform/trustform/engine/metrics"
	"github.com/trustform/trustform/providers"
)

// metricsOut is -metrics-file: what the command observed, written when it
// ends, with its outcome (exit 0, or 2 for -detailed-exitcode's changes,
// is success).
type metricsOut struct {
	path, command string
	started       time.Time
	samples       []providers.Sample
	observed      bool
}

// measured keeps what the run observed, for the file.
func (m *metricsOut) measured(samples []providers.Sample) {
	m.samples, m.observed = samples, true
}

// write writes the file and returns the command's exit code: code, or 1
// when the file cannot be written (a scheduled run whose metrics are lost
// must not look fine).
func (m *metricsOut) write(e env, code int) int {
	if m.path == "" {
		return code
	}
	run := metrics.Run{Command: m.command, At: m.started, OK: code == 0 || code == 2, Observed: m.observed}
	if err := metrics.Write(m.path, m.samples, run); err != nil {
		return errorf(e, "writing -metrics-file: %v", err)
	}
	return code
}
