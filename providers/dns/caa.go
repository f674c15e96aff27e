package dns

import (
	"context"
	"fmt"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// CAA returns the CAA RRset at name as a CA's resolver finds it (RFC 8659
// §3, aliases followed): for a name in the zone, as its primary serves it;
// above the zone, as the resolver answers.
func (s *Server) CAA(ctx context.Context, name string) ([]*mdns.CAA, error) {
	return lookupCAA(ctx, s.Origin, s.Primary, s.Resolver, name, s.timeout())
}

// CAA returns the CAA RRset at name as a CA's resolver finds it: for a
// name in the zone, as its first authoritative server serves it (never the
// API's word); above the zone, as the resolver answers.
func (h *Hosted) CAA(ctx context.Context, name string) ([]*mdns.CAA, error) {
	servers, err := h.nameservers(ctx)
	if err != nil {
		return nil, err
	}
	return lookupCAA(ctx, h.Origin, servers[0], h.Resolver, name, h.timeout())
}

// lookupCAA asks authority for a name under origin, and resolver (default
// the system's) for a name above it, following CNAMEs (at most eight). A
// special-use name above the zone (test., example.) has no CAA a CA could
// find: none, unless a resolver is set.
func lookupCAA(ctx context.Context, origin, authority, resolver, name string, timeout time.Duration) ([]*mdns.CAA, error) {
	name = strings.ToLower(mdns.Fqdn(name))
	for range 8 {
		server := authority
		if !mdns.IsSubDomain(origin, name) {
			if resolver == "" && specialUse(name) {
				return nil, nil
			}
			server = resolver
			if server == "" {
				var err error
				if server, err = systemResolver(); err != nil {
					return nil, err
				}
			}
		}
		r, err := ask(ctx, server, name, mdns.TypeCAA, timeout)
		if err != nil {
			return nil, err
		}
		var out []*mdns.CAA
		target := ""
		for _, rr := range r.Answer {
			switch rr := rr.(type) {
			case *mdns.CAA:
				if strings.EqualFold(rr.Hdr.Name, name) {
					out = append(out, rr)
				}
			case *mdns.CNAME:
				if strings.EqualFold(rr.Hdr.Name, name) {
					target = strings.ToLower(rr.Target)
				}
			}
		}
		if len(out) > 0 || target == "" {
			return out, nil
		}
		name = target
	}
	return nil, fmt.Errorf("CAA at %s: more than eight aliases", name)
}
