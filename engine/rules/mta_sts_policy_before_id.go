package rules

import (
	"github.com/trustform/trustform/engine/graph"
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
// after the vhost and certificate that serve it).
func (r mtastsPolicyBeforeID) Order(g *graph.Graph) {
	for _, n := range g.Nodes {
		ph, ok := n.Phase(providers.PhasePublishID)
		if !ok {
			continue
		}
		written := g.Last(n.Addr)
		s := g.AddStep(n.Addr, n.Change.Action, providers.PhasePublishID, r.Name(), ph.Description)
		s.After(written, r.Name())
		for _, d := range n.Change.After {
			s.After(g.Dep(d), "")
		}
	}
}
