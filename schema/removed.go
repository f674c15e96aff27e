package schema

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Removed is a removed block, as in Terraform: what TYPE.NAME managed is
// forgotten (destroy = false) instead of deleted when its block goes.
type Removed struct {
	FromExpr hcl.Expression `hcl:"from"`
	Destroy  *bool          `hcl:"destroy,optional"`

	DeclRange hcl.Range `hcl:",def_range"`

	From Address
}

// Forget reports whether addr is to be forgotten rather than deleted.
func (c *Config) Forget(addr Address) bool {
	return slices.ContainsFunc(c.Removed, func(r *Removed) bool { return r.From == addr && r.Destroy != nil && !*r.Destroy })
}

// resolveRemoved reads each removed block's from, which names a block
// that is no longer declared.
func (c *Config) resolveRemoved() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, r := range c.Removed {
		from, ok := c.blockAddress(r.FromExpr)
		if !ok {
			diags = append(diags, errAt(r.FromExpr.Range(), "Invalid removed block", "from must name a resource as TYPE.NAME, written without quotes, such as tlsa.www_https."))
			continue
		}
		r.From = from
		if c.blocks[r.From] != nil {
			diags = append(diags, errAt(r.FromExpr.Range(), "Removed block still declared",
				fmt.Sprintf("%s is declared in this configuration, so it is not removed. Delete its block, or this removed block.", r.From)))
		}
	}
	return diags
}

// blockAddress reads TYPE.NAME written as a traversal (removed's from,
// import's to), of a block type of the language.
func (c *Config) blockAddress(expr hcl.Expression) (Address, bool) {
	trav, d := hcl.AbsTraversalForExpr(expr)
	if d.HasErrors() || len(trav) != 2 || !c.isBlockType(trav.RootName()) {
		return Address{}, false
	}
	name, ok := trav[1].(hcl.TraverseAttr)
	return Address{Type: trav.RootName(), Name: name.Name}, ok
}

// Source is the text of the block at addr, for state: when the block
// goes, its source tells what to delete. It is the block as written when
// that stands on its own; an instance of a for_each block, or a block
// that uses variables or locals, is written out with its values, since
// they may be gone with it. Blocks of JSON files have none.
func (c *Config) Source(addr Address) string {
	if ev, ok := c.evaluated[c.blocks[addr]]; ok && (ev.instance || usesValues(ev.block)) {
		return c.render(addr, ev)
	}
	names := make([]string, 0, len(c.Files))
	for n := range c.Files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		f := c.Files[n]
		body, ok := f.Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		for _, b := range body.Blocks {
			if b.Type == addr.Type && len(b.Labels) == 1 && b.Labels[0] == addr.Name {
				r := b.Range()
				return string(f.Bytes[r.Start.Byte:r.End.Byte])
			}
		}
	}
	return ""
}

// GoneFile names the file of blocks gone from the configuration in
// diagnostics.
const GoneFile = "(blocks removed from the configuration, as the state recorded them)"

// WithGone is the configuration together with blocks that are no longer
// declared, from their recorded sources, so that what they managed can be
// planned for deletion with the hosts, zones and certificates around it.
// Gone reports which they are. The digest stays the configuration's own.
func (c *Config) WithGone(sources map[Address]string) (*Config, hcl.Diagnostics) {
	srcs := map[string][]byte{}
	for n, f := range c.Files {
		if !c.varFiles[n] {
			srcs[n] = f.Bytes
		}
	}
	var gone strings.Builder
	addrs := make([]Address, 0, len(sources))
	for a := range sources {
		addrs = append(addrs, a)
	}
	slices.SortFunc(addrs, func(a, b Address) int { return strings.Compare(a.String(), b.String()) })
	for _, a := range addrs {
		gone.WriteString(sources[a] + "\n\n")
	}
	srcs[GoneFile] = []byte(gone.String())
	out, diags := ParseWith(c.Dir, srcs, c.inputs, c.auto, c.kinds[1:])
	if out != nil {
		out.Digest = c.Digest
		out.gone = map[Address]bool{}
		for _, a := range addrs {
			out.gone[a] = true
		}
	}
	return out, diags
}

// Destroying marks every resource block gone, as if the configuration
// declared none: what they manage is planned for deletion (plan -destroy).
func (c *Config) Destroying() {
	if c.gone == nil {
		c.gone = map[Address]bool{}
	}
	c.Each(func(a Address, _ hcl.Range, _ Block) {
		if a.Type != "host" {
			c.gone[a] = true
		}
	})
}

// Gone reports whether addr is a block removed from the configuration
// (see WithGone).
func (c *Config) Gone(addr Address) bool { return c.gone[addr] }
