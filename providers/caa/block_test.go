package caa_test

import (
	"strings"
	"testing"

	"github.com/trustform/trustform/providers/acme"
	"github.com/trustform/trustform/providers/caa"
	"github.com/trustform/trustform/providers/certificate"
	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/schema"
)

// A caa block's issuers are acme_account references and CA domains; its
// name is in its zone; each mistake is a diagnostic at its place.
func TestBlock(t *testing.T) {
	kinds := []schema.Kind{dns.ZoneKind().Kind, acme.Kind().Kind, certificate.Kind().Kind, caa.Kind().Kind}
	for _, tc := range []struct{ name, attrs, want, owner string }{
		{"an account and a CA", `issuers = [acme_account.le, "DigiCert.com"]`, "", "example.test."},
		{"a name in the zone", "issuers = [acme_account.le]\n  name = \"mail\"", "", "mail.example.test."},
		{"a name fully qualified", "issuers = [acme_account.le]\n  name = \"www.example.test.\"", "", "www.example.test."},
		{"a name outside", "issuers = [acme_account.le]\n  name = \"www.example.net.\"", "Name outside the zone", ""},
		{"no issuer", "issuers = []", "No issuers", ""},
		{"an undeclared account", "issuers = [acme_account.other]", "Reference to undeclared acme_account", ""},
		{"a number", "issuers = [42]", "Invalid issuers", ""},
		{"a CA domain that is not one", `issuers = ["digicert.com; accounturi=x"]`, "issuers", ""},
		{"an iodef", "issuers = [acme_account.le]\n  iodef = \"ftp://example.test\"", "Invalid iodef", ""},
		{"a TTL", "issuers = [acme_account.le]\n  ttl = 0", "Invalid TTL", ""},
	} {
		src := `dns_zone "example" {
  name        = "example.test"
  zone_file   = "zone"
}
acme_account "le" {
  directory = "https://acme.example.test/dir"
}
caa "c" {
  zone = dns_zone.example
  ` + tc.attrs + `
}
`
		cfg, diags := schema.Parse("/config", map[string][]byte{"main.hcl": []byte(src)}, kinds)
		switch {
		case tc.want == "" && diags.HasErrors():
			t.Errorf("%s: refused: %v", tc.name, diags)
		case tc.want != "" && !strings.Contains(diags.Error(), tc.want):
			t.Errorf("%s: %v, want %q", tc.name, diags, tc.want)
		case tc.want == "":
			b := cfg.Blocks(caa.Type)[0].(*caa.Block)
			if b.Owner != tc.owner {
				t.Errorf("%s: owner %q, want %q", tc.name, b.Owner, tc.owner)
			}
		}
	}
}
