package webserver

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// PolicyBlock is a tls_policy block: a TLS protocol and cipher setting
// shared by vhosts.
type PolicyBlock struct {
	Name      string   `hcl:"name,label"`
	Protocols []string `hcl:"protocols,optional"`
	Ciphers   string   `hcl:"ciphers,optional"`
	Profile   string   `hcl:"profile,optional"`

	ProtocolsRange hcl.Range `hcl:"protocols,attr_value_range"`
	CiphersRange   hcl.Range `hcl:"ciphers,attr_value_range"`
	ProfileRange   hcl.Range `hcl:"profile,attr_value_range"`
	DeclRange      hcl.Range `hcl:",def_range"`

	// mozilla is Profile read from the guidelines once, when validated:
	// every vhost of a large fleet asks for it.
	mozilla *Profile
}

// VhostBlock is a vhost block: a web server virtual host, rendered into one
// managed config file.
type VhostBlock struct {
	Name            string          `hcl:"name,label"`
	Server          string          `hcl:"server"`
	ConfigFile      string          `hcl:"config_file"`
	Listen          string          `hcl:"listen"`
	ServerNames     []string        `hcl:"server_names"`
	CertificateExpr hcl.Expression  `hcl:"certificate,optional"`
	TLSPolicyExpr   hcl.Expression  `hcl:"tls_policy,optional"`
	Root            string          `hcl:"root,optional"`
	RedirectHTTPS   bool            `hcl:"redirect_https,optional"`
	ACMEWebroot     string          `hcl:"acme_webroot,optional"`
	HSTS            *providers.HSTS `hcl:"hsts,block"`
	HSTSFromExpr    hcl.Expression  `hcl:"hsts_from,optional"`
	TestCommand     *string         `hcl:"test_command,optional"`
	ReloadCommand   *string         `hcl:"reload_command,optional"`
	HostExpr        hcl.Expression  `hcl:"host,optional"`
	// ServerVersion and OpenSSLVersion say what the host runs, for the
	// Mozilla profile's version-dependent lines; otherwise they are read
	// from the host's package database (plan runs no command to ask).
	ServerVersion  string `hcl:"server_version,optional"`
	OpenSSLVersion string `hcl:"openssl_version,optional"`

	ServerRange         hcl.Range `hcl:"server,attr_value_range"`
	ServerVersionRange  hcl.Range `hcl:"server_version,attr_value_range"`
	OpenSSLVersionRange hcl.Range `hcl:"openssl_version,attr_value_range"`
	ConfigFileRange     hcl.Range `hcl:"config_file,attr_value_range"`
	RootRange           hcl.Range `hcl:"root,attr_value_range"`
	ACMEWebrootRange    hcl.Range `hcl:"acme_webroot,attr_value_range"`
	ListenRange         hcl.Range `hcl:"listen,attr_value_range"`
	ServerNamesRange    hcl.Range `hcl:"server_names,attr_value_range"`
	RedirectRange       hcl.Range `hcl:"redirect_https,attr_value_range"`
	DeclRange           hcl.Range `hcl:",def_range"`

	Certificate schema.Ref
	TLSPolicy   schema.Ref
	HSTSFrom    schema.Ref
	Host        schema.Ref

	web *providers.Web // what Web returns
}

// validateProfileKey: a profile allows only its certificate types;
// mozilla-modern's are ECDSA only.
func validateProfileKey(c *schema.Config, v *VhostBlock) hcl.Diagnostics {
	prof := policyOf(c, v.TLSPolicy).Mozilla()
	cb, ok := c.Block(v.Certificate.Address).(providers.Certified)
	if prof == nil || !ok {
		return nil
	}
	cert := cb.Cert()
	kind := "ecdsa"
	if strings.HasPrefix(cert.KeyType, "rsa") {
		kind = "rsa"
	}
	if slices.Contains(prof.CertificateTypes, kind) {
		return nil
	}
	return hcl.Diagnostics{schema.ErrAt(v.DeclRange, "Certificate type outside the TLS profile",
		fmt.Sprintf("vhost.%s uses %s under %s, whose certificates are %s only (Mozilla's guidelines %s, certificate_types). Set key_type = \"ec256\" on %s, or use mozilla-intermediate.",
			v.Name, cert.KeyType, prof.Name, strings.Join(prof.CertificateTypes, ", "), prof.Version, v.Certificate.Address))}
}

func validatePolicy(p *PolicyBlock) hcl.Diagnostics {
	var diags hcl.Diagnostics
	switch {
	case p.Profile != "" && (len(p.Protocols) > 0 || p.Ciphers != ""):
		diags = append(diags, schema.ErrAt(p.ProfileRange, "Conflicting TLS policy", "Set either profile, or protocols and ciphers, not both."))
	case p.Profile != "":
		var ok bool
		if p.mozilla, ok = MozillaProfile(p.Profile); !ok {
			diags = append(diags, schema.ErrAt(p.ProfileRange, "Unknown TLS profile", fmt.Sprintf("%q is not \"mozilla-modern\" or \"mozilla-intermediate\".", p.Profile)))
		}
	case len(p.Protocols) == 0:
		diags = append(diags, schema.ErrAt(p.DeclRange, "Empty TLS policy", "Set profile, or protocols (and ciphers)."))
	}
	if p.Ciphers != "" {
		diags = schema.Append(diags, schema.CheckCiphers(p.CiphersRange, "ciphers", p.Ciphers))
	}
	for _, proto := range p.Protocols {
		if !tlsProtocols[proto] {
			diags = append(diags, schema.ErrAt(p.ProtocolsRange, "Unknown TLS protocol", fmt.Sprintf("%q is not one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3.", proto)))
		}
	}
	return diags
}

func validateVhost(c *schema.Config, v *VhostBlock) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if v.Server != "nginx" && v.Server != "apache" {
		diags = append(diags, schema.ErrAt(v.ServerRange, "Unknown web server", fmt.Sprintf("server must be \"nginx\" or \"apache\"; got %q.", v.Server)))
	}
	if _, err := ParseListen(v.Listen); err != nil {
		diags = append(diags, schema.ErrAt(v.ListenRange, "Invalid listen address", err.Error()))
	}
	if len(v.ServerNames) == 0 {
		diags = append(diags, schema.ErrAt(v.ServerNamesRange, "No server names", "A vhost needs at least one name in server_names."))
	}
	for _, n := range v.ServerNames {
		diags = schema.Append(diags, schema.CheckHostname(v.ServerNamesRange, "server_names", n, true, false))
	}
	for _, ver := range []struct {
		attr, v string
		rng     hcl.Range
	}{{"server_version", v.ServerVersion, v.ServerVersionRange}, {"openssl_version", v.OpenSSLVersion, v.OpenSSLVersionRange}} {
		if ver.v != "" && !versionNumber.MatchString(ver.v) {
			diags = append(diags, schema.ErrAt(ver.rng, "Invalid version", fmt.Sprintf("%s is a version number such as \"1.22.1\"; got %q.", ver.attr, ver.v)))
		}
	}
	diags = schema.Append(diags, c.CheckPath(v.ConfigFileRange, "config_file", v.ConfigFile))
	diags = schema.Append(diags, c.CheckPath(v.RootRange, "root", v.Root))
	diags = schema.Append(diags, c.CheckPath(v.ACMEWebrootRange, "acme_webroot", v.ACMEWebroot))
	if v.Certificate.Set() && v.RedirectHTTPS {
		diags = append(diags, schema.ErrAt(v.RedirectRange, "Redirect on a TLS vhost", "redirect_https belongs on the plain-HTTP vhost; this one has a certificate."))
	}
	if h := v.HSTS; h != nil {
		if h.MaxAge < 0 {
			diags = append(diags, schema.ErrAt(h.MaxAgeRange, "Invalid HSTS max_age", "max_age is a number of seconds, 0 or more."))
		}
	}
	if v.HSTSFrom.Set() {
		if src, ok := c.Block(v.HSTSFrom.Address).(*VhostBlock); ok && src.HSTS == nil {
			diags = append(diags, schema.ErrAt(v.HSTSFrom.Range, "hsts_from names a vhost without hsts", fmt.Sprintf("%s has no hsts block to copy.", v.HSTSFrom.Address)))
		}
	}
	return diags
}

var versionNumber = regexp.MustCompile(`^[0-9]{1,6}(\.[0-9]{1,6}){0,4}$`)

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
