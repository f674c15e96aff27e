package dns

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// The block types of this package.
const (
	ZoneType = "dns_zone"
	TLSAType = "tlsa"
)

var (
	_ schema.Validator = (*ZoneBlock)(nil)
	_ schema.FileNamer = (*ZoneBlock)(nil)
	_ schema.Referrer  = (*TLSABlock)(nil)
	_ schema.Validator = (*TLSABlock)(nil)
)

// ZoneKind is the dns_zone kind: a zone binds to what its TLSA RRsets
// and dns-01 challenges change it through.
func ZoneKind() providers.Kind {
	return providers.Kind{Kind: schema.Kind{Type: ZoneType, New: func() schema.Block { return &ZoneBlock{} }}, Bind: bindZone}
}

// TLSAKind is the tlsa kind.
func TLSAKind() providers.Kind {
	return providers.Kind{
		Kind: schema.Kind{Type: TLSAType, Rank: 2, New: func() schema.Block { return &TLSABlock{} }, Check: checkTLSAs},
		Bind: bindTLSA,
	}
}

func (z *ZoneBlock) Header() (*string, *hcl.Range) { return &z.Name, &z.DeclRange }
func (b *TLSABlock) Header() (*string, *hcl.Range) { return &b.Name, &b.DeclRange }

func (z *ZoneBlock) Files() []schema.File {
	out := []schema.File{{Attr: "zone_file", Range: z.ZoneFileRange, Path: z.ZoneFile, Managed: true}}
	if z.TSIG != nil {
		out = append(out, schema.File{Attr: "secret_file", Path: z.TSIG.SecretFile, Secret: "the TSIG secret of dns_zone." + z.Name, Credential: true})
	}
	if z.API != nil {
		out = append(out, schema.File{Attr: "token_file", Path: z.API.TokenFile, Secret: "the API token of dns_zone." + z.Name, Credential: true})
	}
	return out
}

func (b *TLSABlock) References() []schema.Reference {
	return []schema.Reference{
		{Attr: "zone", Expr: b.ZoneExpr, To: &b.Zone, Types: []string{ZoneType}, Required: true},
		{Attr: "certificate", Expr: b.CertificateExpr, To: &b.Certificate, Types: []string{"certificate"}, Required: true},
	}
}

// tsigAlgorithms are the accepted TSIG algorithm names.
func tsigAlgorithms() []string {
	return []string{"hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha224", "hmac-sha1"}
}

func zoneOf(c *schema.Config, r schema.Ref) *ZoneBlock {
	z, _ := c.Block(r.Address).(*ZoneBlock)
	return z
}

func tlsas(c *schema.Config) []*TLSABlock {
	var out []*TLSABlock
	for _, b := range c.Blocks(TLSAType) {
		out = append(out, b.(*TLSABlock))
	}
	return out
}

// checkTLSAs checks the tlsa blocks together.
func checkTLSAs(c *schema.Config, _ []schema.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	diags = append(diags, validatePublishNext(c)...)
	diags = append(diags, validateTLSAOwners(c)...)
	return append(diags, mailWarnings(c)...)
}

func bindZone(b providers.Binding, block schema.Block) (any, hcl.Diagnostics) {
	z, cfg := block.(*ZoneBlock), b.Config()
	if z.API != nil {
		return bindAPI(cfg, z)
	}
	if z.Server == "" {
		zf := &ZoneFile{
			Host:          b.Host(schema.Ref{}),
			Origin:        Fqdn(z.Zone),
			Path:          cfg.LocalPath(schema.Ref{}, z.ZoneFile),
			ReloadCommand: z.ReloadCommand,
			Nameservers:   WithPort(z.Nameservers),
			Now:           b.Now,
		}
		// Once, at the attribute: not once per RRset that reads the zone.
		if st, err := zf.Host.Stat(zf.Path); err != nil || st == nil {
			return zf, hcl.Diagnostics{schema.ErrAt(z.ZoneFileRange, "Zone file not found",
				fmt.Sprintf("zone_file %s does not exist: trustform edits an existing zone file, with its SOA and NS records.", zf.Path))}
		}
		return zf, nil
	}
	secretFile := ""
	if z.TSIG.SecretFile != "" {
		secretFile = cfg.LocalPath(schema.Ref{}, z.TSIG.SecretFile)
	}
	secret, err := ReadSecret(secretFile, z.TSIG.Name, os.Getenv)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the TSIG secret", Detail: err.Error(), Subject: z.TSIG.DeclRange.Ptr()}}
	}
	var diags hcl.Diagnostics
	if st, err := os.Stat(secretFile); err == nil && st.Mode().Perm()&0o077 != 0 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "TSIG secret readable by others",
			Detail: fmt.Sprintf("%s has mode %v; whoever reads it can change zone %s. chmod 600 it.", secretFile, st.Mode().Perm(), z.Zone), Subject: z.TSIG.DeclRange.Ptr()})
	}
	return &Server{
		Origin:        Fqdn(z.Zone),
		Primary:       z.Server,
		KeyName:       Fqdn(z.TSIG.Name),
		Algorithm:     Algorithms[z.TSIG.Algorithm],
		Secret:        secret,
		Nameservers:   WithPort(z.Nameservers),
		RequireDNSSEC: z.RequireDNSSEC,
		MinValidity:   z.MinValidityDuration,
		Chain:         chainFor(z),
		Resolver:      z.Resolver,
	}, diags
}

func bindTLSA(b providers.Binding, block schema.Block) (any, hcl.Diagnostics) {
	t := block.(*TLSABlock)
	zone, ok := b.Bound(t.Zone.Address).(Zone)
	if !ok {
		return nil, nil // its zone already has a diagnostic
	}
	if s, ok := zone.(*Server); ok {
		s.Expect(t.FQDN, mdns.TypeTLSA)
	}
	cert, _ := b.Bound(t.Certificate.Address).(providers.KeyDeployer)
	return &TLSA{
		Zone:          zone,
		ZoneName:      t.Zone.Address.Name,
		Owner:         t.FQDN,
		TTL:           t.TTLSeconds,
		Params:        t.Params,
		RequireDNSSEC: zoneOf(b.Config(), t.Zone).RequireDNSSEC,
		PublishNext:   t.PublishNext,
		RolloverWait:  t.Wait,
		Certificate:   cert,
		CertAddr:      t.Certificate.Address,
	}, nil
}

// TokenEnv is the environment variable that holds the API token of the
// dns_zone NAME when its api block has no token_file.
func TokenEnv(zone string) string {
	return "TRUSTFORM_DNS_TOKEN_" + strings.ToUpper(regexp.MustCompile(`[^A-Za-z0-9]`).ReplaceAllString(zone, "_"))
}

// bindAPI makes the zone behind a DNS host's API, with its token.
func bindAPI(cfg *schema.Config, z *ZoneBlock) (any, hcl.Diagnostics) {
	a := z.API
	file := cfg.LocalPath(schema.Ref{}, a.TokenFile)
	token, err := readToken(file, TokenEnv(z.Name), os.Getenv)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the API token", Detail: err.Error(), Subject: a.DeclRange.Ptr()}}
	}
	var diags hcl.Diagnostics
	if st, err := os.Stat(file); a.TokenFile != "" && err == nil && st.Mode().Perm()&0o077 != 0 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "API token readable by others",
			Detail: fmt.Sprintf("%s has mode %v; whoever reads it can change zone %s. chmod 600 it.", file, st.Mode().Perm(), z.Zone), Subject: a.DeclRange.Ptr()})
	}
	h := &Hosted{Origin: Fqdn(z.Zone), Nameservers: WithPort(z.Nameservers), RequireDNSSEC: z.RequireDNSSEC, MinValidity: z.MinValidityDuration, Chain: chainFor(z), Resolver: z.Resolver}
	switch a.Type {
	case "desec":
		h.API = &DeSEC{Origin: h.Origin, URL: a.URL, Token: token}
	case "cloudflare":
		h.API = &Cloudflare{Origin: h.Origin, URL: a.URL, ZoneID: a.ZoneID, Token: token}
	default:
		h.API = &PowerDNS{Origin: h.Origin, URL: a.URL, ServerID: a.ServerID, Token: token}
	}
	return h, diags
}

// readToken reads an API token from file or, without one, from the
// environment variable env. Errors name the file or variable, never the
// token.
func readToken(file, env string, getenv func(string) string) (string, error) {
	var raw string
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		raw = string(b)
	} else if raw = getenv(env); raw == "" {
		return "", fmt.Errorf("set token_file or %s", env)
	}
	raw = strings.TrimSpace(raw)
	if raw == "" || strings.ContainsAny(raw, "\r\n\x00") {
		return "", fmt.Errorf("the API token (%s) is empty or more than one line", orEnv(file, env))
	}
	return raw, nil
}

func orEnv(file, env string) string {
	if file != "" {
		return file
	}
	return "$" + env
}
