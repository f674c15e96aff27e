package dns

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/trustform/trustform/providers"
)

// TLSA is the records of one usage, selector and matching type at an owner
// name: one tlsa resource. Several resources may share an owner (3 1 1 and
// 2 1 1 at _25._tcp.mail, say); each manages its own combination and keeps
// the others' records when it writes the RRset.
type TLSA struct {
	Zone          Zone
	Owner         string // fully qualified, lower case
	TTL           uint32
	Params        [3]uint8
	RequireDNSSEC bool

	// Filled by Observe: this resource's records every authoritative server
	// serves (what the tlsa-before-cert gate counts from), the servers that
	// lag, and the primary's records at Owner with other parameters.
	Visible []string
	Lagging []string
	Others  []string
}

// owns reports whether a record (as Presentation writes it) has t's parameters.
func (t *TLSA) owns(record string) bool {
	return strings.HasPrefix(record, fmt.Sprintf("%d %d %d ", t.Params[0], t.Params[1], t.Params[2]))
}

// split divides records into t's and the others.
func (t *TLSA) split(records []string) (own, others []string) {
	for _, r := range records {
		if t.owns(r) {
			own = append(own, r)
		} else {
			others = append(others, r)
		}
	}
	return own, others
}

// Observe returns the RRset as the primary serves it, or nil when there is none.
func (t *TLSA) Observe(ctx context.Context) (providers.Value, error) {
	rrs, err := t.Zone.TLSA(ctx, t.Owner)
	if err != nil {
		return nil, err
	}
	var visible []string
	if visible, t.Lagging, err = t.Zone.Propagation(ctx, t.Owner); err != nil {
		return nil, err
	}
	t.Visible, _ = t.split(visible)
	own, others := t.split(Presentation(rrs))
	t.Others = others
	if len(own) == 0 {
		return nil, nil
	}
	v := t.Value(rrs[0].Hdr.Ttl, own)
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

// Combine turns the records each resource should hold into one RRset per
// owner: their records, and the records of other parameters at that owner
// that none of them manages, as last observed.
func Combine(changes map[*TLSA][]string) []RRset {
	byOwner := map[string][]*TLSA{}
	for t := range changes {
		byOwner[t.Owner] = append(byOwner[t.Owner], t)
	}
	var out []RRset
	for _, owner := range slices.Sorted(maps.Keys(byOwner)) {
		ts := byOwner[owner]
		var records []string
		for _, t := range ts {
			records = append(records, changes[t]...)
			for _, o := range t.Others {
				if !slices.ContainsFunc(ts, func(u *TLSA) bool { return u.owns(o) }) {
					records = append(records, o)
				}
			}
		}
		slices.Sort(records)
		out = append(out, RRset{Owner: owner, TTL: ts[0].TTL, Records: slices.Compact(records)})
	}
	return out
}
