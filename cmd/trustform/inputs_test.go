package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	legolog "github.com/go-acme/lego/v4/log"

	"github.com/trustform/trustform/internal/host"
)

// A key whose local url is missing is found by plan, at the attribute, not
// by apply's second step.
func TestMissingKeyFileFoundByPlan(t *testing.T) {
	dir := quickstart(t)
	b, _ := os.ReadFile(filepath.Join(dir, "main.hcl"))
	os.WriteFile(filepath.Join(dir, "main.hcl"), bytes.Replace(b, []byte("file:keys/example-archive.asc"), []byte("file:keys/typo.asc"), 1), 0o644)
	r := tf(t, dir, "plan")
	mustCode(t, r, 1, "plan with a missing key file")
	if !strings.Contains(r.stderr, "The key's source is missing") || !strings.Contains(r.stderr, "keys/typo.asc") || !strings.Contains(r.stderr, "url") {
		t.Errorf("the plan does not name the missing file at url:\n%s", r.stderr)
	}
}

// A missing TSIG secret is one error, at the tsig block, not a second one
// saying that no zone holds the dns-01 certificate's name.
func TestMissingTSIGSecretIsOneError(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(`acme_account "ca" {
  directory               = "https://127.0.0.1:1/dir"
  terms_of_service_agreed = true
}

dns_zone "example" {
  name   = "example.test"
  server = "127.0.0.1:53"
  tsig {
    name        = "trustform-key"
    secret_file = "missing.secret"
  }
}

certificate "www" {
  domains   = ["www.example.test"]
  issuer    = acme_account.ca
  challenge = "dns-01"
  cert_file = "certs/www.pem"
  key_file  = "certs/www.key"
}
`), 0o644)
	r := tf(t, dir, "plan")
	mustCode(t, r, 1, "plan with a missing TSIG secret")
	if strings.Count(r.stderr, "Error:") != 1 || !strings.Contains(r.stderr, "Cannot read the TSIG secret") || strings.Contains(r.stderr, "No zone for dns-01") {
		t.Errorf("want one error, the TSIG secret's:\n%s", r.stderr)
	}
}

// fmt as Terraform users run it: -recursive into subdirectories (not into
// .trustform), *.auto.vars formatted too, and - from stdin to stdout.
func TestFmtRecursiveAndStdin(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "modules", "web"), 0o755)
	os.MkdirAll(filepath.Join(dir, ".trustform"), 0o700)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte("local_ca \"ca\" {}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "org.auto.vars"), []byte("org   =  \"x\"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "modules", "web", "web.hcl"), []byte("local_ca \"web\" {\ncommon_name=\"x\"\n}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, ".trustform", "junk.hcl"), []byte("a=1\n"), 0o644)
	r := tf(t, dir, "fmt", "-check", "-recursive")
	mustCode(t, r, 3, "fmt -check -recursive")
	if r.stdout != "org.auto.vars\nmodules/web/web.hcl\n" {
		t.Errorf("fmt -check -recursive lists:\n%s", r.stdout)
	}
	mustCode(t, tf(t, dir, "fmt", "-recursive"), 0, "fmt -recursive")
	mustCode(t, tf(t, dir, "fmt", "-check", "-recursive"), 0, "fmt -check -recursive after fmt")
	cmd := exec.Command(binary, "fmt", "-")
	cmd.Stdin = strings.NewReader("a=1\nbb   = 2\n")
	if out, err := cmd.Output(); err != nil || string(out) != "a  = 1\nbb = 2\n" {
		t.Errorf("fmt - : %v %q", err, out)
	}
}

// What the libraries log (lego's lines) is off unless TRUSTFORM_LOG asks
// for it, and goes to TRUSTFORM_LOG_PATH when that is set.
func TestLogLevels(t *testing.T) {
	saved, savedStd, savedSlog := legolog.Logger, log.Writer(), slog.Default()
	defer func() { legolog.Logger = saved; slog.SetDefault(savedSlog); log.SetOutput(savedStd) }()
	for _, tc := range []struct {
		level, path string
		stderr      string
	}{
		{"", "", ""},
		{"INFO", "", "[INFO] acme: Obtaining\n[WARN] acme: slow\n"},
		{"warn", "", "[WARN] acme: slow\n"},
		{"DEBUG", "trustform.log", ""},
	} {
		var stderr bytes.Buffer
		env := map[string]string{"TRUSTFORM_LOG": tc.level}
		if tc.path != "" {
			env["TRUSTFORM_LOG_PATH"] = filepath.Join(t.TempDir(), tc.path)
		}
		closeLog, _, err := setupLog(func(k string) string { return env[k] }, &stderr)
		if err != nil {
			t.Fatal(err)
		}
		legolog.Infof("acme: Obtaining")
		legolog.Warnf("acme: slow")
		closeLog()
		got := regexp.MustCompile(`(?m)^[0-9/: ]+`).ReplaceAllString(stderr.String(), "") // the time stamps
		if got != tc.stderr {
			t.Errorf("TRUSTFORM_LOG=%q: stderr %q, want %q", tc.level, got, tc.stderr)
		}
		if tc.path != "" {
			if b, _ := os.ReadFile(env["TRUSTFORM_LOG_PATH"]); !strings.Contains(string(b), "[INFO] acme: Obtaining") {
				t.Errorf("TRUSTFORM_LOG_PATH holds %q", b)
			}
		}
	}
	if _, _, err := setupLog(func(k string) string { return map[string]string{"TRUSTFORM_LOG": "LOUD"}[k] }, io.Discard); err == nil {
		t.Error("an unknown level is accepted")
	}
}

// validate needs no value for a required variable, as Terraform's: the
// configuration is checked for any value (a for_each over it, a reference
// to one of its instances), and a mistake elsewhere is still found. plan
// needs the values.
func TestValidateNeedsNoVariableValues(t *testing.T) {
	dir := t.TempDir()
	cfg := fixture("variables.hcl.tmpl") + `
dns_zone "z" {
  name      = "example.test"
  zone_file = "z.zone"
}
tlsa "a" {
  zone        = dns_zone.z
  port        = 443
  hostname    = "a.example.test"
  certificate = certificate.site["a"]
}
`
	cfg = strings.Replace(cfg, `default = ["a"]`, "", 1)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
	os.WriteFile(filepath.Join(dir, "z.zone"), nil, 0o644)
	if code, out, errOut := runIn(false, nil, "-chdir="+dir, "validate"); code != 0 || !strings.Contains(out, "The configuration is valid.") {
		t.Errorf("validate without values: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := runIn(false, nil, "-chdir="+dir, "plan"); code != 1 || strings.Count(errOut, "No value for required variable") != 2 {
		t.Errorf("plan without values: exit %d\n%s", code, errOut)
	}
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(strings.Replace(cfg, "local_ca.ca", "local_ca.typo", 1)), 0o644)
	if code, _, errOut := runIn(false, nil, "-chdir="+dir, "validate"); code != 1 || !strings.Contains(errOut, "Reference to undeclared local_ca") {
		t.Errorf("a mistake beside variables without values: exit %d\n%s", code, errOut)
	}
}

// On a terminal, plan asks for each required variable without a value,
// as Terraform does, and goes on with the answers; with -input=false, or
// when stdin is no terminal, it asks nothing and says how to give them.
func TestPromptForMissingVariables(t *testing.T) {
	dir := t.TempDir()
	cfg := strings.Replace(fixture("variables.hcl.tmpl"), "variable \"token\" {", "variable \"token\" {\n  description = \"The CA's token.\"", 1)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
	plan := func(inTTY bool, answers string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		e := env{stdin: strings.NewReader(answers), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }, inTTY: inTTY}
		code := run(append([]string{"-chdir=" + dir, "plan"}, args...), e)
		return code, out.String(), errb.String()
	}
	code, out, errOut := plan(true, "s3cret-answer\n")
	if code != 0 || !strings.Contains(errOut, "var.token\n  The CA's token.\n\n  Enter a value: ") || !strings.Contains(out, `certificate.site["a"] will be created`) {
		t.Errorf("plan on a terminal: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if strings.Contains(out, "s3cret-answer") {
		t.Error("the sensitive answer is in the plan")
	}
	for _, tc := range []struct {
		inTTY bool
		args  []string
	}{{true, []string{"-input=false"}}, {false, nil}} {
		code, _, errOut := plan(tc.inTTY, "s3cret-answer\n", tc.args...)
		if code != 1 || strings.Contains(errOut, "Enter a value") || !strings.Contains(errOut, "No value for required variable") {
			t.Errorf("plan %v (stdin a terminal: %v): exit %d\n%s", tc.args, tc.inTTY, code, errOut)
		}
	}
}

// The log goes through the redactor of the rest of the output: a command
// that holds a sensitive value is logged with it hidden, on stderr and in
// TRUSTFORM_LOG_PATH.
func TestLogIsRedacted(t *testing.T) {
	saved, savedStd, savedSlog := legolog.Logger, log.Writer(), slog.Default()
	defer func() { legolog.Logger = saved; slog.SetDefault(savedSlog); log.SetOutput(savedStd) }()
	const secret = "s3cr3t-t0ken-4711"
	path := filepath.Join(t.TempDir(), "trustform.log")
	for _, env := range []map[string]string{{"TRUSTFORM_LOG": "INFO"}, {"TRUSTFORM_LOG": "DEBUG", "TRUSTFORM_LOG_PATH": path}} {
		var stderr bytes.Buffer
		errR := &redactor{w: &stderr}
		closeLog, file, err := setupLog(func(k string) string { return env[k] }, errR)
		if err != nil {
			t.Fatal(err)
		}
		errR.secrets = []string{secret}
		if file != nil {
			file.secrets = []string{secret}
		}
		if _, err := (host.Local{}).Run(context.Background(), "true "+secret); err != nil {
			t.Fatal(err)
		}
		closeLog()
		logged := stderr.String()
		if file != nil {
			b, _ := os.ReadFile(path)
			logged = string(b)
		}
		if !strings.Contains(logged, `level=INFO msg="local: run" command="true (sensitive)"`) || strings.Contains(logged, secret) {
			t.Errorf("TRUSTFORM_LOG=%s logged %q", env["TRUSTFORM_LOG"], logged)
		}
	}
}
