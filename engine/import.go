package engine

import (
	"context"
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/internal/netpolicy"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// Import takes resources over as they are (trustform import, import
// blocks): what was observed of each becomes its state entry, with what
// its kind adopts as it is (providers.Adopter), so that the next plan
// starts from it. Nothing is written on any server. A resource that does
// not exist, or that state already holds, is refused, naming it; the
// others are imported. It returns the addresses imported.
func (r *Run) Import(addrs []schema.Address) ([]string, hcl.Diagnostics) {
	var done []string
	var diags hcl.Diagnostics
	for _, a := range expand(r.cfg, addrs) {
		n := r.g.Node(a)
		switch {
		case n == nil:
			diags = append(diags, importError(a, "it is not a resource of this configuration (blocks that bind to no resource, such as dns_zone or tls_policy, have nothing to import)"))
			continue
		case r.st.Get(a.String()) != nil:
			diags = append(diags, importError(a, "state holds it already: trustform manages it (state rm it first to import it again)"))
			continue
		case n.Observed == nil:
			diags = append(diags, importError(a, "nothing of it exists to import"))
			continue
		}
		r.remember(n, n.Observed)
		if ad, ok := n.Res.(providers.Adopter); ok {
			r.st.Get(a.String()).Adopted = ad.Adoption()
		}
		done = append(done, a.String())
	}
	return done, diags
}

func importError(a schema.Address, why string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot import " + a.String(), Detail: fmt.Sprintf("%s: %s.", a, why)}
}

// ZoneRecords are the records of a dns_zone of the configuration, as its
// primary, API or file has them (trustform import zone).
func (r *Run) ZoneRecords(ctx context.Context, a schema.Address) ([]string, error) {
	for _, z := range r.zones {
		if z.Addr == a {
			return z.Records(netpolicy.With(host.ReadOnly(ctx), r.opts.Untrusted))
		}
	}
	return nil, fmt.Errorf("%s is not a dns_zone of this configuration", a)
}
