package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/plan"
)

// TestProgressInALog: a one-minute gate, counted down every second as apply
// -wait does, then opening: in a log no carriage return and fewer than ten
// lines; on a terminal one live line; with -json one apply_progress every
// ten seconds.
func TestProgressInALog(t *testing.T) {
	events := func(p interface{ event(engine.Event) }, clock *time.Time) {
		p.event(engine.Event{Kind: engine.EventStep, Step: 1, Text: "step 1/3: ± certificate.www stage-key"})
		for left := 90; left > 0; left-- {
			p.event(engine.Event{Kind: engine.EventWait, Step: 3, Key: "gate", Text: fmt.Sprintf("step 3: certificate.www deploy-next waits for tlsa-before-cert: %ds left", left)})
			*clock = clock.Add(time.Second)
		}
		p.event(engine.Event{Kind: engine.EventNote, Step: 3, Text: "step 3: tlsa-before-cert gate open"})
	}
	for _, tc := range []struct {
		name      string
		tty, json bool
		check     func(t *testing.T, out string)
	}{
		{"log", false, false, func(t *testing.T, out string) {
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if strings.Contains(out, "\r") || len(lines) >= 10 {
				t.Errorf("%d lines, carriage return: %v:\n%s", len(lines), strings.Contains(out, "\r"), out)
			}
			if !strings.Contains(out, "(still waiting)") || !strings.HasPrefix(lines[0], "2026-") {
				t.Errorf("no timestamped line or no reminder:\n%s", out)
			}
		}},
		{"terminal", true, false, func(t *testing.T, out string) {
			if strings.Count(out, "\n") != 2 || strings.Count(out, "\r") < 90 {
				t.Errorf("want one live line between two plain ones:\n%q", out)
			}
		}},
		{"json", false, true, func(t *testing.T, out string) {
			if n := strings.Count(out, "\n"); n != 11 || strings.Count(out, `"type":"apply_progress"`) != 9 {
				t.Errorf("want 11 JSON lines, 9 of them apply_progress; got %d:\n%s", n, out)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			clock := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
			now := func() time.Time { return clock }
			var p interface{ event(engine.Event) } = &progress{w: &b, tty: tc.tty, now: now}
			if tc.json {
				s := newStream(&b, now)
				s.planned(&plan.Plan{Steps: []plan.Step{{Index: 1, Address: "certificate.www", Phase: "stage-key"}, {Index: 3, Address: "certificate.www", Phase: "deploy-next"}}})
				b.Reset()
				p = s
			}
			events(p, &clock)
			tc.check(t, b.String())
		})
	}
}
