package rules

import (
	"slices"
	"strings"

	"github.com/trustform/trustform/schema"
)

// Serves reports whether a vhost with names answers for name (with
// one-label wildcards).
func Serves(names []string, name string) bool {
	for _, n := range names {
		if matchName(n, name) {
			return true
		}
	}
	return false
}

func matchName(pattern, name string) bool {
	pattern, name = strings.ToLower(pattern), strings.ToLower(name)
	if pattern == name {
		return true
	}
	if rest, ok := strings.CutPrefix(pattern, "*."); ok {
		_, parent, found := strings.Cut(name, ".")
		return found && parent == rest
	}
	return false
}

// nameIndex finds vhosts by the names they serve, so rules over thousands
// of vhosts stay linear.
type nameIndex map[string][]*schema.Vhost

func indexVhosts(cfg *schema.Config, tls bool) nameIndex {
	idx := nameIndex{}
	for _, v := range cfg.Vhosts {
		if v.Certificate.Set() != tls {
			continue
		}
		for _, n := range v.ServerNames {
			idx[strings.ToLower(n)] = append(idx[strings.ToLower(n)], v)
		}
	}
	return idx
}

// lookup returns the vhosts serving name, directly or by a wildcard.
func (idx nameIndex) lookup(name string) []*schema.Vhost {
	name = strings.ToLower(name)
	out := idx[name]
	if _, parent, ok := strings.Cut(name, "."); ok {
		out = append(slices.Clone(out), idx["*."+parent]...)
	}
	return out
}
