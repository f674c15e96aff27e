package engine

import (
	"context"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/providers/webserver"
	"github.com/trustform/trustform/schema"

	"github.com/trustform/trustform/internal/netpolicy"
)

// world is what binding a configuration makes: the graph of resources,
// the SSH hosts they use (for the run to close), and the http-01 round
// trips that the ACME orders run first (for plan -refresh-only to run too).
type world struct {
	g          *graph.Graph
	remotes    []*host.SSH
	challenges []challenge
	zones      []namedZone // in configuration order
}

// namedZone is a bound dns_zone, for the checks that read a whole zone.
type namedZone struct {
	addr schema.Address
	zone dns.Zone
}

// challenge is the pre-order check of an http-01 certificate.
type challenge struct {
	cert  *schema.Certificate
	check func(ctx context.Context, domains []string) error
}

// bind makes the provider object of every block, through the binders
// table, in reference order, and a graph node for every resource.
func bind(cfg *schema.Config, now func() time.Time, policy *netpolicy.Policy) (world, hcl.Diagnostics) {
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
	var remotes []*host.SSH
	for _, h := range cfg.Hosts {
		if r := b.remotes[h.Name]; r != nil {
			remotes = append(remotes, r)
		}
	}
	var zones []namedZone
	for _, z := range cfg.Zones {
		a := schema.Address{Type: "dns_zone", Name: z.Name}
		if zone, ok := b.bound[a].(dns.Zone); ok {
			zones = append(zones, namedZone{a, zone})
		}
	}
	return world{g: g, remotes: remotes, challenges: b.challenges, zones: zones}, diags
}
