package schema

import (
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// usesValues reports whether a block's text depends on more than itself:
// variables, locals, each, or functions.
func usesValues(b *hcl.Block) bool {
	body, ok := b.Body.(*hclsyntax.Body)
	if !ok {
		return false
	}
	found := false
	hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		switch e := n.(type) {
		case *hclsyntax.FunctionCallExpr:
			found = true
		case *hclsyntax.ScopeTraversalExpr:
			switch e.Traversal.RootName() {
			case "var", "local", "each":
				found = true
			}
		}
		return nil
	})
	return found
}

// render writes a block out with its values evaluated (hclwrite): what it
// was decoded as, standing on its own. References stay references;
// sensitive values are not written.
func (c *Config) render(addr Address, ev evaluated) string {
	src, ok := ev.block.Body.(*hclsyntax.Body)
	if !ok {
		return ""
	}
	f := hclwrite.NewEmptyFile()
	c.renderBody(f.Body().AppendNewBlock(addr.Type, []string{addr.Name}).Body(), src, ev.ctx)
	return Hide(c.Sensitive(), string(f.Bytes()))
}

func (c *Config) renderBody(dst *hclwrite.Body, src *hclsyntax.Body, ctx *hcl.EvalContext) {
	attrs := make([]*hclsyntax.Attribute, 0, len(src.Attributes))
	for _, a := range src.Attributes {
		if a.Name != "for_each" {
			attrs = append(attrs, a)
		}
	}
	slices.SortFunc(attrs, func(a, b *hclsyntax.Attribute) int { return a.SrcRange.Start.Byte - b.SrcRange.Start.Byte })
	for _, a := range attrs {
		if t := (boundExpr{a.Expr, ctx}).AsTraversal(); t != nil && c.isBlockType(t.RootName()) {
			dst.SetAttributeTraversal(a.Name, t)
			continue
		}
		v, d := a.Expr.Value(ctx)
		if d.HasErrors() {
			continue // decoding said so already
		}
		v, _ = v.UnmarkDeep() // render hides what the marks covered
		dst.SetAttributeValue(a.Name, v)
	}
	for _, b := range src.Blocks {
		c.renderBody(dst.AppendNewBlock(b.Type, b.Labels).Body(), b.Body, ctx)
	}
}
