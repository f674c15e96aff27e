package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var variablesConfig = fixture("variables.hcl.tmpl")

// -var beats TRUSTFORM_VAR_, for_each keys become instances, and a
// sensitive value appears nowhere: not in plans (text, JSON, Markdown, the
// saved file), not in apply's output, not in state.
func TestVariablesFromOutside(t *testing.T) {
	const secret = "s3cr3t-t0ken-4711"
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(variablesConfig), 0o644)
	os.WriteFile(filepath.Join(dir, "org.auto.vars"), []byte("org = \"FromAutoVars\"\n"), 0o644)
	env := []string{"TRUSTFORM_VAR_token=" + secret, "TRUSTFORM_VAR_cas=[\"env\"]"}
	var outputs []string
	run := func(want int, args ...string) result {
		r := tfEnv(t, dir, env, args...)
		mustCode(t, r, want, strings.Join(args, " "))
		outputs = append(outputs, r.stdout, r.stderr)
		return r
	}
	r := run(0, "plan", "-var", `cas=["mx1","mx2"]`)
	for _, want := range []string{`certificate.site["mx1"] will be created`, `certificate.site["mx2"] will be created`, `common_name = "(sensitive)"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, `site["env"]`) {
		t.Error("TRUSTFORM_VAR_cas won over -var")
	}
	run(0, "plan", "-json", "-var", `cas=["mx1","mx2"]`)
	run(0, "plan", "-markdown", "-var", `cas=["mx1","mx2"]`)
	run(0, "plan", "-var", `cas=["mx1","mx2"]`, "-out", "tf.plan")
	r = run(1, "apply", "-var", `cas=["mx1"]`, "tf.plan")
	if !strings.Contains(r.stderr, "var.cas is not the value the plan was made with") {
		t.Errorf("a plan applied with other values is not refused naming the variable:\n%s", r.stderr)
	}
	run(0, "apply", "-var", `cas=["mx1","mx2"]`, "tf.plan")
	run(0, "show")
	run(0, "plan", "-detailed-exitcode", "-var", `cas=["mx1","mx2"]`)
	r = run(2, "plan", "-detailed-exitcode", "-var", `cas=["mx1"]`)
	if !strings.Contains(r.stdout, `certificate.site["mx2"] will be destroyed`) || !strings.Contains(r.stdout, "0 to create, 0 to update, 0 to replace, 1 to delete") {
		t.Errorf("dropping a key does not plan that instance's deletion alone:\n%s", r.stdout)
	}
	run(0, "apply", "-auto-approve", "-var", `cas=["mx1"]`)
	if _, err := os.Stat(filepath.Join(dir, "certs/mx2.pem")); !os.IsNotExist(err) {
		t.Error("the dropped instance's certificate is still there")
	}
	if _, err := os.Stat(filepath.Join(dir, "certs/mx1.pem")); err != nil {
		t.Error("the kept instance's certificate is gone")
	}
	for i, o := range outputs {
		if strings.Contains(o, secret) {
			t.Errorf("output %d shows the sensitive value:\n%s", i, o)
		}
	}
	filepath.WalkDir(filepath.Join(dir, ".trustform"), func(p string, d fs.DirEntry, err error) error {
		if b, _ := os.ReadFile(p); err == nil && !d.IsDir() && strings.Contains(string(b), secret) {
			t.Errorf("%s holds the sensitive value", p)
		}
		return nil
	})
	if b, _ := os.ReadFile(filepath.Join(dir, "tf.plan")); strings.Contains(string(b), secret) || !strings.Contains(string(b), `"token": "(sensitive)"`) {
		t.Errorf("a plan made before any apply does not record the sensitive value as (sensitive) only:\n%s", b)
	}
	// Once state has its key, a saved plan records a keyed hash, never the
	// plain SHA-256 that could be guessed offline; another value is refused.
	run(0, "plan", "-var", `cas=["mx1"]`, "-out", "tf.plan")
	sum := sha256.Sum256([]byte(`{"value":"` + secret + `","type":"string"}`))
	if b, _ := os.ReadFile(filepath.Join(dir, "tf.plan")); strings.Contains(string(b), hex.EncodeToString(sum[:])) || !strings.Contains(string(b), `"token": "(sensitive) hmac-sha256:`) {
		t.Errorf("the saved plan does not record the sensitive value as a keyed hash:\n%s", b)
	}
	other := tfEnv(t, dir, []string{"TRUSTFORM_VAR_token=another", "TRUSTFORM_VAR_cas=[\"mx1\"]"}, "apply", "tf.plan")
	if other.code != 1 || !strings.Contains(other.stderr, "var.token is not the value the plan was made with") {
		t.Errorf("a plan applied with another sensitive value: exit %d\n%s", other.code, other.stderr)
	}
}

// fmt formats the language's new constructs as it does the rest.
func TestFmtVariablesAndForEach(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte("variable \"hosts\" {\ntype=set(string)\ndefault=[\"a\"]\n}\nlocals {\nzone=\"example.test\"\n}\nlocal_ca \"ca\" {\nfor_each=var.hosts\ncommon_name=\"${each.key}.${local.zone}\"\n}\n"), 0o644)
	mustCode(t, tf(t, dir, "fmt", "-check"), 3, "fmt -check of an unformatted file")
	mustCode(t, tf(t, dir, "fmt"), 0, "fmt")
	want := "variable \"hosts\" {\n  type    = set(string)\n  default = [\"a\"]\n}\nlocals {\n  zone = \"example.test\"\n}\nlocal_ca \"ca\" {\n  for_each    = var.hosts\n  common_name = \"${each.key}.${local.zone}\"\n}\n"
	if b, _ := os.ReadFile(filepath.Join(dir, "main.hcl")); string(b) != want {
		t.Errorf("fmt wrote:\n%s\nwant:\n%s", b, want)
	}
	mustCode(t, tf(t, dir, "validate"), 0, "validate after fmt")
}

// A signed plan keeps its variables' values, as Terraform's does: apply
// of it needs no -var again (a -var given again must be the same); an
// unsigned plan's values are not taken from the file, and a sensitive
// value never is.
func TestSavedPlanKeepsVariables(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(variablesConfig), 0o644)
	key := []string{"TRUSTFORM_PLAN_KEY=" + strings.Repeat("ab", 32), "TRUSTFORM_VAR_token=t0ken"}
	mustCode(t, tfEnv(t, dir, key, "plan", "-var", `cas=["mx1"]`, "-var", "org=Example", "-out", "signed.plan"), 0, "plan -out, signed")
	r := tfEnv(t, dir, key, "apply", "-var", `cas=["mx2"]`, "signed.plan")
	if r.code != 1 || !strings.Contains(r.stderr, "var.cas is not the value the plan was made with") {
		t.Errorf("a signed plan applied with another -var: exit %d\n%s", r.code, r.stderr)
	}
	mustCode(t, tfEnv(t, dir, key, "apply", "signed.plan"), 0, "apply of the signed plan without -var")
	if _, err := os.Stat(filepath.Join(dir, "certs/mx1.pem")); err != nil {
		t.Errorf("the plan's value of var.cas was not used: %v", err)
	}
	mustCode(t, tfEnv(t, dir, []string{"TRUSTFORM_VAR_token=t0ken"}, "plan", "-var", `cas=["mx1","mx3"]`, "-var", "org=Example", "-out", "unsigned.plan"), 0, "plan -out, unsigned")
	r = tfEnv(t, dir, []string{"TRUSTFORM_VAR_token=t0ken"}, "apply", "unsigned.plan")
	if r.code != 1 || !strings.Contains(r.stderr, "signed with this runner's plan key") {
		t.Errorf("an unsigned plan's values were taken from the file: exit %d\n%s", r.code, r.stderr)
	}
}
