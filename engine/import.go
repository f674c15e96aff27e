package engine

import (
	"context"
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/plan"
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

// Import blocks: the resources they name that state does not hold yet are
// planned from what their kind would adopt now (as trustform import
// records it), listed in the plan (Imports), and recorded by apply
// before its first step.

// importing is the import block of a, when the resource is to be
// imported by this run.
func (r *Run) importing(a schema.Address) *schema.Import {
	if r.st.Get(a.String()) != nil {
		return nil
	}
	for _, im := range r.cfg.Imports {
		if im.To == a {
			return im
		}
	}
	return nil
}

// undeclaredImports refuses import blocks whose target has no block.
func undeclaredImports(cfg *schema.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, im := range cfg.Undeclared() {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Configuration for import target does not exist",
			Detail:  fmt.Sprintf("The configuration declares no %s. Write its block, or run plan -generate-config-out=FILE to have it written from %q.", im.To, im.ID),
			Subject: im.ToExpr.Range().Ptr()})
	}
	return diags
}

// imports lists what the plan imports (within the -target set): each
// resource as it was observed; one that does not exist is an error.
func (r *Run) imports(p *plan.Plan, keep map[schema.Address]bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, n := range r.g.Nodes {
		im := r.importing(n.Addr)
		if im == nil || (keep != nil && !keep[n.Addr]) {
			continue
		}
		if n.Observed == nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot import " + n.Addr.String(),
				Detail: fmt.Sprintf("Nothing of %s exists to import (id %q): its block names what is not there.", n.Addr, im.ID), Subject: im.DeclRange.Ptr()})
			continue
		}
		p.Imports = append(p.Imports, plan.Change{Address: n.Addr.String(), Type: n.Addr.Type, Name: n.Addr.Base(), Index: n.Addr.Key(),
			Action: plan.NoOp, After: r.redact(n.Addr, n.Observed), Reasons: []string{fmt.Sprintf("import block: id %q", im.ID)}})
	}
	return diags
}

// recordImports records what the plan imports, and says so for each.
func (r *Run) recordImports(p *plan.Plan, o ApplyOptions) {
	var addrs []schema.Address
	for _, c := range p.Imports {
		addrs = append(addrs, mustParse(c.Address))
	}
	done, _ := r.Import(addrs)
	for _, a := range done {
		o.emit(EventNote, 0, "", "%s: imported as it is", a)
	}
}
