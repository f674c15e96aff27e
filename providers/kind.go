package providers

import (
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
}
