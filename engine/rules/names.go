package rules

import (
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// Serves reports whether a vhost with names answers for name (with
// one-label wildcards).
func Serves(names []string, name string) bool { return providers.Serves(names, name) }

// websites are the blocks that serve web sites (vhosts), as the rules
// read them, in configuration order.
func websites(cfg *schema.Config) []*providers.Web {
	var out []*providers.Web
	cfg.Each(func(_ schema.Address, _ hcl.Range, b schema.Block) {
		if w, ok := b.(providers.Website); ok {
			out = append(out, w.Web())
		}
	})
	return out
}

// webOf is the web site at a, or nil.
func webOf(cfg *schema.Config, a schema.Address) *providers.Web {
	if w, ok := cfg.Block(a).(providers.Website); ok {
		return w.Web()
	}
	return nil
}

// certOf is the certificate r refers to, or nil.
func certOf(cfg *schema.Config, r schema.Ref) *providers.Cert {
	if c, ok := cfg.Block(r.Address).(providers.Certified); ok {
		cert := c.Cert()
		return &cert
	}
	return nil
}

// certificates are the certificate blocks, in configuration order.
func certificates(cfg *schema.Config) []providers.Cert {
	var out []providers.Cert
	cfg.Each(func(_ schema.Address, _ hcl.Range, b schema.Block) {
		if c, ok := b.(providers.Certified); ok {
			out = append(out, c.Cert())
		}
	})
	return out
}

// nameIndex finds vhosts by the names they serve, so rules over thousands
// of vhosts stay linear.
type nameIndex map[string][]*providers.Web

func indexVhosts(cfg *schema.Config, tls bool) nameIndex {
	idx := nameIndex{}
	for _, v := range websites(cfg) {
		if v.Certificate.Set() != tls {
			continue
		}
		for _, n := range v.Names {
			idx[strings.ToLower(n)] = append(idx[strings.ToLower(n)], v)
		}
	}
	return idx
}

// lookup returns the vhosts serving name, directly or by a wildcard.
func (idx nameIndex) lookup(name string) []*providers.Web {
	name = strings.ToLower(name)
	out := idx[name]
	if _, parent, ok := strings.Cut(name, "."); ok {
		out = append(slices.Clone(out), idx["*."+parent]...)
	}
	return out
}
