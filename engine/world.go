package engine

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-acme/lego/v4/providers/dns/rfc2136"
	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/rules"
	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/acme"
	"github.com/trustform/trustform/providers/apt"
	"github.com/trustform/trustform/providers/certificate"
	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/providers/localca"
	"github.com/trustform/trustform/providers/probe"
	"github.com/trustform/trustform/providers/webserver"
	"github.com/trustform/trustform/schema"
)

// resource is what the engine needs of every managed object.
type resource interface {
	Observe(ctx context.Context) (providers.Value, error)
}

var (
	_ resource = (*localca.CA)(nil)
	_ resource = (*acme.Account)(nil)
	_ resource = (*certificate.Certificate)(nil)
	_ resource = (*dns.TLSA)(nil)
	_ resource = (*webserver.Vhost)(nil)
	_ resource = (*apt.Key)(nil)
	_ resource = (*apt.Source)(nil)
)

// node is one managed resource during a run.
type node struct {
	addr     schema.Address
	block    any
	res      resource
	observed providers.Value
	desired  providers.Value
	change   *changeInfo
}

type changeInfo struct {
	action  string
	reasons []string
	intent  certificate.Intent // certificates only
}

// world binds a configuration to providers.
type world struct {
	cfg   *schema.Config
	now   func() time.Time
	nodes []*node
	by    map[schema.Address]*node
	zones map[schema.Address]dns.Zone
	// dns01 serialises dns-01 orders (see acme.Issuer.DNSLock).
	dns01 sync.Mutex
	// tlsaOf lists the TLSA RRsets derived from each certificate.
	tlsaOf map[schema.Address][]*node
}

// typeRank orders resource types within one level of the plan.
var typeRank = map[string]int{"local_ca": 0, "acme_account": 0, "certificate": 1, "tlsa": 2, "vhost": 3, "apt_key": 4, "apt_source": 5}

// bind creates the provider object for every managed block.
func bind(cfg *schema.Config, now func() time.Time) (*world, hcl.Diagnostics) {
	w := &world{cfg: cfg, now: now, by: map[schema.Address]*node{}, zones: map[schema.Address]dns.Zone{}, tlsaOf: map[schema.Address][]*node{}}
	var diags hcl.Diagnostics
	add := func(addr schema.Address, block any, res resource) {
		n := &node{addr: addr, block: block, res: res}
		w.nodes = append(w.nodes, n)
		w.by[addr] = n
	}
	cas := map[schema.Address]*localca.CA{}
	for _, b := range cfg.LocalCAs {
		addr := schema.Address{Type: "local_ca", Name: b.Name}
		cn := b.CommonName
		if cn == "" {
			cn = "trustform local CA (" + b.Name + ")"
		}
		ca := &localca.CA{Dir: filepath.Join(cfg.StateDir(), "local_ca", b.Name), CommonName: cn, Now: now}
		cas[addr] = ca
		add(addr, b, ca)
	}
	accounts := map[schema.Address]*acme.Account{}
	for _, a := range cfg.ACMEAccounts {
		addr := schema.Address{Type: "acme_account", Name: a.Name}
		var roots []string
		for _, r := range a.CARoots {
			roots = append(roots, cfg.LocalPath(schema.Ref{}, r))
		}
		acc := &acme.Account{Directory: a.Directory, Email: a.Email, CARoots: roots, Dir: filepath.Join(cfg.StateDir(), "acme", a.Name)}
		accounts[addr] = acc
		add(addr, a, acc)
	}
	for _, z := range cfg.Zones {
		addr := schema.Address{Type: "dns_zone", Name: z.Name}
		if z.Server != "" {
			zone, d := w.serverZone(z)
			diags = append(diags, d...)
			if zone != nil {
				w.zones[addr] = zone
			}
			continue
		}
		w.zones[addr] = &dns.ZoneFile{
			Host:          host.Local{},
			Origin:        dnsFqdn(z.Zone),
			Path:          cfg.LocalPath(schema.Ref{}, z.ZoneFile),
			ReloadCommand: z.ReloadCommand,
			Now:           now,
		}
	}
	for _, b := range cfg.Certificates {
		addr := schema.Address{Type: "certificate", Name: b.Name}
		c := &certificate.Certificate{
			Host:        host.Local{},
			Domains:     b.Domains,
			KeyType:     b.KeyType,
			ReuseKey:    *b.ReuseKey,
			RenewBefore: b.RenewBeforeDuration,
			CertPath:    cfg.LocalPath(b.Host, b.CertFile),
			KeyPath:     cfg.LocalPath(b.Host, b.KeyFile),
			IssuerName:  b.Issuer.Address.String(),
			Now:         now,
		}
		for _, t := range cfg.TLSAs {
			c.KeepNext = c.KeepNext || t.PublishNext && t.Certificate.Address == addr
		}
		if ca, ok := cas[b.Issuer.Address]; ok {
			c.Issuer = ca
		} else {
			iss, d := w.acmeIssuer(b, accounts[b.Issuer.Address])
			diags = append(diags, d...)
			c.Issuer = iss
		}
		add(addr, b, c)
	}
	for _, b := range cfg.TLSAs {
		z, ok := w.zones[b.Zone.Address]
		if !ok {
			continue // its zone already has a diagnostic
		}
		rd := cfg.Zone(b.Zone).RequireDNSSEC
		add(schema.Address{Type: "tlsa", Name: b.Name}, b, &dns.TLSA{Zone: z, Owner: b.FQDN, TTL: b.TTLSeconds, Params: b.Params, RequireDNSSEC: rd})
		w.tlsaOf[b.Certificate.Address] = append(w.tlsaOf[b.Certificate.Address], w.nodes[len(w.nodes)-1])
	}
	for _, v := range cfg.Vhosts {
		sc := w.serverConfig(v)
		add(schema.Address{Type: "vhost", Name: v.Name}, v, &webserver.Vhost{ServerConfig: sc, Probe: w.probeFor(v, sc)})
	}
	for _, k := range cfg.APTKeys {
		path := cfg.LocalPath(k.Host, k.Keyring)
		add(schema.Address{Type: "apt_key", Name: k.Name}, k, &apt.Key{
			Host:        host.Local{},
			Fingerprint: k.Fingerprint,
			URL:         k.URL,
			Keyserver:   k.Keyserver,
			Keyring:     w.target(k.Keyring),
			Path:        path,
			ConfigDir:   cfg.Dir,
			EtcApt:      etcApt(path, cfg.LocalPath(k.Host, "/etc/apt")),
			RenewBefore: k.RenewBeforeDuration,
			Now:         now,
		})
	}
	for _, s := range cfg.APTSources {
		addr := schema.Address{Type: "apt_source", Name: s.Name}
		key := cfg.APTKey(s.SignedBy)
		add(addr, s, &apt.Source{
			Host:       host.Local{},
			Address:    addr.String(),
			File:       w.target(s.File),
			Path:       cfg.LocalPath(s.Host, s.File),
			Types:      s.Types,
			URIs:       s.URIs,
			Suites:     s.Suites,
			Components: s.Components,
			SignedBy:   w.target(key.Keyring),
		})
	}
	return w, diags
}

// acmeIssuer binds a certificate issued by an ACME account: http-01 through
// the webroot of the HTTP vhost serving its first name (lego's own server on
// http_address, default :80, when none does), dns-01 through the RFC 2136
// primary of its zone.
func (w *world) acmeIssuer(b *schema.Certificate, acc *acme.Account) (*acme.Issuer, hcl.Diagnostics) {
	iss := &acme.Issuer{Account: acc, Challenge: b.Challenge, HTTPAddress: b.HTTPAddress, DNSLock: &w.dns01}
	if iss.HTTPAddress == "" {
		iss.HTTPAddress = ":80"
	}
	if b.Challenge == "dns-01" {
		for _, z := range w.cfg.Zones {
			name := strings.TrimPrefix(b.Domains[0], "*.")
			if z.Server == "" || !dnsIsSubdomain(dnsFqdn(z.Zone), dnsFqdn(name)) {
				continue
			}
			zone, _ := w.zones[schema.Address{Type: "dns_zone", Name: z.Name}].(*dns.Server)
			if zone == nil {
				continue
			}
			iss.DNS = &rfc2136.Config{
				Nameserver: z.Server, TSIGAlgorithm: zone.Algorithm, TSIGKey: zone.KeyName, TSIGSecret: zone.Secret,
				TTL: 60, PropagationTimeout: 2 * time.Minute, PollingInterval: 500 * time.Millisecond, DNSTimeout: 10 * time.Second,
			}
		}
		if iss.DNS == nil {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "No zone for dns-01",
				Detail:  fmt.Sprintf("certificate.%s uses dns-01, but no dns_zone with a server and a tsig key contains %s.", b.Name, b.Domains[0]),
				Subject: b.ChallengeRange.Ptr()}}
		}
		return iss, nil
	}
	for _, v := range w.cfg.Vhosts {
		if v.Certificate.Set() || v.ACMEWebroot == "" || !rules.Serves(v.ServerNames, b.Domains[0]) {
			continue
		}
		iss.Webroot = w.cfg.LocalPath(v.Host, v.ACMEWebroot)
		if p := w.probeFor(v, w.serverConfig(v)); p != nil {
			iss.PreCheck = rules.ACMEChallengeNotRedirected.PreCheck(p.Addr)
		}
	}
	return iss, nil
}

func dnsIsSubdomain(parent, child string) bool {
	return child == parent || strings.HasSuffix(child, "."+parent)
}

// serverZone binds a zone on an RFC 2136 primary, reading its TSIG secret.
func (w *world) serverZone(z *schema.DNSZone) (*dns.Server, hcl.Diagnostics) {
	secretFile := ""
	if z.TSIG.SecretFile != "" {
		secretFile = w.cfg.LocalPath(schema.Ref{}, z.TSIG.SecretFile)
	}
	secret, err := dns.ReadSecret(secretFile, z.TSIG.Name, os.Getenv)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the TSIG secret", Detail: err.Error(), Subject: z.TSIG.DeclRange.Ptr()}}
	}
	var diags hcl.Diagnostics
	if st, err := os.Stat(secretFile); err == nil && st.Mode().Perm()&0o077 != 0 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "TSIG secret readable by others",
			Detail: fmt.Sprintf("%s has mode %v; whoever reads it can change zone %s. chmod 600 it.", secretFile, st.Mode().Perm(), z.Zone), Subject: z.TSIG.DeclRange.Ptr()})
	}
	return &dns.Server{
		Origin:        dnsFqdn(z.Zone),
		Primary:       z.Server,
		KeyName:       dnsFqdn(z.TSIG.Name),
		Algorithm:     dns.Algorithms[z.TSIG.Algorithm],
		Secret:        secret,
		Nameservers:   withPort(z.Nameservers),
		RequireDNSSEC: z.RequireDNSSEC,
	}, diags
}

// target is a path as the managed host sees it: relative paths are relative
// to the configuration directory.
func (w *world) target(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(w.cfg.Dir, p)
}

func (w *world) serverConfig(v *schema.Vhost) *webserver.ServerConfig {
	var r webserver.Renderer = webserver.Nginx{}
	if v.Server == "apache" {
		r = webserver.Apache{}
	}
	listen, _ := schema.ParseListen(v.Listen)
	site := webserver.Site{
		Address:       "vhost." + v.Name,
		Listen:        listen,
		Names:         v.ServerNames,
		Root:          w.target(v.Root),
		RedirectHTTPS: v.RedirectHTTPS,
		ACMEWebroot:   w.target(v.ACMEWebroot),
	}
	if c := w.cfg.Certificate(v.Certificate); c != nil {
		site.CertFile, site.KeyFile = w.target(c.CertFile), w.target(c.KeyFile)
		site.Protocols, site.Ciphers = w.cfg.TLSPolicy(v.TLSPolicy).Effective()
	}
	if h := v.HSTS; h != nil {
		site.HSTS = webserver.HSTSHeader(h.MaxAge, h.IncludeSubdomains, h.Preload)
	}
	if src := w.cfg.Vhost(v.HSTSFrom); src != nil && src.HSTS != nil && (src.HSTS.OnHTTP == nil || *src.HSTS.OnHTTP) {
		site.HSTS = webserver.HSTSHeader(src.HSTS.MaxAge, src.HSTS.IncludeSubdomains, src.HSTS.Preload)
	}
	sc := &webserver.ServerConfig{
		Host:          host.Local{},
		Renderer:      r,
		Site:          site,
		TargetPath:    w.target(v.ConfigFile),
		Path:          w.cfg.LocalPath(v.Host, v.ConfigFile),
		TestCommand:   r.DefaultTestCommand(),
		ReloadCommand: r.DefaultReloadCommand(),
	}
	if v.TestCommand != nil {
		sc.TestCommand = *v.TestCommand
	}
	if v.ReloadCommand != nil {
		sc.ReloadCommand = *v.ReloadCommand
	}
	return sc
}

// etcApt is the APT configuration directory a keyring belongs to: the one
// around .../etc/apt/keyrings/, else the host's /etc/apt.
func etcApt(keyring, hostEtcApt string) string {
	if dir := filepath.Dir(keyring); filepath.Base(dir) == "keyrings" && strings.HasSuffix(filepath.Dir(dir), filepath.Join("etc", "apt")) {
		return filepath.Dir(dir)
	}
	return hostEtcApt
}

// withPort gives every nameserver a port, 53 by default.
func withPort(servers []string) []string {
	out := make([]string, len(servers))
	for i, s := range servers {
		if _, _, err := net.SplitHostPort(s); err != nil {
			s = net.JoinHostPort(strings.Trim(s, "[]"), "53")
		}
		out[i] = s
	}
	return out
}

func dnsFqdn(s string) string {
	s = strings.ToLower(s)
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// probeFor returns the prober of a vhost with a running server, or nil.
func (w *world) probeFor(v *schema.Vhost, sc *webserver.ServerConfig) *probe.Vhost {
	if sc.ReloadCommand == "" {
		return nil
	}
	host, port, _ := net.SplitHostPort(sc.Site.Listen)
	if host == "*" {
		host = "127.0.0.1"
		if h := w.cfg.Host(v.Host); h != nil && h.Address != "" {
			host = h.Address
		}
	}
	return &probe.Vhost{
		Addr:        net.JoinHostPort(strings.Trim(host, "[]"), port),
		Names:       v.ServerNames,
		TLS:         sc.Site.TLS(),
		ACMEWebroot: sc.Site.ACMEWebroot != "",
	}
}
