package providers

import (
	"context"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/schema"
)

// Kind is one kind of resource: its block in the language (type, rank,
// decoding, references, validation: schema.Kind and the block's own
// methods) and how a block of it binds into what the engine runs. A kind's
// package exports one; the composition root (package kinds) lists them.
type Kind struct {
	schema.Kind
	// Bind makes the object of one block: a Resource the engine observes,
	// plans and applies, or another object the kinds that refer to the
	// block use (a zone, an issuer). Nil: the block configures others and
	// binds to nothing. It runs after the blocks it refers to were bound.
	Bind func(b Binding, block schema.Block) (any, hcl.Diagnostics)
}

// Binding is one run's binding of a configuration, as a kind's Bind sees
// it.
type Binding interface {
	// Config is the configuration being bound.
	Config() *schema.Config
	// Now is the run's clock.
	Now() time.Time
	// Host is the door to the host a block names: one SSH connection per
	// host for the run, or this machine.
	Host(r schema.Ref) host.Host
	// Bound is the object a block bound to, if any.
	Bound(a schema.Address) any
	// All is what the blocks bound so far bound to, in the order of the
	// blocks.
	All() []any
	// Once returns what make returns for key, calling it once per binding:
	// what a kind reads once per host (its package database).
	Once(key string, make func() any) any
	// HTTP01Check is the check an http-01 order through a site's webroot
	// runs before it orders (the acme-challenge-not-redirected rule's
	// round trip: a token written into dir on webroot, fetched as the CA
	// would, dialling the addresses dial gives for a name). The run keeps
	// it, for plan -refresh-only to run too.
	HTTP01Check(cert Cert, webroot host.Host, dir string, dial func(name string) map[string]string) func(ctx context.Context, domains []string) error
}
