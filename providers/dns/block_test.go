package dns_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/trustform/trustform/kinds"
	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/schema"
)

// An api block is refused where its token could leak or the zone could
// not be reached; the diagnostic points at the attribute.
func TestZoneAPIBlock(t *testing.T) {
	for _, tc := range []struct{ name, api, want string }{
		{"powerdns on loopback", `type = "powerdns"` + "\n" + `url = "http://127.0.0.1:8081"`, ""},
		{"https elsewhere", `type = "powerdns"` + "\n" + `url = "https://dns.example.net/pdns"`, ""},
		{"plain http elsewhere", `type = "powerdns"` + "\n" + `url = "http://dns.example.net:8081"`, "main.hcl:5,11-40: API token over plain HTTP"},
		{"credentials in the url", `type = "powerdns"` + "\n" + `url = "https://user:pw@dns.example.net"`, "Invalid API URL"},
		{"unknown type", `type = "route53"` + "\n" + `url = "https://dns.example.net"`, "Unknown DNS API"},
		{"no url", `type = "powerdns"`, "Missing API URL"},
		{"a path outside", `type = "powerdns"` + "\n" + `url = "http://127.0.0.1:8081"` + "\n" + `token_file = "../../etc/pdns.key"`, "Path leaves its directory"},
	} {
		src := "dns_zone \"z\" {\n  name = \"example.test\"\n  api {\n    " + strings.ReplaceAll(tc.api, "\n", "\n    ") + "\n  }\n}\n"
		_, diags := schema.Parse("/config", map[string][]byte{"main.hcl": []byte(src)}, []schema.Kind{dns.ZoneKind().Kind})
		switch {
		case tc.want == "" && diags.HasErrors():
			t.Errorf("%s: refused: %v", tc.name, diags)
		case tc.want != "" && !strings.Contains(diags.Error(), tc.want):
			t.Errorf("%s: %v, want %q", tc.name, diags, tc.want)
		}
	}
	src := "dns_zone \"z\" {\n  name = \"example.test\"\n  zone_file = \"zone\"\n  api {\n    type = \"powerdns\"\n    url = \"http://127.0.0.1:8081\"\n  }\n}\n"
	if _, diags := schema.Parse("/config", map[string][]byte{"main.hcl": []byte(src)}, []schema.Kind{dns.ZoneKind().Kind}); !strings.Contains(diags.Error(), "Conflicting zone access") {
		t.Errorf("zone_file and api: %v", diags)
	}
}

// A TLSA RRset in a zone at deSEC takes deSEC's minimum TTL, said with the
// minimum; deSEC's API needs no url.
func TestDeSECMinimumTTL(t *testing.T) {
	src := func(ttl int) string {
		return fmt.Sprintf(`dns_zone "z" {
  name = "example.test"
  api {
    type = "desec"
  }
}
local_ca "ca" {}
certificate "c" {
  domains   = ["www.example.test"]
  issuer    = local_ca.ca
  cert_file = "c.pem"
  key_file  = "c.key"
}
tlsa "t" {
  zone        = dns_zone.z
  name        = "_443._tcp.www"
  certificate = certificate.c
  ttl         = %d
}
`, ttl)
	}
	list := kinds.All()
	for ttl, want := range map[int]string{300: "main.hcl:18,17-20: TTL below deSEC's minimum; dns_zone.z is at deSEC, whose smallest TTL is 3600 seconds", 3600: ""} {
		_, diags := schema.Parse("/config", map[string][]byte{"main.hcl": []byte(src(ttl))}, kinds.Schema(list))
		if want == "" && diags.HasErrors() || want != "" && !strings.Contains(diags.Error(), want) {
			t.Errorf("ttl %d: %v", ttl, diags)
		}
	}
	for ttl, want := range map[int]string{30: "TTL below Cloudflare's minimum; dns_zone.z is at Cloudflare, whose smallest TTL is 60 seconds", 60: ""} {
		cf := strings.Replace(src(ttl), `type = "desec"`, `type = "cloudflare"`, 1)
		_, diags := schema.Parse("/config", map[string][]byte{"main.hcl": []byte(cf)}, kinds.Schema(list))
		if want == "" && diags.HasErrors() || want != "" && !strings.Contains(diags.Error(), want) {
			t.Errorf("Cloudflare, ttl %d: %v", ttl, diags)
		}
	}
}

// The API token's variable is the block's name, upper-cased.
func TestTokenEnv(t *testing.T) {
	if got := dns.TokenEnv("corp-zone"); got != "TRUSTFORM_DNS_TOKEN_CORP_ZONE" {
		t.Errorf("TokenEnv = %s", got)
	}
}

// trust_anchor is DS or DNSKEY records at or above the zone, for a zone
// required to be signed; resolver is host:port. Each mistake is a
// diagnostic at the attribute.
func TestZoneTrustAnchor(t *testing.T) {
	ds := `example.test. IN DS 12345 13 2 ` + strings.Repeat("ab", 32)
	for _, tc := range []struct{ name, attrs, want string }{
		{"a DS of the zone", "require_dnssec = true\n  trust_anchor = \"" + ds + "\"", ""},
		{"the parent's", "require_dnssec = true\n  trust_anchor = \"test. IN DS 1 13 2 " + strings.Repeat("cd", 32) + "\"", ""},
		{"the root's, and a resolver", "require_dnssec = true\n  trust_anchor = \". IN DS 20326 8 2 " + strings.Repeat("ef", 32) + "\"\n  resolver = \"127.0.0.1:53\"", ""},
		{"another zone's", "require_dnssec = true\n  trust_anchor = \"other.test. IN DS 1 13 2 " + strings.Repeat("cd", 32) + "\"", "main.hcl:9,18-"},
		{"not DS or DNSKEY", "require_dnssec = true\n  trust_anchor = \"example.test. IN A 192.0.2.1\"", "DS or DNSKEY records, not A"},
		{"without require_dnssec", "trust_anchor = \"" + ds + "\"", "trust_anchor needs require_dnssec"},
		{"a resolver without a port", "require_dnssec = true\n  resolver = \"127.0.0.1\"", "Invalid resolver address"},
	} {
		src := "dns_zone \"z\" {\n  name = \"example.test\"\n  server = \"127.0.0.1:53\"\n  tsig {\n    name = \"k\"\n    secret_file = \"s\"\n  }\n  " + tc.attrs + "\n}\n"
		_, diags := schema.Parse("/config", map[string][]byte{"main.hcl": []byte(src)}, []schema.Kind{dns.ZoneKind().Kind})
		switch {
		case tc.want == "" && diags.HasErrors():
			t.Errorf("%s: refused: %v", tc.name, diags)
		case tc.want != "" && !strings.Contains(diags.Error(), tc.want):
			t.Errorf("%s: %v, want %q", tc.name, diags, tc.want)
		}
	}
}
