package schema_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/trustform/trustform/internal/testutil"
	"github.com/trustform/trustform/kinds"
	"github.com/trustform/trustform/providers/apt"
	"github.com/trustform/trustform/providers/certificate"
	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/schema"
)

// TestDiagnostics loads each file of testdata/invalid on its own and compares
// the printed diagnostics (file:line:column and snippet) with its golden file.
func TestDiagnostics(t *testing.T) {
	names, err := filepath.Glob("testdata/invalid/*")
	if err != nil || len(names) == 0 {
		t.Fatal("no test cases", err)
	}
	for _, path := range names {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			cfg, diags := kinds.Parse("/config", map[string][]byte{name: src})
			if !diags.HasErrors() {
				t.Fatalf("%s loads without errors", name)
			}
			testutil.Golden(t, "diagnostics/"+strings.TrimSuffix(strings.TrimSuffix(name, ".json"), ".hcl"), testutil.Diagnostics(cfg.Files, diags))
		})
	}
}

// TestWarnings loads each file of testdata/warnings, which must load
// without errors but with warnings, and compares them with their golden file.
func TestWarnings(t *testing.T) {
	names, err := filepath.Glob("testdata/warnings/*.hcl")
	if err != nil || len(names) == 0 {
		t.Fatal("no test cases", err)
	}
	for _, path := range names {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			cfg, diags := kinds.Parse("/config", map[string][]byte{name: src})
			if diags.HasErrors() || len(diags) == 0 {
				t.Fatalf("%s: want warnings and no error, got %v", name, diags)
			}
			testutil.Golden(t, "warnings/"+strings.TrimSuffix(name, ".hcl"), testutil.Diagnostics(cfg.Files, diags))
		})
	}
}

func TestValidConfigDefaults(t *testing.T) {
	cfg, diags := kinds.Parse("/config", map[string][]byte{"main.hcl": []byte(`
dns_zone "z" {
  name      = "Example.Test"
  zone_file = "z.zone"
}
local_ca "ca" {}
certificate "c" {
  domains   = ["example.test"]
  issuer    = local_ca.ca
  cert_file = "/etc/ssl/c.pem"
  key_file  = "/etc/ssl/c.key"
}
tlsa "t" {
  zone        = dns_zone.z
  port        = 25
  hostname    = "Mail.Example.Test"
  certificate = certificate.c
  ttl         = 600
}
apt_key "k" {
  fingerprint = "7346 08F7 CD36 DD4E 720A  4C70 8BF2 6C08 45AB C4F2"
  url         = "key.asc"
}
`)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	c, tl, k := cfg.Blocks(certificate.Type)[0].(*certificate.Block), cfg.Blocks(dns.TLSAType)[0].(*dns.TLSABlock), cfg.Blocks(apt.KeyType)[0].(*apt.KeyBlock)
	if c.KeyType != "ec256" || !*c.ReuseKey || c.RenewBeforeDuration != 0 || c.RenewBeforeFraction != 0 {
		t.Errorf("certificate defaults: key_type %q reuse_key %v renew_before %v", c.KeyType, *c.ReuseKey, c.RenewBeforeDuration)
	}
	if tl.FQDN != "_25._tcp.mail.example.test." || tl.Params != [3]uint8{3, 1, 1} || tl.Wait != 20*time.Minute {
		t.Errorf("tlsa: owner %q params %v rollover_wait %v", tl.FQDN, tl.Params, tl.Wait)
	}
	if k.Fingerprint != "734608F7CD36DD4E720A4C708BF26C0845ABC4F2" || k.Keyring != "/etc/apt/keyrings/k.gpg" {
		t.Errorf("apt_key: fingerprint %q keyring %q", k.Fingerprint, k.Keyring)
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"90s", 90 * time.Second, false},
		{"24h", 24 * time.Hour, false},
		{"30d", 30 * 24 * time.Hour, false},
		{"2w", 14 * 24 * time.Hour, false},
		{"1h30m", 90 * time.Minute, false},
		{"10", 0, true},
		{"", 0, true},
		{"2 days", 0, true},
		{"-5m", 0, true},
		{"1.5d", 0, true},
	} {
		got, err := schema.ParseDuration(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// TestParserLimits: inputs that crashed the process or ran for minutes
// inside the HCL parser are diagnostics, found before it runs.
func TestParserLimits(t *testing.T) {
	for _, tc := range []struct {
		name, file, src, want string
	}{
		{"100,000 nested brackets", "deep.hcl", "x = " + strings.Repeat("[", 100000), "Nesting too deep"},
		{"nested interpolations", "tmpl.hcl", "x = \"" + strings.Repeat("${", 200) + "\"", "Nesting too deep"},
		{"nested JSON", "deep.hcl.json", strings.Repeat(`{"a":`, 100000), "Nesting too deep"},
		{"a 1M-line heredoc", "heredoc.hcl", "x = <<EOT\n" + strings.Repeat("a\n", 1000000) + "EOT\n", "Heredoc too long"},
		{"a 50 MB file", "big.hcl", "# " + strings.Repeat("x", 50<<20) + "\n", "Configuration file too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := kinds.Parse("/config", map[string][]byte{tc.file: []byte(tc.src)})
			if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.want) {
				t.Fatalf("want %q, got %v", tc.want, diags)
			}
		})
	}
}

// OpenPGP v6 keys (RFC 9580) have 64-hex-digit fingerprints; a length in
// between is neither.
func TestAPTKeyFingerprintLengths(t *testing.T) {
	for fpr, ok := range map[string]bool{
		strings.Repeat("ab", 20): true,
		strings.Repeat("AB", 32): true,
		strings.Repeat("AB", 24): false,
	} {
		_, diags := kinds.Parse("/config", map[string][]byte{"main.hcl": []byte(`apt_key "k" {
  fingerprint = "` + fpr + `"
  url         = "key.asc"
}
`)})
		if diags.HasErrors() == ok {
			t.Errorf("fingerprint of %d digits: %v", len(fpr), diags)
		}
	}
}

// ValidIdentifier agrees with HCL's lexer.
func TestValidIdentifier(t *testing.T) {
	for _, s := range []string{"", "a", "www", "h12_https", "a-b", "_x", "1a", "-a", "a.b", "a b", "é", "aé", "a\"", "a[0]", "ĳ-1", "a\u200b"} {
		if got, want := schema.ValidIdentifier(s), hclsyntax.ValidIdentifier(s); got != want {
			t.Errorf("ValidIdentifier(%q) = %v, HCL says %v", s, got, want)
		}
	}
}
