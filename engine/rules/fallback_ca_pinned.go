package rules

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// FallbackCAPinned: every CA a certificate may be issued by is acceptable
// before it is needed. A certificate with fallback_issuers fails over
// when its CA is down; if the CAA records of its names permit only the
// primary's account, the fallback CA refuses the order at the worst
// moment. So a CAA RRset trustform publishes for the names must permit
// every fallback account too (each with its own accounturi), and the plan
// stops until it does. (A DANE-TA RRset is kept by its own kind: a CA not
// pinned yet is published and waited out before its chain is served, as
// for any new issuing CA, tlsa-before-cert; then every issuer's latest CA
// stays pinned, KeyPlan.CAs.)
const FallbackCAPinned fallbackCAPinned = "fallback-ca-pinned"

type fallbackCAPinned string

var _ Guarder = FallbackCAPinned

// Name is the rule's name.
func (r fallbackCAPinned) Name() string { return string(r) }

// Guard refuses the plan for each CAA RRset that governs a certificate
// and does not permit one of its fallback accounts.
func (r fallbackCAPinned) Guard(g *graph.Graph) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, n := range g.Nodes {
		cert, ok := n.Block.(providers.Certified)
		if !ok {
			continue
		}
		for _, fb := range cert.Cert().Fallbacks {
			if fb.Type != "acme_account" {
				continue
			}
			for _, p := range g.Nodes {
				pub, ok := p.Res.(providers.CAAPublisher)
				if !ok || !pub.Governs(n.Addr) || pub.Permits(fb) {
					continue
				}
				diags = append(diags, refusal(r, schema.AttrRange(p.Block, "issuers"), fmt.Sprintf("%s does not permit %s", p.Addr, fb),
					fmt.Sprintf("%s fails over to %s when its CA is down, and %s governs its names: that CA would refuse the order. Add %s to issuers, so that its record is published (and visible) before it is needed.", n.Addr, fb, p.Addr, fb)))
			}
		}
	}
	return diags
}
