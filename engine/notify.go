package engine

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// Ended is how a command ended, for its findings: the plan it carried out
// (an apply) and its outcome and error, or a plan alone (out nil).
type Ended struct {
	Plan *plan.Plan
	Out  *Outcome
	Err  error
}

// Findings are what the run found that someone should hear of (notify
// blocks): drift since the last apply, an apply that failed, steps held
// at a gate and gated steps carried out, certificates a day into their
// renewal window and not renewed, revocations still owed. Their words
// carry none of the configuration's sensitive values.
func (r *Run) Findings(e Ended) []providers.Finding {
	var out []providers.Finding
	add := func(event, addr, summary string) {
		out = append(out, providers.Finding{Event: event, Address: addr, Summary: schema.Hide(r.cfg.Sensitive(), summary)})
	}
	now := r.opts.Now()
	for _, n := range r.g.Nodes {
		if r.cfg.Gone(n.Addr) {
			continue
		}
		addr := n.Addr.String()
		switch gone, changed := r.drifted(n); {
		case gone:
			add(providers.EventDrift, addr, "it was applied, but is gone now")
		case len(changed) > 0:
			add(providers.EventDrift, addr, fmt.Sprintf("%s changed since the last apply", strings.Join(changed, ", ")))
		}
		if m, ok := n.Res.(providers.Measured); ok && n.Observed != nil {
			for _, s := range m.Measure(n.Observed, n.Desired) {
				if at := time.Unix(int64(s.Value), 0); s.Name == providers.MetricRenewalWindowStart && now.Sub(at) > 24*time.Hour {
					add(providers.EventRenewalFailing, addr, "its renewal window opened "+at.UTC().Format(time.RFC3339)+" and it is not renewed")
				}
			}
		}
		for _, rt := range r.owed(addr) {
			add(providers.EventRevocationPending, addr, "the replaced certificate "+rt.Serial+" is still to revoke ("+rt.Reason+")")
		}
	}
	if e.Out == nil {
		return out
	}
	if f := e.Out.Failed; e.Err != nil {
		where := ""
		if f != nil {
			where = f.Address
			if n := r.g.Node(mustParse(f.Address)); n != nil && isRenewing(n.Res) && strings.HasPrefix(f.Phase, "issue") {
				add(providers.EventRenewalFailing, where, "issuing failed: "+e.Err.Error())
			}
		}
		add(providers.EventApplyFailed, where, e.Err.Error())
	}
	held := map[int]bool{}
	for _, s := range e.Out.Held {
		held[s.Index] = true
		switch {
		case s.NotBefore != nil:
			add(providers.EventHeldAtGate, s.Address, s.Phase+" is held at its gate until "+s.NotBefore.UTC().Format(time.RFC3339))
		case len(s.Gate) > 0:
			add(providers.EventHeldAtGate, s.Address, s.Phase+" is held at its gate until its records are served everywhere")
		default:
			add(providers.EventHeldAtGate, s.Address, s.Phase+" waits for a step held at its gate")
		}
	}
	if e.Err == nil && e.Plan != nil {
		for _, s := range e.Plan.Steps {
			if !held[s.Index] && (s.NotBefore != nil || len(s.Gate) > 0) {
				add(providers.EventGateApplied, s.Address, s.Phase+" ran once its gate opened")
			}
		}
	}
	return out
}

// Notify sends every notifier the findings it wants and has not sent
// within its repeat_after (notified: what was sent when), and returns the
// record to keep (what this run found, with when each was last sent) and
// the error of each target that failed: a failing target is reported,
// the run does not fail for it.
func (r *Run) Notify(ctx context.Context, command string, findings []providers.Finding, notified state.Notified) (state.Notified, []error) {
	now := r.opts.Now()
	runner, _ := os.Hostname()
	keep := state.Notified{}
	var errs []error
	for _, n := range r.notifiers {
		msg := providers.Notification{Version: providers.NotificationVersion, Notifier: n.Addr.String(), Command: command, Runner: runner, At: now.UTC().Truncate(time.Second)}
		var keys []string
		for _, f := range findings {
			if !n.Wants(f.Event) {
				continue
			}
			key := strings.Join([]string{n.Addr.String(), f.Event, f.Address, f.Summary}, "\x1f")
			if sent, ok := notified[key]; ok && now.Sub(sent) < n.RepeatAfter() {
				keep[key] = sent
				continue
			}
			msg.Findings = append(msg.Findings, f)
			keys = append(keys, key)
		}
		if len(msg.Findings) == 0 {
			continue
		}
		if err := n.Send(ctx, msg); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n.Addr, err))
			continue // not recorded: sent again at the next run
		}
		for _, k := range keys {
			keep[k] = now
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return keep, errs
}

// Notifies reports whether the configuration has notify blocks.
func (r *Run) Notifies() bool { return len(r.notifiers) > 0 }

// isRenewing: the resource renews (a certificate).
func isRenewing(res providers.Resource) bool {
	_, ok := res.(providers.Renewing)
	return ok
}
