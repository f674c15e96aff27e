package rules

import (
	"fmt"
	"slices"
	"time"

	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
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

var (
	_ Layouter = TLSABeforeCert
	_ Orderer  = TLSABeforeCert
)

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

// Layout lays out a certificate change when it must: a new key while TLSA
// records pin the live one, or a new certificate while an RRset pins a
// certificate (its CA for DANE-TA, the whole leaf for selector 0). Stage
// the key, and the chain where a record pins a certificate; publish the
// records beside the old ones, wait, deploy, prune. With publish_next the
// staged key is already published (the gate is open) and a fresh next key
// is staged after the deploy, its record published with the prune.
func (r tlsaBeforeCert) Layout(g *graph.Graph, n *graph.Node) bool {
	kd, ok := n.Res.(providers.KeyDeployer)
	if !ok {
		return false
	}
	kp := kd.KeyPlan()
	keyPins, chainPins := pins(g, n.Addr)
	if !kp.Issue || (len(chainPins) == 0 && (!kp.NewKey || len(keyPins) == 0)) {
		return false
	}
	rule, action := r.Name(), n.Change.Action
	var first, last *graph.Step
	then := func(s *graph.Step) {
		s.After(last, rule)
		if first == nil {
			first = s
		}
		last = s
	}
	if kp.NewKey && !kp.Staged {
		then(g.AddStep(n.Addr, action, providers.PhaseStageKey, rule,
			"generate the next key beside the live one ("+kp.KeyFile+".next, 0600)"))
	}
	if len(chainPins) > 0 && !kp.StagedChain {
		then(g.AddStep(n.Addr, action, providers.PhaseStageCert, rule,
			"issue into "+kp.CertFile+".next: "+stagedWhy(chainPins)+" published before the certificate is served"))
	}
	var publishes []*graph.Step
	var gate []plan.GateWait
	for _, tn := range slices.Concat(keyPins, chainPins) {
		pin := tn.Res.(providers.Pin)
		target, unknown := pin.Target()
		if unknown != "" || !pin.Published(target) {
			desc := "publish the next key's record beside the current ones"
			switch {
			case pin.TrustAnchor():
				desc = "publish the record of the CA that issued the staged certificate, unless it is published already"
			case pin.CertBound():
				desc = "publish the staged certificate's record beside the current ones"
			}
			p := g.AddStep(tn.Addr, plan.Update, providers.PhasePublish, rule, desc)
			p.After(last, rule)
			publishes = append(publishes, p)
		}
		gate = append(gate, plan.GateWait{Address: tn.Addr.String(), Record: target, Wait: pin.Wait().String()})
	}
	desc := "issue the certificate for the staged key and deploy it"
	if len(chainPins) > 0 {
		desc = "deploy the staged certificate"
	}
	final := g.AddStep(n.Addr, action, providers.PhaseDeployNext, rule, desc)
	for _, p := range publishes {
		final.After(p, rule)
	}
	final.Gate = gate
	then(final)
	if kp.StageNext {
		g.AddStep(n.Addr, action, kp.NextPhase.Name, "", kp.NextPhase.Description).After(last, "")
	}
	for _, tn := range slices.Concat(keyPins, chainPins) {
		g.LaidOut(tn.Addr)
		pin := tn.Res.(providers.Pin)
		if pin.Settled() {
			continue // nothing else is published: nothing to prune
		}
		desc := "remove the records of the key no longer served"
		switch {
		case pin.KeepsNext():
			desc += "; publish the new next key's"
		case pin.TrustAnchor():
			desc = "remove the records of a CA no longer in the served chain"
		case pin.CertBound():
			desc = "remove the records of the certificate no longer served"
		}
		g.AddStep(tn.Addr, plan.Update, providers.PhasePrune, rule, desc).After(g.Last(n.Addr), rule)
	}
	for _, d := range n.Change.After {
		first.After(g.Dep(d), "")
	}
	return true
}

// pins lists the TLSA RRsets of cert that are published now: those that
// pin its key, and those that pin a certificate (the issuing CA, or the
// whole leaf with selector 0). A new key, or any new certificate for the
// second kind, must not outrun them.
func pins(g *graph.Graph, cert schema.Address) (key, chain []*graph.Node) {
	for _, n := range g.Referrers(cert) {
		pin, ok := n.Res.(providers.Pin)
		if !ok || n.Observed == nil || pin.Pinned() != cert {
			continue
		}
		if pin.CertBound() {
			chain = append(chain, n)
		} else {
			key = append(key, n)
		}
	}
	return key, chain
}

// stagedWhy says what waits for a staged chain: the records of its CA, of
// itself, or both.
func stagedWhy(chain []*graph.Node) string {
	var ca, leaf bool
	for _, n := range chain {
		if n.Res.(providers.Pin).TrustAnchor() {
			ca = true
		} else {
			leaf = true
		}
	}
	switch {
	case ca && leaf:
		return "the records of its issuing CA and of itself are"
	case leaf:
		return "its own record is"
	}
	return "the issuing CA's record is"
}

// Order: a TLSA RRset's own step follows its certificate's; and a TLSA
// step that may remove records (every one but a publish) comes only after
// every vhost and service serving the certificate has been reloaded and
// seen serving the certificate file, not merely after the files changed:
// until then the server presents the old key. This holds for a rollover's prune and for a
// plain update alike (a run that resumes after the certificate was deployed
// sees only the latter).
func (r tlsaBeforeCert) Order(g *graph.Graph) {
	servers := map[schema.Address][]*graph.Node{} // each certificate's, found once: thousands of pins may share one
	for _, s := range g.Steps {
		pin, ok := g.Node(s.Addr).Res.(providers.Pin)
		if !ok || s.Action == plan.Delete { // a deletion goes before what it pinned: see the engine's deletion order
			continue
		}
		cert := pin.Pinned()
		s.Claim(g.Last(cert), r.Name())
		if s.Phase == providers.PhasePublish {
			continue
		}
		if _, found := servers[cert]; !found {
			servers[cert] = []*graph.Node{}
			for _, n := range g.Referrers(cert) {
				if sv, ok := n.Res.(providers.Server); ok && sv.Serves() == cert {
					servers[cert] = append(servers[cert], n)
				}
			}
		}
		for _, n := range servers[cert] {
			s.After(g.Last(n.Addr), r.Name())
		}
	}
}
