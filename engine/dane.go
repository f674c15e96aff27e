package engine

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/rules"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/certificate"
	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/providers/probe"
	"github.com/trustform/trustform/providers/webserver"
	"github.com/trustform/trustform/schema"
)

// servedBy finds the probed vhost that answers a TLSA RRset's service: the
// port and host of its owner name (_443._tcp.www.example.org.).
func (r *Run) servedBy(t *schema.TLSA) (addr, host string, ok bool) {
	labels := strings.SplitN(strings.TrimSuffix(t.FQDN, "."), ".", 3)
	if len(labels) < 3 || !strings.HasPrefix(labels[0], "_") {
		return "", "", false
	}
	port, host := strings.TrimPrefix(labels[0], "_"), labels[2]
	for _, n := range r.w.nodes {
		v, ok := n.res.(*webserver.Vhost)
		if !ok || v.Probe == nil || !v.Site.TLS() || !rules.Serves(v.Site.Names, host) {
			continue
		}
		if _, p, err := net.SplitHostPort(v.Probe.Addr); err == nil && p == port {
			return v.Probe.Addr, host, true
		}
	}
	return "", "", false
}

// checkDANE is the built-in DANE check: for every TLSA RRset whose service a
// probed vhost answers, the certificate served there must match a record
// every authoritative server publishes. The answer is observed as
// served_match ("yes", or the served record and the published ones), so a
// mismatch is drift that names the record and digest.
func (r *Run) checkDANE(ctx context.Context) {
	for _, n := range r.w.nodes {
		r.checkServedTLSA(ctx, n)
	}
}

// checkServedTLSA checks one TLSA node, if a probed vhost serves it.
func (r *Run) checkServedTLSA(ctx context.Context, n *node) {
	t, ok := n.block.(*schema.TLSA)
	if !ok || n.observed == nil {
		return
	}
	addr, host, ok := r.servedBy(t)
	if !ok {
		return
	}
	chain, err := probe.ServedChain(ctx, addr, host)
	if err != nil {
		n.observed["served_match"] = providers.String("unreachable: " + err.Error())
		return
	}
	visible := n.res.(*dns.TLSA).Visible
	if len(dns.Matching(visible, chain)) > 0 {
		n.observed["served_match"] = providers.String("yes")
		return
	}
	served := "no CA certificate"
	if c := dns.Pinned(t.Params[0], chain); c != nil {
		served, _ = dns.Record(t.Params, c)
	}
	n.observed["served_match"] = providers.String(fmt.Sprintf("no: %s for %s serves %q, published everywhere: %q", addr, host, served, visible))
}

// caWarnings: a trust-anchor RRset (usage 0, 2) that does not cover the CA
// the certificate is served with makes validating clients reject the
// service; it happens when a CA switches intermediates between renewals.
// The plan repairs it; the warning says why it matters.
func (r *Run) caWarnings() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, n := range r.w.nodes {
		t, ok := n.block.(*schema.TLSA)
		if !ok || n.observed == nil || (t.Params[0] != 0 && t.Params[0] != 2) {
			continue
		}
		published := n.observed["records"].List
		detail := ""
		if m := n.observed["served_match"].Str; strings.HasPrefix(m, "no") {
			detail = "The built-in DANE check: " + m + "."
		} else if ca := dns.Pinned(t.Params[0], r.w.by[t.Certificate.Address].res.(*certificate.Certificate).Chain); ca != nil {
			if rec := certRecord(t.Params, ca); !slices.Contains(published, rec) {
				detail = fmt.Sprintf("%s is deployed with a chain issued by %q, whose record %q is not in the published RRset %q.",
					t.Certificate.Address, ca.Subject.String(), rec, published)
			}
		}
		if detail == "" {
			continue
		}
		rng := schema.DeclRange(n.block)
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Subject: &rng,
			Summary: n.addr.String() + ": the issuing CA in the served chain is not covered",
			Detail:  detail + " DANE-TA clients reject the service until the CA's record is published; apply publishes it."})
	}
	return diags
}
