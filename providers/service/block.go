package service

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/internal/probe"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// Type is the block type of a service.
const Type = "service"

// Block is a service block: a TLS daemon that reads a certificate from its
// files (Postfix, Dovecot, HAProxy, …), tested and reloaded after each
// change of the files, and observed live at its endpoints.
type Block struct {
	Name            string         `hcl:"name,label"`
	CertificateExpr hcl.Expression `hcl:"certificate"`
	Endpoints       []string       `hcl:"endpoints"`
	TestCommand     string         `hcl:"test_command,optional"`
	ReloadCommand   string         `hcl:"reload_command,optional"`
	HostExpr        hcl.Expression `hcl:"host,optional"`

	EndpointsRange     hcl.Range `hcl:"endpoints,attr_value_range"`
	TestCommandRange   hcl.Range `hcl:"test_command,attr_value_range"`
	ReloadCommandRange hcl.Range `hcl:"reload_command,attr_value_range"`
	DeclRange          hcl.Range `hcl:",def_range"`

	Certificate schema.Ref
	Host        schema.Ref
}

var (
	_ schema.Referrer  = (*Block)(nil)
	_ schema.Validator = (*Block)(nil)
)

// Kind is the service kind.
func Kind() providers.Kind {
	return providers.Kind{Kind: schema.Kind{Type: Type, Rank: 3, New: func() schema.Block { return &Block{} }}, Bind: bind}
}

func (b *Block) Header() (*string, *hcl.Range) { return &b.Name, &b.DeclRange }

func (b *Block) References() []schema.Reference {
	return []schema.Reference{
		{Attr: "certificate", Expr: b.CertificateExpr, To: &b.Certificate, Types: []string{"certificate"}, Required: true},
		{Attr: "host", Expr: b.HostExpr, To: &b.Host, Types: []string{"host"}},
	}
}

// Validate: every endpoint parses, none twice; a service with none has
// nothing to check. The daemon reads its certificate's files on its own
// machine.
func (b *Block) Validate(c *schema.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if len(b.Endpoints) == 0 {
		diags = append(diags, schema.ErrAt(b.EndpointsRange, "No endpoints", fmt.Sprintf("service.%s needs at least one endpoint, such as \"smtp://192.0.2.25:25\": trustform checks there what the service serves.", b.Name)))
	}
	seen := map[string]bool{}
	for _, e := range b.Endpoints {
		ep, err := ParseEndpoint(e)
		if err != nil {
			diags = append(diags, schema.ErrAt(b.EndpointsRange, "Invalid endpoint", err.Error()+"."))
			continue
		}
		if seen[ep.Addr] {
			diags = append(diags, schema.ErrAt(b.EndpointsRange, "Endpoint listed twice", fmt.Sprintf("%s is listed twice in service.%s.", ep.Addr, b.Name)))
		}
		seen[ep.Addr] = true
	}
	if cert := c.HostOf(b.Certificate.Address); cert.Address != b.Host.Address {
		diags = append(diags, schema.ErrAt(b.DeclRange, "Service and certificate on different hosts",
			fmt.Sprintf("service.%s runs on %s, but %s is deployed to %s: a daemon reads its certificate files on its own machine.", b.Name, schema.HostName(b.Host), b.Certificate.Address, schema.HostName(cert))))
	}
	return diags
}

func bind(b providers.Binding, block schema.Block) (any, hcl.Diagnostics) {
	s := block.(*Block)
	svc := &Service{
		Host:          b.Host(s.Host),
		CertAddr:      s.Certificate.Address,
		TestCommand:   s.TestCommand,
		ReloadCommand: s.ReloadCommand,
	}
	svc.Certificate, _ = b.Bound(s.Certificate.Address).(providers.KeyDeployer)
	if d, ok := b.Bound(s.Certificate.Address).(providers.Deployment); ok {
		cert := d.Deployed()
		svc.CertPath, svc.KeyPath, svc.Names, svc.Roots = cert.CertPath, cert.KeyPath, cert.Names, cert.Roots
		svc.Name = cert.Names[0]
	}
	for _, e := range s.Endpoints {
		ep, _ := ParseEndpoint(e) // validated
		svc.Endpoints = append(svc.Endpoints, probe.Endpoint{URL: e, Addr: ep.Addr, StartTLS: ep.StartTLS})
	}
	return svc, nil
}

// TLSEndpoints are where the service serves its certificate.
func (s *Service) TLSEndpoints() []providers.Endpoint {
	var out []providers.Endpoint
	for _, e := range s.Endpoints {
		out = append(out, providers.Endpoint{URL: e.URL, Addr: e.Addr, StartTLS: e.StartTLS, Names: s.Names})
	}
	return out
}

// Describe is the service's endpoints, for the inventory.
func (s *Service) Describe() string {
	var urls []string
	for _, e := range s.Endpoints {
		urls = append(urls, e.URL)
	}
	return strings.Join(urls, " ")
}
