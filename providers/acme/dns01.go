package acme

import (
	"context"
	"time"

	"github.com/go-acme/lego/v4/challenge"
	"github.com/go-acme/lego/v4/challenge/dns01"
)

// TXTZone is a zone dns-01 writes its challenge records into, through the
// zone's own backend (an RFC 2136 primary, a zone file, a hosting API):
// the zone that serves TLSA serves issuance too.
type TXTZone interface {
	// Apex is the zone's name, fully qualified.
	Apex() string
	// AddTXT adds value to the TXT RRset at fqdn, keeping what else it
	// holds (another challenge for the same name); RemoveTXT takes it out.
	AddTXT(ctx context.Context, fqdn, value string) error
	RemoveTXT(ctx context.Context, fqdn, value string) error
	// TXTServed lists the authoritative servers that do not serve value
	// in the TXT RRset at fqdn yet.
	TXTServed(ctx context.Context, fqdn, value string) (lagging []string, err error)
}

// zoneProvider is lego's challenge.Provider over a TXTZone. By hand: lego's
// providers each speak one backend, and this one speaks the zone contract.
type zoneProvider struct {
	ctx  context.Context // the order's: an interrupt stops a write
	zone TXTZone
}

var _ challenge.ProviderTimeout = zoneProvider{}

// Present publishes the challenge record for domain. The name is the
// _acme-challenge name itself: CNAMEs are not followed out of the zone.
func (p zoneProvider) Present(domain, _, keyAuth string) error {
	info := dns01.GetChallengeInfo(domain, keyAuth)
	return p.zone.AddTXT(p.ctx, info.FQDN, info.Value)
}

// CleanUp removes the challenge record again.
func (p zoneProvider) CleanUp(domain, _, keyAuth string) error {
	info := dns01.GetChallengeInfo(domain, keyAuth)
	return p.zone.RemoveTXT(p.ctx, info.FQDN, info.Value)
}

// Timeout is how long the pre-check waits for every authoritative server
// to serve the record, and how often it asks.
func (zoneProvider) Timeout() (timeout, interval time.Duration) {
	return 2 * time.Minute, 250 * time.Millisecond
}
