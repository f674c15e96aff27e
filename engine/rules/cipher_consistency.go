package rules

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/internal/probe"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// CipherConsistency: all TLS vhosts sharing one IP:port have identical
// protocols and ciphers (and, on Apache, the same certificate files when a
// certificate covers the other vhost's names). Browsers reuse one connection across names that
// share an address and certificate; Apache (2.4.18+, HTTP/2) then answers
// "421 Misdirected Request" when the vhosts' TLS settings differ, and nginx
// silently applies the default server's settings to all of them.
const CipherConsistency cipherConsistency = "cipher-consistency"

type cipherConsistency string

var (
	_ Refuser     = CipherConsistency
	_ LiveChecker = CipherConsistency
)

// Name is the rule's name.
func (r cipherConsistency) Name() string { return string(r) }

// Refuse groups TLS vhosts by listen address and refuses groups whose
// protocols or ciphers differ, naming every vhost and value.
func (r cipherConsistency) Refuse(cfg *schema.Config) hcl.Diagnostics {
	groups := map[string][]*providers.Web{}
	var listens []string
	for _, v := range websites(cfg) {
		if !v.Certificate.Set() {
			continue
		}
		l := v.Listen
		if groups[l] == nil {
			listens = append(listens, l)
		}
		groups[l] = append(groups[l], v)
	}
	var diags hcl.Diagnostics
	for _, l := range listens {
		vs := groups[l]
		settings := func(v *providers.Web) string {
			p, c := effective(cfg, v.TLSPolicy)
			protocols, ciphers := strings.Join(p, " "), c
			if protocols == "" {
				protocols = "(server default)"
			}
			if ciphers == "" {
				ciphers = "(server default)"
			}
			return "protocols " + protocols + "; ciphers " + ciphers
		}
		diags = append(diags, r.certificates(cfg, l, vs)...)
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
		diags = append(diags, refusal(r, vs[1].DeclRange,
			"vhosts on "+l+" differ in TLS settings",
			"Browsers reuse one connection for every name on an address and certificate. Apache then answers "+
				"\"421 Misdirected Request\" when the vhosts' TLS settings differ; nginx silently applies the "+
				"default server's settings to all of them. Give these vhosts one tls_policy:\n"+strings.Join(lines, "\n")))
	}
	return diags
}

// certificates: mod_ssl also compares the certificate and key files of the
// handshake's vhost and the request's (ssl_server_compatible) and answers
// 421 when they differ. That happens only when a browser reuses the
// connection, which it does when the certificate it was shown covers the
// other name; so two Apache vhosts on one address with different
// certificates are refused when one's certificate covers the other's names.
func (r cipherConsistency) certificates(cfg *schema.Config, listen string, vs []*providers.Web) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for i, a := range vs {
		for _, b := range vs[i+1:] {
			if a.Server != "apache" || b.Server != "apache" || a.Certificate.Address == b.Certificate.Address {
				continue
			}
			ca, cb := certOf(cfg, a.Certificate), certOf(cfg, b.Certificate)
			if ca == nil || cb == nil || (ca.CertFile == cb.CertFile && ca.KeyFile == cb.KeyFile) {
				continue
			}
			covered, by, owner := coveredName(ca, b), a, b
			if covered == "" {
				covered, by, owner = coveredName(cb, a), b, a
			}
			if covered == "" {
				continue // no browser reuses a connection between them
			}
			diags = append(diags, refusal(r, b.DeclRange, "Apache vhosts on "+listen+" serve different certificates that overlap",
				fmt.Sprintf("%s (of vhost.%s) covers %s, a name of vhost.%s, so a browser that connected to vhost.%s reuses the connection for %s. "+
					"mod_ssl then compares the two vhosts' certificate and key files (%s, %s against %s, %s) and answers \"421 Misdirected Request\" because they differ. "+
					"Serve both names with one certificate, or give the vhosts certificates that do not cover each other's names, or separate addresses.",
					by.Certificate.Address, by.Name, covered, owner.Name, by.Name, covered, ca.CertFile, ca.KeyFile, cb.CertFile, cb.KeyFile)))
		}
	}
	return diags
}

// coveredName is the first name of v that certificate c covers, or "".
func coveredName(c *providers.Cert, v *providers.Web) string {
	for _, n := range v.Names {
		if Serves(c.Names, n) {
			return n
		}
	}
	return ""
}

// Live proves the rule on running Apache servers: for every address with
// several probed TLS vhosts, a client reusing one HTTP/2 connection for the
// first name of two vhosts must not get 421.
func (r cipherConsistency) Live(ctx context.Context, vhosts []Probed) hcl.Diagnostics {
	groups := map[string][]Probed{}
	var order []string
	for _, v := range vhosts {
		if !v.Block.Certificate.Set() || v.Block.Server != "apache" {
			continue
		}
		if groups[v.Addr] == nil {
			order = append(order, v.Addr)
		}
		groups[v.Addr] = append(groups[v.Addr], v)
	}
	var diags hcl.Diagnostics
	for _, addr := range order {
		g := groups[addr]
		for i := 1; i < len(g); i++ {
			first, second := g[0].Block, g[i].Block
			status, err := probe.ReusedConnectionStatus(ctx, addr, first.Names[0], second.Names[0])
			if err != nil || status != 421 {
				continue
			}
			diags = append(diags, Warning(r, second.DeclRange, "the server answers 421 Misdirected Request",
				fmt.Sprintf("On %s, a request for %s on a connection opened for %s gets 421: the running vhosts' TLS settings differ (vhost.%s, vhost.%s), whatever the configuration says. Browsers reusing connections see errors. Apply the configuration to make them equal again.",
					addr, second.Names[0], first.Names[0], first.Name, second.Name)))
		}
	}
	return diags
}

// effective is the protocols and ciphers of the tls_policy r names; none
// for the server's defaults.
func effective(cfg *schema.Config, r schema.Ref) ([]string, string) {
	if p, ok := cfg.Block(r.Address).(providers.TLSSettings); ok {
		return p.Effective()
	}
	return nil, ""
}
