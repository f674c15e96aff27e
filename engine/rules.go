package engine

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/schema"
)

// The named rules. Every ordering decision and every refusal they cause
// carries the name, so a reader of a plan knows why a step comes where it does.
const (
	// RuleTLSABeforeCert: a new key is deployed only after TLSA records for it
	// have been visible beside the old ones for rollover_wait; old records go
	// only after the new certificate is live.
	RuleTLSABeforeCert = "tlsa-before-cert"
	// RuleHSTSOnHTTPVhost: HSTS needs a same-host redirect on the HTTP side,
	// is switched on only once every covered name serves a valid
	// certificate, and preload needs its full requirements.
	RuleHSTSOnHTTPVhost = "hsts-on-http-vhost"
	// RuleACMEChallenge: the HTTP vhost of an http-01 certificate answers
	// /.well-known/acme-challenge/ itself instead of redirecting it.
	RuleACMEChallenge = "acme-challenge-not-redirected"
	// RuleCipherConsistency: TLS vhosts sharing an IP:port share one TLS policy.
	RuleCipherConsistency = "cipher-consistency"
	// RuleAPTKeyBeforeSource: a key is installed and verified before a source uses it.
	RuleAPTKeyBeforeSource = "apt-key-before-source"
)

// CheckRules evaluates the rules that can refuse a configuration outright.
func CheckRules(cfg *schema.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	diags = append(diags, checkCipherConsistency(cfg)...)
	diags = append(diags, checkHSTS(cfg)...)
	diags = append(diags, checkACMEChallenge(cfg)...)
	return diags
}

func ruleError(rule string, rng hcl.Range, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: rule + ": " + summary, Detail: detail, Subject: rng.Ptr()}
}

// checkCipherConsistency groups TLS vhosts by listen address and refuses
// groups whose protocols or ciphers differ, naming every vhost and value.
func checkCipherConsistency(cfg *schema.Config) hcl.Diagnostics {
	groups := map[string][]*schema.Vhost{}
	var listens []string
	for _, v := range cfg.Vhosts {
		if !v.Certificate.Set() {
			continue
		}
		l, err := schema.ParseListen(v.Listen)
		if err != nil {
			continue
		}
		if groups[l] == nil {
			listens = append(listens, l)
		}
		groups[l] = append(groups[l], v)
	}
	var diags hcl.Diagnostics
	for _, l := range listens {
		vs := groups[l]
		settings := func(v *schema.Vhost) string {
			p, c := cfg.TLSPolicy(v.TLSPolicy).Effective()
			protocols, ciphers := strings.Join(p, " "), c
			if protocols == "" {
				protocols = "(server default)"
			}
			if ciphers == "" {
				ciphers = "(server default)"
			}
			return "protocols " + protocols + "; ciphers " + ciphers
		}
		first := settings(vs[0])
		same := true
		for _, v := range vs[1:] {
			same = same && settings(v) == first
		}
		if same {
			continue
		}
		var lines []string
		for _, v := range vs {
			policy := "no tls_policy"
			if v.TLSPolicy.Set() {
				policy = v.TLSPolicy.Address.String()
			}
			lines = append(lines, fmt.Sprintf("  vhost.%s (%s): %s", v.Name, policy, settings(v)))
		}
		diags = append(diags, ruleError(RuleCipherConsistency, vs[1].DeclRange,
			"vhosts on "+l+" differ in TLS settings",
			"Browsers reuse one connection for every name on an address and certificate. Apache then answers "+
				"\"421 Misdirected Request\" when the vhosts' TLS settings differ; nginx silently applies the "+
				"default server's settings to all of them. Give these vhosts one tls_policy:\n"+strings.Join(lines, "\n")))
	}
	return diags
}

// serves reports whether a vhost answers for name (with one-label wildcards).
func serves(names []string, name string) bool {
	for _, n := range names {
		if matchName(n, name) {
			return true
		}
	}
	return false
}

func matchName(pattern, name string) bool {
	pattern, name = strings.ToLower(pattern), strings.ToLower(name)
	if pattern == name {
		return true
	}
	if rest, ok := strings.CutPrefix(pattern, "*."); ok {
		_, parent, found := strings.Cut(name, ".")
		return found && parent == rest
	}
	return false
}

// nameIndex finds vhosts by the names they serve, so rules over thousands
// of vhosts stay linear.
type nameIndex map[string][]*schema.Vhost

func indexVhosts(cfg *schema.Config, tls bool) nameIndex {
	idx := nameIndex{}
	for _, v := range cfg.Vhosts {
		if v.Certificate.Set() != tls {
			continue
		}
		for _, n := range v.ServerNames {
			idx[strings.ToLower(n)] = append(idx[strings.ToLower(n)], v)
		}
	}
	return idx
}

// lookup returns the vhosts serving name, directly or by a wildcard.
func (idx nameIndex) lookup(name string) []*schema.Vhost {
	name = strings.ToLower(name)
	out := idx[name]
	if _, parent, ok := strings.Cut(name, "."); ok {
		out = append(slices.Clone(out), idx["*."+parent]...)
	}
	return out
}

func checkHSTS(cfg *schema.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
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
			if !serves(cert.Domains, n) {
				uncovered = append(uncovered, n)
			}
		}
		if len(uncovered) > 0 {
			diags = append(diags, ruleError(RuleHSTSOnHTTPVhost, v.ServerNamesRange,
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
					diags = append(diags, ruleError(RuleHSTSOnHTTPVhost, hv.DeclRange,
						"HTTP vhost does not redirect to HTTPS",
						fmt.Sprintf("vhost.%s serves %s over plain HTTP while vhost.%s sends HSTS for it. HSTS preload and first visits need a redirect to https:// on the same host: set redirect_https = true.", hv.Name, n, v.Name)))
				case onHTTP && hv.HSTSFrom.Address != (schema.Address{Type: "vhost", Name: v.Name}):
					diags = append(diags, ruleError(RuleHSTSOnHTTPVhost, hv.DeclRange,
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
			diags = append(diags, ruleError(RuleHSTSOnHTTPVhost, v.HSTS.PreloadRange,
				"preload with subdomains that do not serve HTTPS",
				fmt.Sprintf("includeSubDomains with preload forces HTTPS on every subdomain, but no TLS vhost serves %s. Those names would become unreachable in browsers.", strings.Join(names, ", "))))
		}
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

func checkACMEChallenge(cfg *schema.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	httpByName := indexVhosts(cfg, false)
	for _, c := range cfg.Certificates {
		if c.Challenge != "http-01" || c.Issuer.Type != "acme_account" {
			continue
		}
		var names []string
		var vhost *schema.Vhost
		for _, d := range c.Domains {
			for _, hv := range httpByName.lookup(d) {
				if hv.RedirectHTTPS && hv.ACMEWebroot == "" {
					if vhost == nil || vhost == hv {
						vhost = hv
						names = append(names, d)
					}
				}
			}
		}
		if vhost == nil {
			continue
		}
		names = slices.Compact(names)
		diags = append(diags, ruleError(RuleACMEChallenge, vhost.RedirectRange,
			"the HTTP vhost redirects the challenge path",
			fmt.Sprintf("certificate.%s is validated with http-01 for %s, but vhost.%s redirects every request to HTTPS, /.well-known/acme-challenge/ included, so renewals fail. Set acme_webroot on vhost.%s: the challenge is then answered over HTTP before the redirect.",
				c.Name, strings.Join(names, ", "), vhost.Name, vhost.Name)))
	}
	return diags
}
