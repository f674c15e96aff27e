package schema

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// Import is an import block, as in Terraform 1.5: the resource at To is
// taken over as it is by the next apply (state records it as observed,
// with what its kind adopts), instead of being created or rewritten. ID
// says where the resource lives (a certbot live directory, a site file, a
// Postfix directory): what plan -generate-config-out reads to write the
// block of a target that has none.
type Import struct {
	ToExpr hcl.Expression `hcl:"to"`
	ID     string         `hcl:"id"`

	DeclRange hcl.Range `hcl:",def_range"`

	To Address
}

// resolveImports reads each import block's to: TYPE.NAME of a kind.
func (c *Config) resolveImports() hcl.Diagnostics {
	var diags hcl.Diagnostics
	seen := map[Address]bool{}
	for _, im := range c.Imports {
		to, ok := c.blockAddress(im.ToExpr)
		if !ok {
			diags = append(diags, errAt(im.ToExpr.Range(), "Invalid import block", "to must name a resource as TYPE.NAME, written without quotes, such as certificate.www."))
			continue
		}
		im.To = to
		if seen[im.To] {
			diags = append(diags, errAt(im.ToExpr.Range(), "Duplicate import block", fmt.Sprintf("%s is imported by another import block already.", im.To)))
		}
		seen[im.To] = true
	}
	return diags
}

// Undeclared are the import blocks whose target has no block yet (plan
// -generate-config-out writes them).
func (c *Config) Undeclared() []*Import {
	var out []*Import
	for _, im := range c.Imports {
		if c.blocks[im.To] == nil {
			out = append(out, im)
		}
	}
	return out
}
