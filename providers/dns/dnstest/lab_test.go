package dnstest

import (
	"testing"

	mdns "github.com/miekg/dns"
)

func TestLabServesSignedZone(t *testing.T) {
	lab := Start(t, "example.test")
	for _, n := range []*Named{lab.Primary, lab.Secondary} {
		r := n.Query(t, "example.test", mdns.TypeSOA)
		if r.Rcode != mdns.RcodeSuccess || len(r.Answer) < 2 {
			t.Errorf("%s: SOA answer %v", n.Addr, r)
		}
	}
}
