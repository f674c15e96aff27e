package dns

import (
	"context"
	"fmt"
	"slices"

	"github.com/trustform/trustform/providers"
)

// Writer is a resource of another kind that writes RRsets through a zone
// (a CAA RRset): its steps share the zone's change set of the phase with
// the TLSA RRsets (BatchKey "dns_zone.NAME").
type Writer interface {
	providers.Batched
	// Sets are the RRsets the item's step writes; none when what it wants
	// is in place.
	Sets(it providers.BatchItem) ([]RRset, error)
	// Wrote is told what the step wrote, once the zone took it: the next
	// Observe checks that the primary serves it.
	Wrote(sets []RRset)
}

// WriteBatch writes one step of each item (all of one zone) in one atomic
// update of zone (named zoneName in errors): the TLSA RRsets combined per
// owner (Combine), the Writers' RRsets beside them. A publish or prune
// that finds its records in place writes nothing. Nothing is written while
// the zone's chain of trust is broken (rule dnssec-chain-valid).
func WriteBatch(ctx context.Context, zone Zone, zoneName string, items []providers.BatchItem) ([]providers.Resource, error) {
	changes := map[*TLSA][]string{}
	written := map[Writer][]RRset{}
	var sets []RRset
	var touched []providers.Resource
	for _, it := range items {
		touched = append(touched, it.Resource)
		if w, ok := it.Resource.(Writer); ok {
			ws, err := w.Sets(it)
			if err != nil {
				return touched, err
			}
			if len(ws) > 0 {
				written[w], sets = ws, append(sets, ws...)
			}
			continue
		}
		u := it.Resource.(*TLSA) // a batch holds one zone's RRsets
		var published []string
		if u.observed != nil {
			published = u.observed["records"].List
		}
		want := []string{}
		if it.Phase != providers.PhaseDelete {
			var err error
			if want, err = u.records().write(it.Phase, published); err != nil {
				return touched, fmt.Errorf("tlsa %s: %w", u.Owner, err)
			}
		}
		if (it.Phase == PhasePublish || it.Phase == PhasePrune) && slices.Equal(want, published) {
			continue
		}
		changes[u] = want
	}
	sets = append(Combine(changes), sets...)
	if len(sets) == 0 {
		return touched, nil
	}
	if _, err := zone.ChainValid(ctx); err != nil {
		return touched, fmt.Errorf("dnssec-chain-valid: nothing is published in zone %s: %w", zoneName, err)
	}
	if err := zone.Update(ctx, sets); err != nil {
		return touched, fmt.Errorf("zone %s: %w", zoneName, err)
	}
	for u, want := range changes {
		u.wrote = &want
	}
	for w, ws := range written {
		w.Wrote(ws)
	}
	return touched, nil
}
