package rules

import (
	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/providers"
)

// APTKeyBeforeSource: an apt_key is installed, its fingerprint verified,
// before any apt_source that references it is written, and it leaves the
// legacy global keyrings (where it is trusted for every repository) only
// after both are in place. Otherwise apt-get fails with NO_PUBKEY.
const APTKeyBeforeSource aptKeyBeforeSource = "apt-key-before-source"

type aptKeyBeforeSource string

var _ Orderer = APTKeyBeforeSource

// Name is the rule's name.
func (r aptKeyBeforeSource) Name() string { return string(r) }

// Order installs each key before the sources that use it, and takes it out
// of the legacy global keyrings only after both are in place: the key's
// remove-legacy phase is added here, after the sources.
func (r aptKeyBeforeSource) Order(g *graph.Graph) {
	for _, n := range g.Nodes {
		if kt, ok := n.Res.(providers.KeyTruster); ok && n.Change != nil && n.Change.Action != providers.Delete {
			g.Last(n.Addr).Claim(g.Dep(providers.Dep{Addr: kt.TrustsKey(), Phase: providers.PhaseWrite}), r.Name())
		}
	}
	for _, n := range g.Nodes {
		ph, ok := n.Phase(providers.PhaseRemoveLegacy)
		if !ok {
			continue
		}
		written := g.Last(n.Addr)
		s := g.AddStep(n.Addr, n.Change.Action, providers.PhaseRemoveLegacy, r.Name(), ph.Description)
		s.After(written, r.Name())
		for _, m := range g.Nodes {
			if kt, ok := m.Res.(providers.KeyTruster); ok && kt.TrustsKey() == n.Addr && !g.Config.Gone(m.Addr) {
				s.After(g.Last(m.Addr), r.Name())
			}
		}
	}
}
