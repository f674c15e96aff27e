package rules

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// DNSSECChainValid: nothing is published in a zone required to be signed,
// and no certificate is ordered for its names, while the chain of trust
// from the zone's trust anchor to its keys does not validate (a DS at the
// parent that matches no key, a signature expired) or the signatures over
// its keys expire within dnssec_min_validity. Validating resolvers treat
// such a zone as bogus: DANE records in it make validating SMTP clients
// refuse to deliver, and since March 2026 a CA validating CAA refuses the
// order. The plan stops at the block, naming the broken link; the step
// checks again before it writes.
const DNSSECChainValid dnssecChainValid = "dnssec-chain-valid"

type dnssecChainValid string

var _ Guarder = DNSSECChainValid

// Name is the rule's name.
func (r dnssecChainValid) Name() string { return string(r) }

// Guard refuses the plan for each resource that has a step while its
// zone's chain is broken.
func (r dnssecChainValid) Guard(g *graph.Graph) hcl.Diagnostics {
	var diags hcl.Diagnostics
	stepped := stepped(g)
	for _, n := range g.Nodes {
		cg, ok := n.Res.(providers.ChainGuarded)
		if !ok || !stepped[n.Addr] || cg.ChainBroken() == nil {
			continue
		}
		diags = append(diags, refusal(r, schema.AttrRange(n.Block, "zone"), n.Addr.String()+" cannot change while its zone's chain of trust is broken",
			cg.ChainBroken().Error()+". Validating resolvers treat the zone as bogus until the parent's DS matches a key that signs the zone's DNSKEY RRset and every signature on the way is valid; fix the chain (the DS at the parent, the signer), then plan again."))
	}
	return diags
}
