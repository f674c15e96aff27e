package providers

import (
	"context"
	"time"
)

// Events a notify block may ask for (on = [...]).
const (
	EventDrift             = "drift"
	EventApplyFailed       = "apply-failed"
	EventHeldAtGate        = "held-at-gate"
	EventGateApplied       = "gate-applied"
	EventRenewalFailing    = "renewal-failing"
	EventRevocationPending = "revocation-pending"
)

// Events lists the events, in the order the documentation gives them.
func Events() []string {
	return []string{EventDrift, EventApplyFailed, EventHeldAtGate, EventGateApplied, EventRenewalFailing, EventRevocationPending}
}

// Finding is one thing a run found that someone should hear of: its event,
// the resource it concerns, and what happened, in words that carry no
// secret (the engine hides the configuration's sensitive values).
type Finding struct {
	Event   string `json:"event"`
	Address string `json:"address"`
	Summary string `json:"summary"`
}

// NotificationVersion is the version of Notification's JSON body: a field
// is added without changing it, and changed or removed only with it.
const NotificationVersion = 1

// Notification is what a notifier sends: the webhook's JSON body
// (docs/notifications.md), and the e-mail's text.
type Notification struct {
	Version  int       `json:"version"`
	Notifier string    `json:"notifier"` // notify.NAME
	Command  string    `json:"command"`  // plan, apply
	Runner   string    `json:"runner"`   // the host name of the machine that ran it
	At       time.Time `json:"at"`
	Findings []Finding `json:"findings"`
}

// Notifier tells someone of findings: a notify block. Only a command given
// -notify sends, so that a plan of a pull request, whose configuration its
// author wrote, sends nothing anywhere.
type Notifier interface {
	// Wants reports whether the block's on lists the event.
	Wants(event string) bool
	// RepeatAfter is how long a finding sent is not sent again while it
	// lasts (repeat_after).
	RepeatAfter() time.Duration
	// Send delivers the notification, or says why it could not.
	Send(ctx context.Context, n Notification) error
}
