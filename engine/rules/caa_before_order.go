package rules

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// CAABeforeOrder: an order goes to an ACME CA only when the CAA records
// of its names permit that CA, that account and that challenge (RFC 8659,
// RFC 8657's accounturi and validationmethods). A CAA record anywhere up
// the tree makes the CA refuse the order, and certbot and lego users meet
// it as an authorization error at renewal time. A CAA RRset trustform
// publishes (a caa block) is written first, after the accounts it binds
// are registered, and the certificates it governs wait until its record
// is visible on every authoritative server. Otherwise the plan evaluates
// the records the authoritative servers serve, managed or not, before
// anything reaches the CA, and stops naming the name, the owner and the
// record that forbids the order, with the record that would permit it.
const CAABeforeOrder caaBeforeOrder = "caa-before-order"

type caaBeforeOrder string

var (
	_ Guarder = CAABeforeOrder
	_ Orderer = CAABeforeOrder
)

// Name is the rule's name.
func (r caaBeforeOrder) Name() string { return string(r) }

// Guard refuses the plan for each certificate whose order the CAA records
// forbid.
func (r caaBeforeOrder) Guard(g *graph.Graph) hcl.Diagnostics {
	var diags hcl.Diagnostics
	stepped := stepped(g)
	pubs := publishers(g)
	for _, n := range g.Nodes {
		cg, ok := n.Res.(providers.CAAGuarded)
		if !ok || !stepped[n.Addr] || cg.CAAForbids() == nil || governing(pubs, n.Addr) != nil {
			continue // a CAA RRset published first permits it (Order); the order checks again
		}
		diags = append(diags, refusal(r, schema.AttrRange(n.Block, "domains"), n.Addr.String()+" would be refused by the CA",
			cg.CAAForbids().Error()+". Nothing is ordered until the records permit it."))
	}
	return diags
}

// Order: the first step of a certificate that a published CAA RRset
// governs comes after that RRset's write, behind a gate that opens once
// its record is visible on every authoritative server.
func (r caaBeforeOrder) Order(g *graph.Graph) {
	pubs := publishers(g)
	if len(pubs) == 0 {
		return
	}
	for _, n := range g.Nodes {
		if _, ok := n.Res.(providers.CAAGuarded); !ok {
			continue
		}
		pub := governing(pubs, n.Addr)
		first := g.First(n.Addr)
		if pub == nil || first == nil {
			continue
		}
		first.After(g.Last(pub.Addr), r.Name())
		record, _ := pub.Res.(providers.CAAPublisher).Target()
		first.Gate = append(first.Gate, plan.GateWait{Address: pub.Addr.String(), Record: record, Wait: "0s"})
	}
}

// publishers are the CAA RRsets with a step to write them (looked for
// once: a fleet has thousands of certificates and few CAA RRsets).
func publishers(g *graph.Graph) []*graph.Node {
	var out []*graph.Node
	for _, n := range g.Nodes {
		if _, ok := n.Res.(providers.CAAPublisher); ok && n.Change != nil && n.Change.Action != providers.Delete && g.Last(n.Addr) != nil {
			out = append(out, n)
		}
	}
	return out
}

// governing is the one of pubs that governs cert, or nil.
func governing(pubs []*graph.Node, cert schema.Address) *graph.Node {
	for _, n := range pubs {
		if n.Res.(providers.CAAPublisher).Governs(cert) {
			return n
		}
	}
	return nil
}
