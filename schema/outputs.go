package schema

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/zclconf/go-cty/cty"
)

// Output is an output block, as Terraform's: a value worth printing after
// apply and reading with trustform output (a certificate's spki_sha256, a
// TLSA record to hand to whoever runs another DNS). Its value may refer to
// variables, locals and what state holds of resources (TYPE.NAME.ATTR).
type Output struct {
	Name        string         `hcl:"name,label"`
	Value       hcl.Expression `hcl:"value"`
	Description string         `hcl:"description,optional"`
	Sensitive   bool           `hcl:"sensitive,optional"`
	DeclRange   hcl.Range      `hcl:",def_range"`
}

// decodeOutputs reads the output blocks and checks what their values refer
// to: declared variables and locals (checkNames), and declared resources.
func (c *Config) decodeOutputs(blocks hcl.Blocks) hcl.Diagnostics {
	var diags hcl.Diagnostics
	seen := map[string]*Output{}
	for _, b := range blocks {
		o := &Output{}
		if d := gohcl.DecodeBody(b.Body, nil, o); d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		o.Name, o.DeclRange = b.Labels[0], b.DefRange
		if prev := seen[o.Name]; prev != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate output",
				Detail: fmt.Sprintf("output %q was already declared at %s.", o.Name, prev.DeclRange), Subject: o.DeclRange.Ptr()})
			continue
		}
		seen[o.Name] = o
		for _, t := range o.Value.Variables() {
			root := t.RootName()
			if root == "var" || root == "local" || !c.isBlockType(root) {
				continue // evaluation names what is not there
			}
			var a hcl.TraverseAttr
			ok := len(t) >= 2
			if ok {
				a, ok = t[1].(hcl.TraverseAttr)
			}
			if !ok {
				diags = append(diags, errAt(t.SourceRange(), "Invalid reference", "Refer to a resource as "+root+".NAME.ATTRIBUTE."))
				continue
			}
			if !c.declares(root, a.Name) {
				diags = append(diags, errAt(t.SourceRange(), "Reference to undeclared "+root,
					fmt.Sprintf("There is no %s block named %q.%s", root, a.Name, c.suggest(Address{root, a.Name}))))
			}
		}
		c.Outputs = append(c.Outputs, o)
	}
	sort.Slice(c.Outputs, func(i, j int) bool { return c.Outputs[i].Name < c.Outputs[j].Name })
	return diags
}

// declares reports whether a block of typ is named name, or has instances
// of that name (for_each).
func (c *Config) declares(typ, name string) bool {
	for _, b := range c.byType[typ] {
		n, _ := b.Header()
		if base, _, _ := SplitInstance(*n); base == name {
			return true
		}
	}
	return false
}

// OutputValue is an output evaluated.
type OutputValue struct {
	*Output
	Value cty.Value // unmarked; Sensitive says whether it may be shown
}

// EvalOutputs evaluates the outputs with resources, what state holds of
// each resource by type and name (an instance of a for_each block under its
// block's name, as a map by key). An output whose value derives from a
// sensitive value must be declared sensitive, as in Terraform.
func (c *Config) EvalOutputs(resources map[string]map[string]cty.Value) ([]OutputValue, hcl.Diagnostics) {
	ctx := c.evalContext()
	for typ, byName := range resources {
		ctx.Variables[typ] = cty.ObjectVal(byName)
	}
	var out []OutputValue
	var diags hcl.Diagnostics
	for _, o := range c.Outputs {
		v, d := o.Value.Value(ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		if v.ContainsMarked() && !o.Sensitive {
			diags = append(diags, errAt(o.Value.Range(), "Output refers to sensitive values",
				fmt.Sprintf("output %q derives from a sensitive value; declare it sensitive = true (it is then never printed).", o.Name)))
			continue
		}
		v, _ = v.UnmarkDeep()
		out = append(out, OutputValue{o, v})
	}
	return out, diags
}
