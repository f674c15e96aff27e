package schema

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// A block with for_each declares one instance per key of a map or set of
// strings, as in Terraform: certificate "www" with for_each = {mx1 = …}
// is certificate.www["mx1"], decoded with each.key and each.value. An
// instance's name carries its key, so addresses, state and plans need
// nothing more than the name.

// instanceKey is what a for_each key may be: it lands in addresses, state
// keys, file headers and default file names, where a quote, newline or
// slash would change what a line means.
var instanceKey = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.:-]*$`)

// InstanceName is the name of a block's instance for a key: www["mx1"].
func InstanceName(name, key string) string { return name + "[" + strconv.Quote(key) + "]" }

// SplitInstance splits www["mx1"] into www and mx1; a plain name has no key.
func SplitInstance(name string) (base, key string, ok bool) {
	i := strings.IndexByte(name, '[')
	if i < 0 || !strings.HasSuffix(name, "]") {
		return name, "", false
	}
	k, err := strconv.Unquote(name[i+1 : len(name)-1])
	if err != nil {
		return name, "", false
	}
	return name[:i], k, true
}

// fileName is a name fit for a default file name: www-mx1.
func fileName(name string) string {
	if base, key, ok := SplitInstance(name); ok {
		return base + "-" + key
	}
	return name
}

// unknownKey is the key of the one instance that stands for all of a
// for_each whose keys are not known (Inputs.Unset).
const unknownKey = "each.key"

var forEachSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "for_each"}}}

// decodeBlocks decodes the resource blocks of one file, each instance of
// a for_each block with its own each.
func (c *Config) decodeBlocks(body hcl.Body, ctx *hcl.EvalContext) hcl.Diagnostics {
	content, diags := body.Content(c.bodySchema())
	for _, blk := range content.Blocks {
		one, attr, d := splitForEach(blk)
		diags = append(diags, d...)
		if attr == nil {
			if e := eachUse(blk.Body, c.parser); e != nil {
				diags = append(diags, errAt(e.SrcRange, "Reference to each outside for_each",
					"each.key and each.value exist only in a block with for_each."))
				continue
			}
			diags = append(diags, c.decodeInstance(one, ctx, "")...)
			continue
		}
		if blk.Type == "state" || blk.Type == "removed" || blk.Type == "import" {
			diags = append(diags, errAt(attr.NameRange, "for_each not allowed here", "A "+blk.Type+" block is not a resource: it cannot have for_each."))
			continue
		}
		each, d := forEach(attr, ctx)
		diags = append(diags, d...)
		if c.unset && d.HasErrors() && slices.ContainsFunc(d, unknownValue) {
			// Keys not known (validate without the variable's value): one
			// instance stands for all, with each unknown, so that its body
			// is checked as Terraform's validate checks it.
			c.unknownEach[blk.Type+"."+blk.Labels[0]] = true
			ictx := ctx.NewChild()
			ictx.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": cty.UnknownVal(cty.String), "value": cty.DynamicVal})}
			diags = append(diags, c.decodeInstance(one, ictx, unknownKey)...)
			continue
		}
		keys := make([]string, 0, len(each))
		for k := range each {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ictx := ctx.NewChild()
			ictx.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": cty.StringVal(k), "value": each[k]})}
			diags = append(diags, c.decodeInstance(one, ictx, k)...)
		}
	}
	return diags
}

// splitForEach takes for_each out of a block: the block without it, and
// the attribute (nil when there is none). Most blocks have none, and are
// left as they are: hclsyntax copies a body to hide an attribute.
func splitForEach(blk *hcl.Block) (*hcl.Block, *hcl.Attribute, hcl.Diagnostics) {
	if sb, ok := blk.Body.(*hclsyntax.Body); ok && sb.Attributes["for_each"] == nil {
		return blk, nil, nil
	}
	fe, inner, diags := blk.Body.PartialContent(forEachSchema)
	one := *blk
	one.Body = inner
	return &one, fe.Attributes["for_each"], diags
}

// forEach evaluates a for_each: a map (or object) or a set of strings,
// known when the configuration is read, with keys fit for addresses.
func forEach(attr *hcl.Attribute, ctx *hcl.EvalContext) (map[string]cty.Value, hcl.Diagnostics) {
	bad := func(detail string) (map[string]cty.Value, hcl.Diagnostics) {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid for_each argument", Detail: detail, Subject: attr.Expr.Range().Ptr(), Expression: attr.Expr, EvalContext: ctx}}
	}
	for _, t := range attr.Expr.Variables() {
		if r := t.RootName(); r != "var" && r != "local" {
			return bad("The for_each value must be known when the configuration is read: it may use variables, locals and functions, not " + r + " (what a resource holds is known only once it is applied).")
		}
	}
	v, diags := attr.Expr.Value(ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	switch {
	case v.ContainsMarked():
		return bad("The for_each value is sensitive: its keys would name instances in plans, state and output. Use a value that is not sensitive.")
	case !v.IsWhollyKnown():
		return bad("The for_each value is not known when the configuration is read; it may only use variables, locals and functions, not values that resources produce.")
	case v.IsNull():
		return bad("The for_each value is null: give a map, or a set of strings.")
	}
	t := v.Type()
	out := map[string]cty.Value{}
	switch {
	case t.IsMapType() || t.IsObjectType():
		for k, e := range v.AsValueMap() {
			out[k] = e
		}
	case t.IsSetType() && t.ElementType() == cty.String:
		for _, e := range v.AsValueSlice() {
			if e.IsNull() {
				return bad("The for_each set holds a null value.")
			}
			out[e.AsString()] = e
		}
	case t.IsListType() || t.IsTupleType():
		return bad("for_each takes a map or a set of strings, not a list: a list's order would become the instances' identity. Convert it with toset(…).")
	default:
		return bad("for_each takes a map or a set of strings, not " + t.FriendlyName() + ".")
	}
	for k := range out {
		if !instanceKey.MatchString(k) {
			return bad(fmt.Sprintf("The key %q cannot name an instance: keys are letters, digits and _ . : - (a host name, an address), as they land in addresses and file names.", k))
		}
	}
	return out, nil
}

// decodeInstance decodes one block (an instance when key is set) into the
// configuration; its references are bound to ctx, so that
// certificate.www[each.key] names the right instance.
func (c *Config) decodeInstance(blk *hcl.Block, ctx *hcl.EvalContext, key string) hcl.Diagnostics {
	dec, ok := c.decoding[blk.Type]
	if !ok {
		return nil // body.Content refused it already
	}
	b := c.newBlock(blk.Type)
	v := reflect.ValueOf(b)
	var sens []string
	var sink *[]string
	if c.marked {
		sink = &sens
	}
	diags := dec.decodeBlock(blk, ctx, v.Elem(), sink)
	if c.unset && (key == unknownKey || slices.ContainsFunc(diags, unknownValue)) {
		c.partial[b] = true
	}
	label, _ := b.Header()
	if label != nil && key != "" {
		*label = InstanceName(*label, key)
	}
	if len(sens) > 0 && label != nil {
		addr := Address{blk.Type, *label}
		c.sensitive[addr] = append(c.sensitive[addr], sens...)
	}
	c.add(blk.Type, b)
	for i := range v.Elem().NumField() {
		if f := v.Elem().Field(i); f.Type() == exprType && !f.IsNil() {
			f.Set(reflect.ValueOf(hcl.Expression(boundExpr{f.Interface().(hcl.Expression), ctx})))
		}
	}
	c.evaluated[b] = evaluated{blk, ctx, key != ""}
	return diags
}

// settings are the blocks of the language that are not resources: where
// state is kept, what to forget, what to import.
func settings() []Kind {
	return []Kind{
		{Type: "state", New: func() Block { return &State{} }},
		{Type: "removed", New: func() Block { return &Removed{} }},
		{Type: "import", New: func() Block { return &Import{} }},
	}
}

// newBlock is an empty block of a type.
func (c *Config) newBlock(typ string) Block {
	for _, k := range append(c.kinds, settings()...) {
		if k.Type == typ {
			return k.New()
		}
	}
	return nil
}

// decoders reads the struct tags of every kind's block once: gohcl
// derives a schema from them on every call, half the cost of decoding a
// large configuration.
func (c *Config) decoders() {
	c.decoding = map[string]*decoder{}
	for _, k := range append(c.kinds, settings()...) {
		c.decoding[k.Type] = newDecoder(reflect.TypeOf(k.New()).Elem())
	}
}

// bodySchema is the top level of a configuration file: the blocks of
// every kind and setting.
func (c *Config) bodySchema() *hcl.BodySchema {
	sch := &hcl.BodySchema{}
	for _, k := range append(c.kinds, settings()...) {
		h := hcl.BlockHeaderSchema{Type: k.Type}
		t := reflect.TypeOf(k.New()).Elem()
		for i := range t.NumField() {
			if name, ok := strings.CutSuffix(t.Field(i).Tag.Get("hcl"), ",label"); ok {
				h.LabelNames = append(h.LabelNames, name)
			}
		}
		sch.Blocks = append(sch.Blocks, h)
	}
	return sch
}

// evaluated is how a block was decoded, for its source in state.
type evaluated struct {
	block    *hcl.Block
	ctx      *hcl.EvalContext
	instance bool
}

// boundExpr is a reference expression with the context it was written in:
// an index such as certificate.www[each.key] is a traversal once each.key
// is known.
type boundExpr struct {
	hcl.Expression
	ctx *hcl.EvalContext
}

// AsTraversal makes hcl.AbsTraversalForExpr see the bound reference.
func (b boundExpr) AsTraversal() hcl.Traversal {
	if t, d := hcl.AbsTraversalForExpr(b.Expression); !d.HasErrors() {
		return t
	}
	ix, ok := b.Expression.(*hclsyntax.IndexExpr)
	if !ok {
		return nil
	}
	coll, d := hcl.AbsTraversalForExpr(ix.Collection)
	if d.HasErrors() {
		return nil
	}
	k, d := ix.Key.Value(b.ctx)
	if d.HasErrors() || !k.IsKnown() || k.IsNull() || k.Type() != cty.String {
		return nil
	}
	return append(coll[:len(coll):len(coll)], hcl.TraverseIndex{Key: k, SrcRange: ix.Key.Range()})
}

// UnwrapExpression lets hcl look through the binding.
func (b boundExpr) UnwrapExpression() hcl.Expression { return b.Expression }

// Expand is the addresses a command-line address names: itself, or every
// instance of a for_each block when it names the block as a whole.
func (c *Config) Expand(a Address) []Address {
	if c.blocks[a] != nil || a.Key() != "" {
		return []Address{a}
	}
	var out []Address
	c.Each(func(addr Address, _ hcl.Range, _ Block) {
		if addr.Type == a.Type && addr.Base() == a.Name && addr.Key() != "" {
			out = append(out, addr)
		}
	})
	if out == nil {
		return []Address{a}
	}
	return out
}

// mayHold reports whether the source of rng may hold word: false only
// when its bytes are known and do not. A walk of the syntax tree for a
// name costs more than looking at the text first.
func mayHold(parser *hclparse.Parser, rng hcl.Range, word string) bool {
	f := parser.Files()[rng.Filename]
	if f == nil || rng.Start.Byte > rng.End.Byte || rng.End.Byte > len(f.Bytes) {
		return true
	}
	return bytes.Contains(f.Bytes[rng.Start.Byte:rng.End.Byte], []byte(word))
}

// eachUse is the first reference to each in a body, or nil. A block whose
// source does not hold the word has none (walking every block of a fleet
// costs more than the look).
func eachUse(b hcl.Body, parser *hclparse.Parser) *hclsyntax.ScopeTraversalExpr {
	sb, ok := b.(*hclsyntax.Body)
	if !ok {
		return nil
	}
	if !mayHold(parser, sb.SrcRange, "each") {
		return nil
	}
	var found *hclsyntax.ScopeTraversalExpr
	hclsyntax.VisitAll(sb, func(n hclsyntax.Node) hcl.Diagnostics {
		if e, ok := n.(*hclsyntax.ScopeTraversalExpr); ok && found == nil && e.Traversal.RootName() == "each" {
			found = e
		}
		return nil
	})
	return found
}

// ParsePattern parses what -replace selects: an address, TYPE.* (every
// block of the type), TYPE.NAME[*] (every instance of a for_each block).
func ParsePattern(s string) (Address, error) {
	if typ, name, ok := strings.Cut(s, "."); ok && hclsyntax.ValidIdentifier(typ) {
		if base, found := strings.CutSuffix(name, "[*]"); name == "*" || found && hclsyntax.ValidIdentifier(base) {
			return Address{typ, name}, nil
		}
	}
	return ParseAddress(s)
}

// Select is the certificates a -replace pattern names: itself or its
// instances (see Expand); every certificate for TYPE.*; every instance for
// NAME[*]; for host.NAME, every certificate deployed to that host, as its
// own host or through a vhost or service there. Nil when none match.
func (c *Config) Select(p Address) []Address {
	var out []Address
	add := func(a Address) {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	base, all := strings.CutSuffix(p.Name, "[*]")
	switch {
	case p.Type == "host":
		for _, h := range c.Expand(p) {
			c.Each(func(a Address, _ hcl.Range, b Block) {
				if !c.onHost(b, h) {
					return
				}
				if k, _ := c.KindOf(a.Type); k.Replaceable {
					add(a)
				}
				for _, r := range c.Refs(a) {
					if k, _ := c.KindOf(r.Type); k.Replaceable {
						add(r.Address)
					}
				}
			})
		}
		slices.SortFunc(out, func(a, b Address) int { return strings.Compare(a.String(), b.String()) })
		return out
	case p.Name == "*" || all:
		c.Each(func(a Address, _ hcl.Range, _ Block) {
			if a.Type == p.Type && (p.Name == "*" || a.Base() == base && a.Key() != "") {
				add(a)
			}
		})
		return out
	}
	for _, a := range c.Expand(p) {
		if c.blocks[a] != nil {
			add(a)
		}
	}
	return out
}

// onHost reports whether block b names host h.
func (c *Config) onHost(b Block, h Address) bool {
	r, ok := b.(Referrer)
	if !ok {
		return false
	}
	for _, ref := range r.References() {
		if ref.To.Address == h {
			return true
		}
	}
	return false
}
