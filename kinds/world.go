package kinds

import (
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/internal/netpolicy"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/providers/webserver"
	"github.com/trustform/trustform/schema"
)

// Bind makes the provider object of every block, through the binders
// table, in reference order, and a graph node for every resource
// (an engine.Binder).
func Bind(cfg *schema.Config, now func() time.Time, policy *netpolicy.Policy) (engine.World, hcl.Diagnostics) {
	g := graph.New(cfg)
	b := &binding{cfg: cfg, now: now, policy: policy, bound: map[schema.Address]any{}, remotes: map[string]*host.SSH{},
		installed: map[string]func(string) webserver.Versions{}}
	table := binders()
	var diags hcl.Diagnostics
	for _, k := range schema.Kinds() { // kinds are listed after the kinds they refer to
		bindKind := table[k.Type]
		if bindKind == nil {
			continue
		}
		cfg.Each(func(addr schema.Address, _ hcl.Range, block any) {
			if addr.Type != k.Type {
				return
			}
			obj, d := bindKind(b, block)
			diags = append(diags, d...)
			if obj == nil {
				return
			}
			b.bound[addr] = obj
			if res, ok := obj.(providers.Resource); ok {
				n := &graph.Node{Addr: addr, Block: block, Res: res}
				for _, r := range cfg.Refs(addr) {
					if dep := g.Node(r.Address); dep != nil {
						n.Wave = max(n.Wave, dep.Wave+1)
					}
				}
				g.AddNode(n)
			}
		})
	}
	w := engine.World{Graph: g, Challenges: b.challenges}
	for _, h := range cfg.Hosts {
		if r := b.remotes[h.Name]; r != nil {
			w.Hosts = append(w.Hosts, r)
		}
	}
	for _, z := range cfg.Zones {
		a := schema.Address{Type: "dns_zone", Name: z.Name}
		if zone, ok := b.bound[a].(dns.Zone); ok {
			w.Zones = append(w.Zones, engine.Zone{Addr: a, Hosts: zone.Hosts})
		}
	}
	return w, diags
}
