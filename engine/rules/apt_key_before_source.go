package rules

import (
	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/apt"
	"github.com/trustform/trustform/schema"
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
		if src, ok := n.Block.(*schema.APTSource); ok && n.Change != nil && n.Change.Action != providers.Delete {
			g.Last(n.Addr).Claim(g.Dep(providers.Dep{Addr: src.SignedBy.Address, Phase: apt.PhaseWrite}), r.Name())
		}
	}
	for _, n := range g.Nodes {
		ph, ok := n.Phase(apt.PhaseRemoveLegacy)
		if !ok {
			continue
		}
		written := g.Last(n.Addr)
		s := g.AddStep(n.Addr, n.Change.Action, apt.PhaseRemoveLegacy, r.Name(), ph.Description)
		s.After(written, r.Name())
		for _, src := range g.Config.APTSources {
			if src.SignedBy.Address == n.Addr {
				s.After(g.Last(schema.Address{Type: "apt_source", Name: src.Name}), r.Name())
			}
		}
	}
}
