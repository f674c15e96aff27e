package kinds

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/rules"
	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/internal/netpolicy"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/acme"
	"github.com/trustform/trustform/providers/certificate"
	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/providers/webserver"
	"github.com/trustform/trustform/schema"
)

// binder makes the provider object of one block: a resource, or for
// dns_zone the zone its TLSA RRsets change. It runs after the blocks the
// block refers to were bound.
type binder func(b *binding, block schema.Block) (any, hcl.Diagnostics)

// binders is the table of what each block kind binds to. Kinds that only
// configure others (host, tls_policy) bind to nothing.
func binders() map[string]binder {
	return map[string]binder{
		"certificate": bindCertificate,
		"vhost":       bindVhost,
	}
}

// binding is one run's binding of a configuration.
type binding struct {
	cfg   *schema.Config
	now   func() time.Time
	bound map[schema.Address]any
	// remotes are the SSH hosts by name: one connection each for the run.
	remotes map[string]*host.SSH
	// challenges are the http-01 pre-order checks made so far.
	challenges []engine.Challenge
	// policy restricts the SSH connections (an untrusted plan).
	policy *netpolicy.Policy
	// installed reads each host's package database once (by host name,
	// "" for this machine).
	installed map[string]func(server string) webserver.Versions
}

// host is the door to the host a resource names: the SSH host (one per
// name), or the local machine with no link followed below its root or the
// configuration directory.
func (b *binding) host(r schema.Ref) host.Host {
	if h := b.cfg.Host(r); h != nil && h.SSH != nil {
		if s := b.remotes[h.Name]; s != nil {
			return s
		}
		s := host.NewSSH(host.SSHConfig{
			Name:         "host." + h.Name,
			Address:      net.JoinHostPort(h.Address, strconv.Itoa(h.SSH.PortNumber)),
			User:         h.SSH.User,
			IdentityFile: h.SSH.IdentityFile,
			KnownHosts:   h.SSH.KnownHosts,
			Jump:         h.SSH.Jump,
			Become:       h.SSH.Become,
			Root:         h.Root,
			Env:          environment(h),
			Policy:       b.policy,
		})
		b.remotes[h.Name] = s
		return s
	}
	roots := []string{b.cfg.Dir}
	if h := b.cfg.Host(r); h != nil && h.Root != "" {
		roots = append(roots, b.cfg.LocalPath(r, "/"))
	}
	return host.Local{Roots: roots, Env: environment(b.cfg.Host(r))}
}

// environment is what a host block sets for commands, NAME=VALUE sorted.
func environment(h *schema.Host) []string {
	if h == nil {
		return nil
	}
	var out []string
	for name, v := range h.Environment {
		out = append(out, name+"="+v)
	}
	slices.Sort(out)
	return out
}

// keyDeployer is the bound certificate at a reference, if any.
func (b *binding) keyDeployer(r schema.Ref) providers.KeyDeployer {
	k, _ := b.bound[r.Address].(providers.KeyDeployer)
	return k
}

func bindCertificate(b *binding, block schema.Block) (any, hcl.Diagnostics) {
	c := block.(*schema.Certificate)
	addr := schema.Address{Type: "certificate", Name: c.Name}
	cert := &certificate.Certificate{
		Addr:          addr.String(),
		Host:          b.host(c.Host),
		Domains:       c.Domains,
		KeyType:       c.KeyType,
		ReuseKey:      *c.ReuseKey,
		RenewBefore:   c.RenewBeforeDuration,
		RenewFraction: c.RenewBeforeFraction,
		CertPath:      b.cfg.LocalPath(c.Host, c.CertFile),
		KeyPath:       b.cfg.LocalPath(c.Host, c.KeyFile),
		KeyFile:       c.KeyFile,
		CertFile:      c.CertFile,
		IssuerAddr:    c.Issuer.Address,
		Now:           b.now,
	}
	for _, cp := range []certificate.Copy{{Attr: "fullchain_file", File: c.FullchainFile, Kind: certificate.FullChain},
		{Attr: "chain_file", File: c.ChainFile, Kind: certificate.ChainOnly}, {Attr: "bundle_file", File: c.BundleFile, Kind: certificate.Bundle}} {
		if cp.File != "" {
			cp.Path = b.cfg.LocalPath(c.Host, cp.File)
			cert.Copies = append(cert.Copies, cp)
		}
	}
	switch iss := b.bound[c.Issuer.Address].(type) {
	case certificate.Issuer: // the local CA
		cert.Issuer = iss
	case orderer: // an ACME account
		o, diags := b.acmeOrder(c)
		cert.Issuer = iss.Issuer(o)
		return cert, diags
	}
	return cert, nil
}

// orderer is an issuer whose orders take the certificate's settings (an
// ACME account).
type orderer interface {
	Issuer(acme.Order) certificate.Issuer
}

// acmeOrder is how an ACME account orders a certificate: http-01 through
// the webroot of the HTTP vhost serving its first name (lego's own server on
// http_address, default :80, when none does), dns-01 through the RFC 2136
// primary of its zone.
func (b *binding) acmeOrder(c *schema.Certificate) (acme.Order, hcl.Diagnostics) {
	iss := acme.Order{Challenge: c.Challenge, HTTPAddress: c.HTTPAddress, Profile: c.Profile, PreferredChain: c.PreferredChain}
	if iss.HTTPAddress == "" {
		iss.HTTPAddress = ":80"
	}
	if c.Challenge == "dns-01" {
		// The deepest zone holding the name: with example.test and
		// sub.example.test both configured, www.sub.example.test's TXT
		// record belongs to the second.
		name := dns.Fqdn(strings.TrimPrefix(c.Domains[0], "*."))
		depth := -1
		for _, o := range b.inOrder() {
			zone, _ := o.(acme.RFC2136)
			if zone == nil {
				continue
			}
			if origin := dns.Fqdn(zone.Apex()); (name == origin || strings.HasSuffix(name, "."+origin)) && len(origin) > depth {
				iss.DNS, depth = zone, len(origin)
			}
		}
		if iss.DNS == nil {
			return iss, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "No zone for dns-01",
				Detail:  fmt.Sprintf("certificate.%s uses dns-01, but no dns_zone with a server and a tsig key contains %s.", c.Name, c.Domains[0]),
				Subject: c.ChallengeRange.Ptr()}}
		}
		return iss, nil
	}
	for _, v := range b.cfg.Vhosts {
		if v.Certificate.Set() || v.ACMEWebroot == "" || !rules.Serves(v.ServerNames, c.Domains[0]) {
			continue
		}
		iss.Webroot, iss.WebrootHost = b.cfg.LocalPath(v.Host, v.ACMEWebroot), b.host(v.Host)
		if p := webserver.Prober(b.cfg, v); p != nil {
			iss.PreCheck = rules.ACMEChallengeNotRedirected.PreCheck(iss.WebrootHost, iss.Webroot, b.challengeDial(p.Addr))
			b.challenges = append(b.challenges, engine.Challenge{Cert: c, Check: iss.PreCheck})
		}
	}
	return iss, nil
}

// challengeDial is where a CA's requests for a name land: the HTTP vhost
// at httpAddr, and the running TLS vhost that serves the name, for a
// redirect to https.
func (b *binding) challengeDial(httpAddr string) func(name string) map[string]string {
	return func(name string) map[string]string {
		dial := map[string]string{"http": httpAddr}
		for _, v := range b.cfg.Vhosts {
			if p := webserver.Prober(b.cfg, v); p != nil && p.TLS && rules.Serves(v.ServerNames, name) {
				dial["https"] = p.Addr
			}
		}
		return dial
	}
}

func bindVhost(b *binding, block schema.Block) (any, hcl.Diagnostics) {
	v := block.(*schema.Vhost)
	h := b.host(v.Host)
	installed, ok := b.installed[v.Host.Address.String()]
	if !ok {
		installed = webserver.Installed(h, b.cfg.LocalPath(v.Host, webserver.DpkgStatus))
		b.installed[v.Host.Address.String()] = installed
	}
	vh := webserver.New(b.cfg, v, h, b.keyDeployer(v.Certificate), installed)
	if c, ok := b.bound[v.Certificate.Address].(*certificate.Certificate); ok && vh.Probe != nil && c.Issuer != nil {
		vh.Probe.Roots = c.Issuer.Roots // served chains must build to the issuer's roots
	}
	return vh, nil
}

// inOrder is what the blocks bound to so far, in the order of the blocks.
func (b *binding) inOrder() []any {
	var out []any
	b.cfg.Each(func(a schema.Address, _ hcl.Range, _ schema.Block) {
		if o := b.bound[a]; o != nil {
			out = append(out, o)
		}
	})
	return out
}

var _ providers.Binding = (*binding)(nil)

func (b *binding) Config() *schema.Config      { return b.cfg }
func (b *binding) Now() time.Time              { return b.now() }
func (b *binding) Host(r schema.Ref) host.Host { return b.host(r) }
func (b *binding) Bound(a schema.Address) any  { return b.bound[a] }
