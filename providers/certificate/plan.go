package certificate

import (
	"strings"

	"github.com/trustform/trustform/providers"
)

// Plan decides the certificate's change. Without DANE its phases are one
// issue (or deploy-next for a staged key), then with publish_next a fresh
// next key; tlsa-before-cert lays out a rollover instead where TLSA records
// pin the key.
func (c *Certificate) Plan(_ providers.Value, opts providers.PlanOptions) (providers.Value, *providers.Change) {
	c.unfinished = !opts.Replace && c.replacementUnfinished(opts.Retiring)
	c.replacing = (opts.Replace || c.unfinished) && !c.replaced
	c.adopted = c.adoptLinks(opts.Adopted)
	in := c.intentFor(c.replacing)
	c.intent = in
	c.retire(opts)
	revoke := c.toRevoke()
	ch := &providers.Change{Reasons: in.Reasons, After: []providers.Dep{{Addr: c.IssuerAddr}}, Detail: decision{in, c.replacing, c.adopted}}
	switch {
	case len(c.Chain) == 0:
		ch.Action = providers.Create
	case in.NewKey:
		ch.Action = providers.Replace
	case in.Issue, in.StageNext, in.Protect, in.Copies:
		ch.Action = providers.Update
	case len(revoke) > 0:
		ch.Action, ch.Reasons = providers.Update, c.retiringReasons(revoke)
		ch.Phases = []providers.Phase{c.revokePhase(revoke)}
		return in.Value, ch
	default:
		return in.Value, nil
	}
	kp := c.KeyPlan()
	switch {
	case in.Protect:
		ch.Phases = append(ch.Phases, providers.Phase{Name: PhaseProtect, Description: "write " + c.KeyFile + " again, as this user's with mode 0600"})
		if in.Copies {
			ch.Phases = append(ch.Phases, c.copiesPhase())
		}
	case in.Copies:
		ch.Phases = append(ch.Phases, c.copiesPhase())
	case !in.Issue: // publish_next only needs a next key
	case !in.NewKey:
		ch.Phases = append(ch.Phases, providers.Phase{Name: PhaseIssue, Description: "renew with the same key; TLSA 3 1 1 records stay valid"})
	case kp.Staged:
		ch.Phases = append(ch.Phases, providers.Phase{Name: PhaseDeployNext, Description: "issue for the staged key and deploy it"})
	case len(c.Chain) == 0 && in.Adopt:
		ch.Phases = append(ch.Phases, providers.Phase{Name: PhaseIssue, Description: "adopt the existing key at " + c.KeyFile + ", issue and deploy the certificate"})
	case len(c.Chain) == 0:
		ch.Phases = append(ch.Phases, providers.Phase{Name: PhaseIssue, Description: "generate a key (0600), issue and deploy the certificate"})
	default:
		ch.Phases = append(ch.Phases, providers.Phase{Name: PhaseIssueNewKey, Description: "issue for a fresh key and deploy it"})
	}
	if in.StageNext {
		ch.Phases = append(ch.Phases, kp.NextPhase)
	}
	if len(revoke) > 0 {
		ch.Phases = append(ch.Phases, c.revokePhase(revoke))
	}
	return in.Value, ch
}

// decision is what Plan decided and Apply carries out: the intent (the
// key it deploys, an existing key it adopts), and whether -replace asks for
// a new key. It travels in the change (Detail).
type decision struct {
	intent    Intent
	replacing bool
	adopted   []string // certbot's links an import adopted, replaced by the files deployed
}

// decisionOf is the decision a change carries. A change without one is the
// engine's, to run an unfinished step again when the plan had nothing
// else to do: no new key either.
func (c *Certificate) decisionOf(ch *providers.Change) decision {
	if ch != nil {
		if d, ok := ch.Detail.(decision); ok {
			return d
		}
	}
	return decision{intent: c.intentFor(false)}
}

func (c *Certificate) copiesPhase() providers.Phase {
	var files []string
	for _, cp := range c.Copies {
		files = append(files, cp.File)
	}
	return providers.Phase{Name: PhaseCopies, Description: "write " + strings.Join(files, ", ") + " from " + c.CertFile + " and " + c.KeyFile}
}

// KeyPlan is what the last Plan does to the key served.
func (c *Certificate) KeyPlan() providers.KeyPlan {
	in := c.intent
	kp := providers.KeyPlan{
		Issue:     in.Issue,
		NewKey:    in.NewKey,
		Staged:    in.Target != nil && c.NextKey != nil && SPKIHash(in.Target) == SPKIHash(c.NextKey),
		StageNext: in.StageNext,
		NextPhase: providers.Phase{Name: PhaseStageKey, Description: "generate the next key, kept staged and published (" + c.KeyFile + ".next, 0600)"},
		KeyFile:   c.KeyFile,
		CertFile:  c.CertFile,
		Live:      c.Chain,
		Target:    in.Target,
		Next:      in.Next,
		CAs:       c.pinnedCAs(),
	}
	if c.StagedChainFor(in.Target) {
		kp.StagedChain, kp.Chain = true, c.StagedChain
	}
	return kp
}

// Parallel: issuing waits on the CA, so independent issues run side by side.
func (c *Certificate) Parallel(phase string) bool {
	return phase == PhaseIssue || phase == PhaseIssueNewKey
}

// Due says why the certificate must be renewed now (expiry, the CA's
// renewal information, a changed configuration), if it must.
func (c *Certificate) Due() []string {
	if len(c.Chain) == 0 {
		return nil
	}
	if in := c.intentFor(false); in.Issue {
		return in.Reasons
	}
	return nil
}
