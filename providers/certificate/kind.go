package certificate

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// Type is the block type of a certificate.
const Type = "certificate"

var (
	_ providers.Certified = (*Block)(nil)
	_ schema.Referrer     = (*Block)(nil)
	_ schema.Validator    = (*Block)(nil)
	_ schema.FileNamer    = (*Block)(nil)
)

// Kind is the certificate kind: -replace selects certificates, by host too.
func Kind() providers.Kind {
	return providers.Kind{
		Kind: schema.Kind{Type: Type, Rank: 1, New: func() schema.Block { return &Block{} }, Replaceable: true},
		Bind: bind,
	}
}

// Orderer is a bound issuer whose orders take each certificate's settings
// (an ACME account: its challenge, profile, the vhost or zone that answers
// the challenge).
type Orderer interface {
	IssuerFor(b providers.Binding, c *Block) (Issuer, hcl.Diagnostics)
}

func (b *Block) Header() (*string, *hcl.Range) { return &b.Name, &b.DeclRange }

func (b *Block) References() []schema.Reference {
	return append([]schema.Reference{
		{Attr: "issuer", Expr: b.IssuerExpr, To: &b.Issuer, Types: []string{"local_ca", "acme_account"}, Required: true},
		{Attr: "host", Expr: b.HostExpr, To: &b.Host, Types: []string{"host"}},
	}, b.fallbackReferences()...)
}

func (b *Block) Files() []schema.File {
	key := "the private key of certificate." + b.Name
	return []schema.File{
		{Attr: "cert_file", Range: b.CertFileRange, Host: b.Host, Path: b.CertFile, Managed: true},
		{Attr: "key_file", Range: b.KeyFileRange, Host: b.Host, Path: b.KeyFile, Managed: true, Secret: key},
		{Attr: "fullchain_file", Range: b.FullchainRange, Host: b.Host, Path: b.FullchainFile, Managed: true},
		{Attr: "chain_file", Range: b.ChainFileRange, Host: b.Host, Path: b.ChainFile, Managed: true},
		{Attr: "bundle_file", Range: b.BundleFileRange, Host: b.Host, Path: b.BundleFile, Managed: true, Secret: key},
	}
}

// Cert is the certificate as the rules and other kinds read it.
func (b *Block) Cert() providers.Cert {
	c := providers.Cert{Address: schema.Address{Type: Type, Name: b.Name}, Name: b.Name, Names: b.Domains, KeyType: b.KeyType, CertFile: b.CertFile, KeyFile: b.KeyFile,
		Host: b.Host, ChallengeRange: b.ChallengeRange, DeclRange: b.DeclRange}
	if b.Issuer.Type == "acme_account" {
		c.Challenge = b.Challenge
	}
	for _, f := range b.Fallbacks {
		c.Fallbacks = append(c.Fallbacks, f.Address)
	}
	if c.ChallengeRange.Filename == "" {
		c.ChallengeRange = b.DeclRange
	}
	return c
}

func bind(b providers.Binding, block schema.Block) (any, hcl.Diagnostics) {
	c, cfg := block.(*Block), b.Config()
	cert := &Certificate{
		Addr:          Type + "." + c.Name,
		Host:          b.Host(c.Host),
		Domains:       c.Domains,
		KeyType:       c.KeyType,
		ReuseKey:      *c.ReuseKey,
		RenewBefore:   c.RenewBeforeDuration,
		RenewFraction: c.RenewBeforeFraction,
		CertPath:      cfg.LocalPath(c.Host, c.CertFile),
		KeyPath:       cfg.LocalPath(c.Host, c.KeyFile),
		KeyFile:       c.KeyFile,
		CertFile:      c.CertFile,
		IssuerAddr:    c.Issuer.Address,
		Now:           b.Now,
	}
	host := c.Host
	dir := certbotDir(c.CertFile)
	cert.certbot = b.Once("certificate.certbot:"+host.Address.String()+":"+dir, func() any { return &certbotRenewals{dir: dir} }).(*certbotRenewals)
	cert.local = func(p string) string { return cfg.LocalPath(host, p) }
	for _, cp := range []Copy{{Attr: "fullchain_file", File: c.FullchainFile, Kind: FullChain},
		{Attr: "chain_file", File: c.ChainFile, Kind: ChainOnly}, {Attr: "bundle_file", File: c.BundleFile, Kind: Bundle}} {
		if cp.File != "" {
			cp.Path = cfg.LocalPath(c.Host, cp.File)
			cert.Copies = append(cert.Copies, cp)
		}
	}
	var diags hcl.Diagnostics
	cert.Issuer, diags = issuerOf(b, c, c.Issuer)
	for _, f := range c.Fallbacks {
		iss, d := issuerOf(b, c, f)
		diags = append(diags, d...)
		cert.Fallbacks = append(cert.Fallbacks, Fallback{Addr: f.Address, Issuer: iss})
	}
	cert.FailoverAfter, cert.FailoverBefore = c.FailoverAfterDuration, c.FailoverBeforeDuration
	return cert, diags
}

// issuerOf is the issuer a reference names, for the certificate's orders.
func issuerOf(b providers.Binding, c *Block, r schema.Ref) (Issuer, hcl.Diagnostics) {
	switch iss := b.Bound(r.Address).(type) {
	case Issuer: // the local CA
		return iss, nil
	case Orderer: // an ACME account
		return iss.IssuerFor(b, c)
	}
	return nil, nil
}
