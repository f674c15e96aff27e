package engine

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/engine/rules"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/apt"
	"github.com/trustform/trustform/providers/certificate"
	"github.com/trustform/trustform/providers/webserver"
	"github.com/trustform/trustform/schema"
)

// TLSA phases. Outside a rollover a TLSA step is named after its action.
const (
	phasePublish = "publish" // add the record for the next key beside the current ones
	phasePrune   = "prune"   // drop records of keys no longer served
)

// step is a plan step while the plan is being ordered.
type step struct {
	addr   schema.Address
	action plan.Action
	phase  string
	rule   string
	desc   string
	deps   map[*step]string // dependency → the rule that demands it ("" for a plain reference)
	gate   []plan.GateWait
	level  int
	index  int
}

// after makes s wait for dep. The first rule that orders a step names it.
func (s *step) after(dep *step, rule string) {
	if dep == nil || dep == s {
		return
	}
	s.deps[dep] = rule
	if s.rule == "" {
		s.rule = rule
	}
}

type stepList struct {
	all    []*step
	byAddr map[schema.Address][]*step
}

func (l *stepList) add(addr schema.Address, action plan.Action, phase, rule, desc string) *step {
	s := &step{addr: addr, action: action, phase: phase, rule: rule, desc: desc, deps: map[*step]string{}}
	l.all = append(l.all, s)
	l.byAddr[addr] = append(l.byAddr[addr], s)
	return s
}

// last returns the final step of a resource: what its dependents wait for.
func (l *stepList) last(addr schema.Address) *step {
	ss := l.byAddr[addr]
	if len(ss) == 0 {
		return nil
	}
	return ss[len(ss)-1]
}

// buildSteps splits changes into steps and orders them by references and rules.
func (r *Run) buildSteps() *stepList {
	l := &stepList{byAddr: map[schema.Address][]*step{}}
	handled := map[schema.Address]bool{}
	for _, n := range r.w.nodes {
		switch {
		case n.addr.Type == "local_ca" && n.change != nil:
			l.add(n.addr, plan.Action(n.change.action), "create", "", "create the CA key (0600) and certificate in .trustform/")
		case n.addr.Type == "acme_account" && n.change != nil:
			l.add(n.addr, plan.Action(n.change.action), "register", "", "register the account; its key stays in .trustform/ (0600)")
		}
	}
	for _, n := range r.w.nodes {
		if n.addr.Type == "certificate" && n.change != nil {
			r.certificateSteps(l, n, handled)
		}
	}
	for _, n := range r.w.nodes {
		if n.addr.Type != "tlsa" || n.change == nil || handled[n.addr] {
			continue
		}
		t := n.block.(*schema.TLSA)
		s := l.add(n.addr, plan.Action(n.change.action), n.change.action, "", "set the RRset in zone "+t.Zone.Address.Name)
		s.after(l.last(t.Certificate.Address), rules.TLSABeforeCert.Name())
	}
	challengeFirst := r.challengeSteps(l)
	r.vhostSteps(l)
	for cert, vhost := range challengeFirst {
		l.byAddr[cert][0].after(l.last(vhost), rules.ACMEChallengeNotRedirected.Name())
	}
	r.tlsaAfterReloads(l)
	r.aptSteps(l)
	return l
}

// challengeSteps makes http-01 certificates wait for the HTTP vhost that
// answers their challenge. When that vhost also takes its HSTS header from
// the HTTPS vhost (which waits for the certificate), it is first deployed in
// a "challenge" phase without HSTS, and in full after the HTTPS vhost. It
// returns the certificates that simply wait for their vhost's write step.
func (r *Run) challengeSteps(l *stepList) map[schema.Address]schema.Address {
	waitFor := map[schema.Address]schema.Address{}
	for _, n := range r.w.nodes {
		c, ok := n.block.(*schema.Certificate)
		if !ok || n.change == nil || !n.change.intent.Issue || c.Issuer.Type != "acme_account" || c.Challenge != "http-01" {
			continue
		}
		for _, vn := range r.w.nodes {
			v, ok := vn.block.(*schema.Vhost)
			if !ok || v.Certificate.Set() || v.ACMEWebroot == "" || vn.change == nil || !rules.Serves(v.ServerNames, c.Domains[0]) {
				continue
			}
			if vn.observed != nil && vn.observed["acme_webroot"].Equal(vn.desired["acme_webroot"]) {
				continue // it answers the challenge already
			}
			if !v.HSTSFrom.Set() {
				waitFor[n.addr] = vn.addr
				continue
			}
			ch := l.add(vn.addr, plan.Action(vn.change.action), webserver.PhaseChallenge, rules.ACMEChallengeNotRedirected.Name(),
				"serve /.well-known/acme-challenge/ and the redirect first; the HSTS header follows once the certificate is served")
			l.byAddr[n.addr][0].after(ch, rules.ACMEChallengeNotRedirected.Name())
		}
	}
	return waitFor
}

// aptSteps installs each key before the sources that use it and takes it out
// of the legacy global keyrings only after both are in place.
func (r *Run) aptSteps(l *stepList) {
	for _, n := range r.w.nodes {
		b, ok := n.block.(*schema.APTKey)
		if !ok || n.change == nil {
			continue
		}
		desired := n.desired.Clone()
		delete(desired, "legacy")
		if due, _ := n.res.(*apt.Key).Due(); due || n.observed == nil || providers.Differs(desired, n.observed) != nil {
			l.add(n.addr, plan.Action(n.change.action), apt.PhaseWrite, "", "fetch the key, verify its fingerprint, write "+b.Keyring)
		}
	}
	for _, n := range r.w.nodes {
		if b, ok := n.block.(*schema.APTSource); ok && n.change != nil {
			s := l.add(n.addr, plan.Action(n.change.action), apt.PhaseWrite, "", "write the deb822 source with Signed-By")
			s.after(l.last(b.SignedBy.Address), rules.APTKeyBeforeSource.Name())
		}
	}
	for _, n := range r.w.nodes {
		key, ok := n.res.(*apt.Key)
		if !ok || n.change == nil || len(key.Legacy()) == 0 {
			continue
		}
		written := l.last(n.addr)
		s := l.add(n.addr, plan.Action(n.change.action), apt.PhaseRemoveLegacy, rules.APTKeyBeforeSource.Name(),
			"remove the key from the global keyrings "+strings.Join(key.Legacy(), ", ")+", where it is trusted for every repository")
		s.after(written, rules.APTKeyBeforeSource.Name())
		for _, src := range r.cfg.APTSources {
			if src.SignedBy.Address == n.addr {
				s.after(l.last(schema.Address{Type: "apt_source", Name: src.Name}), rules.APTKeyBeforeSource.Name())
			}
		}
	}
}

// certificateSteps lays out a certificate change. A new key for a
// certificate whose TLSA records are live goes through tlsa-before-cert:
// stage the key, publish its record beside the old ones, wait, deploy, prune.
// With publish_next the staged key is already published (the gate is open)
// and a fresh next key is staged after the deploy, its record published with
// the prune.
func (r *Run) certificateSteps(l *stepList, n *node, handled map[schema.Address]bool) {
	b := n.block.(*schema.Certificate)
	in := n.change.intent
	action := plan.Action(n.change.action)
	cert := n.res.(*certificate.Certificate)
	staged := in.Target != nil && cert.NextKey != nil && certificate.SPKIHash(in.Target) == certificate.SPKIHash(cert.NextKey)
	live, ta := r.liveDANE(n.addr)
	var first *step
	rollover := false
	switch {
	case !in.Issue: // publish_next only needs a next key
	case len(ta) > 0 || (in.NewKey && len(live) > 0):
		rollover = true
		first = r.rolloverSteps(l, n, live, ta, staged)
	case !in.NewKey:
		first = l.add(n.addr, action, certificate.PhaseIssue, "", "renew with the same key; TLSA 3 1 1 records stay valid")
	case staged:
		first = l.add(n.addr, action, certificate.PhaseDeployNext, "", "issue for the staged key and deploy it")
	case n.observed == nil:
		first = l.add(n.addr, action, certificate.PhaseIssue, "", "generate a key (0600), issue and deploy the certificate")
	default:
		first = l.add(n.addr, action, certificate.PhaseIssueNewKey, "", "issue for a fresh key and deploy it")
	}
	if in.StageNext {
		prev := l.last(n.addr)
		s := l.add(n.addr, action, certificate.PhaseStageKey, "", "generate the next key, kept staged and published ("+b.KeyFile+".next, 0600)")
		s.after(prev, "")
		if first == nil {
			first = s
		}
	}
	if rollover {
		for _, tn := range slices.Concat(live, ta) {
			handled[tn.addr] = true
			t := tn.block.(*schema.TLSA)
			recs := r.tlsaRecords(t)
			if got := tn.observed["records"].List; recs.unknownWhy() == "" && slices.Equal(got, recs.steady()) {
				continue // nothing else is published: nothing to prune
			}
			desc := "remove the records of the key no longer served"
			switch {
			case t.PublishNext:
				desc += "; publish the new next key's"
			case t.Params[0] == 0 || t.Params[0] == 2:
				desc = "remove the records of a CA no longer in the served chain"
			}
			p := l.add(tn.addr, plan.Update, phasePrune, rules.TLSABeforeCert.Name(), desc)
			p.after(l.last(n.addr), rules.TLSABeforeCert.Name())
		}
	}
	first.after(l.last(b.Issuer.Address), "")
}

// rolloverSteps stages what the RRsets must pin before it is served: the
// next key (end-entity RRsets), and the issued chain whose CA trust-anchor
// RRsets pin. It publishes their records beside the live ones where they are
// missing, and deploys once they have been visible for rollover_wait. It
// returns the first step.
func (r *Run) rolloverSteps(l *stepList, n *node, live, ta []*node, staged bool) *step {
	in, action := n.change.intent, plan.Action(n.change.action)
	b, cert := n.block.(*schema.Certificate), n.res.(*certificate.Certificate)
	var first, last *step
	then := func(s *step) {
		s.after(last, rules.TLSABeforeCert.Name())
		if first == nil {
			first = s
		}
		last = s
	}
	if in.NewKey && !staged {
		then(l.add(n.addr, action, certificate.PhaseStageKey, rules.TLSABeforeCert.Name(),
			"generate the next key beside the live one ("+b.KeyFile+".next, 0600)"))
	}
	if len(ta) > 0 && !cert.StagedChainFor(in.Target) {
		then(l.add(n.addr, action, certificate.PhaseStageCert, rules.TLSABeforeCert.Name(),
			"issue into "+b.CertFile+".next: the issuing CA's record is published before the certificate is served"))
	}
	var publishes []*step
	var gate []plan.GateWait
	for _, tn := range slices.Concat(live, ta) {
		t := tn.block.(*schema.TLSA)
		recs := r.tlsaRecords(t)
		if recs.unknown != "" || !slices.Contains(tn.observed["records"].List, recs.target) {
			desc := "publish the next key's record beside the current ones"
			if t.Params[0] == 0 || t.Params[0] == 2 {
				desc = "publish the record of the CA that issued the staged certificate, unless it is published already"
			}
			p := l.add(tn.addr, plan.Update, phasePublish, rules.TLSABeforeCert.Name(), desc)
			p.after(last, rules.TLSABeforeCert.Name())
			publishes = append(publishes, p)
		}
		gate = append(gate, plan.GateWait{Address: tn.addr.String(), Record: recs.target, Wait: t.Wait.String()})
	}
	desc := "issue the certificate for the staged key and deploy it"
	if len(ta) > 0 {
		desc = "deploy the staged certificate"
	}
	final := l.add(n.addr, action, certificate.PhaseDeployNext, rules.TLSABeforeCert.Name(), desc)
	for _, p := range publishes {
		final.after(p, rules.TLSABeforeCert.Name())
	}
	final.gate = gate
	then(final)
	return first
}

// tlsaAfterReloads: a TLSA step that may remove records (every one but a
// publish) comes only after every vhost serving the certificate has been
// reloaded and seen serving the certificate file, not merely after the files
// changed: until then the server presents the old key. This holds for a
// rollover's prune and for a plain update alike (a run that resumes after the
// certificate was deployed sees only the latter).
func (r *Run) tlsaAfterReloads(l *stepList) {
	for _, s := range l.all {
		if s.addr.Type != "tlsa" || s.phase == phasePublish {
			continue
		}
		cert := r.cfg.Block(s.addr).(*schema.TLSA).Certificate.Address
		for _, v := range r.cfg.Vhosts {
			if v.Certificate.Address == cert {
				s.after(l.last(schema.Address{Type: "vhost", Name: v.Name}), rules.TLSABeforeCert.Name())
			}
		}
	}
}

// liveDANE lists the TLSA RRsets of cert that are published now, the
// end-entity ones (usage 1, 3) and the trust-anchor ones (usage 0, 2): a new
// key or a new issuing CA must not outrun them.
func (r *Run) liveDANE(cert schema.Address) (ee, ta []*node) {
	for _, n := range r.w.tlsaOf[cert] {
		if n.observed == nil {
			continue
		}
		if p := n.block.(*schema.TLSA).Params[0]; p == 1 || p == 3 {
			ee = append(ee, n)
		} else {
			ta = append(ta, n)
		}
	}
	return ee, ta
}

// vhostSteps writes changed vhosts after their certificates and reloads
// unchanged ones whose certificate is redeployed under them.
func (r *Run) vhostSteps(l *stepList) {
	for _, n := range r.w.nodes {
		v, ok := n.block.(*schema.Vhost)
		if !ok {
			continue
		}
		var certStep *step // the certificate's last step, if it is deployed anew
		if cn := r.w.by[v.Certificate.Address]; cn != nil && cn.change != nil && cn.change.intent.Issue {
			certStep = l.last(v.Certificate.Address)
		}
		if n.change == nil {
			if certStep != nil && n.observed != nil {
				n.change = &changeInfo{action: string(plan.Update), reasons: []string{v.Certificate.Address.String() + " is redeployed; the server must reload to serve it"}}
				s := l.add(n.addr, plan.Update, webserver.PhaseReload, "", "reload the server so it serves the new certificate")
				s.after(certStep, "")
			}
			continue
		}
		before := l.last(n.addr) // a challenge phase, if any
		s := l.add(n.addr, plan.Action(n.change.action), webserver.PhaseWrite, "", "write "+v.ConfigFile+", run the config test, reload")
		s.after(before, rules.ACMEChallengeNotRedirected.Name())
		rule := ""
		if n.desired["hsts"].Str != "" && (n.observed == nil || n.observed["hsts"].Str == "") {
			rule = rules.HSTSOnHTTPVhost.Name() // HSTS switches on only after the certificate is valid
			s.desc += "; HSTS switches on"
		}
		s.after(certStep, rule)
	}
	for _, n := range r.w.nodes {
		v, ok := n.block.(*schema.Vhost)
		if !ok || !v.HSTSFrom.Set() || n.change == nil {
			continue
		}
		l.last(n.addr).after(l.last(v.HSTSFrom.Address), rules.HSTSOnHTTPVhost.Name())
	}
}

// order sorts steps by dependency level, then by type, zone and address,
// so steps that can share a DNS transaction stand next to each other.
func (r *Run) order(l *stepList) ([]*step, error) {
	const visiting = -1
	var level func(s *step) (int, error)
	level = func(s *step) (int, error) {
		if s.level == visiting {
			return 0, fmt.Errorf("steps of %s depend on each other in a circle", s.addr)
		}
		if s.level > 0 {
			return s.level, nil
		}
		s.level = visiting
		lv := 1
		for d := range s.deps {
			dl, err := level(d)
			if err != nil {
				return 0, err
			}
			lv = max(lv, dl+1)
		}
		s.level = lv
		return lv, nil
	}
	for _, s := range l.all {
		if _, err := level(s); err != nil {
			return nil, err
		}
	}
	out := slices.Clone(l.all)
	zone := func(s *step) string {
		if t, ok := r.cfg.Block(s.addr).(*schema.TLSA); ok {
			return t.Zone.Address.Name
		}
		return ""
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.level != b.level {
			return a.level < b.level
		}
		if typeRank[a.addr.Type] != typeRank[b.addr.Type] {
			return typeRank[a.addr.Type] < typeRank[b.addr.Type]
		}
		if za, zb := zone(a), zone(b); za != zb {
			return za < zb
		}
		if a.phase != b.phase {
			return a.phase < b.phase
		}
		return a.addr.Name < b.addr.Name
	})
	for i, s := range out {
		s.index = i + 1
	}
	return out, nil
}

// gateTime is when a gate of tlsa-before-cert opens, from the visibility
// times in state.
func (r *Run) gateTime(gate []plan.GateWait, now time.Time) (time.Time, bool, error) {
	return rules.TLSABeforeCert.Opens(gate, func(addr, record string) (time.Time, bool) {
		sr := r.st.Get(addr)
		if sr == nil {
			return time.Time{}, false
		}
		t, ok := sr.VisibleAt[record]
		return t, ok
	}, now)
}
