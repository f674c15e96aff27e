//go:build trustformtest

package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/trustform/trustform/engine/plan"
)

// Test hooks, in the binary the tests build (-tags trustformtest) and in
// no other.

// clock is the time the engine plans with. TRUSTFORM_TEST_NOW (RFC 3339)
// freezes it: a test that checks a time gate then does not race the wall
// clock on a loaded machine.
func (e env) clock() func() time.Time {
	if t, err := time.Parse(time.RFC3339, e.getenv("TRUSTFORM_TEST_NOW")); err == nil {
		return func() time.Time { return t }
	}
	return time.Now
}

// faultHook: TRUSTFORM_TEST_KILL_AFTER_STEPS=N makes apply kill itself
// (SIGKILL, no cleanup) once N steps are done and saved, as a power cut or
// an OOM kill would.
func faultHook(e env) func(plan.Step) {
	n, err := strconv.Atoi(e.getenv("TRUSTFORM_TEST_KILL_AFTER_STEPS"))
	if err != nil || n <= 0 {
		return nil
	}
	done := 0
	return func(s plan.Step) {
		if done++; done == n {
			fmt.Fprintf(e.stderr, "fault hook: killed after step %d (%s %s)\n", s.Index, s.Address, s.Phase)
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}
}
