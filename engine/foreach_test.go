package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/kinds"
	"github.com/trustform/trustform/schema"
)

const fleetHead = `dns_zone "fleet" {
  name      = "example.test"
  zone_file = "zone"
}
local_ca "ca" {}
`

// fleetForEach is hosts × (host, certificate, tlsa, vhost) written once.
func fleetForEach(hosts int) string {
	var vals []string
	for i := range hosts {
		vals = append(vals, fmt.Sprintf("    mx%02d = \"10.0.%d.%d\"", i+1, (i+1)/250, (i+1)%250+1))
	}
	return fleetHead + `variable "hosts" {
  type    = map(string)
  default = {
` + strings.Join(vals, "\n") + `
  }
}
locals {
  domain = "example.test"
}
host "mx" {
  for_each = var.hosts
  root     = "out/${each.key}"
}
certificate "site" {
  for_each  = var.hosts
  domains   = ["${each.key}.${local.domain}", "www.${each.key}.${local.domain}"]
  issuer    = local_ca.ca
  cert_file = "/etc/ssl/site.pem"
  key_file  = "/etc/ssl/site.key"
  host      = host.mx[each.key]
}
tlsa "site" {
  for_each    = var.hosts
  zone        = dns_zone.fleet
  port        = 443
  hostname    = "www.${each.key}.${local.domain}"
  certificate = certificate.site[each.key]
}
vhost "site" {
  for_each       = var.hosts
  server         = "nginx"
  config_file    = "/etc/nginx/sites-enabled/site.conf"
  listen         = "${each.value}:443"
  server_names   = ["${each.key}.${local.domain}", "www.${each.key}.${local.domain}"]
  certificate    = certificate.site[each.key]
  host           = host.mx[each.key]
  test_command   = ""
  reload_command = ""
}
`
}

// fleetExpanded is the same fleet written out by hand, block by block.
func fleetExpanded(hosts int) string {
	var s strings.Builder
	s.WriteString(fleetHead)
	for i := range hosts {
		fmt.Fprintf(&s, `
host "mx[\"mx%02[1]d\"]" {
  root = "out/mx%02[1]d"
}
certificate "site[\"mx%02[1]d\"]" {
  domains   = ["mx%02[1]d.example.test", "www.mx%02[1]d.example.test"]
  issuer    = local_ca.ca
  cert_file = "/etc/ssl/site.pem"
  key_file  = "/etc/ssl/site.key"
  host      = host.mx["mx%02[1]d"]
}
tlsa "site[\"mx%02[1]d\"]" {
  zone        = dns_zone.fleet
  port        = 443
  hostname    = "www.mx%02[1]d.example.test"
  certificate = certificate.site["mx%02[1]d"]
}
vhost "site[\"mx%02[1]d\"]" {
  server         = "nginx"
  config_file    = "/etc/nginx/sites-enabled/site.conf"
  listen         = "10.0.%[2]d.%[3]d:443"
  server_names   = ["mx%02[1]d.example.test", "www.mx%02[1]d.example.test"]
  certificate    = certificate.site["mx%02[1]d"]
  host           = host.mx["mx%02[1]d"]
  test_command   = ""
  reload_command = ""
}
`, i+1, (i+1)/250, (i+1)%250+1)
	}
	return s.String()
}

func fleetDir(tb testing.TB, cfg string) string {
	dir := tb.TempDir()
	os.WriteFile(filepath.Join(dir, "zone"), []byte(zoneFile), 0o644)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
	return dir
}

// freshPlan plans dir on a machine where nothing was applied yet, as
// `trustform plan` does.
func freshPlan(tb testing.TB, dir string) *plan.Plan {
	tb.Helper()
	cfg, diags := kinds.Load(dir, schema.Inputs{})
	if diags.HasErrors() {
		tb.Fatal(diags)
	}
	run, diags := engine.New(cfg, &state.State{Resources: map[string]*state.Resource{}}, kinds.Bind, engine.Options{})
	if diags.HasErrors() {
		tb.Fatal(diags)
	}
	if d := run.Observe(context.Background()); d.HasErrors() {
		tb.Fatal(d)
	}
	p, d := run.Plan()
	if d.HasErrors() {
		tb.Fatal(d)
	}
	return p
}

func planJSON(tb testing.TB, dir string) string {
	tb.Helper()
	p := freshPlan(tb, dir)
	b, _ := json.MarshalIndent(struct{ Changes, Steps any }{p.Changes, p.Steps}, "", " ")
	return strings.ReplaceAll(string(b), dir, "$DIR")
}

// Thirty hosts written with for_each plan exactly what their hand-expanded
// form plans: the same addresses, changes and steps in the same order.
func TestForEachPlansAsExpanded(t *testing.T) {
	each, expanded := planJSON(t, fleetDir(t, fleetForEach(30))), planJSON(t, fleetDir(t, fleetExpanded(30)))
	if each != expanded {
		t.Fatalf("for_each plans differently from its expanded form:\n%s\n---\n%s", each[:min(len(each), 3000)], expanded[:min(len(expanded), 3000)])
	}
	if n := strings.Count(each, `"address": "vhost.site[\"mx`); n != 60 { // a change and a step each
		t.Errorf("%d vhost instances planned, want 30 changes and 30 steps", n)
	}
	if lines := strings.Count(fleetForEach(30), "\n"); lines*5 > strings.Count(fleetExpanded(30), "\n") {
		t.Errorf("for_each form is %d lines: not much shorter than the expanded form", lines)
	}
}

// BenchmarkPlanForEach and BenchmarkPlanExpanded: the cost of evaluating
// for_each against writing the instances out (the target is ≤ 1.2×).
func BenchmarkPlanForEach(b *testing.B) {
	dir := fleetDir(b, fleetForEach(300))
	for b.Loop() {
		planJSON(b, dir)
	}
}

func BenchmarkPlanExpanded(b *testing.B) {
	dir := fleetDir(b, fleetExpanded(300))
	for b.Loop() {
		planJSON(b, dir)
	}
}
