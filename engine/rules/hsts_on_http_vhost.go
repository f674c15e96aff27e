package rules

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/probe"
	"github.com/trustform/trustform/providers/webserver"
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
	for _, v := range cfg.Vhosts {
		diags = append(diags, r.refuseBlock(v)...)
	}
	httpByName, httpsByName := indexVhosts(cfg, false), indexVhosts(cfg, true)
	preloaded := map[string]*schema.Vhost{} // names whose HSTS covers subdomains, for the preload check
	for _, v := range cfg.Vhosts {
		h := v.HSTS
		if h == nil || !v.Certificate.Set() {
			continue
		}
		cert := cfg.Certificate(v.Certificate)
		var uncovered []string
		for _, n := range v.ServerNames {
			if !Serves(cert.Domains, n) {
				uncovered = append(uncovered, n)
			}
		}
		if len(uncovered) > 0 {
			diags = append(diags, refusal(r, v.ServerNamesRange,
				"HSTS for names the certificate does not cover",
				fmt.Sprintf("vhost.%s sends HSTS, but %s does not cover %s. Browsers would refuse those names for max-age seconds with no way to click through.",
					v.Name, v.Certificate.Address, strings.Join(uncovered, ", "))))
		}
		onHTTP := h.OnHTTP == nil || *h.OnHTTP
		seen := map[*schema.Vhost]bool{}
		for _, n := range v.ServerNames {
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
				case onHTTP && hv.HSTSFrom.Address != (schema.Address{Type: "vhost", Name: v.Name}):
					diags = append(diags, refusal(r, hv.DeclRange,
						"HTTP vhost redirects without the HSTS header",
						fmt.Sprintf("vhost.%s redirects %s to HTTPS but does not carry vhost.%s's HSTS header before the redirect. Set hsts_from = vhost.%s, or hsts { on_http = false } on vhost.%s (browsers ignore the header over HTTP, RFC 6797 §8.1).", hv.Name, n, v.Name, v.Name, v.Name)))
				}
			}
		}
		if h.Preload && h.IncludeSubdomains {
			for _, n := range v.ServerNames {
				preloaded[strings.ToLower(strings.TrimPrefix(n, "*."))] = v
			}
		}
	}
	// HTTPS on every declared subdomain of a preloaded name: walk each web
	// name's parents up to a preloaded one.
	bare := map[*schema.Vhost][]string{}
	for _, name := range declaredNames(cfg) {
		if len(httpsByName.lookup(name)) > 0 {
			continue
		}
		for parent := name; ; {
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
	for _, v := range cfg.Vhosts {
		if names := bare[v]; len(names) > 0 {
			diags = append(diags, refusal(r, v.HSTS.PreloadRange,
				"preload with subdomains that do not serve HTTPS",
				fmt.Sprintf("includeSubDomains with preload forces HTTPS on every subdomain, but no TLS vhost serves %s. Those names would become unreachable in browsers.", strings.Join(names, ", "))))
		}
	}
	return diags
}

// refuseBlock checks one vhost's hsts block on its own: preload's
// requirements, and HSTS only where TLS is served.
func (r hstsOnHTTPVhost) refuseBlock(v *schema.Vhost) hcl.Diagnostics {
	h := v.HSTS
	if h == nil {
		return nil
	}
	var diags hcl.Diagnostics
	if h.Preload && (h.MaxAge < schema.MinPreloadMaxAge || !h.IncludeSubdomains) {
		var missing []string
		if h.MaxAge < schema.MinPreloadMaxAge {
			missing = append(missing, fmt.Sprintf("max_age ≥ %d (one year; it is %d)", schema.MinPreloadMaxAge, h.MaxAge))
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
	for _, v := range cfg.Vhosts {
		for _, n := range v.ServerNames {
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
		if v.Block.Certificate.Set() || !v.Block.RedirectHTTPS {
			continue
		}
		name := v.Block.ServerNames[0]
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
		v, ok := n.Block.(*schema.Vhost)
		if !ok || n.Change == nil || n.Change.Action == providers.Delete {
			continue
		}
		if s := g.Last(n.Addr); s != nil && s.Phase == webserver.PhaseWrite && n.Desired["hsts"].Str != "" && (n.Observed == nil || n.Observed["hsts"].Str == "") {
			s.Desc += "; HSTS switches on"
			s.Claim(g.Last(v.Certificate.Address), r.Name())
		}
		if v.HSTSFrom.Set() {
			g.Last(n.Addr).After(g.Last(v.HSTSFrom.Address), r.Name())
		}
	}
}
