package engine

import (
	"context"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/internal/netpolicy"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// Binder binds a configuration's blocks to the kinds of resource that
// implement them (package kinds, the composition root): the engine knows
// resources only through the providers contract, never a kind's type.
type Binder func(cfg *schema.Config, now func() time.Time, policy *netpolicy.Policy) (World, hcl.Diagnostics)

// World is what binding a configuration makes: the graph of resources,
// the SSH hosts they use (for the run to connect and close), the http-01
// round trips that the ACME orders run first (for plan -refresh-only to
// run too), and the zones, for the checks that read a whole zone.
type World struct {
	Graph      *graph.Graph
	Hosts      []Host
	Challenges []Challenge
	Zones      []Zone // in configuration order
	Notifiers  []Notifier
}

// Notifier is a bound notify block.
type Notifier struct {
	Addr schema.Address
	providers.Notifier
}

// Host is a remote host of the run: one connection, made before anything
// is observed.
type Host interface {
	Connect() error
	Close() error
}

// Challenge is the pre-order check of an http-01 certificate.
type Challenge struct {
	Cert  providers.Cert
	Check func(ctx context.Context, domains []string) error
}

// Zone is a bound dns_zone as the checks that read a whole zone see it.
type Zone struct {
	Addr schema.Address
	// Hosts lists the names in the zone that carry addresses.
	Hosts func(ctx context.Context) ([]string, error)
	// Records are every record of the zone, in presentation form.
	Records func(ctx context.Context) ([]string, error)
}
