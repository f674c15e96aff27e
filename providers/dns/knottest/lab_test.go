package knottest_test

import (
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/providers/dns/knottest"
)

// The lab serves its zone signed, with signatures of the policy's lifetime.
func TestLabServesSignedZone(t *testing.T) {
	lab := knottest.Start(t, "example.test", knottest.Options{RRSIGLifetime: 48 * 3600e9, RRSIGRefresh: 24 * 3600e9}, "www A 127.0.0.1")
	r := lab.Query(t, "www.example.test", mdns.TypeA)
	var sig *mdns.RRSIG
	for _, rr := range r.Answer {
		if s, ok := rr.(*mdns.RRSIG); ok {
			sig = s
		}
	}
	if sig == nil {
		t.Fatalf("no RRSIG over www A: %v", r.Answer)
	}
	// Knot backdates the inception; what is left is the policy's lifetime.
	if left := int64(sig.Expiration) - time.Now().Unix(); left > 49*3600 || left < 40*3600 {
		t.Errorf("the signature is valid for %ds more, want about two days", left)
	}
}
