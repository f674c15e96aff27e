package kinds

import (
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/internal/netpolicy"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// Bind binds a configuration with every kind of All (an engine.Binder).
func Bind(cfg *schema.Config, now func() time.Time, policy *netpolicy.Policy) (engine.World, hcl.Diagnostics) {
	return Binder(All())(cfg, now, policy)
}

// Binder binds a configuration with the given kinds: the object of every
// block, by its kind's Bind, in the order of the configuration's kinds
// (each after the kinds it refers to), and a graph node for every
// resource.
func Binder(kinds []providers.Kind) engine.Binder {
	return func(cfg *schema.Config, now func() time.Time, policy *netpolicy.Policy) (engine.World, hcl.Diagnostics) {
		return bind(kinds, cfg, now, policy)
	}
}

func bind(kinds []providers.Kind, cfg *schema.Config, now func() time.Time, policy *netpolicy.Policy) (engine.World, hcl.Diagnostics) {
	g := graph.New(cfg)
	b := &binding{cfg: cfg, now: now, policy: policy, bound: map[schema.Address]any{}, remotes: map[string]*host.SSH{}, once: map[string]any{}}
	table := map[string]func(providers.Binding, schema.Block) (any, hcl.Diagnostics){}
	for _, k := range kinds {
		table[k.Type] = k.Bind
	}
	var diags hcl.Diagnostics
	for _, k := range cfg.Kinds() { // kinds are listed after the kinds they refer to
		bindKind := table[k.Type]
		if bindKind == nil {
			continue
		}
		for _, block := range cfg.Blocks(k.Type) {
			name, _ := block.Header()
			addr := schema.Address{Type: k.Type, Name: *name}
			obj, d := bindKind(b, block)
			diags = append(diags, d...)
			if obj == nil {
				continue
			}
			b.bound[addr], b.all = obj, append(b.all, obj) // kind by kind, in file order: the order of the blocks
			if res, ok := obj.(providers.Resource); ok {
				n := &graph.Node{Addr: addr, Block: block, Res: res}
				for _, r := range cfg.Refs(addr) {
					if dep := g.Node(r.Address); dep != nil {
						n.Wave = max(n.Wave, dep.Wave+1)
					}
				}
				g.AddNode(n)
			}
		}
	}
	for _, o := range b.all {
		if l, ok := o.(providers.Linker); ok {
			l.Link(b)
		}
	}
	w := engine.World{Graph: g, Challenges: b.challenges}
	for _, h := range cfg.Hosts() {
		if r := b.remotes[h.Name]; r != nil {
			w.Hosts = append(w.Hosts, r)
		}
	}
	cfg.Each(func(a schema.Address, _ hcl.Range, _ schema.Block) {
		if zone, ok := b.bound[a].(providers.Zone); ok {
			w.Zones = append(w.Zones, engine.Zone{Addr: a, Hosts: zone.Hosts, Records: zone.Records})
		}
		if n, ok := b.bound[a].(providers.Notifier); ok {
			w.Notifiers = append(w.Notifiers, engine.Notifier{Addr: a, Notifier: n})
		}
	})
	return w, diags
}
