package dns

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	mdns "github.com/miekg/dns"
	"github.com/zclconf/go-cty/cty"

	"github.com/trustform/trustform/providers"
)

// ZoneImporter reads the TLSA RRsets of a dns_zone of the configuration
// as tlsa blocks, each tied to the certificate block whose key (selector
// 1) or certificate (selector 0) its records carry. Records that match no
// certificate are reported, and their RRsets left out.
func ZoneImporter() providers.Importer {
	return providers.Importer{Source: "zone",
		About: "the TLSA RRsets of a dns_zone of the configuration (its address as the path): tlsa blocks",
		Read:  importTLSA}
}

func importTLSA(ctx context.Context, in providers.ImportInput) (providers.Imported, error) {
	var out providers.Imported
	lines, err := in.Records(ctx)
	if err != nil {
		return out, err
	}
	type key struct {
		owner             string
		usage, sel, match uint8
	}
	sets := map[key][]*mdns.TLSA{}
	var order []key
	for _, l := range lines {
		rr, err := mdns.NewRR(l)
		if err != nil {
			continue
		}
		t, ok := rr.(*mdns.TLSA)
		if !ok {
			continue
		}
		k := key{strings.ToLower(t.Hdr.Name), t.Usage, t.Selector, t.MatchingType}
		if _, seen := sets[k]; !seen {
			order = append(order, k)
		}
		sets[k] = append(sets[k], t)
	}
	origin := strings.ToLower(mdns.Fqdn(in.Origin))
	for _, k := range order {
		rrs := sets[k]
		var cert string
		var unmatched []string
		for _, t := range rrs {
			if c := pinned(in.Certs, t); c != "" && (cert == "" || cert == c) {
				cert = c
			} else {
				unmatched = append(unmatched, fmt.Sprintf("%d %d %d %s", t.Usage, t.Selector, t.MatchingType, t.Certificate))
			}
		}
		where := fmt.Sprintf("%s TLSA %d %d %d", k.owner, k.usage, k.sel, k.match)
		switch {
		case k.usage != 3 && k.usage != 1:
			out.Note(where + ": a trust-anchor record (usage 0 or 2) pins a CA, not a certificate of this configuration: left out (write its tlsa block by hand)")
			continue
		case cert == "":
			out.Note(where + ": matches no certificate of this configuration (" + strings.Join(unmatched, "; ") + "): left out")
			continue
		case len(unmatched) > 0:
			out.Note(where + ": " + strings.Join(unmatched, "; ") + " matches no certificate: the first apply removes it (the block keeps the records of " + cert + ")")
		}
		labels := mdns.SplitDomainName(strings.TrimSuffix(k.owner, origin))
		f := providers.Found{Type: "tlsa", Name: providers.Identifier(strings.Join(labels, "_")), Resource: true}
		f.Attrs = append(f.Attrs, providers.RefAttr("zone", in.Zone))
		if port, proto, host, ok := serviceOwner(k.owner); ok {
			f.Name = providers.Identifier(strings.TrimSuffix(strings.TrimSuffix(host, strings.TrimSuffix(origin, ".")), ".") + "_" + strconv.Itoa(port))
			f.Attrs = append(f.Attrs, providers.Lit("port", cty.NumberIntVal(int64(port))))
			if proto != "tcp" {
				f.Attrs = append(f.Attrs, providers.Lit("protocol", cty.StringVal(proto)))
			}
			f.Attrs = append(f.Attrs, providers.Lit("hostname", cty.StringVal(host)))
		} else {
			f.Attrs = append(f.Attrs, providers.Lit("name", cty.StringVal(strings.Join(labels, "."))))
		}
		f.Attrs = append(f.Attrs, providers.RefAttr("certificate", cert))
		if k.usage != 3 || k.sel != 1 || k.match != 1 {
			f.Attrs = append(f.Attrs, providers.Lit("usage", cty.NumberIntVal(int64(k.usage))),
				providers.Lit("selector", cty.NumberIntVal(int64(k.sel))), providers.Lit("matching_type", cty.NumberIntVal(int64(k.match))))
		}
		if ttl := rrs[0].Hdr.Ttl; ttl != 3600 {
			f.Attrs = append(f.Attrs, providers.Lit("ttl", cty.NumberIntVal(int64(ttl))))
		}
		out.Blocks = append(out.Blocks, f)
	}
	slices.SortStableFunc(out.Blocks, func(a, b providers.Found) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// pinned is the certificate a record carries: its key's SPKI (selector
// 1) or its leaf (selector 0), as SHA-256 (matching type 1).
func pinned(certs []providers.HeldCert, t *mdns.TLSA) string {
	if t.MatchingType != 1 {
		return ""
	}
	for _, c := range certs {
		if (t.Selector == 1 && strings.EqualFold(t.Certificate, c.SPKI)) || (t.Selector == 0 && strings.EqualFold(t.Certificate, c.Leaf)) {
			return c.Addr
		}
	}
	return ""
}

// serviceOwner reads _PORT._PROTO.HOST.
func serviceOwner(owner string) (port int, proto, host string, ok bool) {
	labels := mdns.SplitDomainName(owner)
	if len(labels) < 3 || !strings.HasPrefix(labels[0], "_") || !strings.HasPrefix(labels[1], "_") {
		return 0, "", "", false
	}
	port, err := strconv.Atoi(labels[0][1:])
	if err != nil {
		return 0, "", "", false
	}
	return port, labels[1][1:], strings.Join(labels[2:], "."), true
}
