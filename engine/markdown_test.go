package engine_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/internal/testutil"
	"github.com/trustform/trustform/schema"
)

// TestMarkdown renders the pull-request comment, and the JSON, of typical
// plans: one of each change kind between them.
func TestMarkdown(t *testing.T) {
	ec256 := strings.ReplaceAll(base, "KEYTYPE", "ec256")
	ec384 := strings.ReplaceAll(base, "KEYTYPE", "ec384")
	weakHSTS := strings.Replace(strings.Replace(vhosts, "include_subdomains = true", "include_subdomains = false", 1), "preload            = true", "preload            = false", 1)
	www := []schema.Address{{Type: "certificate", Name: "www"}}
	for _, tc := range []struct {
		name, first, config string
		opts                engine.Options
	}{
		{"no-changes", ec256, ec256, engine.Options{}},
		{"first-deployment", "", ec256 + vhosts + aptPair, engine.Options{}},
		{"dane-rollover", ec256 + vhosts, ec384 + vhosts, engine.Options{}},
		{"key-compromise", ec256 + vhosts, ec256 + vhosts, engine.Options{Replace: www, Revoke: "keyCompromise"}},
		{"hsts-preload-switch", ec256 + weakHSTS, ec256 + vhosts, engine.Options{}},
		{"removal", ec256 + vhosts + aptPair, ec256 + vhosts, engine.Options{}},
		{"for-each-instances", ec256 + fleet("mx1", "mx2"), ec256 + fleet("mx1", "mx3"), engine.Options{}},
		{"warnings-only", ec256 + aptPair, ec256 + "\nremoved {\n  from    = apt_source.vendor\n  destroy = false\n}\nremoved {\n  from    = apt_key.vendor\n  destroy = false\n}\n", engine.Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "zone"), []byte(zoneFile), 0o644)
			key, _ := os.ReadFile(filepath.Join("..", "examples", "quickstart", "keys", "example-archive.asc"))
			os.WriteFile(filepath.Join(dir, "key.asc"), key, 0o644)
			if tc.first != "" {
				writeConfig(t, dir, tc.first)
				p, run, _ := planIn(t, dir, engine.Options{})
				if _, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)}); err != nil {
					t.Fatal(err)
				}
			}
			writeConfig(t, dir, tc.config)
			p, _, diags := planIn(t, dir, tc.opts)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			p.Diagnostics = plan.Diagnostics(diags) // as the command line does
			var out bytes.Buffer
			if err := plan.WriteMarkdown(&out, p); err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, "markdown/"+tc.name, testutil.Normalize(out.String(), dir))
			out.Reset()
			if err := plan.WriteJSON(&out, p); err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, "json/"+tc.name, normalizeJSON(out.String(), dir))
			if strings.HasPrefix(tc.name, "for-each") || tc.name == "key-compromise" {
				out.Reset()
				plan.WriteText(&out, p, plan.TextOptions{})
				testutil.Golden(t, "text/"+tc.name, testutil.Normalize(out.String(), dir))
			}
		})
	}
}

var (
	lineage   = regexp.MustCompile(`"state_lineage": "[0-9a-f]{32}"`)
	tfVersion = regexp.MustCompile(`"trustform_version": "[^"]*"`)
)

func normalizeJSON(s, dir string) string {
	s = lineage.ReplaceAllString(testutil.Normalize(s, dir), `"state_lineage": "<lineage>"`)
	return tfVersion.ReplaceAllString(s, `"trustform_version": "<version>"`)
}

// TestJSONDrift: a resource gone since the last apply is a "delete" entry of
// a refresh-only plan.
func TestJSONDrift(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "zone"), []byte(zoneFile), 0o644)
	key, _ := os.ReadFile(filepath.Join("..", "examples", "quickstart", "keys", "example-archive.asc"))
	os.WriteFile(filepath.Join(dir, "key.asc"), key, 0o644)
	writeConfig(t, dir, aptPair)
	p, run, _ := planIn(t, dir, engine.Options{})
	if _, err := run.Apply(context.Background(), p, engine.ApplyOptions{Save: saver(dir)}); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "sources", "vendor.sources"))
	p, _, diags := planIn(t, dir, engine.Options{RefreshOnly: true})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var out bytes.Buffer
	plan.WriteJSON(&out, p)
	testutil.Golden(t, "json/drift-delete", normalizeJSON(out.String(), dir))
	out.Reset()
	plan.WriteMarkdown(&out, p)
	testutil.Golden(t, "markdown/drift-delete", testutil.Normalize(out.String(), dir))
}

// fleet is certificates and TLSA records for hosts, written with for_each.
func fleet(hosts ...string) string {
	return `
variable "mx" {
  type    = set(string)
  default = ["` + strings.Join(hosts, `", "`) + `"]
}
certificate "mx" {
  for_each  = var.mx
  domains   = ["${each.key}.example.test"]
  issuer    = local_ca.ca
  cert_file = "certs/${each.key}.pem"
  key_file  = "certs/${each.key}.key"
}
tlsa "mx" {
  for_each    = var.mx
  zone        = dns_zone.example
  port        = 25
  hostname    = "${each.key}.example.test"
  certificate = certificate.mx[each.key]
}
`
}
