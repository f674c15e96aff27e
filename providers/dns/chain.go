package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/internal/netpolicy"
)

// RootAnchors are the DS records of the root zone's key-signing keys as
// IANA publishes them (https://data.iana.org/root-anchors/root-anchors.xml):
// KSK-2017 and KSK-2024. Either one validates.
const RootAnchors = `. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D
. IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16`

// Chain checks DNSSEC's chain of trust (RFC 4035 §5) from a trust anchor
// down to a zone: at every zone cut the parent's signed DS RRset names a
// key that signs the child's DNSKEY RRset, and every signature on the way
// verifies and is inside its validity. This is the walk only; the
// cryptography is miekg/dns's (RRSIG.Verify, DNSKEY.ToDS, DNSKEY.KeyTag).
type Chain struct {
	// Anchor is the trust anchor: DS or DNSKEY records of one owner.
	Anchor []mdns.RR
	// Resolver (host:port) is asked for the DS and DNSKEY RRsets along the
	// way, with checking disabled: it answers what it holds, and the
	// verdict is this walk's. Default: the first of /etc/resolv.conf.
	Resolver string
	Timeout  time.Duration // per question; default 5 s
}

// ParseAnchor reads a trust anchor: DS or DNSKEY records in presentation
// form ("example. IN DS 12345 13 2 ab…"), one owner, one per line.
func ParseAnchor(text string) ([]mdns.RR, error) {
	var out []mdns.RR
	zp := mdns.NewZoneParser(strings.NewReader(text), ".", "trust_anchor")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		switch rr.(type) {
		case *mdns.DS, *mdns.DNSKEY:
		default:
			return nil, fmt.Errorf("a trust anchor is DS or DNSKEY records, not %s", mdns.TypeToString[rr.Header().Rrtype])
		}
		if len(out) > 0 && !strings.EqualFold(rr.Header().Name, out[0].Header().Name) {
			return nil, fmt.Errorf("the trust anchor's records have two owners, %s and %s", out[0].Header().Name, rr.Header().Name)
		}
		out = append(out, rr)
	}
	if err := zp.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the trust anchor holds no DS or DNSKEY record")
	}
	return out, nil
}

// ChainError is a broken link of the chain: the parent, the child, and
// what does not match.
type ChainError struct {
	Parent, Child string
	Problem       string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("the DNSSEC chain from %s to %s does not validate: %s", e.Parent, e.Child, e.Problem)
}

// Validate walks the chain from the anchor's owner down to zone. It
// returns when the zone's DNSKEY RRset signatures expire (the earliest of
// those that validate), or a *ChainError naming the broken link.
func (c Chain) Validate(ctx context.Context, zone string) (signedUntil time.Time, err error) {
	zone = strings.ToLower(mdns.Fqdn(zone))
	top := strings.ToLower(c.Anchor[0].Header().Name)
	if !mdns.IsSubDomain(top, zone) {
		return time.Time{}, &ChainError{top, zone, "the trust anchor is not above the zone"}
	}
	keys, until, err := c.zoneKeys(ctx, top, "the trust anchor", func(k *mdns.DNSKEY) bool { return anchors(c.Anchor, k) })
	if err != nil {
		return time.Time{}, err
	}
	labels := mdns.SplitDomainName(zone)
	parent := top
	for i := len(labels) - mdns.CountLabel(top) - 1; i >= 0; i-- {
		child := mdns.Fqdn(strings.Join(labels[i:], "."))
		ds, err := c.signedSet(ctx, child, mdns.TypeDS, parent, keys)
		if err != nil {
			return time.Time{}, err
		}
		if len(ds) == 0 {
			if child == zone {
				return time.Time{}, &ChainError{parent, child, fmt.Sprintf("%s serves no DS record for %s: the delegation is insecure, and no validating client trusts the zone's signatures", parent, child)}
			}
			continue // not a zone cut
		}
		keys, until, err = c.zoneKeys(ctx, child, "the DS RRset at "+parent+" (key tags "+tags(ds)+")", func(k *mdns.DNSKEY) bool { return anchors(ds, k) })
		if err != nil {
			var ce *ChainError
			if errors.As(err, &ce) {
				ce.Parent = parent
			}
			return time.Time{}, err
		}
		parent = child
	}
	return until, nil
}

// zoneKeys reads the DNSKEY RRset at owner and returns it when one of its
// keys that trusted accepts signs it (what, for errors, names where the
// trust comes from), with when that signature expires.
func (c Chain) zoneKeys(ctx context.Context, owner, what string, trusted func(*mdns.DNSKEY) bool) ([]*mdns.DNSKEY, time.Time, error) {
	r, err := c.ask(ctx, owner, mdns.TypeDNSKEY)
	if err != nil {
		return nil, time.Time{}, &ChainError{owner, owner, err.Error()}
	}
	var keys []*mdns.DNSKEY
	var set []mdns.RR
	for _, rr := range r.Answer {
		if k, ok := rr.(*mdns.DNSKEY); ok && strings.EqualFold(k.Hdr.Name, owner) {
			keys, set = append(keys, k), append(set, k)
		}
	}
	var entry []*mdns.DNSKEY
	for _, k := range keys {
		if trusted(k) {
			entry = append(entry, k)
		}
	}
	if len(entry) == 0 {
		return nil, time.Time{}, &ChainError{owner, owner, fmt.Sprintf("no DNSKEY of %s matches %s: the zone's keys have key tags %s", owner, what, keyTags(keys))}
	}
	until, err := verified(r, set, entry, time.Now())
	if err != nil {
		return nil, time.Time{}, &ChainError{owner, owner, fmt.Sprintf("the DNSKEY RRset of %s: %v", owner, err)}
	}
	return keys, until, nil
}

// signedSet reads the RRset of type t at owner, which signer's keys must
// sign; none is an empty answer.
func (c Chain) signedSet(ctx context.Context, owner string, t uint16, signer string, keys []*mdns.DNSKEY) ([]mdns.RR, error) {
	r, err := c.ask(ctx, owner, t)
	if err != nil {
		return nil, &ChainError{signer, owner, err.Error()}
	}
	set := recordsOf(r, owner, t)
	if len(set) == 0 {
		return nil, nil
	}
	if _, err := verified(r, set, keys, time.Now()); err != nil {
		return nil, &ChainError{signer, owner, fmt.Sprintf("the %s RRset of %s: %v", mdns.TypeToString[t], owner, err)}
	}
	return set, nil
}

// verified checks that one RRSIG over set in r, by one of keys, verifies
// and is valid at now; it returns when that signature expires (the latest
// of those that do), or why none does.
func verified(r *mdns.Msg, set []mdns.RR, keys []*mdns.DNSKEY, now time.Time) (time.Time, error) {
	var why []string
	var until time.Time
	for _, rr := range r.Answer {
		sig, ok := rr.(*mdns.RRSIG)
		if !ok || sig.TypeCovered != set[0].Header().Rrtype || !strings.EqualFold(sig.Hdr.Name, set[0].Header().Name) {
			continue
		}
		i := slices.IndexFunc(keys, func(k *mdns.DNSKEY) bool {
			return k.KeyTag() == sig.KeyTag && k.Algorithm == sig.Algorithm && strings.EqualFold(k.Hdr.Name, sig.SignerName)
		})
		switch {
		case i < 0:
			why = append(why, fmt.Sprintf("signed by key tag %d of %s, which is not among the validated keys (%s)", sig.KeyTag, sig.SignerName, keyTags(keys)))
		case sig.Verify(keys[i], set) != nil:
			why = append(why, fmt.Sprintf("the signature by key tag %d does not verify", sig.KeyTag))
		case !sig.ValidityPeriod(now) && sigTime(sig.Expiration, now).Before(now):
			why = append(why, fmt.Sprintf("the signature by key tag %d expired at %s", sig.KeyTag, sigTime(sig.Expiration, now).Format(time.RFC3339)))
		case !sig.ValidityPeriod(now):
			why = append(why, fmt.Sprintf("the signature by key tag %d is not valid before %s", sig.KeyTag, sigTime(sig.Inception, now).Format(time.RFC3339)))
		default:
			if t := sigTime(sig.Expiration, now); t.After(until) {
				until = t
			}
		}
	}
	if !until.IsZero() {
		return until, nil
	}
	if len(why) == 0 {
		return time.Time{}, fmt.Errorf("no RRSIG covers it")
	}
	return time.Time{}, fmt.Errorf("%s", strings.Join(why, "; "))
}

// sigTime is an RRSIG time (RFC 4034 §3.1.5: serial arithmetic on 32 bits)
// as the time nearest now.
func sigTime(t uint32, now time.Time) time.Time {
	return now.Add(time.Duration(int32(t-uint32(now.Unix()))) * time.Second).Truncate(time.Second).UTC()
}

// anchors reports whether k is one of the trust records: a DNSKEY equal to
// k, or a DS of k's key tag, algorithm and digest.
func anchors(trust []mdns.RR, k *mdns.DNSKEY) bool {
	for _, rr := range trust {
		switch a := rr.(type) {
		case *mdns.DNSKEY:
			if a.Flags == k.Flags && a.Algorithm == k.Algorithm && a.PublicKey == k.PublicKey {
				return true
			}
		case *mdns.DS:
			if a.KeyTag != k.KeyTag() || a.Algorithm != k.Algorithm {
				continue
			}
			if ds := k.ToDS(a.DigestType); ds != nil && strings.EqualFold(ds.Digest, a.Digest) {
				return true
			}
		}
	}
	return false
}

// ask sends one question with DO and CD set.
func (c Chain) ask(ctx context.Context, owner string, t uint16) (*mdns.Msg, error) {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	resolver := c.Resolver
	if resolver == "" {
		var err error
		if resolver, err = systemResolver(); err != nil {
			return nil, err
		}
	}
	m := new(mdns.Msg)
	m.SetQuestion(owner, t)
	m.SetEdns0(4096, true)
	m.CheckingDisabled = true
	cl := &mdns.Client{Net: "tcp", Timeout: timeout, Dialer: netpolicy.Dialer(&net.Dialer{Timeout: timeout})}
	r, _, err := cl.ExchangeContext(ctx, m, resolver)
	if err != nil {
		return nil, fmt.Errorf("asking %s for %s %s: %w", resolver, owner, mdns.TypeToString[t], err)
	}
	if r.Rcode != mdns.RcodeSuccess && r.Rcode != mdns.RcodeNameError {
		return nil, fmt.Errorf("%s answered %s to %s %s", resolver, mdns.RcodeToString[r.Rcode], owner, mdns.TypeToString[t])
	}
	return r, nil
}

func keyTags(keys []*mdns.DNSKEY) string {
	var out []string
	for _, k := range keys {
		out = append(out, fmt.Sprint(k.KeyTag()))
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

func tags(ds []mdns.RR) string {
	var out []string
	for _, rr := range ds {
		out = append(out, fmt.Sprint(rr.(*mdns.DS).KeyTag))
	}
	return strings.Join(out, ", ")
}

// chainFor is the chain a dns_zone block asks to be checked: from its
// trust_anchor, or from the root where none is set, for a zone required to
// be signed. None for a special-use name without an anchor: no chain from
// the root reaches it.
func chainFor(z *ZoneBlock) *Chain {
	if !z.RequireDNSSEC {
		return nil
	}
	anchor := z.Anchor
	if anchor == nil {
		if specialUse(z.Zone) {
			return nil
		}
		anchor, _ = ParseAnchor(RootAnchors)
	}
	return &Chain{Anchor: anchor, Resolver: z.Resolver}
}

// specialUse reports a name under a top-level name the root does not
// delegate: RFC 6761's test, example, invalid and localhost, RFC 6762's
// local, RFC 7686's onion, RFC 8375's home.arpa, and internal.
func specialUse(zone string) bool {
	zone = strings.ToLower(mdns.Fqdn(zone))
	for _, top := range []string{"test.", "example.", "invalid.", "localhost.", "local.", "onion.", "internal.", "home.arpa."} {
		if mdns.IsSubDomain(top, zone) {
			return true
		}
	}
	return false
}

// chainValid is rule dnssec-chain-valid's verdict on a zone, asked once per
// run (verdict keeps it): the chain from the trust anchor validates, and
// the signatures over the zone's keys outlive minValidity where it is set.
// A nil chain is not checked.
func chainValid(ctx context.Context, chain *Chain, origin string, minValidity time.Duration, verdict *askedOnce[error]) (checked bool, err error) {
	if chain == nil {
		return false, nil
	}
	v, _ := verdict.get(func() (error, error) {
		until, err := chain.Validate(ctx, origin)
		if err != nil {
			return err, nil
		}
		if minValidity > 0 && until.Before(time.Now().Add(minValidity)) {
			return &ChainError{origin, origin, fmt.Sprintf("the signatures over its DNSKEY RRset expire at %s, within dnssec_min_validity (%s): the signer has stopped refreshing them", until.Format(time.RFC3339), minValidity)}, nil
		}
		return nil, nil
	})
	return true, v
}

// systemResolver is the first resolver of /etc/resolv.conf.
func systemResolver() (string, error) {
	cc, err := mdns.ClientConfigFromFile("/etc/resolv.conf")
	if err != nil || len(cc.Servers) == 0 {
		return "", fmt.Errorf("no resolver to ask for the chain of trust (/etc/resolv.conf: %v); set resolver on the dns_zone", err)
	}
	return net.JoinHostPort(cc.Servers[0], cc.Port), nil
}
