//go:build trustformtest

package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/trustform/trustform/engine"
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

// faultHooks kill apply (SIGKILL, no cleanup), as a power cut or an OOM
// kill would: TRUSTFORM_TEST_KILL_AFTER_STEPS=N once N steps are done and
// saved; TRUSTFORM_TEST_KILL_INSIDE=FILE inside the first step not listed
// in FILE, after its write and before what it made true is recorded,
// listing it there first (so that a run after it, which runs that step
// again, is killed inside the next one).
func faultHooks(e env, o *engine.ApplyOptions) {
	if n, err := strconv.Atoi(e.getenv("TRUSTFORM_TEST_KILL_AFTER_STEPS")); err == nil && n > 0 {
		done := 0
		o.AfterStep = func(s plan.Step) {
			if done++; done == n {
				kill(e, "after", s)
			}
		}
	}
	if list := e.getenv("TRUSTFORM_TEST_KILL_INSIDE"); list != "" {
		o.AfterWrite = func(s plan.Step) {
			b, _ := os.ReadFile(list)
			line := s.Address + " " + s.Phase + "\n"
			if !strings.Contains(string(b), line) {
				os.WriteFile(list, append(b, line...), 0o600)
				kill(e, "inside", s)
			}
		}
	}
}

func kill(e env, where string, s plan.Step) {
	fmt.Fprintf(e.stderr, "fault hook: killed %s step %d (%s %s)\n", where, s.Index, s.Address, s.Phase)
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
}
