package providers

import (
	"context"
	"maps"
	"slices"

	"github.com/trustform/trustform/schema"
)

// Resource is the contract between the engine and a provider: one managed
// object, declared by one block. The engine knows resources only through it
// (and the optional roles below), never a provider's concrete type.
//
// In a run the engine calls, for every resource:
//   - Observe, read-only, after the resources it refers to were observed and
//     in parallel with the others. Absent is (nil, nil), not an error.
//   - Plan, in dependency order (a TLSA RRset after its certificate), given
//     what Observe returned: the desired value and the change that gets
//     there (nil: none). Values
//     known only once a step has run are Unknown, never guessed.
//   - Apply, once for each step of the change, in the order the rules
//     decide, handed the change of the resource's last Plan: what Apply
//     needs travels in it (Detail), never in fields an earlier call set.
//     After each step, Observe and Plan again, so later steps see it.
type Resource interface {
	Observe(ctx context.Context) (Value, error)
	Plan(observed Value, opts PlanOptions) (Value, *Change)
	Apply(ctx context.Context, ch *Change, phase string) error
}

// PlanOptions are what the command line asks of one resource.
type PlanOptions struct {
	Replace bool // -replace: a certificate gets a new key
	// Revoke is -revoke's reason (RFC 5280, as certbot names it): the
	// certificate that Replace replaces is revoked once its successor is
	// served. "" for none.
	Revoke string
	// Retiring are the certificates an approved earlier apply replaced
	// and whose retirement is not done yet (state keeps them): a key to
	// remove from the host, a revocation to carry out.
	Retiring []Retired
	// Adopted is what an import adopted as it was (Adopter.Adoption at
	// the import), kept by state; nil when nothing was imported.
	Adopted map[string]string
}

// RevocationReasons are the reasons -revoke takes, as certbot spells them,
// with their RFC 5280 §5.3.1 CRLReason codes.
func RevocationReasons() map[string]int {
	return map[string]int{"unspecified": 0, "keyCompromise": 1, "superseded": 4, "cessationOfOperation": 5}
}

// ReasonNames lists the reasons -revoke takes, sorted.
func ReasonNames() []string { return slices.Sorted(maps.Keys(RevocationReasons())) }

// Change is what a resource needs to reach its desired value, as data.
type Change struct {
	Action  Action
	Reasons []string
	// Phases are the steps the change takes on its own, in order. The rules
	// may lay out other steps instead (a key rollover).
	Phases []Phase
	// After lists the steps of other resources the first phase waits for.
	After []Dep
	// Reload: the change alters nothing of the value (a server reloads to
	// serve a redeployed certificate), so plans show the observed value.
	Reload bool
	// Detail is what the resource decided that its Apply needs beyond the
	// phase (a certificate: the key it deploys), a value of the resource's
	// own type. It is not saved: a saved plan only approves, and apply
	// plans again. Apply may be handed a change without it (a step that
	// started and did not finish runs again when nothing else is planned).
	Detail any
}

// Phase is one step of a change.
type Phase struct {
	Name        string
	Description string
	// Placed: a rule decides where the step goes and adds it (an APT key
	// leaves the legacy keyrings only after the sources that use it).
	Placed bool
	// Irreversible: nothing undoes the step (a revocation), so plans flag it.
	Irreversible bool
}

// Dep names the step of another resource a change waits for: the step of
// Phase, or its last step when Phase is empty.
type Dep struct {
	Addr  schema.Address
	Phase string
}

// Diff is the change of a resource whose only logic is "make it as
// desired": create what is absent, update what differs (naming what).
func Diff(desired, observed Value, phases ...Phase) *Change {
	if observed == nil {
		return &Change{Action: Create, Reasons: []string{"it does not exist yet"}, Phases: phases}
	}
	if d := Differs(desired, observed); len(d) > 0 {
		return &Change{Action: Update, Reasons: DiffReasons(d, desired, observed), Phases: phases}
	}
	return nil
}
