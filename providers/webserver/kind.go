package webserver

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// The block types of this package.
const (
	VhostType  = "vhost"
	PolicyType = "tls_policy"
)

var (
	_ providers.Website     = (*VhostBlock)(nil)
	_ schema.Referrer       = (*VhostBlock)(nil)
	_ schema.Validator      = (*VhostBlock)(nil)
	_ schema.FileNamer      = (*VhostBlock)(nil)
	_ providers.TLSSettings = (*PolicyBlock)(nil)
	_ schema.Validator      = (*PolicyBlock)(nil)
)

// PolicyKind is the tls_policy kind: it configures vhosts and binds to
// nothing.
func PolicyKind() providers.Kind {
	return providers.Kind{Kind: schema.Kind{Type: PolicyType, New: func() schema.Block { return &PolicyBlock{} }}}
}

// VhostKind is the vhost kind.
func VhostKind() providers.Kind {
	return providers.Kind{Kind: schema.Kind{Type: VhostType, Rank: 3, New: func() schema.Block { return &VhostBlock{} }}, Bind: bindVhost}
}

func (p *PolicyBlock) Header() (*string, *hcl.Range) { return &p.Name, &p.DeclRange }
func (v *VhostBlock) Header() (*string, *hcl.Range)  { return &v.Name, &v.DeclRange }

func (v *VhostBlock) References() []schema.Reference {
	return []schema.Reference{
		{Attr: "certificate", Expr: v.CertificateExpr, To: &v.Certificate, Types: []string{"certificate"}},
		{Attr: "tls_policy", Expr: v.TLSPolicyExpr, To: &v.TLSPolicy, Types: []string{PolicyType}},
		{Attr: "hsts_from", Expr: v.HSTSFromExpr, To: &v.HSTSFrom, Types: []string{VhostType}},
		{Attr: "host", Expr: v.HostExpr, To: &v.Host, Types: []string{"host"}},
	}
}

func (v *VhostBlock) Files() []schema.File {
	return []schema.File{{Attr: "config_file", Range: v.ConfigFileRange, Host: v.Host, Path: v.ConfigFile, Managed: true}}
}

// Validate checks a vhost block, and that its certificate's key type is one
// its TLS profile allows.
func (v *VhostBlock) Validate(c *schema.Config) hcl.Diagnostics {
	diags := append(validateVhost(c, v), validateProfileKey(c, v)...)
	v.web = v.view(c)
	return diags
}

// Validate checks a tls_policy block.
func (p *PolicyBlock) Validate(*schema.Config) hcl.Diagnostics { return validatePolicy(p) }

// Web is the vhost as the HTTPS rules read it: the same view on every
// call, made when the block is validated.
func (v *VhostBlock) Web() *providers.Web {
	if v.web == nil {
		v.web = v.view(nil)
	}
	return v.web
}

func (v *VhostBlock) view(c *schema.Config) *providers.Web {
	listen, err := ParseListen(v.Listen)
	if err != nil {
		listen = v.Listen
	}
	w := &providers.Web{Address: schema.Address{Type: VhostType, Name: v.Name}, Name: v.Name, Server: v.Server, Listen: listen,
		Names: v.ServerNames, NamesRange: v.ServerNamesRange, Certificate: v.Certificate, TLSPolicy: v.TLSPolicy, HSTS: v.HSTS,
		HSTSFrom: v.HSTSFrom, Host: v.Host, RedirectHTTPS: v.RedirectHTTPS, RedirectRange: v.RedirectRange,
		ACMEWebroot: v.ACMEWebroot, DeclRange: v.DeclRange}
	if c != nil {
		if p := Prober(c, v); p != nil {
			w.ProbeAddr = p.Addr
		}
	}
	return w
}

// policyOf is the tls_policy a vhost names; nil for the server's defaults.
func policyOf(c *schema.Config, r schema.Ref) *PolicyBlock {
	p, _ := c.Block(r.Address).(*PolicyBlock)
	return p
}

func bindVhost(b providers.Binding, block schema.Block) (any, hcl.Diagnostics) {
	v, cfg := block.(*VhostBlock), b.Config()
	h := b.Host(v.Host)
	installed := b.Once("webserver.Installed "+v.Host.Address.String(), func() any {
		return Installed(h, cfg.LocalPath(v.Host, DpkgStatus))
	}).(func(string) Versions)
	cert, _ := b.Bound(v.Certificate.Address).(providers.KeyDeployer)
	vh := New(cfg, v, h, cert, installed)
	if d, ok := b.Bound(v.Certificate.Address).(providers.Deployment); ok && vh.Probe != nil && d.Deployed().Roots != nil {
		vh.Probe.Roots = d.Deployed().Roots // served chains must build to the issuer's roots
	}
	return vh, nil
}
