package rules

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// CAABeforeOrder: an order goes to an ACME CA only when the CAA records
// of its names permit that CA, that account and that challenge (RFC 8659,
// RFC 8657's accounturi and validationmethods). A CAA record anywhere up
// the tree makes the CA refuse the order, and certbot and lego users meet
// it as an authorization error at renewal time. The plan evaluates the
// records the authoritative servers serve, managed or not, before
// anything reaches the CA, and stops naming the name, the owner and the
// record that forbids the order, with the record that would permit it.
const CAABeforeOrder caaBeforeOrder = "caa-before-order"

type caaBeforeOrder string

var _ Guarder = CAABeforeOrder

// Name is the rule's name.
func (r caaBeforeOrder) Name() string { return string(r) }

// Guard refuses the plan for each certificate whose order the CAA records
// forbid.
func (r caaBeforeOrder) Guard(g *graph.Graph) hcl.Diagnostics {
	var diags hcl.Diagnostics
	stepped := map[schema.Address]bool{}
	for _, s := range g.Steps {
		stepped[s.Addr] = true
	}
	for _, n := range g.Nodes {
		cg, ok := n.Res.(providers.CAAGuarded)
		if !ok || !stepped[n.Addr] || cg.CAAForbids() == nil {
			continue
		}
		diags = append(diags, refusal(r, schema.AttrRange(n.Block, "domains"), n.Addr.String()+" would be refused by the CA",
			cg.CAAForbids().Error()+". Nothing is ordered until the records permit it."))
	}
	return diags
}
