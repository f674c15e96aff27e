package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/internal/testutil"
	"github.com/trustform/trustform/kinds"
	"github.com/trustform/trustform/schema"
)

const zoneFile = `$ORIGIN example.test.
@ 3600 IN SOA ns1.example.test. hostmaster.example.test. 1 7200 3600 1209600 3600
@ 3600 IN NS ns1.example.test.
`

// base is a small DANE setup: a zone file, a local CA, one certificate and
// its TLSA RRset.
const base = `
dns_zone "example" {
  name      = "example.test"
  zone_file = "zone"
}
local_ca "ca" {}
certificate "www" {
  domains   = ["example.test", "www.example.test"]
  issuer    = local_ca.ca
  key_type  = "KEYTYPE"
  cert_file = "www.pem"
  key_file  = "www.key"
}
tlsa "www" {
  zone          = dns_zone.example
  name          = "_443._tcp.www"
  certificate   = certificate.www
  rollover_wait = "1h"
}
`

const vhosts = `
tls_policy "p" {
  profile = "mozilla-intermediate"
}
vhost "https" {
  server         = "nginx"
  config_file    = "https.conf"
  listen         = "192.0.2.10:443"
  server_names   = ["example.test", "www.example.test"]
  certificate    = certificate.www
  tls_policy     = tls_policy.p
  test_command   = ""
  reload_command = ""
  hsts {
    max_age            = 63072000
    include_subdomains = true
    preload            = true
  }
}
vhost "http" {
  server         = "nginx"
  config_file    = "http.conf"
  listen         = "192.0.2.10:80"
  server_names   = ["example.test", "www.example.test"]
  redirect_https = true
  hsts_from      = vhost.https
  acme_webroot   = "acme"
  test_command   = ""
  reload_command = ""
}
`

const aptPair = `
apt_key "vendor" {
  fingerprint = "734608F7CD36DD4E720A4C708BF26C0845ABC4F2"
  url         = "key.asc"
  keyring     = "keyrings/vendor.gpg"
}
apt_source "vendor" {
  file      = "sources/vendor.sources"
  uris      = ["https://apt.example.test/debian"]
  suites    = ["stable"]
  components = ["main"]
  signed_by = apt_key.vendor
}
`

// twoCertVhosts: two vhosts of server on one address, www with
// certificate.www and shop with a certificate for shopName.
func twoCertVhosts(server, shopName string) string {
	return fmt.Sprintf(`
certificate "shop" {
  domains   = [%[2]q]
  issuer    = local_ca.ca
  cert_file = "shop.pem"
  key_file  = "shop.key"
}
tls_policy "p" {
  profile = "mozilla-intermediate"
}
vhost "www" {
  server         = %[1]q
  config_file    = "www.conf"
  listen         = "192.0.2.10:443"
  server_names   = ["www.example.test"]
  certificate    = certificate.www
  tls_policy     = tls_policy.p
  test_command   = ""
  reload_command = ""
}
vhost "shop" {
  server         = %[1]q
  config_file    = "shop.conf"
  listen         = "192.0.2.10:443"
  server_names   = [%[2]q]
  certificate    = certificate.shop
  tls_policy     = tls_policy.p
  test_command   = ""
  reload_command = ""
}
`, server, shopName)
}

// ruleCase is one configuration, optionally applied in a first form before
// the planned one, with the plan or the refusal compared to a golden file.
// renewalDue is a clock 70 days on: a 90-day certificate issued now is
// then within the default renew_before (30 days) of its expiry.
func renewalDue() time.Time { return time.Now().Add(70 * 24 * time.Hour) }

type ruleCase struct {
	name    string
	first   string // applied before planning config, if set
	config  string
	opts    engine.Options
	refused bool
	setup   func(dir string) // prepares the live world, if set
	edit    func(dir string) // changes the live world after the first apply, if set
}

func TestRules(t *testing.T) {
	ec256 := strings.ReplaceAll(base, "KEYTYPE", "ec256")
	ec384 := strings.ReplaceAll(base, "KEYTYPE", "ec384")
	www := schema.Address{Type: "certificate", Name: "www"}
	daneTA := strings.Replace(ec256, `rollover_wait = "1h"`, "rollover_wait = \"1h\"\n  usage         = 2", 1)
	withNext := func(s string) string {
		return strings.Replace(s, `rollover_wait = "1h"`, "rollover_wait = \"1h\"\n  publish_next  = true", 1)
	}
	for _, tc := range []ruleCase{
		{name: "tlsa-before-cert/first-deployment", config: ec256},
		{name: "tlsa-before-cert/key-type-change", first: ec256, config: ec384},
		{name: "tlsa-before-cert/replace", first: ec256, config: ec256, opts: engine.Options{Replace: []schema.Address{www}}},
		{name: "tlsa-before-cert/replace-targeted", first: ec256, config: ec256, opts: engine.Options{Replace: []schema.Address{www}, Targets: []schema.Address{www}}},
		{name: "tlsa-before-cert/renewal-keeps-key", first: ec256, config: ec256, opts: engine.Options{Now: renewalDue}},
		{name: "tlsa-before-cert/no-change", first: ec256, config: ec256},
		{name: "tlsa-before-cert/dane-ta-renewal", first: daneTA, config: daneTA, opts: engine.Options{Now: renewalDue}},
		{name: "tlsa-before-cert/dane-ta-replace", first: daneTA, config: daneTA, opts: engine.Options{Replace: []schema.Address{www}}},
		{name: "tlsa-before-cert/dane-ta-ca-not-covered", first: daneTA, config: daneTA, edit: func(dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "zone"))
			os.WriteFile(filepath.Join(dir, "zone"), regexp.MustCompile(`TLSA\t2 1 1 [0-9a-f]+`).ReplaceAll(b, []byte("TLSA\t2 1 1 "+strings.Repeat("00", 32))), 0o644)
		}},
		{name: "tlsa-before-cert/publish-next-first-deployment", config: withNext(ec256)},
		{name: "tlsa-before-cert/publish-next-switched-on", first: ec256, config: withNext(ec256)},
		{name: "tlsa-before-cert/publish-next-replace", first: withNext(ec256), config: withNext(ec256), opts: engine.Options{Replace: []schema.Address{www}}},
		{name: "tlsa-before-cert/publish-next-key-type-change", first: withNext(ec256), config: withNext(ec384)},
		{name: "revoke-after-served/replace", first: ec256 + vhosts, config: ec256 + vhosts, opts: engine.Options{Replace: []schema.Address{www}, Revoke: "keyCompromise"}},
		{name: "revoke-after-served/publish-next-replace", first: withNext(ec256), config: withNext(ec256), opts: engine.Options{Replace: []schema.Address{www}, Revoke: "superseded"}},
		{name: "hsts-on-http-vhost/ordering", config: ec256 + vhosts},
		{name: "hsts-on-http-vhost/http-vhost-without-redirect", refused: true,
			config: ec256 + strings.Replace(vhosts, "redirect_https = true", "redirect_https = false", 1)},
		{name: "hsts-on-http-vhost/redirect-without-header", refused: true,
			config: ec256 + strings.Replace(vhosts, "hsts_from      = vhost.https", "", 1)},
		{name: "hsts-on-http-vhost/header-off-on-http", config: ec256 + strings.Replace(strings.Replace(vhosts, "hsts_from      = vhost.https", "", 1),
			"preload            = true", "preload            = true\n    on_http            = false", 1)},
		{name: "hsts-on-http-vhost/name-not-covered", refused: true,
			config: ec256 + strings.ReplaceAll(vhosts, `["example.test", "www.example.test"]`, `["example.test", "www.example.test", "shop.example.test"]`)},
		{name: "hsts-on-http-vhost/zone-names-without-https", config: ec256 + vhosts, setup: func(dir string) {
			os.WriteFile(filepath.Join(dir, "zone"), []byte(zoneFile+"mail 3600 IN A 192.0.2.25\nwww 3600 IN AAAA 2001:db8::10\n"), 0o644)
		}},
		{name: "hsts-on-http-vhost/preload-without-registrable-domain", refused: true,
			config: ec256 + strings.ReplaceAll(vhosts, `["example.test", "www.example.test"]`, `["www.example.test"]`)},
		{name: "hsts-on-http-vhost/preload-public-suffix", refused: true,
			config: strings.ReplaceAll(ec256, `["example.test", "www.example.test"]`, `["github.io"]`) + strings.ReplaceAll(vhosts, `["example.test", "www.example.test"]`, `["github.io"]`)},
		{name: "acme-challenge-not-redirected/redirect-swallows-challenge", refused: true,
			config: `acme_account "le" {
  directory = "https://acme.example.test/directory"
}
` + strings.Replace(strings.Replace(ec256, "issuer    = local_ca.ca", "issuer    = acme_account.le", 1), `local_ca "ca" {}`, "", 1) +
				strings.Replace(vhosts, `acme_webroot   = "acme"`, "", 1)},
		{name: "cipher-consistency/different-policies", refused: true,
			config: ec256 + vhosts + `
tls_policy "old" {
  protocols = ["TLSv1.2"]
  ciphers   = "HIGH:!aNULL"
}
vhost "shop" {
  server       = "apache"
  config_file  = "shop.conf"
  listen       = "192.0.2.10:443"
  server_names = ["www.example.test"]
  certificate  = certificate.www
  tls_policy   = tls_policy.old
}
`},
		{name: "cipher-consistency/shared-policy", config: ec256 + vhosts + `
vhost "shop" {
  server         = "apache"
  config_file    = "shop.conf"
  listen         = "192.0.2.10:443"
  server_names   = ["www.example.test"]
  certificate    = certificate.www
  tls_policy     = tls_policy.p
  test_command   = ""
  reload_command = ""
}
`},
		{name: "cipher-consistency/apache-overlapping-certificates", refused: true, config: ec256 + twoCertVhosts("apache", "*.example.test")},
		{name: "cipher-consistency/nginx-overlapping-certificates", config: ec256 + twoCertVhosts("nginx", "*.example.test")},
		{name: "cipher-consistency/apache-separate-certificates", config: ec256 + twoCertVhosts("apache", "shop.example.org")},
		{name: "apt-key-before-source/ordering", config: aptPair},
		{name: "apt-key-before-source/legacy-removed-last", config: strings.ReplaceAll(aptPair, `"keyrings/vendor.gpg"`, `"etc/apt/keyrings/vendor.gpg"`),
			setup: func(dir string) { // the key is also trusted globally, the apt-key way
				os.MkdirAll(filepath.Join(dir, "etc/apt/trusted.gpg.d"), 0o755)
				b, _ := os.ReadFile(filepath.Join(dir, "key.asc"))
				os.WriteFile(filepath.Join(dir, "etc/apt/trusted.gpg.d/vendor.asc"), b, 0o644)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) { runCase(t, tc, "rules") })
	}
}

// runCase applies tc.first if set, plans tc.config and compares the plan
// and its diagnostics, or the refusal, with golden file DIR/NAME.
func runCase(t *testing.T, tc ruleCase, golden string) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "zone"), []byte(zoneFile), 0o644)
	key, err := os.ReadFile(filepath.Join("..", "examples", "quickstart", "keys", "example-archive.asc"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "key.asc"), key, 0o644)
	if tc.setup != nil {
		tc.setup(dir)
	}
	if tc.first != "" {
		writeConfig(t, dir, tc.first)
		p, run, _ := planIn(t, dir, engine.Options{})
		if _, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)}); err != nil {
			t.Fatalf("applying the first configuration: %v", err)
		}
	}
	if tc.edit != nil {
		tc.edit(dir)
	}
	writeConfig(t, dir, tc.config)
	p, _, diags := planIn(t, dir, tc.opts)
	var out bytes.Buffer
	if tc.refused {
		if !diags.HasErrors() {
			t.Fatalf("the configuration was not refused")
		}
		cfg, _ := kinds.Load(dir, schema.Inputs{})
		hcl.NewDiagnosticTextWriter(&out, cfg.Files, 100, false).WriteDiagnostics(diags)
	} else {
		if diags.HasErrors() {
			t.Fatalf("refused: %v", diags)
		}
		plan.WriteText(&out, p, plan.TextOptions{})
		if len(diags) > 0 {
			cfg, _ := kinds.Load(dir, schema.Inputs{})
			hcl.NewDiagnosticTextWriter(&out, cfg.Files, 100, false).WriteDiagnostics(diags)
		}
	}
	testutil.Golden(t, golden+"/"+tc.name, testutil.Normalize(out.String(), dir))
}

func writeConfig(t *testing.T, dir, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

func saver(dir string) func(*state.State) error {
	return func(st *state.State) error { return st.Save(state.Path(filepath.Join(dir, ".trustform"))) }
}

// planIn plans the configuration in dir; refusals come back as diagnostics.
func planIn(t *testing.T, dir string, opts engine.Options) (*plan.Plan, *engine.Run, hcl.Diagnostics) {
	t.Helper()
	cfg, diags := kinds.Load(dir, schema.Inputs{})
	if diags.HasErrors() {
		return nil, nil, diags
	}
	st, err := state.Load(state.Path(cfg.StateDir()))
	if err != nil {
		t.Fatal(err)
	}
	run, diags := engine.New(cfg, st, kinds.Bind, opts)
	if diags.HasErrors() {
		return nil, nil, diags
	}
	if d := run.Observe(context.Background()); d.HasErrors() {
		t.Fatal(d)
	}
	p, d := run.Plan()
	return p, run, append(diags, d...)
}
