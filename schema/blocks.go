package schema

import (
	"github.com/hashicorp/hcl/v2"
)

// Host says where the files of the resources that name it live.
type Host struct {
	Name    string `hcl:"name,label"`
	Address string `hcl:"address,optional"`
	// Root prefixes every absolute file path of the resources on this host,
	// so a configuration can manage a tree that is not mounted at "/".
	Root string `hcl:"root,optional"`
	// SSH makes the host remote: its files and commands go over SSH.
	SSH *SSH `hcl:"ssh,block"`
	// Environment is set for the commands of this host's resources
	// (test_command, reload_command), beside PATH, HOME, LANG and the
	// other variables a command inherits: never the runner's credentials.
	Environment map[string]string `hcl:"environment,optional"`

	AddressRange     hcl.Range `hcl:"address,attr_value_range"`
	EnvironmentRange hcl.Range `hcl:"environment,attr_value_range"`
	RootRange        hcl.Range `hcl:"root,attr_value_range"`
	DeclRange        hcl.Range `hcl:",def_range"`
}

// SSH is how a remote host is reached.
type SSH struct {
	User         string `hcl:"user,optional"`
	Port         *int   `hcl:"port,optional"`
	IdentityFile string `hcl:"identity_file,optional"`
	KnownHosts   string `hcl:"known_hosts,optional"`
	Jump         string `hcl:"jump,optional"`
	Become       bool   `hcl:"become,optional"`

	PortRange hcl.Range `hcl:"port,attr_value_range"`
	JumpRange hcl.Range `hcl:"jump,attr_value_range"`
	DeclRange hcl.Range `hcl:",def_range"`

	// PortNumber is Port with its default, 22.
	PortNumber int
}

// Certificate is a certificate and its private key, deployed as files.
type Certificate struct {
	Name        string         `hcl:"name,label"`
	Domains     []string       `hcl:"domains"`
	IssuerExpr  hcl.Expression `hcl:"issuer"`
	Challenge   string         `hcl:"challenge,optional"`
	KeyType     string         `hcl:"key_type,optional"`
	ReuseKey    *bool          `hcl:"reuse_key,optional"`
	CertFile    string         `hcl:"cert_file"`
	KeyFile     string         `hcl:"key_file"`
	RenewBefore string         `hcl:"renew_before,optional"`
	HostExpr    hcl.Expression `hcl:"host,optional"`
	// HTTPAddress is where lego's own http-01 server listens when no vhost
	// serves the names (default ":80").
	HTTPAddress string `hcl:"http_address,optional"`
	// Profile is the ACME profile to order (the directory's meta.profiles).
	Profile string `hcl:"profile,optional"`
	// PreferredChain is the common name of the root (or of an issuer in
	// the chain) to prefer among the CA's alternate chains.
	PreferredChain string `hcl:"preferred_chain,optional"`
	// Optional files written with cert_file and key_file: the chain
	// (leaf and intermediates, like cert_file), the intermediates alone,
	// and leaf, intermediates and key in one file (0600, for HAProxy).
	FullchainFile string `hcl:"fullchain_file,optional"`
	ChainFile     string `hcl:"chain_file,optional"`
	BundleFile    string `hcl:"bundle_file,optional"`

	DomainsRange     hcl.Range `hcl:"domains,attr_value_range"`
	CertFileRange    hcl.Range `hcl:"cert_file,attr_value_range"`
	KeyFileRange     hcl.Range `hcl:"key_file,attr_value_range"`
	ChallengeRange   hcl.Range `hcl:"challenge,attr_value_range"`
	KeyTypeRange     hcl.Range `hcl:"key_type,attr_value_range"`
	RenewBeforeRange hcl.Range `hcl:"renew_before,attr_value_range"`
	ProfileRange     hcl.Range `hcl:"profile,attr_value_range"`
	PreferredRange   hcl.Range `hcl:"preferred_chain,attr_value_range"`
	FullchainRange   hcl.Range `hcl:"fullchain_file,attr_value_range"`
	ChainFileRange   hcl.Range `hcl:"chain_file,attr_value_range"`
	BundleFileRange  hcl.Range `hcl:"bundle_file,attr_value_range"`
	DeclRange        hcl.Range `hcl:",def_range"`

	Issuer Ref
	Host   Ref
	// RenewBeforeDuration is RenewBefore parsed when it is a duration;
	// RenewBeforeFraction when it is a fraction of the lifetime ("1/3").
	// Neither set: 30 days, or a third of a lifetime under 30 days.
	RenewBeforeDuration Duration
	RenewBeforeFraction float64
}

// TLSPolicy is a TLS protocol and cipher setting shared by vhosts.
type TLSPolicy struct {
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

// HSTS is a Strict-Transport-Security policy.
type HSTS struct {
	MaxAge            int   `hcl:"max_age"`
	IncludeSubdomains bool  `hcl:"include_subdomains,optional"`
	Preload           bool  `hcl:"preload,optional"`
	OnHTTP            *bool `hcl:"on_http,optional"`

	MaxAgeRange  hcl.Range `hcl:"max_age,attr_value_range"`
	PreloadRange hcl.Range `hcl:"preload,attr_value_range"`
	DeclRange    hcl.Range `hcl:",def_range"`
}

// Vhost is a web server virtual host, rendered into one managed config file.
type Vhost struct {
	Name            string         `hcl:"name,label"`
	Server          string         `hcl:"server"`
	ConfigFile      string         `hcl:"config_file"`
	Listen          string         `hcl:"listen"`
	ServerNames     []string       `hcl:"server_names"`
	CertificateExpr hcl.Expression `hcl:"certificate,optional"`
	TLSPolicyExpr   hcl.Expression `hcl:"tls_policy,optional"`
	Root            string         `hcl:"root,optional"`
	RedirectHTTPS   bool           `hcl:"redirect_https,optional"`
	ACMEWebroot     string         `hcl:"acme_webroot,optional"`
	HSTS            *HSTS          `hcl:"hsts,block"`
	HSTSFromExpr    hcl.Expression `hcl:"hsts_from,optional"`
	TestCommand     *string        `hcl:"test_command,optional"`
	ReloadCommand   *string        `hcl:"reload_command,optional"`
	HostExpr        hcl.Expression `hcl:"host,optional"`
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

	Certificate Ref
	TLSPolicy   Ref
	HSTSFrom    Ref
	Host        Ref
}

// State says where state is kept when not in .trustform/: a PostgreSQL
// database that every runner shares. The label is the store's type.
type State struct {
	Type string `hcl:"type,label"`
	// ConnStr may be left to the runner (-backend-config=conn_str=…,
	// TRUSTFORM_PG_CONN_STR), which then pins it.
	ConnStr string `hcl:"conn_str,optional"`
	Schema  string `hcl:"schema,optional"`
	Name    string `hcl:"name,optional"`

	ConnStrRange hcl.Range `hcl:"conn_str,attr_value_range"`
	DeclRange    hcl.Range `hcl:",def_range"`
}
