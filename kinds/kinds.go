package kinds

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/apt"
	"github.com/trustform/trustform/schema"
)

// All are the kinds of resource trustform knows, in the order of the
// language reference: a kind comes after the kinds it refers to. Adding a
// kind is one line here.
func All() []providers.Kind {
	return append(builtin(),
		apt.KeyKind(),
		apt.SourceKind(),
	)
}

// builtin are the kinds whose blocks are still declared in package schema,
// bound by the binders of this package.
func builtin() []providers.Kind {
	table := binders()
	var out []providers.Kind
	for _, k := range schema.Builtin() {
		pk := providers.Kind{Kind: k}
		if bind := table[k.Type]; bind != nil {
			pk.Bind = func(b providers.Binding, block schema.Block) (any, hcl.Diagnostics) { return bind(b.(*binding), block) }
		}
		out = append(out, pk)
	}
	return out
}

// Schema is what the language knows of kinds.
func Schema(kinds []providers.Kind) []schema.Kind {
	out := make([]schema.Kind, len(kinds))
	for i, k := range kinds {
		out[i] = k.Kind
	}
	return out
}

// Load reads the configuration directory dir with every kind of All.
func Load(dir string, in schema.Inputs) (*schema.Config, hcl.Diagnostics) {
	return schema.Load(dir, in, Schema(All()))
}

// Parse decodes configuration sources with every kind of All (see
// schema.Parse).
func Parse(dir string, srcs map[string][]byte) (*schema.Config, hcl.Diagnostics) {
	return schema.Parse(dir, srcs, Schema(All()))
}
