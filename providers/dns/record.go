package dns

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	mdns "github.com/miekg/dns"
)

// Record is the presentation form of one TLSA record, "3 1 1 <hex>", with
// the association data in lower case so that records compare as strings
// (zone files often carry it in upper case).
func Record(params [3]uint8, cert *x509.Certificate) (string, error) {
	data, err := mdns.CertificateToDANE(params[1], params[2], cert)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d %d %d %s", params[0], params[1], params[2], strings.ToLower(data)), nil
}

// KeyRecord is Record for a key that has no certificate yet (a staged next
// key). Only selector 1 (SubjectPublicKeyInfo) can be computed from a key.
func KeyRecord(params [3]uint8, pub crypto.PublicKey) (string, error) {
	if params[1] != 1 {
		return "", fmt.Errorf("selector %d covers the whole certificate, which does not exist before it is issued", params[1])
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	return Record(params, &x509.Certificate{RawSubjectPublicKeyInfo: der})
}

// Presentation turns RRs into their sorted rdata in presentation form
// ("3 1 1 ab…" for TLSA, with the hex in lower case).
func Presentation(rrs []mdns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, rdata(rr))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// rdata is one record's data in presentation form.
func rdata(rr mdns.RR) string {
	if t, ok := rr.(*mdns.TLSA); ok {
		return fmt.Sprintf("%d %d %d %s", t.Usage, t.Selector, t.MatchingType, strings.ToLower(t.Certificate))
	}
	return strings.TrimPrefix(rr.String(), rr.Header().String())
}

// recordsOf is the RRs of type t at owner in a message's answer.
func recordsOf(r *mdns.Msg, owner string, t uint16) []mdns.RR {
	var out []mdns.RR
	for _, rr := range r.Answer {
		if rr.Header().Rrtype == t && strings.EqualFold(rr.Header().Name, owner) {
			out = append(out, rr)
		}
	}
	return out
}

// toRRs builds the RRs of an RRset from its records.
func (s RRset) toRRs() ([]mdns.RR, error) {
	var out []mdns.RR
	typ := mdns.TypeToString[s.Type]
	for _, rec := range s.Records {
		if strings.ContainsAny(rec, "\n\r\x00") {
			return nil, fmt.Errorf("malformed %s record %q", typ, rec)
		}
		rr, err := mdns.NewRR(fmt.Sprintf("%s %d IN %s %s", mdns.Fqdn(s.Owner), s.TTL, typ, rec))
		if err != nil || rr == nil {
			return nil, fmt.Errorf("malformed %s record %q", typ, rec)
		}
		out = append(out, rr)
	}
	return out, nil
}

// Pinned is the certificate of a chain (leaf first) that records of this
// usage pin: the leaf for end-entity usages (1, 3), the issuing CA, as the
// server sends it, for trust-anchor usages (0, 2); nil when the chain has
// none.
func Pinned(usage uint8, chain []*x509.Certificate) *x509.Certificate {
	i := 0
	if usage == 0 || usage == 2 {
		i = 1
	}
	if len(chain) <= i {
		return nil
	}
	return chain[i]
}

// Matching reports which of records (as Record writes them) a served chain
// (leaf first) satisfies, with miekg/dns's TLSA verification (hex compared
// case-blind): end-entity records (usage 1, 3) against the leaf,
// trust-anchor records (usage 0, 2) against any CA certificate the server
// sends (RFC 7671 §5.2.2: a DANE-TA anchor must be in the served chain).
func Matching(records []string, chain []*x509.Certificate) []string {
	var out []string
	for _, rec := range records {
		rrs, err := (RRset{Owner: ".", Type: mdns.TypeTLSA, Records: []string{rec}}).toRRs()
		if err != nil || len(rrs) != 1 || len(chain) == 0 {
			continue
		}
		t := rrs[0].(*mdns.TLSA)
		t.Certificate = strings.ToLower(t.Certificate)
		candidates := chain[:1]
		if t.Usage == 0 || t.Usage == 2 {
			candidates = chain[1:]
		}
		if slices.ContainsFunc(candidates, func(c *x509.Certificate) bool { return t.Verify(c) == nil }) {
			out = append(out, rec)
		}
	}
	return out
}

// mxTargets are the lower-case targets of the MX records at owner.
func mxTargets(rrs []mdns.RR, owner string) []string {
	out := []string{}
	for _, rr := range rrs {
		if mx, ok := rr.(*mdns.MX); ok && strings.EqualFold(mx.Hdr.Name, owner) {
			out = append(out, strings.ToLower(mdns.Fqdn(mx.Mx)))
		}
	}
	return out
}

// addressOwners lists the owners of A and AAAA records, lower case, sorted.
func addressOwners(rrs []mdns.RR) []string {
	out := []string{}
	for _, rr := range rrs {
		if t := rr.Header().Rrtype; t == mdns.TypeA || t == mdns.TypeAAAA {
			out = append(out, strings.ToLower(rr.Header().Name))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// presentation is records as zone files write them, sorted.
func presentation(rrs []mdns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, rr.String())
	}
	slices.Sort(out)
	return out
}
