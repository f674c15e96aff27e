package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/providers/probe"
	"github.com/trustform/trustform/schema"
)

// checkMisdirected proves cipher-consistency live on Apache: for every
// address with several probed TLS vhosts, a client reusing one HTTP/2
// connection for the first name of two vhosts must not get 421.
func (r *Run) checkMisdirected(ctx context.Context) hcl.Diagnostics {
	groups := map[string][]*node{}
	var order []string
	for _, n := range r.w.nodes {
		v, ok := n.res.(*vhost)
		if !ok || v.probe == nil || !v.Site.TLS() || n.block.(*schema.Vhost).Server != "apache" || n.observed == nil {
			continue
		}
		if groups[v.probe.Addr] == nil {
			order = append(order, v.probe.Addr)
		}
		groups[v.probe.Addr] = append(groups[v.probe.Addr], n)
	}
	var diags hcl.Diagnostics
	for _, addr := range order {
		g := groups[addr]
		for i := 1; i < len(g); i++ {
			first, second := g[0].block.(*schema.Vhost), g[i].block.(*schema.Vhost)
			status, err := probe.ReusedConnectionStatus(ctx, addr, first.ServerNames[0], second.ServerNames[0])
			if err != nil || status != 421 {
				continue
			}
			rng := schema.DeclRange(second)
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Subject: &rng,
				Summary: RuleCipherConsistency + ": the server answers 421 Misdirected Request",
				Detail: fmt.Sprintf("On %s, a request for %s on a connection opened for %s gets 421: the running vhosts' TLS settings differ (vhost.%s, vhost.%s), whatever the configuration says. Browsers reusing connections see errors. Apply the configuration to make them equal again.",
					addr, second.ServerNames[0], first.ServerNames[0], first.Name, second.Name)})
		}
	}
	return diags
}

// liveRuleWarnings quote what running HTTP vhosts answer when it breaks
// acme-challenge-not-redirected or hsts-on-http-vhost.
func (r *Run) liveRuleWarnings() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, n := range r.w.nodes {
		v, ok := n.res.(*vhost)
		if !ok || v.probe == nil || v.Site.TLS() || n.observed == nil {
			continue
		}
		rng := schema.DeclRange(n.block)
		warn := func(rule, summary, detail string) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Subject: &rng, Summary: rule + ": " + summary, Detail: detail})
		}
		name := v.Site.Names[0]
		if c := n.observed["served_challenge"].Str; strings.HasPrefix(c, "redirected") {
			warn(RuleACMEChallenge, "the challenge path is redirected",
				fmt.Sprintf("GET http://%s/.well-known/acme-challenge/%s is answered %q: http-01 validation would follow it and fail. The configuration serves it from %s; apply it.", name, probe.ChallengeProbe, strings.TrimPrefix(c, "redirected: "), v.Site.ACMEWebroot))
		}
		if !v.Site.RedirectHTTPS {
			continue
		}
		red := n.observed["served_redirect"].Str
		loc := ""
		if f := strings.Fields(red); len(f) == 2 {
			loc = f[1]
		}
		if !probe.SameHostHTTPS(loc, name) {
			warn(RuleHSTSOnHTTPVhost, "no same-host redirect to HTTPS",
				fmt.Sprintf("GET http://%s/ is answered %q; HSTS preload wants a redirect to https://%s/ first.", name, red, name))
		} else if v.Site.HSTS != "" && n.observed["served_hsts"].Str == "" {
			warn(RuleHSTSOnHTTPVhost, "the redirect carries no HSTS header",
				fmt.Sprintf("GET http://%s/ is answered %q without Strict-Transport-Security; the configuration sends %q there.", name, red, v.Site.HSTS))
		}
	}
	return diags
}
