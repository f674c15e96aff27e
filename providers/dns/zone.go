package dns

import (
	"context"

	mdns "github.com/miekg/dns"
)

// Zone reads and changes the TLSA RRsets of one DNS zone.
//
// TLSA returns the records at owner (nil when there are none): absent is a
// value, not an error. Update replaces every given RRset in one atomic
// change: after an error nothing has changed. Propagation returns the
// records every authoritative server serves and names the servers that lag
// behind. Signed reports whether the RRset carries an RRSIG.
type Zone interface {
	TLSA(ctx context.Context, owner string) ([]*mdns.TLSA, error)
	Update(ctx context.Context, sets []RRset) error
	Propagation(ctx context.Context, owner string) (visible, lagging []string, err error)
	Signed(ctx context.Context, owner string) (bool, error)
	// KeysSigned reports whether the zone is signed at all: a DNSKEY
	// RRset at the apex with a valid RRSIG over it.
	KeysSigned(ctx context.Context) (bool, error)
	// MX lists the targets (fully qualified, lower case) of the apex MX
	// RRset; none is an empty list.
	MX(ctx context.Context) ([]string, error)
	// Hosts lists the owner names (fully qualified, lower case, sorted)
	// that carry A or AAAA records: the names browsers can reach. A server
	// that refuses a zone transfer is an error, since its names cannot be
	// listed otherwise.
	Hosts(ctx context.Context) ([]string, error)
}

// RRset is the complete TLSA RRset wanted at Owner; no Records deletes it.
type RRset struct {
	Owner   string // fully qualified, lower case
	TTL     uint32
	Records []string // "usage selector matching-type hex", as Record returns them
}
