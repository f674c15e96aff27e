package providers

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/schema"
)

// What the rules, and kinds other than the owner, read of a block: a role
// a block plays, as a view of its settings. The rules match these roles,
// never a block's struct.

// Website is a block that serves web sites (a vhost): what the HTTPS rules
// read (hsts-on-http-vhost, cipher-consistency,
// acme-challenge-not-redirected), and where an http-01 challenge is
// answered. Web returns the same view on every call.
type Website interface {
	schema.Block
	Web() *Web
}

// Web is a web site as configured.
type Web struct {
	Address    schema.Address
	Name       string // the block's name
	Server     string // "nginx" or "apache"
	Listen     string // host:port, "*" for all addresses (normalised)
	Names      []string
	NamesRange hcl.Range
	// Certificate is what it serves over TLS; unset for plain HTTP.
	Certificate schema.Ref
	TLSPolicy   schema.Ref
	HSTS        *HSTS
	HSTSFrom    schema.Ref // the HTTPS site whose header a redirect carries
	Host        schema.Ref
	// RedirectHTTPS: plain HTTP redirects to HTTPS on the same host.
	RedirectHTTPS bool
	RedirectRange hcl.Range
	ACMEWebroot   string // as configured; "" for none
	// ProbeAddr is where its running server is probed (host:port); ""
	// when no server runs to probe (reload_command = "").
	ProbeAddr string
	DeclRange hcl.Range
}

// HSTS is a Strict-Transport-Security policy: a vhost's hsts block.
type HSTS struct {
	MaxAge            int   `hcl:"max_age"`
	IncludeSubdomains bool  `hcl:"include_subdomains,optional"`
	Preload           bool  `hcl:"preload,optional"`
	OnHTTP            *bool `hcl:"on_http,optional"`

	MaxAgeRange  hcl.Range `hcl:"max_age,attr_value_range"`
	PreloadRange hcl.Range `hcl:"preload,attr_value_range"`
	DeclRange    hcl.Range `hcl:",def_range"`
}

// MinPreloadMaxAge is the smallest max-age that HSTS preload lists accept
// (one year).
const MinPreloadMaxAge = 31536000

// TLSSettings is a block that says which TLS protocols and ciphers the
// sites that name it accept (a tls_policy).
type TLSSettings interface {
	schema.Block
	// Effective is the protocols and cipher string in force; empty for
	// the server's defaults.
	Effective() (protocols []string, ciphers string)
}

// Certified is a certificate block as the rules and other kinds read it.
type Certified interface {
	schema.Block
	Cert() Cert
}

// Cert is a certificate as configured.
type Cert struct {
	Address   schema.Address
	Name      string
	Names     []string // domains
	KeyType   string
	CertFile  string // as configured
	KeyFile   string
	Host      schema.Ref
	Challenge string // "http-01", "dns-01"; "" when its issuer is not an ACME CA
	// Fallbacks are fallback_issuers: the issuers it may be ordered from
	// when its issuer fails.
	Fallbacks []schema.Address
	// ChallengeRange is where the challenge is set, or the block.
	ChallengeRange hcl.Range
	DeclRange      hcl.Range
}
