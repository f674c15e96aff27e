package dns

import (
	"context"
	"strconv"

	"github.com/trustform/trustform/providers"
)

// TLSA is one managed TLSA RRset.
type TLSA struct {
	Zone          Zone
	Owner         string // fully qualified, lower case
	TTL           uint32
	Params        [3]uint8
	RequireDNSSEC bool

	// Filled by Observe: the records every authoritative server serves
	// (what the tlsa-before-cert gate counts from) and the servers that lag.
	Visible []string
	Lagging []string
}

// Observe returns the RRset as the primary serves it, or nil when there is none.
func (t *TLSA) Observe(ctx context.Context) (providers.Value, error) {
	rrs, err := t.Zone.TLSA(ctx, t.Owner)
	if err != nil {
		return nil, err
	}
	if t.Visible, t.Lagging, err = t.Zone.Propagation(ctx, t.Owner); err != nil {
		return nil, err
	}
	if len(rrs) == 0 {
		return nil, nil
	}
	v := t.Value(rrs[0].Hdr.Ttl, Presentation(rrs))
	if t.RequireDNSSEC {
		signed, err := t.Zone.Signed(ctx, t.Owner)
		if err != nil {
			return nil, err
		}
		v["signed"] = providers.String(strconv.FormatBool(signed)) // drift when it turns false
	}
	return v, nil
}

// Value is the resource value of an RRset with these records.
func (t *TLSA) Value(ttl uint32, records []string) providers.Value {
	v := providers.Value{
		"name":    providers.String(t.Owner),
		"ttl":     providers.String(strconv.FormatUint(uint64(ttl), 10)),
		"records": providers.List(records...),
	}
	return v
}

// RRset returns the change that makes the live RRset hold records.
func (t *TLSA) RRset(records []string) RRset {
	return RRset{Owner: t.Owner, TTL: t.TTL, Records: records}
}
