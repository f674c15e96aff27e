package engine

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// withGone adds to the configuration the blocks that state recorded and
// the configuration no longer declares (and no removed block forgets), so
// that what they managed is planned for deletion, as in Terraform. A block
// that cannot be bound again (it refers to what is gone, or collides with a
// new block managing the same file) is forgotten instead; the diagnostics
// say which and why.
func withGone(cfg *schema.Config, st *state.State) (*schema.Config, hcl.Diagnostics) {
	sources := map[schema.Address]string{}
	for a, sr := range st.Resources {
		addr, err := schema.ParseAddress(a)
		if err != nil || cfg.Block(addr) != nil || cfg.Forget(addr) || sr.Block == "" {
			continue
		}
		sources[addr] = sr.Block
	}
	if len(sources) == 0 {
		return cfg, nil
	}
	if out, d := cfg.WithGone(sources); !d.HasErrors() {
		return out, nil
	}
	var diags hcl.Diagnostics
	keep := map[schema.Address]string{}
	for addr, src := range sources {
		if _, d := cfg.WithGone(map[schema.Address]string{addr: src}); d.HasErrors() {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning,
				Summary: addr.String() + " is no longer in the configuration, and its deletion cannot be planned",
				Detail:  fmt.Sprintf("Its block as last applied does not fit the configuration now (%s). trustform leaves what it managed in place and forgets it at the next apply: remove it by hand if it should go.", d.Errs()[0])})
			continue
		}
		keep[addr] = src
	}
	if out, d := cfg.WithGone(keep); len(keep) > 0 && !d.HasErrors() {
		return out, diags
	}
	return cfg, diags
}

// orderDeletions: a resource is deleted only after every deleted resource
// that refers to it (the vhost before the certificate it serves, the TLSA
// records before the certificate they pin, the APT source before its key),
// the reverse of the order they were made in.
func orderDeletions(g *graph.Graph) {
	for _, n := range g.Nodes {
		if n.Change == nil || n.Change.Action != providers.Delete {
			continue
		}
		for _, ref := range g.Config.Refs(n.Addr) {
			dep := g.Node(ref.Address)
			if dep != nil && dep.Change != nil && dep.Change.Action == providers.Delete {
				g.First(dep.Addr).After(g.Last(n.Addr), "")
			}
		}
	}
}

// goneWarnings: each deletion of a removed block is a warning too, so that
// a reviewer who reads only the warnings (a Markdown comment's) sees it;
// removed blocks with nothing to delete are forgotten.
func (r *Run) goneWarnings() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, n := range r.g.Nodes {
		if !r.cfg.Gone(n.Addr) {
			continue
		}
		d := &hcl.Diagnostic{Severity: hcl.DiagWarning}
		switch {
		case n.Change != nil && r.opts.Destroy:
			continue // asked for: the plan lists it
		case n.Change != nil:
			d.Summary = n.Addr.String() + " is no longer in the configuration: it is deleted"
			d.Detail = fmt.Sprintf("Deleted because %s. To forget it instead and leave it in place, add removed { from = %s  destroy = false }.", strings.Join(n.Change.Reasons, "; "), n.Addr)
		case n.Observed == nil:
			continue // gone already: forgotten without a word
		case r.opts.Destroy:
			d.Summary = n.Addr.String() + " is forgotten, not deleted"
			d.Detail = "It manages nothing that trustform deletes (a service owns no file; an issuer's key and account are kept). It leaves the state at the apply."
		default:
			d.Summary = n.Addr.String() + " is no longer in the configuration: it is forgotten"
			d.Detail = "It manages nothing that trustform deletes (a service owns no file; an issuer's key is kept). It is forgotten at the next apply."
		}
		diags = append(diags, d)
	}
	return diags
}
