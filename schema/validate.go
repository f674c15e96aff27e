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
)

// KeyTypes are the accepted certificate key types.
var KeyTypes = []string{"ec256", "ec384", "rsa2048", "rsa3072", "rsa4096", "rsa8192"}

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

func (b *Certificate) Validate(c *Config) hcl.Diagnostics { return c.validateCertificate(b) }
func (p *TLSPolicy) Validate(*Config) hcl.Diagnostics     { return validatePolicy(p) }

func (v *Vhost) Validate(c *Config) hcl.Diagnostics {
	return append(c.validateVhost(v), c.validateProfileKey(v)...)
}

func hostName(r Ref) string {
	if !r.Set() {
		return "the machine trustform runs on"
	}
	return r.Address.String()
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
