package rules

import (
	"fmt"
	"time"

	"github.com/trustform/trustform/engine/plan"
)

// TLSABeforeCert: a certificate whose public key changes is deployed only
// after TLSA records for the new key are published beside the old ones and
// have been visible on every authoritative server for rollover_wait; old
// records are removed only after the new certificate is live. Otherwise
// validating clients (SMTP peers, DANE-aware resolvers) refuse the service.
// The gate is time-based and survives between runs: state records when each
// record became visible.
const TLSABeforeCert tlsaBeforeCert = "tlsa-before-cert"

type tlsaBeforeCert string

var _ Rule = TLSABeforeCert

// Name is the rule's name.
func (r tlsaBeforeCert) Name() string { return string(r) }

// Opens is when a gate opens: for every wait, when its record became
// visible on every authoritative server (visibleAt, from state) plus the
// wait. ok is false while some record is not visible everywhere yet; the
// time returned then assumes it becomes visible now. A wait that cannot be
// read is an error: a safety gate fails closed.
func (r tlsaBeforeCert) Opens(gate []plan.GateWait, visibleAt func(addr, record string) (time.Time, bool), now time.Time) (open time.Time, ok bool, err error) {
	open, ok = now, true
	for _, g := range gate {
		wait, err := time.ParseDuration(g.Wait)
		if err != nil || wait < 0 {
			return time.Time{}, false, fmt.Errorf("%s: the %s gate's wait %q cannot be read; the step stays closed", g.Address, r.Name(), g.Wait)
		}
		seen, known := now, false
		if g.Record != "" {
			seen, known = visibleAt(g.Address, g.Record)
		}
		if !known {
			seen, ok = now, false
		}
		if t := seen.Add(wait); t.After(open) {
			open = t
		}
	}
	return open, ok, nil
}
