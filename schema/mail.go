package schema

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// mailWarnings are RFC 7672's (DANE for SMTP) warnings about TLSA RRsets
// at an SMTP owner (_25._tcp.HOST): the configuration works, but sending
// MTAs will not use it as meant.
func (c *Config) mailWarnings() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, b := range c.TLSAs {
		if !strings.HasPrefix(b.FQDN, "_25._tcp.") {
			continue
		}
		if u := b.Params[0]; u == 0 || u == 1 {
			rng := b.UsageRange
			if b.Usage == nil {
				rng = b.DeclRange
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Subject: rng.Ptr(),
				Summary: fmt.Sprintf("tlsa.%s: usage %d at an SMTP owner", b.Name, u),
				Detail:  fmt.Sprintf("Sending MTAs treat PKIX-TA (0) and PKIX-EE (1) records as unusable (RFC 7672 §3.1.3): between mail servers there is no common set of trusted CAs. At %s publish DANE-EE (usage = 3, with selector = 1: 3 1 1) or DANE-TA (usage = 2).", b.FQDN)})
		}
		if z := c.Zone(b.Zone); z != nil && !z.RequireDNSSEC {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Subject: b.DeclRange.Ptr(),
				Summary: fmt.Sprintf("tlsa.%s: DANE for SMTP in a zone not required to be signed", b.Name),
				Detail:  fmt.Sprintf("Sending MTAs use TLSA records only when DNSSEC validates them (RFC 7672 §2.2); unsigned, %s is ignored and mail goes with opportunistic TLS. Sign zone %s and set require_dnssec = true on dns_zone.%s, so that every plan checks the signatures.", b.FQDN, z.Zone, z.Name)})
		}
	}
	return diags
}
