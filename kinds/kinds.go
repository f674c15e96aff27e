package kinds

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/acme"
	"github.com/trustform/trustform/providers/apt"
	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/providers/localca"
	"github.com/trustform/trustform/providers/service"
	"github.com/trustform/trustform/schema"
)

// All are the kinds of resource trustform knows, in the order of the
// language reference: a kind comes after the kinds it refers to. Adding a
// kind is one line here.
func All() []providers.Kind {
	return []providers.Kind{
		dns.ZoneKind(),
		acme.Kind(),
		localca.Kind(),
		builtin("certificate"),
		dns.TLSAKind(),
		builtin("tls_policy"),
		builtin("vhost"),
		service.Kind(),
		apt.KeyKind(),
		apt.SourceKind(),
	}
}

// builtin is a kind whose block is still declared in package schema,
// bound by the binders of this package.
func builtin(typ string) providers.Kind {
	for _, k := range schema.Builtin() {
		if k.Type != typ {
			continue
		}
		pk := providers.Kind{Kind: k}
		if bind := binders()[typ]; bind != nil {
			pk.Bind = func(b providers.Binding, block schema.Block) (any, hcl.Diagnostics) { return bind(b.(*binding), block) }
		}
		return pk
	}
	panic("kinds: no builtin kind " + typ)
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
