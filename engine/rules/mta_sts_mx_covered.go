package rules

import (
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// MTASTSMXCovered: under an enforce policy, every MX host of the domain
// matches one of the policy's mx patterns, and every MX host trustform
// manages (a service with an smtp:// endpoint for it) serves a
// certificate valid in the Web PKI for its name. Senders that enforce
// MTA-STS stop delivering to an MX that fails either, for the policy's
// max_age.
const MTASTSMXCovered mtastsMXCovered = "mta-sts-mx-covered"

type mtastsMXCovered string

var _ Guarder = MTASTSMXCovered

// Name is the rule's name.
func (r mtastsMXCovered) Name() string { return string(r) }

// Guard refuses a plan that leaves an enforced policy with an MX senders
// would refuse.
func (r mtastsMXCovered) Guard(g *graph.Graph) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, n := range g.Nodes {
		p, ok := n.Res.(providers.MXPolicy)
		if !ok || n.Observed == nil && n.Change == nil {
			continue
		}
		if problems := p.MXProblems(); len(problems) > 0 {
			diags = append(diags, refusal(r, schema.AttrRange(n.Block, "mode"), n.Addr.String()+" enforces a policy senders cannot meet",
				strings.Join(problems, "; ")+". Fix the MX, its certificate or the policy's mx, or keep mode = \"testing\" until they agree."))
		}
	}
	return diags
}
