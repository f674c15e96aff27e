package schema_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/internal/testutil"
	"github.com/trustform/trustform/kinds"
	"github.com/trustform/trustform/providers/apt"
	"github.com/trustform/trustform/providers/certificate"
	"github.com/trustform/trustform/providers/localca"
	"github.com/trustform/trustform/schema"
)

// evalDir writes files into a temp directory and loads it with in.
func evalDir(t *testing.T, in schema.Inputs, files map[string]string) (*schema.Config, string) {
	t.Helper()
	dir := t.TempDir()
	for n, s := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, n)), 0o755)
		os.WriteFile(filepath.Join(dir, n), []byte(s), 0o644)
	}
	cfg, diags := kinds.Load(dir, in)
	if diags.HasErrors() {
		t.Fatalf("%v", diags)
	}
	return cfg, dir
}

// Each construct evaluates as in Terraform: templates, conditionals, for
// expressions, locals that use each other, and the functions.
func TestEvaluation(t *testing.T) {
	cfg, _ := evalDir(t, schema.Inputs{}, map[string]string{"main.hcl": `
variable "domain" { default = "Example.Test" }
variable "hosts" {
  type    = map(string)
  default = { mx1 = "192.0.2.0/24", mx2 = "198.51.100.0/24" }
}
locals {
  names = [for h in sort(keys(var.hosts)) : "${h}.${local.zone}"]
  zone  = lower(var.domain)
  ip    = cidrhost(var.hosts["mx2"], 10)
}
local_ca "main" {
  common_name = format("%s CA (%s)", upper(local.zone), join("+", local.names))
}
certificate "c" {
  domains   = concat(local.names, [local.ip])
  issuer    = local_ca.main
  cert_file = "certs/${local.zone}.pem"
  key_file  = "certs/${local.zone}.key"
  key_type  = length(var.hosts) > 1 ? "ec384" : "ec256"
}
apt_key "k" {
  fingerprint = trimspace(file("keys/fpr.txt"))
  url         = "key.asc"
}
`, "keys/fpr.txt": "734608F7CD36DD4E720A4C708BF26C0845ABC4F2\n"})
	if got := cfg.Blocks(localca.Type)[0].(*localca.Block).CommonName; got != "EXAMPLE.TEST CA (mx1.example.test+mx2.example.test)" {
		t.Errorf("common_name = %q", got)
	}
	c := cfg.Blocks(certificate.Type)[0].(*certificate.Block)
	if want := []string{"mx1.example.test", "mx2.example.test", "198.51.100.10"}; !slices.Equal(c.Domains, want) || c.KeyType != "ec384" || c.CertFile != "certs/example.test.pem" {
		t.Errorf("certificate: domains %v key_type %q cert_file %q", c.Domains, c.KeyType, c.CertFile)
	}
	if cfg.Blocks(apt.KeyType)[0].(*apt.KeyBlock).Fingerprint != "734608F7CD36DD4E720A4C708BF26C0845ABC4F2" {
		t.Errorf("file() gave %q", cfg.Blocks(apt.KeyType)[0].(*apt.KeyBlock).Fingerprint)
	}
}

// file() reads inside the configuration directory only, symlinks too.
func TestFileStaysInside(t *testing.T) {
	dir := t.TempDir()
	os.Symlink("/etc/passwd", filepath.Join(dir, "passwd"))
	for _, p := range []string{"../../../etc/passwd", "/etc/passwd", "passwd"} {
		os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(`local_ca "m" { common_name = file("`+p+`") }`), 0o644)
		_, diags := kinds.Load(dir, schema.Inputs{})
		if !diags.HasErrors() || strings.Contains(diags.Error(), "root:") {
			t.Errorf("file(%q): %v", p, diags)
		}
	}
}

// Values from outside, lowest precedence first: the environment, the
// *.auto.vars files in lexical order, then -var and -var-file in
// command-line order; complex types from the command line are HCL.
func TestVariablePrecedence(t *testing.T) {
	files := map[string]string{
		"main.hcl":       "variable \"a\" {}\nvariable \"b\" {}\nvariable \"c\" {}\nvariable \"d\" { type = list(string) }\nvariable \"e\" { default = \"default\" }\n",
		"1.auto.vars":    "b = \"auto1\"\nc = \"auto1\"\n",
		"2.auto.vars":    "c = \"auto2\"\n",
		"prod.vars":      "d = [\"from\", \"file\"]\n",
		"ignored.tfvars": "e = \"not read\"\n",
	}
	in := schema.Inputs{
		Env:  []string{"TRUSTFORM_VAR_a=env", "TRUSTFORM_VAR_b=env", "TRUSTFORM_VAR_d=[\"env\"]", "OTHER=x"},
		Args: []schema.VarArg{{Name: "c", Value: "flag"}, {File: "prod.vars"}},
	}
	cfg, _ := evalDir(t, in, files)
	got := map[string]string{}
	for _, v := range cfg.Variables {
		if v.Value.Type().IsListType() {
			var parts []string
			for _, e := range v.Value.AsValueSlice() {
				parts = append(parts, e.AsString())
			}
			got[v.Name] = strings.Join(parts, ",")
			continue
		}
		got[v.Name] = v.Value.AsString()
	}
	want := map[string]string{"a": "env", "b": "auto1", "c": "flag", "d": "from,file", "e": "default"}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("var.%s = %q, want %q", k, got[k], w)
		}
	}
	in.Args = append(in.Args, schema.VarArg{Name: "d", Value: `["last"]`})
	if cfg, _ = evalDir(t, in, files); cfg.Variables[3].Value.AsValueSlice()[0].AsString() != "last" {
		t.Error("a later -var does not win over an earlier -var-file")
	}
	in.Args = []schema.VarArg{{Name: "nope", Value: "x"}}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(files["main.hcl"]), 0o644)
	_, diags := kinds.Load(dir, in)
	if !slices.ContainsFunc(diags, func(d *hcl.Diagnostic) bool { return d.Summary == "Value for undeclared variable" }) {
		t.Errorf("-var for an undeclared variable: %v", diags)
	}
}

// TestEvaluationGolden writes every block of testdata/eval/*.hcl out with
// its values, as state records it, and compares with the golden file.
func TestEvaluationGolden(t *testing.T) {
	names, _ := filepath.Glob("testdata/eval/*.hcl")
	if len(names) == 0 {
		t.Fatal("no test cases")
	}
	for _, path := range names {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			src, _ := os.ReadFile(path)
			cfg, diags := kinds.Parse("/config", map[string][]byte{name: src})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			var out strings.Builder
			cfg.Each(func(a schema.Address, _ hcl.Range, _ schema.Block) {
				fmt.Fprintf(&out, "# %s\n%s\n", a, cfg.Source(a))
			})
			if strings.Contains(out.String(), "not-in-any-output") {
				t.Error("a sensitive value is written out")
			}
			testutil.Golden(t, "eval/"+strings.TrimSuffix(name, ".hcl"), out.String())
		})
	}
}

// TestFileRefusesSecrets: file() reads no secret of the runner's, however
// it is named: state, a 0600 file, a private key, a file a block names as a
// secret, a link to any of them.
func TestFileRefusesSecrets(t *testing.T) {
	const secret = "c2VjcmV0LXRzaWcta2V5LW9mLXRoZS1ydW5uZXI="
	for _, tc := range []struct{ name, file, extra string }{
		{"state directory", ".trustform/local_ca/example/ca.key", ""},
		{"state directory, dotted", "./keys/../.trustform/local_ca/example/ca.key", ""},
		{"a 0600 file", "secrets/tsig.secret", ""},
		{"a private key readable by all", "keys/leaked.pem", ""},
		{"a link to the state", "state-link", ""},
		{"a link inside", "keys-link/fpr.txt", ""},
		{"named as a TSIG secret by a literal", "keys/tsig.readable", `dns_zone "z" {
  name   = "example.test"
  server = "127.0.0.1:53"
  tsig {
    name        = "k"
    algorithm   = "hmac-sha256"
    secret_file = "keys/tsig.readable"
  }
}`},
		{"named as a TSIG secret by an expression", "keys/tsig.readable", `dns_zone "z" {
  name   = "example.test"
  server = "127.0.0.1:53"
  tsig {
    name        = "k"
    algorithm   = "hmac-sha256"
    secret_file = join("/", ["keys", "tsig.readable"])
  }
}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for p, mode := range map[string]os.FileMode{".trustform/local_ca/example/ca.key": 0o644, "secrets/tsig.secret": 0o600, "keys/tsig.readable": 0o644} {
				os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
				os.WriteFile(filepath.Join(dir, p), []byte(secret+"\n"), mode)
			}
			os.WriteFile(filepath.Join(dir, "keys", "leaked.pem"), []byte("-----BEGIN EC PRIVATE KEY-----\n"+secret+"\n-----END EC PRIVATE KEY-----\n"), 0o644)
			os.WriteFile(filepath.Join(dir, "keys", "fpr.txt"), []byte("fine\n"), 0o644)
			os.Symlink(".trustform/local_ca/example/ca.key", filepath.Join(dir, "state-link"))
			os.Symlink("keys", filepath.Join(dir, "keys-link"))
			os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(`local_ca "m" { common_name = file("`+tc.file+`") }
`+tc.extra), 0o644)
			_, diags := kinds.Load(dir, schema.Inputs{})
			if !diags.HasErrors() {
				t.Fatalf("file(%q) was read", tc.file)
			}
			if !strings.Contains(diags.Error(), "file(") {
				t.Errorf("the error is not file()'s: %v", diags)
			}
			t.Log(diags)
			if strings.Contains(diags.Error(), secret) {
				t.Errorf("the diagnostic quotes the secret: %v", diags)
			}
		})
	}
	t.Run("an ordinary file", func(t *testing.T) {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "keys"), 0o755)
		os.WriteFile(filepath.Join(dir, "keys", "name.txt"), []byte("Example CA"), 0o644)
		os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(`local_ca "m" { common_name = file("keys/name.txt") }`), 0o644)
		cfg, diags := kinds.Load(dir, schema.Inputs{})
		if diags.HasErrors() || cfg.Blocks(localca.Type)[0].(*localca.Block).CommonName != "Example CA" {
			t.Errorf("an ordinary file: %v", diags)
		}
	})
}

// TestEvaluationBounds: what a pull request's configuration asks of the
// runner's memory is refused with a diagnostic, quickly: setproduct of a
// few lists, range(1e9), a string doubled through a chain of locals, and
// an *.auto.vars file nested 200,000 levels deep (100,000 overflow the parser).
func TestEvaluationBounds(t *testing.T) {
	doubling := "locals {\n  s0 = \"xxxxxxxxxxxxxxxx\"\n"
	for i := 1; i <= 40; i++ {
		doubling += fmt.Sprintf("  s%d = \"${local.s%d}${local.s%d}\"\n", i, i-1, i-1)
	}
	doubling += "}\nlocal_ca \"ca\" { common_name = local.s40 }\n"
	for _, tc := range []struct{ name, src, auto, want string }{
		{"setproduct", `locals {
  l = [for i in range(100) : tostring(i)]
  p = setproduct(local.l, local.l, local.l, local.l)
}
local_ca "ca" { common_name = "${length(local.p)}" }`, "", "more than 100000 combinations"},
		{"range", `locals { r = range(1000000000) }`, "", "more than 100000 numbers"},
		{"doubling", doubling, "", "Value too large"},
		{"auto.vars nesting", `variable "v" { type = any }`, strings.Repeat("[", 200_000), "Nesting too deep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(tc.src), 0o644)
			if tc.auto != "" {
				os.WriteFile(filepath.Join(dir, "x.auto.vars"), []byte("v = "+tc.auto), 0o644)
			}
			_, diags := kinds.Load(dir, schema.Inputs{})
			if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.want) {
				t.Errorf("want an error saying %q, got %v", tc.want, diags)
			}
		})
	}
}
