package schema

import "github.com/hashicorp/hcl/v2"

func (b *Host) Header() (*string, *hcl.Range)        { return &b.Name, &b.DeclRange }
func (b *Certificate) Header() (*string, *hcl.Range) { return &b.Name, &b.DeclRange }
func (b *TLSPolicy) Header() (*string, *hcl.Range)   { return &b.Name, &b.DeclRange }
func (b *Vhost) Header() (*string, *hcl.Range)       { return &b.Name, &b.DeclRange }
func (b *State) Header() (*string, *hcl.Range)       { return &b.Type, &b.DeclRange }
func (b *Removed) Header() (*string, *hcl.Range)     { return nil, &b.DeclRange }

var _ = []Block{(*Host)(nil), (*Certificate)(nil), (*TLSPolicy)(nil), (*Vhost)(nil), (*State)(nil), (*Removed)(nil)}

// Builtin are the kinds whose blocks are still declared in this package,
// in the order of the language reference.
func Builtin() []Kind {
	return []Kind{
		{Type: "certificate", Rank: 1, New: func() Block { return &Certificate{} }, Replaceable: true},
		{Type: "tls_policy", New: func() Block { return &TLSPolicy{} }},
		{Type: "vhost", Rank: 3, New: func() Block { return &Vhost{} }},
	}
}

func (b *Certificate) References() []Reference {
	return []Reference{{"issuer", b.IssuerExpr, &b.Issuer, []string{"local_ca", "acme_account"}, true}, {"host", b.HostExpr, &b.Host, []string{"host"}, false}}
}

func (b *Vhost) References() []Reference {
	return []Reference{{"certificate", b.CertificateExpr, &b.Certificate, []string{"certificate"}, false}, {"tls_policy", b.TLSPolicyExpr, &b.TLSPolicy, []string{"tls_policy"}, false},
		{"hsts_from", b.HSTSFromExpr, &b.HSTSFrom, []string{"vhost"}, false}, {"host", b.HostExpr, &b.Host, []string{"host"}, false}}
}

func (b *Host) Files() []File {
	if b.SSH == nil || b.SSH.IdentityFile == "" {
		return nil
	}
	return []File{{Attr: "identity_file", Path: b.SSH.IdentityFile, Secret: "the SSH identity of host." + b.Name, Credential: true}}
}

func (b *Certificate) Files() []File {
	key := "the private key of certificate." + b.Name
	return []File{
		{Attr: "cert_file", Range: b.CertFileRange, Host: b.Host, Path: b.CertFile, Managed: true},
		{Attr: "key_file", Range: b.KeyFileRange, Host: b.Host, Path: b.KeyFile, Managed: true, Secret: key},
		{Attr: "fullchain_file", Range: b.FullchainRange, Host: b.Host, Path: b.FullchainFile, Managed: true},
		{Attr: "chain_file", Range: b.ChainFileRange, Host: b.Host, Path: b.ChainFile, Managed: true},
		{Attr: "bundle_file", Range: b.BundleFileRange, Host: b.Host, Path: b.BundleFile, Managed: true, Secret: key},
	}
}

func (b *Vhost) Files() []File {
	return []File{{Attr: "config_file", Range: b.ConfigFileRange, Host: b.Host, Path: b.ConfigFile, Managed: true}}
}
