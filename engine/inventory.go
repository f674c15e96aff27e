package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// Holding is one certificate of the inventory: what it holds and where it
// is used, so that "where does this key live" has one answer.
type Holding struct {
	Address string `json:"address"`
	providers.Held
	Host     string   `json:"host"`      // host.NAME, or "" for this machine
	UsedBy   []string `json:"used_by"`   // vhosts and services, with their endpoints
	PinnedBy []string `json:"pinned_by"` // TLSA RRsets: owner name and parameters
	// ToRevoke are the certificates it replaced that an approved -revoke
	// has not revoked yet (state's retiring): "SERIAL (REASON)".
	ToRevoke []string `json:"to_revoke,omitempty"`
}

// Filter is what show's inventory is narrowed to: a key (SPKI SHA-256,
// hex, colons allowed), certificates expiring within a duration of now, a
// host (NAME of host.NAME, or "local" for this machine). Zero values do not
// narrow.
type Filter struct {
	Key    string
	Within time.Duration
	Host   string
}

// Select returns the holdings the filter lets through, in order.
func (f Filter) Select(all []Holding, now time.Time) []Holding {
	key := strings.ToLower(strings.ReplaceAll(f.Key, ":", ""))
	f.Host = strings.TrimPrefix(f.Host, "host.") // as the inventory prints it, or the block's name
	var out []Holding
	for _, h := range all {
		switch {
		case key != "" && h.SPKISHA256 != key && h.NextKey != key:
		case f.Within > 0 && (h.NotAfter == nil || h.NotAfter.After(now.Add(f.Within))):
		case f.Host != "" && h.Host != "host."+f.Host && !(f.Host == "local" && h.Host == ""):
		default:
			out = append(out, h)
		}
	}
	return out
}

// Inventory reads every certificate where it is deployed (read-only; no
// other resource is observed) and relates it to what serves and pins it.
func (r *Run) Inventory(ctx context.Context) ([]Holding, error) {
	ctx = host.ReadOnly(ctx)
	r.connect()
	used, pinned := map[schema.Address][]string{}, map[schema.Address][]string{}
	for _, n := range r.g.Nodes {
		d, ok := n.Res.(providers.Described)
		if !ok {
			continue
		}
		line := fmt.Sprintf("%s (%s)", n.Addr, d.Describe())
		if s, ok := n.Res.(providers.Server); ok && !s.Serves().IsZero() {
			used[s.Serves()] = append(used[s.Serves()], line)
		}
		if p, ok := n.Res.(providers.Pin); ok {
			pinned[p.Pinned()] = append(pinned[p.Pinned()], line)
		}
	}
	var out []Holding
	for _, n := range r.g.Nodes {
		kh, ok := n.Res.(providers.KeyHolder)
		if !ok || r.cfg.Gone(n.Addr) {
			continue
		}
		held, err := kh.Held(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.Addr, err)
		}
		h := Holding{Address: n.Addr.String(), Held: *held, UsedBy: orEmpty(used[n.Addr]), PinnedBy: orEmpty(pinned[n.Addr])}
		for _, rt := range r.owed(h.Address) {
			h.ToRevoke = append(h.ToRevoke, rt.Serial+" ("+rt.Reason+")")
		}
		if host := r.cfg.HostOf(n.Addr); host.Set() {
			h.Host = host.Address.String()
		}
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b Holding) int { return strings.Compare(a.Address, b.Address) })
	return out, nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
