package certificate

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

var _ providers.Explainer = (*Certificate)(nil)

// Explain says, of a re-keyed certificate, until when its old key stays
// trusted, which is what a key compromise asks: in DNS until the TLSA
// records that pin it are pruned, at the CA until it is revoked (-revoke)
// or expires. Plan must have run.
func (c *Certificate) Explain(self schema.Address, steps []providers.OrderedStep, opts providers.PlanOptions) []string {
	if !c.intent.NewKey || len(c.Chain) == 0 { // not a Replace of a live certificate
		return nil
	}
	var prunes []string
	revoke := ""
	for _, s := range steps {
		if s.Address == self && s.Phase == PhaseRevoke {
			revoke = fmt.Sprintf("at the CA until step %d revokes it", s.Index)
		}
		if s.Phase == providers.PhasePrune && slices.Contains(s.Refers, self) {
			prunes = append(prunes, fmt.Sprintf("step %d (%s prune)", s.Index, s.Address))
		}
	}
	var says []string
	if len(prunes) > 0 {
		says = append(says, "in DNS until "+strings.Join(prunes, ", "))
	}
	if revoke != "" {
		says = append(says, revoke)
	} else {
		hint := ""
		if opts.Replace {
			hint = " (add -revoke=keyCompromise)"
		}
		says = append(says, "at the CA until the old certificate expires ("+c.Chain[0].NotAfter.UTC().Format(time.RFC3339)+"); nothing revokes it"+hint)
	}
	return []string{"the old key stays trusted " + strings.Join(says, ", and ")}
}
