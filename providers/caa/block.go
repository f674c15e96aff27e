package caa

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	mdns "github.com/miekg/dns"
	"github.com/zclconf/go-cty/cty"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/schema"
)

// Type is the block type of a CAA RRset.
const Type = "caa"

// Block is a caa block: the CAA RRset at one name of a zone, derived from
// the ACME accounts (and CA domains) allowed to issue for it.
//
//	caa "example" {
//	  zone      = dns_zone.example
//	  name      = "example.com."          # default: the zone's apex
//	  issuers   = [acme_account.le, "digicert.com"]
//	  issuewild = []                       # default: follows the certificates
//	  iodef     = "mailto:security@example.com"
//	}
type Block struct {
	Name       string         `hcl:"name,label"`
	ZoneExpr   hcl.Expression `hcl:"zone"`
	RecordName string         `hcl:"name,optional"`
	// IssuersExpr and IssueWildExpr are lists of acme_account references
	// and CA domains (string literals).
	IssuersExpr   hcl.Expression `hcl:"issuers"`
	IssueWildExpr hcl.Expression `hcl:"issuewild,optional"`
	IODEF         string         `hcl:"iodef,optional"`
	TTL           *int           `hcl:"ttl,optional"`

	NameRange  hcl.Range `hcl:"name,attr_value_range"`
	IODEFRange hcl.Range `hcl:"iodef,attr_value_range"`
	TTLRange   hcl.Range `hcl:"ttl,attr_value_range"`
	DeclRange  hcl.Range `hcl:",def_range"`

	Zone      schema.Ref
	Issuers   Issuers
	IssueWild *Issuers // nil: derived from the certificates
	// Owner is the RRset's owner, fully qualified, lower case; TTLSeconds
	// the TTL with its default (3600).
	Owner      string
	TTLSeconds uint32
}

// Issuers are who a list lets issue: ACME accounts, and CA domains by name.
type Issuers struct {
	Accounts []schema.Ref
	Domains  []string
	elems    []hcl.Expression
}

var (
	_ schema.Referrer  = (*Block)(nil)
	_ schema.Validator = (*Block)(nil)
)

// Kind is the caa kind.
func Kind() providers.Kind {
	return providers.Kind{Kind: schema.Kind{Type: Type, Rank: 1, New: func() schema.Block { return &Block{} }}, Bind: bind}
}

func (b *Block) Header() (*string, *hcl.Range) { return &b.Name, &b.DeclRange }

// References are the zone and every acme_account the lists name.
func (b *Block) References() []schema.Reference {
	out := []schema.Reference{{Attr: "zone", Expr: b.ZoneExpr, To: &b.Zone, Types: []string{"dns_zone"}, Required: true}}
	out = append(out, b.Issuers.references("issuers", b.IssuersExpr)...)
	if b.IssueWildExpr != nil && !isNull(b.IssueWildExpr) {
		if b.IssueWild == nil {
			b.IssueWild = &Issuers{}
		}
		out = append(out, b.IssueWild.references("issuewild", b.IssueWildExpr)...)
	}
	return out
}

// references splits a list into its elements once: a reference is an
// account, anything else a CA domain (Validate reads it).
func (is *Issuers) references(attr string, expr hcl.Expression) []schema.Reference {
	if is.elems == nil {
		elems, _ := hcl.ExprList(expr)
		is.elems = elems
		is.Accounts = make([]schema.Ref, len(elems))
	}
	var out []schema.Reference
	for i, e := range is.elems {
		if _, d := hcl.AbsTraversalForExpr(e); !d.HasErrors() {
			out = append(out, schema.Reference{Attr: attr, Expr: e, To: &is.Accounts[i], Types: []string{"acme_account"}})
		}
	}
	return out
}

func isNull(expr hcl.Expression) bool {
	v, d := expr.Value(nil)
	return !d.HasErrors() && v.IsNull()
}

// Validate reads the CA domains of the lists, the owner name and the TTL.
func (b *Block) Validate(c *schema.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if _, d := hcl.ExprList(b.IssuersExpr); d.HasErrors() {
		return append(diags, schema.ErrAt(b.IssuersExpr.Range(), "Invalid issuers", "issuers is a list of acme_account references and CA domains, such as [acme_account.le, \"digicert.com\"]."))
	}
	diags = append(diags, b.Issuers.domains("issuers")...)
	if b.IssueWild != nil {
		diags = append(diags, b.IssueWild.domains("issuewild")...)
	}
	if len(b.Issuers.elems) == 0 {
		diags = append(diags, schema.ErrAt(b.IssuersExpr.Range(), "No issuers", "A CAA RRset with no issuer forbids every certificate; list the ACME accounts (and CA domains) that may issue."))
	}
	origin := ""
	if z, ok := c.Block(b.Zone.Address).(*dns.ZoneBlock); ok {
		origin = dns.Fqdn(z.Zone)
	}
	switch {
	case b.RecordName == "":
		b.Owner = origin
	case strings.HasSuffix(b.RecordName, "."):
		b.Owner = strings.ToLower(b.RecordName)
	default:
		b.Owner = strings.ToLower(b.RecordName) + "." + origin
	}
	if d := schema.CheckHostname(b.NameRange, "name", strings.TrimSuffix(b.Owner, "."), false, false); b.RecordName != "" && d != nil {
		diags = append(diags, d)
	}
	if origin != "" && !mdns.IsSubDomain(origin, b.Owner) {
		diags = append(diags, schema.ErrAt(b.NameRange, "Name outside the zone", fmt.Sprintf("%s is not in zone %s.", b.Owner, origin)))
	}
	if b.IODEF != "" && !strings.HasPrefix(b.IODEF, "mailto:") && !strings.HasPrefix(b.IODEF, "https://") && !strings.HasPrefix(b.IODEF, "http://") {
		diags = append(diags, schema.ErrAt(b.IODEFRange, "Invalid iodef", "iodef is where CAs report refused requests (RFC 8659 §4.4): a mailto: or https: URL."))
	}
	if strings.ContainsAny(b.IODEF, "\"\\\n ") {
		diags = append(diags, schema.ErrAt(b.IODEFRange, "Invalid iodef", "iodef is one URL, without quotes, spaces or backslashes."))
	}
	b.TTLSeconds = 3600
	if b.TTL != nil {
		if *b.TTL < 1 || *b.TTL > 86400*7 {
			diags = append(diags, schema.ErrAt(b.TTLRange, "Invalid TTL", "ttl is 1 to 604800 seconds."))
		}
		b.TTLSeconds = uint32(max(*b.TTL, 0))
	}
	return diags
}

// domains reads the list's string elements: CA domains, as CAA's
// issuer-domain-name (RFC 8659 §4.2) allows them.
func (is *Issuers) domains(attr string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	is.Domains = nil
	for i, e := range is.elems {
		if is.Accounts[i].Set() {
			continue
		}
		if _, d := hcl.AbsTraversalForExpr(e); !d.HasErrors() {
			continue // a reference that did not resolve: already a diagnostic
		}
		v, d := e.Value(nil)
		if d.HasErrors() || v.Type() != cty.String || v.IsNull() {
			diags = append(diags, schema.ErrAt(e.Range(), "Invalid "+attr, attr+" lists acme_account references and CA domains as strings (\"digicert.com\")."))
			continue
		}
		dom := strings.ToLower(v.AsString())
		if d := schema.CheckHostname(e.Range(), attr, dom, false, false); d != nil {
			diags = append(diags, d)
			continue
		}
		is.Domains = append(is.Domains, dom)
	}
	return diags
}
