package schema

import (
	"fmt"
	"math/big"
	"net/netip"
	"slices"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Expressions are evaluated by go-cty through an hcl.EvalContext holding
// var.NAME, local.NAME and, in a for_each block, each.key and each.value;
// the functions are go-cty's standard library under Terraform's names,
// with hcl's try and can, and the two Terraform functions the standard
// library lacks (file, cidrhost), written here.

// functions is the function table of expressions.
func (c *Config) functions() map[string]function.Function {
	fns := map[string]function.Function{
		"abs":        stdlib.AbsoluteFunc,
		"can":        tryfunc.CanFunc,
		"ceil":       stdlib.CeilFunc,
		"chomp":      stdlib.ChompFunc,
		"cidrhost":   cidrHostFunc,
		"coalesce":   stdlib.CoalesceFunc,
		"compact":    stdlib.CompactFunc,
		"concat":     stdlib.ConcatFunc,
		"contains":   stdlib.ContainsFunc,
		"distinct":   stdlib.DistinctFunc,
		"element":    stdlib.ElementFunc,
		"file":       c.fileFunc(),
		"flatten":    stdlib.FlattenFunc,
		"floor":      stdlib.FloorFunc,
		"format":     stdlib.FormatFunc,
		"formatlist": stdlib.FormatListFunc,
		"indent":     stdlib.IndentFunc,
		"join":       stdlib.JoinFunc,
		"jsondecode": stdlib.JSONDecodeFunc,
		"jsonencode": stdlib.JSONEncodeFunc,
		"keys":       stdlib.KeysFunc,
		"length":     lengthFunc,
		"lookup":     stdlib.LookupFunc,
		"lower":      stdlib.LowerFunc,
		"max":        stdlib.MaxFunc,
		"merge":      stdlib.MergeFunc,
		"min":        stdlib.MinFunc,
		"range":      stdlib.RangeFunc,
		"regex":      stdlib.RegexFunc,
		"replace":    stdlib.ReplaceFunc,
		"reverse":    stdlib.ReverseListFunc,
		"setproduct": stdlib.SetProductFunc,
		"slice":      stdlib.SliceFunc,
		"sort":       stdlib.SortFunc,
		"split":      stdlib.SplitFunc,
		"strlen":     stdlib.StrlenFunc,
		"substr":     stdlib.SubstrFunc,
		"title":      stdlib.TitleFunc,
		"tolist":     stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":      stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"tonumber":   stdlib.MakeToFunc(cty.Number),
		"toset":      stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring":   stdlib.MakeToFunc(cty.String),
		"trim":       stdlib.TrimFunc,
		"trimprefix": stdlib.TrimPrefixFunc,
		"trimspace":  stdlib.TrimSpaceFunc,
		"trimsuffix": stdlib.TrimSuffixFunc,
		"try":        tryfunc.TryFunc,
		"upper":      stdlib.UpperFunc,
		"values":     stdlib.ValuesFunc,
		"zipmap":     stdlib.ZipmapFunc,
	}
	boundedFunctions(fns)
	return fns
}

// cidrHostFunc is Terraform's cidrhost(prefix, hostnum): the address
// hostnum places into the prefix (negative counts from the end).
var cidrHostFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "prefix", Type: cty.String}, {Name: "hostnum", Type: cty.Number}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		p, err := netip.ParsePrefix(args[0].AsString())
		if err != nil {
			return cty.NilVal, err
		}
		p = p.Masked()
		num, _ := args[1].AsBigFloat().Int(nil)
		size := new(big.Int).Lsh(big.NewInt(1), uint(p.Addr().BitLen()-p.Bits()))
		if num.Sign() < 0 {
			num.Add(num, size)
		}
		if num.Sign() < 0 || num.Cmp(size) >= 0 {
			return cty.NilVal, fmt.Errorf("prefix %s has no host number %s", p, args[1].AsBigFloat().String())
		}
		b := p.Addr().AsSlice()
		addr := new(big.Int).Add(new(big.Int).SetBytes(b), num).FillBytes(make([]byte, len(b)))
		a, _ := netip.AddrFromSlice(addr)
		return cty.StringVal(a.String()), nil
	},
})

// lengthFunc is Terraform's length: go-cty's counts lists, maps and
// tuples; Terraform's also objects (what a { for … } expression makes) and
// strings (in characters).
var lengthFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType, AllowDynamicType: true, AllowUnknown: true}},
	Type:   function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v := args[0]
		switch t := v.Type(); {
		case !v.IsKnown():
			return cty.UnknownVal(cty.Number), nil
		case t == cty.String:
			return stdlib.Strlen(v)
		case t.IsObjectType():
			return cty.NumberIntVal(int64(len(t.AttributeTypes()))), nil
		}
		return stdlib.Length(v)
	},
})

// evalContext is the context of every expression outside for_each blocks.
func (c *Config) evalContext() *hcl.EvalContext {
	vars := map[string]cty.Value{}
	for _, v := range c.Variables {
		vars[v.Name] = v.Value
	}
	return &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(vars), "local": cty.ObjectVal(c.locals)},
		Functions: c.functions(),
	}
}

// decodeLocals evaluates every locals attribute, each after the locals it
// refers to; a local that refers to itself, directly or not, is an error.
func (c *Config) decodeLocals(blocks hcl.Blocks) hcl.Diagnostics {
	var diags hcl.Diagnostics
	exprs := map[string]*hcl.Attribute{}
	for _, b := range blocks {
		attrs, d := b.Body.JustAttributes()
		diags = append(diags, d...)
		for n, a := range attrs {
			if prev := exprs[n]; prev != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate local value",
					Detail: fmt.Sprintf("local.%s was already defined at %s.", n, prev.NameRange), Subject: a.NameRange.Ptr(), Context: prev.NameRange.Ptr()})
				continue
			}
			exprs[n] = a
		}
	}
	c.locals = map[string]cty.Value{}
	pending := make([]string, 0, len(exprs))
	for n := range exprs {
		pending = append(pending, n)
	}
	sort.Strings(pending)
	for len(pending) > 0 {
		var next []string
		for _, n := range pending {
			if !c.localsReady(exprs[n].Expr, exprs) {
				next = append(next, n)
				continue
			}
			v, d := exprs[n].Expr.Value(c.evalContext())
			diags = append(diags, d...)
			if why := checkSize(v); why != "" && !d.HasErrors() {
				diags = append(diags, errAt(exprs[n].Expr.Range(), "Value too large", fmt.Sprintf("local.%s is refused: %s. A configuration is evaluated on the runner that plans it.", n, why)))
				d = append(d, diags[len(diags)-1])
			}
			if d.HasErrors() {
				v = cty.DynamicVal
			}
			c.locals[n] = v
		}
		if len(next) == len(pending) { // no progress: a cycle
			for _, n := range next {
				diags = append(diags, errAt(exprs[n].Expr.Range(), "Local value refers to itself",
					fmt.Sprintf("local.%s cannot be computed: it depends on itself through the locals %v.", n, next)))
			}
			break
		}
		pending = next
	}
	return diags
}

// localsReady reports whether every local an expression refers to has a
// value (or is not declared: evaluation then says so).
func (c *Config) localsReady(e hcl.Expression, exprs map[string]*hcl.Attribute) bool {
	return !slices.ContainsFunc(e.Variables(), func(t hcl.Traversal) bool {
		if t.RootName() != "local" || len(t) < 2 {
			return false
		}
		a, ok := t[1].(hcl.TraverseAttr)
		if !ok {
			return false
		}
		_, have := c.locals[a.Name]
		return !have && exprs[a.Name] != nil
	})
}

// checkNames refuses references to variables and locals that are not
// declared, with Terraform's wording, before evaluation would say only
// "Unsupported attribute".
func (c *Config) checkNames(bodies []hcl.Body) hcl.Diagnostics {
	declared := map[string]bool{}
	for _, v := range c.Variables {
		declared["var."+v.Name] = true
	}
	for n := range c.locals {
		declared["local."+n] = true
	}
	var diags hcl.Diagnostics
	var nodes []hclsyntax.Node
	for _, b := range bodies {
		sb, ok := b.(*hclsyntax.Body)
		if !ok {
			continue // JSON: evaluation reports it
		}
		nodes = append(nodes, sb.Attributes)
		for _, blk := range sb.Blocks { // a block that names neither has nothing to check
			if mayHold(c.parser, blk.Range(), "var") || mayHold(c.parser, blk.Range(), "local") {
				nodes = append(nodes, blk)
			}
		}
	}
	for _, n := range nodes {
		hclsyntax.VisitAll(n, func(n hclsyntax.Node) hcl.Diagnostics {
			e, ok := n.(*hclsyntax.ScopeTraversalExpr)
			if !ok || len(e.Traversal) < 2 {
				return nil
			}
			root := e.Traversal.RootName()
			a, ok := e.Traversal[1].(hcl.TraverseAttr)
			if !ok || (root != "var" && root != "local") || declared[root+"."+a.Name] {
				return nil
			}
			what := map[string]string{"var": "input variable", "local": "local value"}[root]
			how := map[string]string{"var": "a variable \"" + a.Name + "\" block", "local": "a locals block"}[root]
			diags = append(diags, errAt(e.SrcRange, "Reference to undeclared "+what,
				fmt.Sprintf("%s.%s is not declared. Declare it with %s.", root, a.Name, how)))
			return nil
		})
	}
	return diags
}
