package dns

import (
	"context"
	"strconv"

	"github.com/trustform/trustform/providers"
)

// TLSA is one managed TLSA RRset.
type TLSA struct {
	Zone   Zone
	Owner  string // fully qualified, lower case
	TTL    uint32
	Params [3]uint8
}

// Observe returns the live RRset, or nil when there is none.
func (t *TLSA) Observe(ctx context.Context) (providers.Value, error) {
	rrs, err := t.Zone.TLSA(ctx, t.Owner)
	if err != nil || len(rrs) == 0 {
		return nil, err
	}
	return t.Value(rrs[0].Hdr.Ttl, Presentation(rrs)), nil
}

// Value is the resource value of an RRset with these records.
func (t *TLSA) Value(ttl uint32, records []string) providers.Value {
	return providers.Value{
		"name":    providers.String(t.Owner),
		"ttl":     providers.String(strconv.FormatUint(uint64(ttl), 10)),
		"records": providers.List(records...),
	}
}

// RRset returns the change that makes the live RRset hold records.
func (t *TLSA) RRset(records []string) RRset {
	return RRset{Owner: t.Owner, TTL: t.TTL, Records: records}
}
