package engine

import (
	"github.com/trustform/trustform/engine/rules"
	"github.com/trustform/trustform/providers/webserver"
	"github.com/trustform/trustform/schema"
)

// probed lists the vhosts whose running servers were probed, for the
// rules' live checks.
func (r *Run) probed() []rules.Probed {
	var out []rules.Probed
	for _, n := range r.w.nodes {
		v, ok := n.res.(*webserver.Vhost)
		if !ok || v.Probe == nil || n.observed == nil {
			continue
		}
		out = append(out, rules.Probed{Block: n.block.(*schema.Vhost), Addr: v.Probe.Addr, HSTS: v.Site.HSTS, ACMEWebroot: v.Site.ACMEWebroot, Observed: n.observed})
	}
	return out
}
