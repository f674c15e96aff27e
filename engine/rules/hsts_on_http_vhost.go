package rules

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/net/publicsuffix"

	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/internal/probe"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// HSTSOnHTTPVhost: a vhost with hsts has an HTTP vhost for the same names
// that redirects to HTTPS on the same host and, unless on_http = false,
// carries the same header before the redirect; HSTS is switched on only
// once the certificate covers every name (the engine orders the switch after
// the certificate); preload needs max-age ≥ one year, includeSubDomains, and
// HTTPS on every declared subdomain. A wrong HSTS locks users out for max-age.
const HSTSOnHTTPVhost hstsOnHTTPVhost = "hsts-on-http-vhost"

type hstsOnHTTPVhost string

var (
	_ Refuser     = HSTSOnHTTPVhost
	_ LiveChecker = HSTSOnHTTPVhost
	_ Orderer     = HSTSOnHTTPVhost
)

// Name is the rule's name.
func (r hstsOnHTTPVhost) Name() string { return string(r) }

// Refuse checks every vhost with hsts against the rule.
func (r hstsOnHTTPVhost) Refuse(cfg *schema.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, v := range websites(cfg) {
		diags = append(diags, r.refuseBlock(v)...)
	}
	httpByName := indexVhosts(cfg, false)
	for _, v := range websites(cfg) {
		h := v.HSTS
		if h == nil || !v.Certificate.Set() {
			continue
		}
		cert := certOf(cfg, v.Certificate)
		var uncovered []string
		for _, n := range v.Names {
			if cert != nil && !Serves(cert.Names, n) {
				uncovered = append(uncovered, n)
			}
		}
		if len(uncovered) > 0 {
			diags = append(diags, refusal(r, v.NamesRange,
				"HSTS for names the certificate does not cover",
				fmt.Sprintf("vhost.%s sends HSTS, but %s does not cover %s. Browsers would refuse those names for max-age seconds with no way to click through.",
					v.Name, v.Certificate.Address, strings.Join(uncovered, ", "))))
		}
		onHTTP := h.OnHTTP == nil || *h.OnHTTP
		seen := map[*providers.Web]bool{}
		for _, n := range v.Names {
			for _, hv := range httpByName.lookup(n) {
				if seen[hv] {
					continue
				}
				seen[hv] = true
				switch {
				case !hv.RedirectHTTPS:
					diags = append(diags, refusal(r, hv.DeclRange,
						"HTTP vhost does not redirect to HTTPS",
						fmt.Sprintf("vhost.%s serves %s over plain HTTP while vhost.%s sends HSTS for it. HSTS preload and first visits need a redirect to https:// on the same host: set redirect_https = true.", hv.Name, n, v.Name)))
				case onHTTP && hv.HSTSFrom.Address != v.Address:
					diags = append(diags, refusal(r, hv.DeclRange,
						"HTTP vhost redirects without the HSTS header",
						fmt.Sprintf("vhost.%s redirects %s to HTTPS but does not carry vhost.%s's HSTS header before the redirect. Set hsts_from = vhost.%s, or hsts { on_http = false } on vhost.%s (browsers ignore the header over HTTP, RFC 6797 §8.1).", hv.Name, n, v.Name, v.Name, v.Name)))
				}
			}
		}
	}
	bare := bareSubdomains(cfg, declaredNames(cfg))
	for _, v := range websites(cfg) {
		if names := bare[v]; len(names) > 0 {
			diags = append(diags, refusal(r, v.HSTS.PreloadRange,
				"preload with subdomains that do not serve HTTPS",
				fmt.Sprintf("includeSubDomains with preload forces HTTPS on every subdomain, but no TLS vhost serves %s. Those names would become unreachable in browsers.", strings.Join(names, ", "))))
		}
	}
	diags = append(diags, r.refuseRegistrable(cfg)...)
	return diags
}

// bareSubdomains lists, per vhost whose HSTS preload covers subdomains,
// the names under its names that no TLS vhost serves, sorted. The preload
// list forces HTTPS on them, so they become unreachable in browsers.
func bareSubdomains(cfg *schema.Config, names []string) map[*providers.Web][]string {
	httpsByName := indexVhosts(cfg, true)
	preloaded := map[string]*providers.Web{}
	for _, v := range websites(cfg) {
		if preloadsSubdomains(v) {
			for _, n := range v.Names {
				preloaded[strings.ToLower(strings.TrimPrefix(n, "*."))] = v
			}
		}
	}
	bare := map[*providers.Web][]string{}
	for _, name := range names {
		if len(httpsByName.lookup(name)) > 0 {
			continue
		}
		for parent := name; ; { // walk the name's parents up to a preloaded one
			_, up, ok := strings.Cut(parent, ".")
			if !ok {
				break
			}
			if v := preloaded[up]; v != nil {
				bare[v] = append(bare[v], name)
				break
			}
			parent = up
		}
	}
	for _, names := range bare {
		sort.Strings(names)
	}
	return bare
}

// refuseRegistrable: the preload list takes registrable domains only
// (eTLD+1 by the Public Suffix List) and reads the header there, so a name
// under preload needs its registrable domain served with preload too; a
// public suffix cannot be preloaded at all.
func (r hstsOnHTTPVhost) refuseRegistrable(cfg *schema.Config) hcl.Diagnostics {
	served := map[string]bool{} // names served with a preload header that covers subdomains
	for _, v := range websites(cfg) {
		if preloadsSubdomains(v) {
			for _, n := range v.Names {
				served[strings.ToLower(n)] = true
			}
		}
	}
	var diags hcl.Diagnostics
	for _, v := range websites(cfg) {
		if !preloadsSubdomains(v) || v.HSTS.MaxAge < providers.MinPreloadMaxAge {
			continue // refuseBlock already said what preload lacks
		}
		var missing []string
		for _, n := range v.Names {
			n = strings.ToLower(strings.TrimPrefix(n, "*."))
			domain, err := publicsuffix.EffectiveTLDPlusOne(n)
			switch {
			case err != nil:
				diags = append(diags, refusal(r, v.HSTS.PreloadRange, "HSTS preload for a public suffix",
					fmt.Sprintf("vhost.%s asks for preload on %s, which is a public suffix (Public Suffix List): no registrable domain to preload, and the list refuses it.", v.Name, n)))
			case !served[domain] && !slices.Contains(missing, domain):
				missing = append(missing, domain)
			}
		}
		if len(missing) > 0 {
			diags = append(diags, refusal(r, v.HSTS.PreloadRange, "HSTS preload without its registrable domain",
				fmt.Sprintf("The preload list takes registrable domains only and reads the header there: %s (by the Public Suffix List) must itself be served by a TLS vhost with hsts { preload = true, include_subdomains = true }. vhost.%s's preload is otherwise never used. Serve %s with this header, or drop preload.",
					strings.Join(missing, ", "), v.Name, strings.Join(missing, ", "))))
		}
	}
	return diags
}

// Published warns, for a preload that covers subdomains, about names that
// managed zones publish (A or AAAA) under it and no TLS vhost serves: the
// preload list will force HTTPS on them (a mail host, a name server). The
// configuration's own names are refused by Refuse; zones whose names could
// not be listed are said, so that "no warning" is not read as "checked".
func (r hstsOnHTTPVhost) Published(cfg *schema.Config, hosts []string, unlisted []string) hcl.Diagnostics {
	declared := map[string]bool{}
	for _, n := range declaredNames(cfg) {
		declared[n] = true
	}
	var names []string
	for _, h := range hosts {
		if h = strings.ToLower(strings.TrimSuffix(h, ".")); !declared[h] && !strings.HasPrefix(h, "*.") {
			names = append(names, h)
		}
	}
	var diags hcl.Diagnostics
	bare := bareSubdomains(cfg, names)
	for _, v := range websites(cfg) {
		if names := bare[v]; len(names) > 0 {
			diags = append(diags, Warning(r, v.HSTS.PreloadRange, "preload forces HTTPS on names the zones publish",
				fmt.Sprintf("includeSubDomains with preload makes browsers use HTTPS for every subdomain of the names vhost.%s serves, and the managed zones publish addresses for %s, which no TLS vhost here serves. Serve HTTPS there (another server may already), or drop include_subdomains before submitting the domain.",
					v.Name, strings.Join(names, ", "))))
		}
	}
	for _, u := range unlisted {
		for _, v := range websites(cfg) {
			if preloadsSubdomains(v) {
				diags = append(diags, Warning(r, v.HSTS.PreloadRange, "names of a zone not checked for preload",
					"The names that "+u+" publishes could not be listed, so which of them preload forces to HTTPS was not checked. Allow the zone's TSIG key to transfer the zone (allow-transfer) for the check."))
				break
			}
		}
	}
	return diags
}

// Preloads reports whether a vhost's preload covers subdomains: only then
// are the zones' names worth listing.
func Preloads(cfg *schema.Config) bool {
	return slices.ContainsFunc(websites(cfg), preloadsSubdomains)
}

// preloadsSubdomains: a TLS vhost whose HSTS asks for preload with
// includeSubDomains.
func preloadsSubdomains(v *providers.Web) bool {
	h := v.HSTS
	return h != nil && h.Preload && h.IncludeSubdomains && v.Certificate.Set()
}

// refuseBlock checks one vhost's hsts block on its own: preload's
// requirements, and HSTS only where TLS is served.
func (r hstsOnHTTPVhost) refuseBlock(v *providers.Web) hcl.Diagnostics {
	h := v.HSTS
	if h == nil {
		return nil
	}
	var diags hcl.Diagnostics
	if h.Preload && (h.MaxAge < providers.MinPreloadMaxAge || !h.IncludeSubdomains) {
		var missing []string
		if h.MaxAge < providers.MinPreloadMaxAge {
			missing = append(missing, fmt.Sprintf("max_age ≥ %d (one year; it is %d)", providers.MinPreloadMaxAge, h.MaxAge))
		}
		if !h.IncludeSubdomains {
			missing = append(missing, "include_subdomains = true")
		}
		diags = append(diags, refusal(r, h.PreloadRange, "HSTS preload requirements not met",
			"The preload list accepts a domain only with "+strings.Join(missing, " and ")+
				". A header that asks for preload without them is refused by the list and misleads readers of this configuration."))
	}
	if !v.Certificate.Set() {
		diags = append(diags, refusal(r, h.DeclRange, "HSTS on a vhost without TLS", "Browsers ignore Strict-Transport-Security over plain HTTP (RFC 6797 §8.1). Put hsts on the HTTPS vhost and use hsts_from on the HTTP one."))
	}
	return diags
}

// declaredNames lists every name a vhost serves, sorted. Names that only
// have a certificate (an SMTP server's, say) are not web names.
func declaredNames(cfg *schema.Config) []string {
	set := map[string]bool{}
	for _, v := range websites(cfg) {
		for _, n := range v.Names {
			set[strings.ToLower(n)] = true
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		if !strings.HasPrefix(n, "*.") {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Live quotes what running HTTP vhosts answer when it breaks the rule: no
// same-host redirect, or a redirect without the header the configuration sends.
func (r hstsOnHTTPVhost) Live(_ context.Context, vhosts []Probed) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, v := range vhosts {
		if n := probe.HSTSHeaders(v.Observed["served_hsts"].Str); n > 1 {
			scheme := "http"
			if v.Block.Certificate.Set() {
				scheme = "https"
			}
			diags = append(diags, Warning(r, v.Block.DeclRange, "more than one Strict-Transport-Security header",
				fmt.Sprintf("GET %s://%s/ is answered with %d Strict-Transport-Security headers (%s). Browsers obey only the first (RFC 6797 §8.1) and the preload list refuses the domain. Another add_header or Header line, or the application behind the server, sends the others: remove them, trustform's is the one in the configuration.",
					scheme, v.Block.Names[0], n, strings.SplitN(v.Observed["served_hsts"].Str, ": ", 2)[1])))
		}
		if v.Block.Certificate.Set() || !v.Block.RedirectHTTPS {
			continue
		}
		name := v.Block.Names[0]
		red := v.Observed["served_redirect"].Str
		loc := ""
		if f := strings.Fields(red); len(f) == 2 {
			loc = f[1]
		}
		if !probe.SameHostHTTPS(loc, name) {
			diags = append(diags, Warning(r, v.Block.DeclRange, "no same-host redirect to HTTPS",
				fmt.Sprintf("GET http://%s/ is answered %q; HSTS preload wants a redirect to https://%s/ first.", name, red, name)))
		} else if v.HSTS != "" && v.Observed["served_hsts"].Str == "" {
			diags = append(diags, Warning(r, v.Block.DeclRange, "the redirect carries no HSTS header",
				fmt.Sprintf("GET http://%s/ is answered %q without Strict-Transport-Security; the configuration sends %q there.", name, red, v.HSTS)))
		}
	}
	return diags
}

// Order: HSTS switches on only after the certificate is deployed, and the
// HTTP vhost's header follows the HTTPS vhost's.
func (r hstsOnHTTPVhost) Order(g *graph.Graph) {
	for _, n := range g.Nodes {
		v := webOf(g.Config, n.Addr)
		if v == nil || n.Change == nil || n.Change.Action == providers.Delete {
			continue
		}
		if s := g.Last(n.Addr); s != nil && s.Phase == providers.PhaseWrite && n.Desired["hsts"].Str != "" && (n.Observed == nil || n.Observed["hsts"].Str == "") {
			s.Desc += "; HSTS switches on"
			s.Claim(g.Last(v.Certificate.Address), r.Name())
		}
		if v.HSTSFrom.Set() {
			g.Last(n.Addr).After(g.Last(v.HSTSFrom.Address), r.Name())
		}
	}
}
