package engine

import (
	"github.com/trustform/trustform/engine/rules"
	"github.com/trustform/trustform/providers"
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
		w, isWeb := r.cfg.Block(n.Addr).(providers.Website)
		if !ok || !isWeb || n.Observed == nil {
			continue
		}
		if addr, hsts, webroot, ok := p.Probed(); ok {
			out = append(out, rules.Probed{Block: w.Web(), Addr: addr, HSTS: hsts, ACMEWebroot: webroot, Observed: n.Observed})
		}
	}
	return out
}
