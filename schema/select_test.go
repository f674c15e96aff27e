package schema_test

import (
	"fmt"
	"testing"

	"github.com/trustform/trustform/kinds"
	"github.com/trustform/trustform/schema"
)

// -replace patterns select certificates as an incident needs them.
func TestSelect(t *testing.T) {
	cfg, diags := kinds.Parse("/config", map[string][]byte{"main.hcl": []byte(`
host "web" { address = "192.0.2.80" }
host "mx" {
  for_each = toset(["mx1", "mx2"])
  address  = "192.0.2.25"
}
local_ca "ca" {}
certificate "www" {
  domains   = ["www.example.test"]
  issuer    = local_ca.ca
  cert_file = "/etc/ssl/www.pem"
  key_file  = "/etc/ssl/www.key"
  host      = host.web
}
certificate "mail" {
  for_each  = toset(["mx1", "mx2"])
  domains   = ["${each.key}.example.test"]
  issuer    = local_ca.ca
  cert_file = "/etc/ssl/${each.key}.pem"
  key_file  = "/etc/ssl/${each.key}.key"
  host      = host.mx[each.key]
}
service "smtp" {
  certificate = certificate.mail["mx1"]
  endpoints   = ["smtp://192.0.2.25:25"]
  host        = host.mx["mx1"]
}
`)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for pattern, want := range map[string]string{
		"certificate.*":           `[certificate.www certificate.mail["mx1"] certificate.mail["mx2"]]`,
		"certificate.mail[*]":     `[certificate.mail["mx1"] certificate.mail["mx2"]]`,
		"certificate.mail":        `[certificate.mail["mx1"] certificate.mail["mx2"]]`,
		`certificate.mail["mx2"]`: `[certificate.mail["mx2"]]`,
		"host.web":                `[certificate.www]`,
		`host.mx["mx1"]`:          `[certificate.mail["mx1"]]`,
		"host.mx":                 `[certificate.mail["mx1"] certificate.mail["mx2"]]`,
		"certificate.nope":        `[]`,
		`certificate.mail["mx9"]`: `[]`,
	} {
		p, err := schema.ParsePattern(pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(cfg.Select(p)); got != want {
			t.Errorf("%s selects %s, want %s", pattern, got, want)
		}
	}
	if p, err := schema.ParsePattern("nope.*"); err != nil || cfg.Select(p) != nil {
		t.Errorf("nope.* selects %v (%v): this configuration has no nope block", cfg.Select(p), err)
	}
	for _, bad := range []string{"certificate.**", "certificate[*]", "certificate.mail[*]x"} {
		if _, err := schema.ParsePattern(bad); err == nil {
			t.Errorf("%q parses", bad)
		}
	}
}
