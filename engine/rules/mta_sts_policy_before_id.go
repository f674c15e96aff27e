package rules

import (
	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/providers"
)

// MTASTSPolicyBeforeID: a new MTA-STS policy is served, and fetched back
// the way a sender fetches it (HTTPS to mta-sts.<domain>, a certificate
// valid for that name, no redirect, text/plain, the same bytes), before
// the _mta-sts TXT record announces its new id. A sender that sees the new
// id fetches the policy once and keeps it for max_age: an id published
// ahead of its policy leaves senders with the old policy for that long, or
// with none.
const MTASTSPolicyBeforeID mtastsPolicyBeforeID = "mta-sts-policy-before-id"

type mtastsPolicyBeforeID string

var _ Orderer = MTASTSPolicyBeforeID

// Name is the rule's name.
func (r mtastsPolicyBeforeID) Name() string { return string(r) }

// Order places each publish-id phase after the policy file's write (and
// after the vhost and certificate that serve it). A retirement's removal
// comes after the retiring policy's id, behind a gate that opens max_age
// after that id is served everywhere.
func (r mtastsPolicyBeforeID) Order(g *graph.Graph) {
	for _, n := range g.Nodes {
		ph, ok := n.Phase(providers.PhasePublishID)
		var published *graph.Step
		if ok {
			var written *graph.Step
			for _, s := range g.StepsOf(n.Addr) {
				if s.Phase != providers.PhaseDelete {
					written = s
				}
			}
			published = g.AddStep(n.Addr, n.Change.Action, providers.PhasePublishID, r.Name(), ph.Description)
			published.After(written, r.Name())
			for _, d := range n.Change.After {
				published.After(g.Dep(d), "")
			}
		}
		ret, ok := n.Res.(providers.SlowDeleter)
		if !ok || n.Change == nil || n.Change.Action != providers.Delete {
			continue
		}
		for _, s := range g.StepsOf(n.Addr) {
			if s.Phase == providers.PhaseDelete {
				s.After(published, r.Name())
				s.Rule = r.Name()
				record, _ := ret.Target()
				s.Gate = append(s.Gate, plan.GateWait{Address: n.Addr.String(), Record: record, Wait: ret.RetireAfter().String()})
			}
		}
	}
}
