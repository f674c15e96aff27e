package engine

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// Outputs evaluates the configuration's output blocks with what state
// holds of each resource: after an apply, and for trustform output. A
// resource that state does not hold yet is unknown ("known after apply").
func Outputs(cfg *schema.Config, st *state.State) ([]schema.OutputValue, hcl.Diagnostics) {
	if len(cfg.Outputs) == 0 {
		return nil, nil
	}
	byType := map[string]map[string]cty.Value{}
	instances := map[schema.Address]map[string]cty.Value{} // of for_each blocks, by key
	cfg.Each(func(addr schema.Address, _ hcl.Range, _ schema.Block) {
		if byType[addr.Type] == nil {
			byType[addr.Type] = map[string]cty.Value{}
		}
		v := cty.DynamicVal
		if sr := st.Resources[addr.String()]; sr != nil {
			v = ctyValue(sr.Value)
		}
		base, key, ok := schema.SplitInstance(addr.Name)
		if !ok {
			byType[addr.Type][addr.Name] = v
			return
		}
		block := schema.Address{Type: addr.Type, Name: base}
		if instances[block] == nil {
			instances[block] = map[string]cty.Value{}
		}
		instances[block][key] = v
	})
	for block, byKey := range instances {
		byType[block.Type][block.Name] = cty.ObjectVal(byKey)
	}
	return cfg.EvalOutputs(byType)
}

// ctyValue is a resource's value as HCL evaluates it: strings and lists of
// strings, unknown where a step has yet to run.
func ctyValue(v providers.Value) cty.Value {
	attrs := map[string]cty.Value{}
	for k, a := range v {
		switch {
		case a.Unknown != "":
			attrs[k] = cty.DynamicVal
		case a.IsList && len(a.List) == 0:
			attrs[k] = cty.ListValEmpty(cty.String)
		case a.IsList:
			l := make([]cty.Value, len(a.List))
			for i, s := range a.List {
				l[i] = cty.StringVal(s)
			}
			attrs[k] = cty.ListVal(l)
		default:
			attrs[k] = cty.StringVal(a.Str)
		}
	}
	return cty.ObjectVal(attrs)
}
