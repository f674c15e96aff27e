package schema

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/zclconf/go-cty/cty"
)

// gohcl.DecodeBody derives a block struct's schema and reads its field tags
// on every call: two thirds of decoding a 10,000-block fleet went there.
// A decoder does what DecodeBody does for the block structs of this
// package (attributes, their value ranges, def_range, labels, nested
// blocks as pointers), with the schema (still gohcl's ImpliedBodySchema)
// and the tags read once per struct type; values are still decoded by
// gohcl.DecodeExpression. By hand because gohcl has no way to reuse a
// schema. TestDecoderAsGohcl holds it to gohcl's result.
type decoder struct {
	schema   *hcl.BodySchema
	attrs    []attrField
	blocks   []blockField
	labels   []int
	defRange int // -1: none
}

type attrField struct {
	name         string
	field, value int // value: the field of its attr_value_range, or -1
}

type blockField struct {
	name  string
	field int
	inner *decoder // for the struct the field points to
}

var (
	exprType = reflect.TypeFor[hcl.Expression]()
	attrType = reflect.TypeFor[*hcl.Attribute]()
)

// newDecoder reads the tags of struct type t (and of its nested blocks).
func newDecoder(t reflect.Type) *decoder {
	sch, _ := gohcl.ImpliedBodySchema(reflect.New(t).Interface())
	d := &decoder{schema: sch, defRange: -1}
	ranges := map[string]int{}
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("hcl")
		name, kind, _ := strings.Cut(tag, ",")
		switch kind {
		case "", "optional":
			if tag != "" {
				d.attrs = append(d.attrs, attrField{name, i, -1})
			}
		case "attr_value_range":
			ranges[name] = i
		case "label":
			d.labels = append(d.labels, i)
		case "def_range":
			d.defRange = i
		case "block":
			ft := t.Field(i).Type
			if ft.Kind() != reflect.Pointer || ft.Elem().Kind() != reflect.Struct {
				panic(fmt.Sprintf("schema: %s.%s: a nested block is a pointer to a struct", t, t.Field(i).Name))
			}
			d.blocks = append(d.blocks, blockField{name, i, newDecoder(ft.Elem())})
		default:
			panic(fmt.Sprintf("schema: %s.%s: tag %q is not decoded", t, t.Field(i).Name, tag))
		}
	}
	for i, a := range d.attrs {
		if r, ok := ranges[a.name]; ok {
			d.attrs[i].value = r
		}
	}
	return d
}

// decodeValue is gohcl.DecodeExpression for a value that may carry a mark,
// which Go values cannot hold: a marked value is decoded as its unmarked
// self, and its marked texts are appended to sens (nil: no value of the
// configuration is marked, and expressions are evaluated once).
func decodeValue(expr hcl.Expression, ctx *hcl.EvalContext, target any, sens *[]string) hcl.Diagnostics {
	if sens == nil || len(expr.Variables()) == 0 {
		return gohcl.DecodeExpression(expr, ctx, target)
	}
	val, d := expr.Value(ctx)
	if d.HasErrors() || !val.ContainsMarked() {
		return gohcl.DecodeExpression(expr, ctx, target)
	}
	*sens = append(*sens, markedLeaves(val)...)
	val, _ = val.UnmarkDeep()
	return gohcl.DecodeExpression(hcl.StaticExpr(val, expr.Range()), nil, target)
}

// decodeBlock decodes blk into v (a struct of the decoder's type), labels
// and declaration range included.
// Sensitive values are decoded as their unmarked selves, and what they
// became is appended to sens (nil: the configuration has none).
func (d *decoder) decodeBlock(blk *hcl.Block, ctx *hcl.EvalContext, v reflect.Value, sens *[]string) hcl.Diagnostics {
	diags := d.decodeBody(blk.Body, ctx, v, sens)
	for i, l := range blk.Labels {
		if i < len(d.labels) {
			v.Field(d.labels[i]).SetString(l)
		}
	}
	if d.defRange >= 0 {
		v.Field(d.defRange).Set(reflect.ValueOf(blk.DefRange))
	}
	return diags
}

func (d *decoder) decodeBody(body hcl.Body, ctx *hcl.EvalContext, v reflect.Value, sens *[]string) hcl.Diagnostics {
	content, diags := body.Content(d.schema)
	if content == nil {
		return diags
	}
	for _, a := range d.attrs {
		attr, fv := content.Attributes[a.name], v.Field(a.field)
		switch {
		case attr == nil && fv.Type() == exprType:
			// As gohcl: a missing expression is a null one, for the cty realm.
			fv.Set(reflect.ValueOf(hcl.StaticExpr(cty.NullVal(cty.DynamicPseudoType), body.MissingItemRange())))
			continue
		case attr == nil:
			continue
		}
		if a.value >= 0 {
			v.Field(a.value).Set(reflect.ValueOf(attr.Expr.Range()))
		}
		switch fv.Type() {
		case exprType:
			fv.Set(reflect.ValueOf(attr.Expr))
		case attrType:
			fv.Set(reflect.ValueOf(attr))
		default:
			diags = append(diags, decodeValue(attr.Expr, ctx, fv.Addr().Interface(), sens)...)
		}
	}
	byType := content.Blocks.ByType()
	for _, b := range d.blocks {
		blocks := byType[b.name]
		switch {
		case len(blocks) > 1:
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Duplicate %s block", b.name),
				Detail:   fmt.Sprintf("Only one %s block is allowed. Another was defined at %s.", b.name, blocks[0].DefRange.String()),
				Subject:  &blocks[1].DefRange,
			})
		case len(blocks) == 1:
			nv := reflect.New(v.Field(b.field).Type().Elem())
			diags = append(diags, b.inner.decodeBlock(blocks[0], ctx, nv.Elem(), sens)...)
			v.Field(b.field).Set(nv)
		}
	}
	return diags
}
