package schema

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/miekg/dns"
)

// KeyTypes are the accepted certificate key types.
var KeyTypes = []string{"ec256", "ec384", "rsa2048", "rsa3072", "rsa4096", "rsa8192"}

// TSIGAlgorithms are the accepted TSIG algorithm names.
var TSIGAlgorithms = []string{"hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha224", "hmac-sha1"}

// MinPreloadMaxAge is the smallest max-age that HSTS preload lists accept (one year).
const MinPreloadMaxAge = 31536000

func errAt(rng hcl.Range, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng.Ptr()}
}

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

// validate checks each block on its own, after references are resolved,
// then the blocks of each kind together, then what the language itself
// asks of all blocks: one state block, and files managed once.
func (c *Config) validate() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, k := range c.kinds {
		for _, b := range c.byType[k.Type] {
			if v, ok := b.(Validator); ok {
				diags = append(diags, v.Validate(c)...)
			}
		}
		if k.Check != nil {
			diags = append(diags, k.Check(c, c.byType[k.Type])...)
		}
	}
	diags = append(diags, c.validateState()...)
	diags = append(diags, c.validateManagedFiles()...)
	return diags
}

// Validate checks a host block and fills in its ssh block's defaults.
func (h *Host) Validate(c *Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	diags = appendNonNil(diags, c.checkPath(h.RootRange, "root", h.Root))
	if h.Address != "" && net.ParseIP(h.Address) == nil {
		diags = appendNonNil(diags, checkHostname(h.AddressRange, "address", h.Address, false, false))
	}
	diags = append(diags, validateSSH(h)...)
	for name, v := range h.Environment {
		if !envName.MatchString(name) || strings.ContainsRune(v, 0) {
			diags = append(diags, errAt(h.EnvironmentRange, "Invalid environment variable",
				fmt.Sprintf("%q: environment names are letters, digits and _, not starting with a digit, and values hold no NUL byte.", name)))
		}
	}
	return diags
}

func (z *DNSZone) Validate(c *Config) hcl.Diagnostics     { return c.validateZone(z) }
func (b *Certificate) Validate(c *Config) hcl.Diagnostics { return c.validateCertificate(b) }
func (b *TLSA) Validate(c *Config) hcl.Diagnostics        { return c.validateTLSA(b) }
func (p *TLSPolicy) Validate(*Config) hcl.Diagnostics     { return validatePolicy(p) }

// checkTLSAs checks the tlsa blocks together.
func checkTLSAs(c *Config, _ []Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	diags = append(diags, c.validatePublishNext()...)
	diags = append(diags, c.validateTLSAOwners()...)
	return append(diags, c.mailWarnings()...)
}

func (v *Vhost) Validate(c *Config) hcl.Diagnostics {
	return append(c.validateVhost(v), c.validateProfileKey(v)...)
}

func hostName(r Ref) string {
	if !r.Set() {
		return "the machine trustform runs on"
	}
	return r.Address.String()
}

func (c *Config) validateZone(z *DNSZone) hcl.Diagnostics {
	var diags hcl.Diagnostics
	// dns.IsDomainName accepts spaces and newlines, which a zone file's
	// $ORIGIN line would turn into records.
	if d := checkHostname(z.ZoneRange, "name", z.Zone, false, true); d != nil {
		diags = append(diags, errAt(z.ZoneRange, "Invalid zone name", d.Detail))
	}
	diags = appendNonNil(diags, c.checkPath(z.ZoneFileRange, "zone_file", z.ZoneFile))
	switch {
	case z.Server != "" && z.ZoneFile != "":
		diags = append(diags, errAt(z.ServerRange, "Conflicting zone access", "Set either server (an RFC 2136 primary) or zone_file, not both."))
	case z.Server == "" && z.ZoneFile == "":
		diags = append(diags, errAt(z.DeclRange, "Missing zone access", "Set server (an RFC 2136 primary as host:port, with a tsig block) or zone_file."))
	case z.Server != "":
		if _, _, err := net.SplitHostPort(z.Server); err != nil {
			diags = append(diags, errAt(z.ServerRange, "Invalid server address", fmt.Sprintf("server must be host:port, e.g. \"192.0.2.53:53\": %v.", err)))
		}
		if z.TSIG == nil {
			diags = append(diags, errAt(z.DeclRange, "Missing TSIG key", "Updates to a primary server must be signed: add a tsig { name, algorithm, secret_file } block."))
		}
	}
	if z.RequireDNSSEC && z.ZoneFile != "" {
		diags = append(diags, errAt(z.DeclRange, "require_dnssec needs a server", "Signatures are checked in the answers of the authoritative servers; a zone_file zone has none to ask."))
	}
	if z.TSIG != nil {
		if z.TSIG.Algorithm == "" {
			z.TSIG.Algorithm = "hmac-sha256"
		}
		if !oneOf(z.TSIG.Algorithm, TSIGAlgorithms) {
			diags = append(diags, errAt(z.TSIG.AlgorithmRange, "Unsupported TSIG algorithm", fmt.Sprintf("%q is not one of %s.", z.TSIG.Algorithm, strings.Join(TSIGAlgorithms, ", "))))
		}
	}
	return diags
}

func (c *Config) validateCertificate(b *Certificate) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if len(b.Domains) == 0 {
		diags = append(diags, errAt(b.DomainsRange, "No domains", "A certificate needs at least one domain."))
	}
	for _, d := range b.Domains {
		if checkHostname(b.DomainsRange, "domains", d, true, false) != nil || strings.HasSuffix(d, ".") {
			diags = append(diags, errAt(b.DomainsRange, "Invalid domain", fmt.Sprintf("%q is not a domain name (write names without a trailing dot).", d)))
		}
	}
	diags = appendNonNil(diags, c.checkPath(b.CertFileRange, "cert_file", b.CertFile))
	diags = appendNonNil(diags, c.checkPath(b.KeyFileRange, "key_file", b.KeyFile))
	if b.KeyType == "" {
		b.KeyType = "ec256"
	}
	if !oneOf(b.KeyType, KeyTypes) {
		diags = append(diags, errAt(b.KeyTypeRange, "Invalid key type", fmt.Sprintf("%q is not one of %s.", b.KeyType, strings.Join(KeyTypes, ", "))))
	}
	if b.Issuer.Type == "acme_account" && b.Challenge == "" {
		b.Challenge = "http-01"
	}
	if b.Challenge != "" && b.Challenge != "http-01" && b.Challenge != "dns-01" {
		diags = append(diags, errAt(b.ChallengeRange, "Invalid challenge", fmt.Sprintf("%q is not \"http-01\" or \"dns-01\".", b.Challenge)))
	}
	if b.ReuseKey == nil {
		t := true
		b.ReuseKey = &t
	}
	diags = append(diags, b.parseRenewBefore()...)
	diags = append(diags, c.validateACMEOrder(b)...)
	if b.CertFile == b.KeyFile {
		diags = append(diags, errAt(b.DeclRange, "Certificate and key share a file", "cert_file and key_file must differ: the key file is private (mode 0600)."))
	}
	return diags
}

func (c *Config) validateTLSA(b *TLSA) hcl.Diagnostics {
	var diags hcl.Diagnostics
	params := [3]struct {
		v     *int
		def   int
		max   int
		name  string
		rng   hcl.Range
		means string
	}{
		{b.Usage, 3, 3, "usage", b.UsageRange, "0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE"},
		{b.Selector, 1, 1, "selector", b.SelectorRange, "0 full certificate, 1 SubjectPublicKeyInfo"},
		{b.MatchingType, 1, 2, "matching_type", b.MatchingTypeRange, "0 exact, 1 SHA-256, 2 SHA-512"},
	}
	for i, p := range params {
		v := p.def
		if p.v != nil {
			v = *p.v
		}
		if v < 0 || v > p.max {
			diags = append(diags, errAt(p.rng, "TLSA "+p.name+" out of range", fmt.Sprintf("%s must be 0 to %d (%s); got %d.", p.name, p.max, p.means, v)))
			continue
		}
		b.Params[i] = uint8(v)
	}
	b.TTLSeconds = 3600
	if b.TTL != nil {
		if *b.TTL < 0 || *b.TTL > 2147483647 {
			diags = append(diags, errAt(b.TTLRange, "TTL out of range", fmt.Sprintf("ttl must be 0 to 2147483647 seconds; got %d.", *b.TTL)))
		} else {
			b.TTLSeconds = uint32(*b.TTL)
		}
	}
	b.Wait = 2 * Duration(b.TTLSeconds) * 1e9
	if b.RolloverWait != "" {
		d, err := ParseDuration(b.RolloverWait)
		if err != nil {
			diags = append(diags, errAt(b.WaitRange, "Invalid duration", err.Error()))
		}
		b.Wait = d
	}
	if b.PublishNext && (b.Params[0] == 0 || b.Params[0] == 2 || b.Params[1] != 1) {
		diags = append(diags, errAt(b.PublishNextRange, "publish_next needs an end-entity key record",
			"publish_next keeps the record of a staged next key published (RFC 7671 §8.1). That works for usage 1 or 3 with selector 1 (the key itself): a certificate for the next key does not exist yet, and usage 0 and 2 pin the CA, not a key of this certificate."))
	}

	zone := c.Zone(b.Zone)
	origin := dns.Fqdn(strings.ToLower(zone.Zone))
	switch {
	case b.Owner != "" && (b.Port != nil || b.Hostname != ""):
		diags = append(diags, errAt(b.OwnerRange, "Conflicting TLSA owner", "Set either name, or port, protocol and hostname, not both."))
		return diags
	case b.Owner != "":
		b.FQDN = strings.ToLower(b.Owner)
		if !strings.HasSuffix(b.FQDN, ".") {
			b.FQDN += "." + origin
		}
	case b.Port != nil && b.Hostname != "":
		if *b.Port < 1 || *b.Port > 65535 {
			diags = append(diags, errAt(b.PortRange, "Port out of range", fmt.Sprintf("port must be 1 to 65535; got %d.", *b.Port)))
		}
		if b.Protocol == "" {
			b.Protocol = "tcp"
		}
		if !oneOf(b.Protocol, []string{"tcp", "udp", "sctp"}) {
			diags = append(diags, errAt(b.DeclRange, "Invalid protocol", fmt.Sprintf("protocol must be tcp, udp or sctp; got %q.", b.Protocol)))
		}
		b.FQDN = "_" + strconv.Itoa(*b.Port) + "._" + b.Protocol + "." + dns.Fqdn(strings.ToLower(b.Hostname))
	default:
		diags = append(diags, errAt(b.DeclRange, "Missing TLSA owner", "Set name (e.g. \"_443._tcp.www\"), or port, protocol and hostname."))
		return diags
	}
	if checkHostname(b.OwnerRange, "name", b.FQDN, false, true) != nil {
		rng := b.OwnerRange
		if b.Hostname != "" {
			rng = b.HostnameRange
		}
		diags = append(diags, errAt(rng, "Invalid TLSA owner", fmt.Sprintf("%q is not a domain name.", b.FQDN)))
	} else if !dns.IsSubDomain(origin, b.FQDN) {
		rng := b.OwnerRange
		if b.Hostname != "" {
			rng = b.HostnameRange
		}
		diags = append(diags, errAt(rng, "TLSA owner outside its zone", fmt.Sprintf("%s is not inside zone %s (%s).", b.FQDN, origin, b.Zone.Address)))
	}
	return diags
}

// validatePublishNext: a certificate keeps a next key for all of its
// end-entity TLSA RRsets or for none; otherwise a rollover would still wait
// for the RRsets that do not publish it.
func (c *Config) validatePublishNext() hcl.Diagnostics {
	var diags hcl.Diagnostics
	first := map[Address]*TLSA{}
	for _, b := range c.TLSAs {
		if (b.Params[0] != 1 && b.Params[0] != 3) || b.Params[1] != 1 {
			continue // no next key record exists for these: see publish_next's own check
		}
		f, ok := first[b.Certificate.Address]
		if !ok {
			first[b.Certificate.Address] = b
			continue
		}
		if f.PublishNext != b.PublishNext {
			rng := b.DeclRange
			if b.PublishNext {
				rng = b.PublishNextRange
			}
			diags = append(diags, errAt(rng, "publish_next differs between the RRsets of one certificate",
				fmt.Sprintf("tlsa.%s sets publish_next = %t and tlsa.%s (%s) sets %t; both pin %s. Set it on every end-entity TLSA RRset of the certificate or on none: a rollover waits for any RRset that does not publish the next key.",
					b.Name, b.PublishNext, f.Name, f.DeclRange, f.PublishNext, b.Certificate.Address)))
		}
	}
	return diags
}

// validateTLSAOwners: tlsa blocks may share an owner name (3 1 1 and 2 1 1
// for one service), each managing its own usage, selector and matching type;
// two for the same combination would overwrite each other, and one RRset has
// one TTL (RFC 2181 §5.2).
func (c *Config) validateTLSAOwners() hcl.Diagnostics {
	var diags hcl.Diagnostics
	first := map[string]*TLSA{}
	for _, b := range c.TLSAs {
		if b.FQDN == "" {
			continue // its owner already has a diagnostic
		}
		f, ok := first[b.FQDN]
		if !ok {
			first[b.FQDN] = b
			continue
		}
		switch {
		case f.Params == b.Params:
			diags = append(diags, errAt(b.DeclRange, "Two tlsa blocks for the same records",
				fmt.Sprintf("tlsa.%s and tlsa.%s (%s) both manage the %d %d %d records at %s. Blocks may share an owner only with different usage, selector or matching type.",
					b.Name, f.Name, f.DeclRange, b.Params[0], b.Params[1], b.Params[2], strings.TrimSuffix(b.FQDN, "."))))
		case f.TTLSeconds != b.TTLSeconds:
			rng := b.DeclRange
			if b.TTL != nil {
				rng = b.TTLRange
			}
			diags = append(diags, errAt(rng, "Different TTLs in one RRset",
				fmt.Sprintf("tlsa.%s has ttl %d, tlsa.%s (%s) ttl %d, at the same owner %s: the records form one RRset, which has one TTL.",
					b.Name, b.TTLSeconds, f.Name, f.DeclRange, f.TTLSeconds, strings.TrimSuffix(b.FQDN, "."))))
		}
	}
	return diags
}

// validateProfileKey: a profile allows only its certificate types;
// mozilla-modern's are ECDSA only.
func (c *Config) validateProfileKey(v *Vhost) hcl.Diagnostics {
	prof, cert := c.TLSPolicy(v.TLSPolicy).Mozilla(), c.Certificate(v.Certificate)
	if prof == nil || cert == nil {
		return nil
	}
	kind := "ecdsa"
	if strings.HasPrefix(cert.KeyType, "rsa") {
		kind = "rsa"
	}
	if slices.Contains(prof.CertificateTypes, kind) {
		return nil
	}
	return hcl.Diagnostics{errAt(v.DeclRange, "Certificate type outside the TLS profile",
		fmt.Sprintf("vhost.%s uses %s under %s, whose certificates are %s only (Mozilla's guidelines %s, certificate_types). Set key_type = \"ec256\" on %s, or use mozilla-intermediate.",
			v.Name, cert.KeyType, prof.Name, strings.Join(prof.CertificateTypes, ", "), prof.Version, v.Certificate.Address))}
}

func validatePolicy(p *TLSPolicy) hcl.Diagnostics {
	var diags hcl.Diagnostics
	switch {
	case p.Profile != "" && (len(p.Protocols) > 0 || p.Ciphers != ""):
		diags = append(diags, errAt(p.ProfileRange, "Conflicting TLS policy", "Set either profile, or protocols and ciphers, not both."))
	case p.Profile != "":
		var ok bool
		if p.mozilla, ok = MozillaProfile(p.Profile); !ok {
			diags = append(diags, errAt(p.ProfileRange, "Unknown TLS profile", fmt.Sprintf("%q is not \"mozilla-modern\" or \"mozilla-intermediate\".", p.Profile)))
		}
	case len(p.Protocols) == 0:
		diags = append(diags, errAt(p.DeclRange, "Empty TLS policy", "Set profile, or protocols (and ciphers)."))
	}
	if p.Ciphers != "" {
		diags = appendNonNil(diags, cipherGrammar.check(p.CiphersRange, "ciphers", p.Ciphers))
	}
	for _, proto := range p.Protocols {
		if !tlsProtocols[proto] {
			diags = append(diags, errAt(p.ProtocolsRange, "Unknown TLS protocol", fmt.Sprintf("%q is not one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3.", proto)))
		}
	}
	return diags
}

func (c *Config) validateVhost(v *Vhost) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if v.Server != "nginx" && v.Server != "apache" {
		diags = append(diags, errAt(v.ServerRange, "Unknown web server", fmt.Sprintf("server must be \"nginx\" or \"apache\"; got %q.", v.Server)))
	}
	if _, err := ParseListen(v.Listen); err != nil {
		diags = append(diags, errAt(v.ListenRange, "Invalid listen address", err.Error()))
	}
	if len(v.ServerNames) == 0 {
		diags = append(diags, errAt(v.ServerNamesRange, "No server names", "A vhost needs at least one name in server_names."))
	}
	for _, n := range v.ServerNames {
		diags = appendNonNil(diags, checkHostname(v.ServerNamesRange, "server_names", n, true, false))
	}
	for _, ver := range []struct {
		attr, v string
		rng     hcl.Range
	}{{"server_version", v.ServerVersion, v.ServerVersionRange}, {"openssl_version", v.OpenSSLVersion, v.OpenSSLVersionRange}} {
		if ver.v != "" && !versionNumber.MatchString(ver.v) {
			diags = append(diags, errAt(ver.rng, "Invalid version", fmt.Sprintf("%s is a version number such as \"1.22.1\"; got %q.", ver.attr, ver.v)))
		}
	}
	diags = appendNonNil(diags, c.checkPath(v.ConfigFileRange, "config_file", v.ConfigFile))
	diags = appendNonNil(diags, c.checkPath(v.RootRange, "root", v.Root))
	diags = appendNonNil(diags, c.checkPath(v.ACMEWebrootRange, "acme_webroot", v.ACMEWebroot))
	if v.Certificate.Set() && v.RedirectHTTPS {
		diags = append(diags, errAt(v.RedirectRange, "Redirect on a TLS vhost", "redirect_https belongs on the plain-HTTP vhost; this one has a certificate."))
	}
	if h := v.HSTS; h != nil {
		if h.MaxAge < 0 {
			diags = append(diags, errAt(h.MaxAgeRange, "Invalid HSTS max_age", "max_age is a number of seconds, 0 or more."))
		}
	}
	if v.HSTSFrom.Set() {
		if src := c.Vhost(v.HSTSFrom); src != nil && src.HSTS == nil {
			diags = append(diags, errAt(v.HSTSFrom.Range, "hsts_from names a vhost without hsts", fmt.Sprintf("%s has no hsts block to copy.", v.HSTSFrom.Address)))
		}
	}
	return diags
}

var (
	envName       = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)
	versionNumber = regexp.MustCompile(`^[0-9]{1,6}(\.[0-9]{1,6}){0,4}$`)
)

// ParseListen normalises a listen address ("443", "*:443", "192.0.2.1:443",
// "[::1]:443") to host:port, with "*" for all addresses.
func ParseListen(s string) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = "*", s
	}
	if host == "" || host == "0.0.0.0" {
		host = "*"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q: want host:port or a port, e.g. \"192.0.2.10:443\" or \"443\"", s)
	}
	if host != "*" && net.ParseIP(host) == nil {
		return "", fmt.Errorf("%q: the address must be an IP address or *", s)
	}
	return net.JoinHostPort(host, port), nil
}

// ListenPort returns the port of a listen address.
func ListenPort(s string) string {
	l, err := ParseListen(s)
	if err != nil {
		return ""
	}
	_, p, _ := net.SplitHostPort(l)
	return p
}

func appendNonNil(diags hcl.Diagnostics, d *hcl.Diagnostic) hcl.Diagnostics {
	if d == nil {
		return diags
	}
	return append(diags, d)
}

// validateManagedFiles: a file trustform writes (and shows in plans) is
// never one of its secrets nor anything in its state directory, and is
// managed by one block only. A config_file naming the local CA's key would
// print the key in the plan that CI posts on the pull request, and write a
// vhost over it.
func (c *Config) validateManagedFiles() hcl.Diagnostics {
	type managed struct {
		what string // "certificate.www key_file"
		rng  hcl.Range
		path string
		host string // "" for this machine, else the SSH host's name
	}
	var all []managed
	var diags hcl.Diagnostics
	add := func(addr Address, attr string, rng hcl.Range, host Ref, p string) {
		if p == "" {
			return
		}
		m := managed{addr.String() + " " + attr, rng, c.LocalPath(host, p), ""}
		if h := c.Host(host); h != nil && h.SSH != nil {
			if !filepath.IsAbs(p) {
				diags = append(diags, errAt(rng, "Relative path on an SSH host", fmt.Sprintf("%s %s %q is on host.%s, reached over SSH: write the path as the host sees it, absolute.", addr, attr, p, h.Name)))
				return
			}
			m.host = h.Name
		}
		all = append(all, m)
	}
	c.Each(func(addr Address, _ hcl.Range, b Block) {
		if fn, ok := b.(FileNamer); ok {
			for _, f := range fn.Files() {
				if f.Managed {
					add(addr, f.Attr, f.Range, f.Host, f.Path)
				}
			}
		}
	})
	secrets := c.credentialFiles()
	seen := map[string]managed{}
	stateDir := c.StateDir() + string(filepath.Separator)
	for _, m := range all {
		key := m.host + ":" + m.path
		switch prev, dup := seen[key]; {
		case m.host == "" && strings.HasPrefix(m.path+string(filepath.Separator), stateDir):
			diags = append(diags, errAt(m.rng, "Managed file in the state directory",
				fmt.Sprintf("%s is %s, inside %s, where trustform keeps its state and secrets (the local CA key, ACME account keys). Choose a path outside it.", m.what, m.path, c.StateDir())))
		case m.host == "" && secrets[m.path] != "":
			diags = append(diags, errAt(m.rng, "Managed file is a secret",
				fmt.Sprintf("%s is %s, %s. trustform would show and overwrite it.", m.what, m.path, secrets[m.path])))
		case dup:
			diags = append(diags, errAt(m.rng, "Two blocks manage one file",
				fmt.Sprintf("%s and %s (%s) are both %s; each would overwrite the other.", m.what, prev.what, prev.rng, m.path)))
		default:
			seen[key] = m
		}
	}
	return diags
}

// validateSSH fills in an ssh block's defaults: the local user's name, port
// 22, ~/.ssh/known_hosts, root "/".
func validateSSH(h *Host) hcl.Diagnostics {
	s := h.SSH
	if s == nil {
		return nil
	}
	var diags hcl.Diagnostics
	if h.Address == "" {
		diags = append(diags, errAt(s.DeclRange, "SSH host without an address", fmt.Sprintf("host.%s has an ssh block: set address, the name or IP trustform connects to.", h.Name)))
	}
	if h.Root == "" {
		h.Root = "/"
	} else if !strings.HasPrefix(h.Root, "/") {
		diags = append(diags, errAt(h.RootRange, "Relative root on an SSH host", "root is a directory on the remote host: write it as an absolute path."))
	}
	s.PortNumber = 22
	if s.Port != nil {
		if *s.Port < 1 || *s.Port > 65535 {
			diags = append(diags, errAt(s.PortRange, "Port out of range", fmt.Sprintf("port must be 1 to 65535; got %d.", *s.Port)))
		}
		s.PortNumber = *s.Port
	}
	if s.User == "" {
		if u, err := user.Current(); err == nil {
			s.User = u.Username
		}
	}
	home, _ := os.UserHomeDir()
	expand := func(p string) string {
		if rest, ok := strings.CutPrefix(p, "~/"); ok {
			return filepath.Join(home, rest)
		}
		return p
	}
	if s.KnownHosts == "" {
		s.KnownHosts = "~/.ssh/known_hosts"
	}
	s.KnownHosts, s.IdentityFile = expand(s.KnownHosts), expand(s.IdentityFile)
	return diags
}

// validateState: at most one state block, of a known type, with no
// password in its connection string (libpq's PGPASSWORD, PGPASSFILE and
// ~/.pgpass give it; a configuration is reviewed in pull requests).
func (c *Config) validateState() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for i, s := range c.states {
		switch {
		case i > 0:
			diags = append(diags, errAt(s.DeclRange, "Two state blocks", fmt.Sprintf("State is kept in one place; the first state block is at %s.", c.states[0].DeclRange)))
			continue
		case s.Type != "postgres":
			diags = append(diags, errAt(s.DeclRange, "Unknown state store", fmt.Sprintf("state %q: the only store besides .trustform/ is \"postgres\".", s.Type)))
			continue
		}
		hasPw := strings.Contains(strings.ToLower(s.ConnStr), "password=")
		if u, err := url.Parse(s.ConnStr); err == nil && u.User != nil {
			_, inURL := u.User.Password()
			hasPw = hasPw || inURL
		}
		if hasPw {
			diags = append(diags, errAt(s.ConnStrRange, "Password in conn_str",
				"The connection string is part of the configuration, which is reviewed and stored in repositories: leave the password out and give it through PGPASSWORD, PGPASSFILE or ~/.pgpass."))
			continue
		}
		if s.Schema == "" {
			s.Schema = "trustform"
		}
		if s.Name == "" {
			s.Name = "default"
		}
		c.State = s
	}
	return diags
}
