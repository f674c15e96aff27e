package acme

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/miekg/dns"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/certificate"
	"github.com/trustform/trustform/schema"
)

var _ certificate.Orderer = (*Account)(nil)

// IssuerFor is the account's issuer for one certificate: its orders take
// the certificate's challenge, profile and preferred chain, and answer the
// challenge through the HTTP vhost that serves its first name (lego's own
// server on http_address, default :80, when none does) or through the
// deepest zone that holds it, whatever serves that zone.
func (a *Account) IssuerFor(b providers.Binding, c *certificate.Block) (certificate.Issuer, hcl.Diagnostics) {
	o, diags := order(b, c)
	return a.Issuer(o), diags
}

func order(b providers.Binding, c *certificate.Block) (Order, hcl.Diagnostics) {
	o := Order{Challenge: c.Challenge, HTTPAddress: c.HTTPAddress, Profile: c.Profile, PreferredChain: c.PreferredChain}
	if o.HTTPAddress == "" {
		o.HTTPAddress = ":80"
	}
	for _, bound := range b.All() {
		if z, ok := bound.(NameZone); ok {
			o.Zones = append(o.Zones, z)
		}
	}
	if c.Challenge == "dns-01" {
		// The deepest zone holding the name: with example.test and
		// sub.example.test both configured, www.sub.example.test's TXT
		// record belongs to the second.
		name := fqdn(strings.TrimPrefix(c.Domains[0], "*."))
		depth := -1
		for _, bound := range b.All() {
			zone, ok := bound.(TXTZone)
			if !ok {
				continue
			}
			if origin := fqdn(zone.Apex()); (name == origin || strings.HasSuffix(name, "."+origin)) && len(origin) > depth {
				o.DNS, depth = zone, len(origin)
			}
		}
		if o.DNS == nil && declaredZone(b, name) {
			return o, nil // its dns_zone did not bind: its own diagnostic says why
		}
		if o.DNS == nil {
			return o, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "No zone for dns-01",
				Detail:  fmt.Sprintf("certificate.%s uses dns-01, but no dns_zone contains %s.", c.Name, c.Domains[0]),
				Subject: c.ChallengeRange.Ptr()}}
		}
		return o, nil
	}
	sites := websites(b)
	for _, w := range sites {
		if w.Certificate.Set() || w.ACMEWebroot == "" || !providers.Serves(w.Names, c.Domains[0]) {
			continue
		}
		o.Webroot, o.WebrootHost = b.Config().LocalPath(w.Host, w.ACMEWebroot), b.Host(w.Host)
		if w.ProbeAddr != "" {
			o.PreCheck = b.HTTP01Check(c.Cert(), o.WebrootHost, o.Webroot, challengeDial(sites, w.ProbeAddr))
		}
	}
	return o, nil
}

// websites are the configuration's web sites (vhosts), in order.
func websites(b providers.Binding) []*providers.Web {
	var out []*providers.Web
	b.Config().Each(func(_ schema.Address, _ hcl.Range, blk schema.Block) {
		if w, ok := blk.(providers.Website); ok {
			out = append(out, w.Web())
		}
	})
	return out
}

// challengeDial is where a CA's requests for a name land: the HTTP vhost
// at httpAddr, and the running TLS vhost that serves the name, for a
// redirect to https.
func challengeDial(sites []*providers.Web, httpAddr string) func(name string) map[string]string {
	return func(name string) map[string]string {
		dial := map[string]string{"http": httpAddr}
		for _, w := range sites {
			if w.ProbeAddr != "" && w.Certificate.Set() && providers.Serves(w.Names, name) {
				dial["https"] = w.ProbeAddr
			}
		}
		return dial
	}
}

// fqdn is a name fully qualified and lower case, as zones are compared.
func fqdn(s string) string { return strings.ToLower(dns.Fqdn(s)) }

// declaredZone reports whether the configuration declares a zone holding
// name (fully qualified), bound or not.
func declaredZone(b providers.Binding, name string) bool {
	for _, blk := range b.Config().Blocks("dns_zone") {
		if z, ok := blk.(interface{ ZoneName() string }); ok {
			if origin := fqdn(z.ZoneName()); name == origin || strings.HasSuffix(name, "."+origin) {
				return true
			}
		}
	}
	return false
}
