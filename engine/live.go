package engine

import (
	"github.com/trustform/trustform/engine/rules"
	"github.com/trustform/trustform/schema"
)

// probedServer is a resource whose running server is probed (a vhost).
type probedServer interface {
	Probed() (addr, hsts, acmeWebroot string, ok bool)
}

// probed lists the vhosts whose running servers were probed, for the
// rules' live checks.
func (r *Run) probed() []rules.Probed {
	var out []rules.Probed
	for _, n := range r.g.Nodes {
		p, ok := n.Res.(probedServer)
		v := r.cfg.Vhost(schema.Ref{Address: n.Addr})
		if !ok || v == nil || n.Observed == nil {
			continue
		}
		if addr, hsts, webroot, ok := p.Probed(); ok {
			out = append(out, rules.Probed{Block: v, Addr: addr, HSTS: hsts, ACMEWebroot: webroot, Observed: n.Observed})
		}
	}
	return out
}
