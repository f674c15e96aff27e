package certificate

import (
	"crypto/x509"
	"testing"
	"time"
)

func TestRenewWindow(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		name     string
		life     time.Duration
		before   time.Duration
		fraction float64
		want     time.Duration
	}{
		{"90 days, default", 90 * day, 0, 0, 30 * day},
		{"six days, default: a third", 6 * day, 0, 0, 2 * day},
		{"30 days, default", 30 * day, 0, 0, 30 * day},
		{"renew_before 10d", 90 * day, 10 * day, 0, 10 * day},
		{"renew_before 1/3 of 90 days", 90 * day, 0, 1.0 / 3, 30 * day},
		{"renew_before 1/2 of six days", 6 * day, 0, 0.5, 3 * day},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Now()
			c := &Certificate{RenewBefore: tc.before, RenewFraction: tc.fraction}
			got := c.renewWindow(&x509.Certificate{NotBefore: now, NotAfter: now.Add(tc.life)})
			if d := got - tc.want; d > time.Second || d < -time.Second {
				t.Errorf("renew %v before expiry, want %v", got, tc.want)
			}
		})
	}
}
