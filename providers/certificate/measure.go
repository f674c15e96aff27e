package certificate

import (
	"time"

	"github.com/trustform/trustform/providers"
)

// Measure is the deployed certificate's expiry and the start of its
// renewal window: the CA's renewal information (ARI) where it gives one
// earlier than the configured window, not_after less renew_before else.
func (c *Certificate) Measure(_, _ providers.Value) []providers.Sample {
	if len(c.Chain) == 0 {
		return nil
	}
	leaf := c.Chain[0]
	window := leaf.NotAfter.Add(-c.renewWindow(leaf))
	if !c.RenewAt.IsZero() && c.RenewAt.Before(window) {
		window = c.RenewAt
	}
	return []providers.Sample{
		{Name: providers.MetricCertificateNotAfter, Value: providers.Timestamp(leaf.NotAfter)},
		{Name: providers.MetricRenewalWindowStart, Value: providers.Timestamp(window.Truncate(time.Second))},
	}
}
