package rules

import (
	"slices"

	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// RevokeAfterServed: a certificate replaced with -revoke is revoked only
// after its successor is deployed and every vhost and service using it
// has reloaded and been seen serving the successor. Revoked first, the
// servers would go on presenting a revoked certificate, and clients that
// check revocation would refuse them. It comes after the TLSA records of
// the old key are pruned, too: a CA that is down then delays only the
// revocation, which the next apply retries.
const RevokeAfterServed revokeAfterServed = "revoke-after-served"

type revokeAfterServed string

var _ Orderer = RevokeAfterServed

// Name is the rule's name.
func (r revokeAfterServed) Name() string { return string(r) }

// Order adds each certificate's revoke phase last: after its own steps,
// the steps of the vhosts and services that serve it and of the TLSA
// RRsets that pin it.
func (r revokeAfterServed) Order(g *graph.Graph) {
	for _, n := range g.Nodes {
		ph, ok := n.Phase(providers.PhaseRevoke)
		if !ok {
			continue
		}
		deployed := g.Last(n.Addr)
		s := g.AddStep(n.Addr, n.Change.Action, ph.Name, r.Name(), ph.Description)
		s.Irreversible = ph.Irreversible
		s.After(deployed, r.Name())
		if deployed == nil {
			for _, d := range n.Change.After {
				s.After(g.Dep(d), "")
			}
		}
		for _, m := range g.Nodes { // what serves it or pins it refers to it
			if slices.ContainsFunc(g.Config.Refs(m.Addr), func(ref schema.Ref) bool { return ref.Address == n.Addr }) {
				s.After(g.Last(m.Addr), r.Name())
			}
		}
	}
}
