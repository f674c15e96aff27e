package schema

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// resolve decodes every reference expression and checks that its target exists.
func (c *Config) resolve() hcl.Diagnostics {
	var diags hcl.Diagnostics
	unknown := false // the last reference is to an instance of a for_each not known yet
	resolveRef := func(dst *Ref, expr hcl.Expression, attr string, types ...string) {
		r, d := decodeRef(expr, attr, types...)
		diags = append(diags, d...)
		if d.HasErrors() || !r.Set() {
			return
		}
		base, _, _ := SplitInstance(r.Name)
		if unknown = c.unknownEach[r.Type+"."+base]; unknown {
			return // validate without its variable's value: any key may exist
		}
		if _, ok := c.blocks[r.Address]; !ok {
			if inst := c.Expand(r.Address); inst[0] != r.Address {
				diags = append(diags, errAt(r.Range, "Reference to a for_each block as a whole",
					fmt.Sprintf("%s has for_each: refer to one of its instances, such as %s (or %s[each.key] in a block with the same for_each).", r.Address, inst[0], r.Address)))
				return
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Reference to undeclared " + r.Type,
				Detail:   fmt.Sprintf("There is no %s block named %q.%s", r.Type, r.Name, c.suggest(r.Address)),
				Subject:  r.Range.Ptr(),
			})
			return
		}
		*dst = r
	}
	// need is ref for a required reference: gohcl lets a missing attribute
	// of type hcl.Expression through as a null expression.
	need := func(dst *Ref, expr hcl.Expression, attr string, block hcl.Range, types ...string) {
		before := len(diags)
		resolveRef(dst, expr, attr, types...)
		if !dst.Set() && len(diags) == before && !unknown {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing required argument",
				Detail: fmt.Sprintf("The argument %q is required, but no definition was found.", attr), Subject: block.Ptr()})
		}
	}
	c.Each(func(_ Address, decl hcl.Range, b Block) {
		r, ok := b.(Referrer)
		if !ok {
			return
		}
		for _, ref := range r.References() {
			if ref.Required {
				need(ref.To, ref.Expr, ref.Attr, decl, ref.Types...)
			} else {
				resolveRef(ref.To, ref.Expr, ref.Attr, ref.Types...)
			}
		}
	})
	c.referrers = map[Address][]Address{}
	c.Each(func(a Address, _ hcl.Range, _ Block) {
		for _, r := range c.Refs(a) {
			c.referrers[r.Address] = append(c.referrers[r.Address], a)
		}
	})
	return diags
}

// Referrers returns the blocks that refer to addr, in the order of Each.
// Whoever asks it per block of a fleet would otherwise scan every block
// each time, and a plan would grow with the square of the fleet.
func (c *Config) Referrers(addr Address) []Address { return c.referrers[addr] }

// suggest names declared blocks of the wanted type, for "did you mean".
func (c *Config) suggest(want Address) string {
	var names []string
	for a := range c.blocks {
		if a.Type == want.Type {
			names = append(names, a.String())
		}
	}
	if len(names) == 0 {
		return fmt.Sprintf(" No %s block is declared.", want.Type)
	}
	sort.Strings(names)
	if len(names) > 5 {
		names = append(names[:5], "…")
	}
	return " Declared: " + strings.Join(names, ", ") + "."
}

// Refs returns the references a block makes, in declaration order.
func (c *Config) Refs(addr Address) []Ref {
	var out []Ref
	add := func(rs ...Ref) {
		for _, r := range rs {
			if r.Set() {
				out = append(out, r)
			}
		}
	}
	if r, ok := c.blocks[addr].(Referrer); ok {
		for _, ref := range r.References() {
			add(*ref.To)
		}
	}
	return out
}

// checkCycles refuses reference cycles (say, two vhosts taking hsts_from
// each other), naming every block on the cycle.
func (c *Config) checkCycles() hcl.Diagnostics {
	const (
		unseen = iota
		onPath
		done
	)
	mark := map[Address]int{}
	var path []Ref
	var diags hcl.Diagnostics
	var visit func(a Address)
	visit = func(a Address) {
		mark[a] = onPath
		for _, r := range c.Refs(a) {
			switch mark[r.Address] {
			case onPath:
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Reference cycle",
					Detail:   "These blocks refer to each other in a circle, so none can come first: " + cyclePath(path, a, r) + ".",
					Subject:  r.Range.Ptr(),
				})
			case unseen:
				path = append(path, Ref{Address: a, Range: r.Range})
				visit(r.Address)
				path = path[:len(path)-1]
			}
		}
		mark[a] = done
	}
	c.Each(func(a Address, _ hcl.Range, _ Block) {
		if mark[a] == unseen {
			visit(a)
		}
	})
	return diags
}

// cyclePath renders the cycle that closes when a refers back to r.
func cyclePath(path []Ref, a Address, r Ref) string {
	var names []string
	found := false
	for _, p := range path {
		if p.Address == r.Address {
			found = true
		}
		if found {
			names = append(names, p.Address.String())
		}
	}
	names = append(names, a.String(), r.Address.String())
	return strings.Join(names, " → ")
}
