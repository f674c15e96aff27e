package dns

import (
	"context"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// Zone reads and changes the RRsets trustform manages in one DNS zone, of
// any type (TLSA, TXT, CAA), whatever serves the zone: the kinds that ask
// never see which.
//
// RRset returns the records of type t at owner (nil when there are none):
// absent is a value, not an error. Update replaces every given RRset in one
// atomic change: after an error nothing has changed. Propagation asks
// every authoritative server for the RRset (Served). Signed reports
// whether the RRset carries an RRSIG.
type Zone interface {
	RRset(ctx context.Context, owner string, t uint16) ([]mdns.RR, error)
	Update(ctx context.Context, sets []RRset) error
	Propagation(ctx context.Context, owner string, t uint16) (Served, error)
	Signed(ctx context.Context, owner string, t uint16) (bool, error)
	// KeysSigned reports whether the zone is signed at all: a DNSKEY
	// RRset at the apex with a valid RRSIG over it.
	KeysSigned(ctx context.Context) (bool, error)
	// ChainValid is rule dnssec-chain-valid's verdict, asked once per run:
	// whether the chain of trust is checked at all (not for a zone not
	// required to be signed, nor for a special-use name without a
	// trust_anchor), and a *ChainError naming the broken link unless the
	// chain from the zone's trust anchor validates down to its keys.
	ChainValid(ctx context.Context) (checked bool, err error)
	// MX lists the targets (fully qualified, lower case) of the apex MX
	// RRset; none is an empty list.
	MX(ctx context.Context) ([]string, error)
	// Hosts lists the owner names (fully qualified, lower case, sorted)
	// that carry A or AAAA records: the names browsers can reach. A server
	// that refuses a zone transfer is an error, since its names cannot be
	// listed otherwise.
	Hosts(ctx context.Context) ([]string, error)
	// Records are every record of the zone in presentation form (a zone
	// transfer from the primary, the API's listing, the file).
	Records(ctx context.Context) ([]string, error)
}

// Served is what the authoritative servers of a zone answer for one RRset.
type Served struct {
	// Visible is the records (rdata, as Presentation gives them) every
	// server serves, each with a valid RRSIG where the zone requires
	// DNSSEC.
	Visible []string
	// Lagging names the servers that serve something else, with why
	// where it is not the records.
	Lagging []string
	// SignedUntil is when the servers' signatures over the RRset expire:
	// for each server the latest valid RRSIG, the earliest of those.
	// Zero where the zone is not required to be signed.
	SignedUntil time.Time
	// Servers is each server's answer, in the order they were asked.
	Servers []ServerAnswer
}

// ServerAnswer is what one authoritative server answers for an RRset.
type ServerAnswer struct {
	Server  string
	Records []string // as Presentation gives them
	// Err says why the server gave no usable answer (no answer, no RRSIG
	// where the zone requires DNSSEC); "" when it answered.
	Err string
	// SignedUntil is when its latest valid RRSIG over the RRset expires;
	// zero where the zone is not required to be signed.
	SignedUntil time.Time
}

// RRset is the complete RRset of Type wanted at Owner; no Records deletes
// it.
type RRset struct {
	Owner   string // fully qualified, lower case
	Type    uint16
	TTL     uint32
	Records []string // rdata in presentation form, as Presentation gives it: "3 1 1 ab…" for TLSA
}

// key names an RRset in the maps of what was observed: owner and type.
func key(owner string, t uint16) string {
	return strings.ToLower(mdns.Fqdn(owner)) + " " + mdns.TypeToString[t]
}
