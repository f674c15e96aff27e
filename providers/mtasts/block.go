package mtasts

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/providers/webserver"
	"github.com/trustform/trustform/schema"
)

// Type is the block type of an MTA-STS policy.
const Type = "mta_sts"

// MaxAge is RFC 8461 §3.2's largest max_age (31557600 seconds, a year).
const MaxAge = 31557600 * time.Second

// Block is an mta_sts block: the MTA-STS policy of a mail domain (RFC
// 8461), served by a vhost, announced in the zone, and its TLS-RPT
// address (RFC 8460).
//
//	mta_sts "example" {
//	  zone    = dns_zone.example
//	  mode    = "enforce"
//	  mx      = ["mail.example.com"]   # default: the domain's MX hosts
//	  max_age = "7d"
//	  vhost   = vhost.mta_sts          # serves https://mta-sts.example.com
//	  tls_rpt {
//	    rua = ["mailto:tlsrpt@example.com"]
//	  }
//	}
type Block struct {
	Name      string         `hcl:"name,label"`
	ZoneExpr  hcl.Expression `hcl:"zone"`
	Domain    string         `hcl:"domain,optional"`
	Mode      string         `hcl:"mode"`
	MX        []string       `hcl:"mx,optional"`
	MaxAge    string         `hcl:"max_age,optional"`
	VhostExpr hcl.Expression `hcl:"vhost"`
	TLSRPT    *TLSRPTBlock   `hcl:"tls_rpt,block"`

	DomainRange hcl.Range `hcl:"domain,attr_value_range"`
	ModeRange   hcl.Range `hcl:"mode,attr_value_range"`
	MXRange     hcl.Range `hcl:"mx,attr_value_range"`
	MaxAgeRange hcl.Range `hcl:"max_age,attr_value_range"`
	DeclRange   hcl.Range `hcl:",def_range"`

	Zone  schema.Ref
	Vhost schema.Ref
	// MaxAgeDuration is max_age with its default, a week.
	MaxAgeDuration time.Duration
}

// TLSRPTBlock is the TLS-RPT record's reporting addresses.
type TLSRPTBlock struct {
	RUA []string `hcl:"rua"`

	RUARange hcl.Range `hcl:"rua,attr_value_range"`
}

var (
	_ schema.Referrer  = (*Block)(nil)
	_ schema.Validator = (*Block)(nil)
)

// Kind is the mta_sts kind.
func Kind() providers.Kind {
	return providers.Kind{Kind: schema.Kind{Type: Type, Rank: 3, New: func() schema.Block { return &Block{} }}, Bind: bind}
}

func (b *Block) Header() (*string, *hcl.Range) { return &b.Name, &b.DeclRange }

func (b *Block) References() []schema.Reference {
	return []schema.Reference{
		{Attr: "zone", Expr: b.ZoneExpr, To: &b.Zone, Types: []string{dns.ZoneType}, Required: true},
		{Attr: "vhost", Expr: b.VhostExpr, To: &b.Vhost, Types: []string{webserver.VhostType}, Required: true},
	}
}

// Validate checks the policy's values against RFC 8461 and RFC 8460, and
// the vhost that serves it: TLS, for mta-sts.<domain>, with a root.
func (b *Block) Validate(c *schema.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if z, ok := c.Block(b.Zone.Address).(*dns.ZoneBlock); ok && b.Domain == "" {
		b.Domain = z.Zone
	}
	b.Domain = strings.ToLower(strings.TrimSuffix(b.Domain, "."))
	diags = schema.Append(diags, schema.CheckHostname(b.DomainRange, "domain", b.Domain, false, false))
	if !slices.Contains([]string{"testing", "enforce", "none"}, b.Mode) {
		diags = append(diags, schema.ErrAt(b.ModeRange, "Invalid MTA-STS mode", fmt.Sprintf("mode is testing, enforce or none (RFC 8461 §5); got %q.", b.Mode)))
	}
	for _, p := range b.MX {
		if d := schema.CheckHostname(b.MXRange, "mx", strings.ToLower(p), true, false); d != nil {
			diags = append(diags, d)
		} else if net := strings.Trim(p, "0123456789."); net == "" {
			diags = append(diags, schema.ErrAt(b.MXRange, "An IP address in mx", fmt.Sprintf("%q is an address; a policy's mx lines are host names (RFC 8461 §4.1): senders match them against the MX records' names.", p)))
		}
	}
	b.MaxAgeDuration = 7 * 24 * time.Hour
	if b.MaxAge != "" {
		d, err := schema.ParseDuration(b.MaxAge)
		switch {
		case err != nil:
			diags = append(diags, schema.ErrAt(b.MaxAgeRange, "Invalid duration", err.Error()))
		case time.Duration(d) > MaxAge:
			diags = append(diags, schema.ErrAt(b.MaxAgeRange, "max_age too long", fmt.Sprintf("RFC 8461 §3.2 allows at most 31557600 seconds (a year); got %s.", time.Duration(d))))
		case time.Duration(d) < 24*time.Hour:
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "max_age shorter than a day", Subject: b.MaxAgeRange.Ptr(),
				Detail: "Senders keep a policy for max_age and refresh it from then: a policy that lapses within hours protects little against an attacker who blocks the refresh. A week or more is usual."})
		}
		if err == nil {
			b.MaxAgeDuration = time.Duration(d)
		}
	}
	if b.TLSRPT != nil {
		if len(b.TLSRPT.RUA) == 0 {
			diags = append(diags, schema.ErrAt(b.TLSRPT.RUARange, "No TLS-RPT address", "rua lists where reports go: mailto: or https: URIs (RFC 8460 §3)."))
		}
		for _, u := range b.TLSRPT.RUA {
			if (!strings.HasPrefix(u, "mailto:") && !strings.HasPrefix(u, "https://")) || strings.ContainsAny(u, " ;,\"\\\n") {
				diags = append(diags, schema.ErrAt(b.TLSRPT.RUARange, "Invalid TLS-RPT address", fmt.Sprintf("%q is not a mailto: or https: URI without spaces, commas or semicolons (RFC 8460 §3).", u)))
			}
		}
	}
	if w, ok := c.Block(b.Vhost.Address).(providers.Website); ok {
		web := w.Web()
		host := "mta-sts." + b.Domain
		switch {
		case !web.Certificate.Set():
			diags = append(diags, schema.ErrAt(b.VhostExpr.Range(), "The policy's vhost serves no TLS", fmt.Sprintf("Senders fetch the policy from https://%s/.well-known/mta-sts.txt: vhost.%s needs a certificate.", host, web.Name)))
		case !providers.Serves(web.Names, host):
			diags = append(diags, schema.ErrAt(b.VhostExpr.Range(), "The policy's vhost does not serve "+host, fmt.Sprintf("Senders fetch the policy from https://%s/: add %q to vhost.%s's server_names.", host, host, web.Name)))
		}
		if v, ok := w.(*webserver.VhostBlock); ok && v.Root == "" {
			diags = append(diags, schema.ErrAt(b.VhostExpr.Range(), "The policy's vhost has no root", fmt.Sprintf("The policy file goes into vhost.%s's root, under .well-known/mta-sts.txt: give it a root.", web.Name)))
		}
	}
	return diags
}
