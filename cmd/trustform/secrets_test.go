package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretsPrinted: nothing trustform did not write reaches a plan, and no
// configuration file is read through a link to a secret.
func TestSecretsPrinted(t *testing.T) {
	const secret = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg"
	t.Run("config_file names a key", func(t *testing.T) {
		dir := quickstart(t)
		key := filepath.Join(dir, "out", "etc", "ssl", "private", "other.key")
		os.MkdirAll(filepath.Dir(key), 0o700)
		os.WriteFile(key, []byte("-----BEGIN PRIVATE KEY-----\n"+secret+"\n-----END PRIVATE KEY-----\n"), 0o600)
		cfg := filepath.Join(dir, "main.hcl")
		b, _ := os.ReadFile(cfg)
		os.WriteFile(cfg, []byte(strings.Replace(string(b), "/etc/nginx/sites-enabled/example-https.conf", "/etc/ssl/private/other.key", 1)), 0o644)
		for _, args := range [][]string{{"plan"}, {"plan", "-markdown"}, {"plan", "-json"}} {
			r := tf(t, dir, args...)
			mustCode(t, r, 0, strings.Join(args, " "))
			if strings.Contains(r.stdout+r.stderr, secret) {
				t.Errorf("%v prints the key:\n%s", args, r.stdout)
			}
			if !strings.Contains(r.stdout, "a file trustform did not write") {
				t.Errorf("%v does not say the file is not trustform's:\n%s", args, r.stdout)
			}
		}
	})
	t.Run("a .hcl link to the TSIG secret", func(t *testing.T) {
		dir := quickstart(t)
		os.WriteFile(filepath.Join(dir, "tsig.secret"), []byte(secret+"\n"), 0o600)
		if err := os.Symlink("tsig.secret", filepath.Join(dir, "leak.hcl")); err != nil {
			t.Fatal(err)
		}
		r := tf(t, dir, "validate")
		mustCode(t, r, 1, "validate with a linked secret")
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("the diagnostic prints the secret:\n%s", r.stderr)
		}
		if !strings.Contains(r.stderr, "leak.hcl is a symbolic link") {
			t.Errorf("the error does not name the link:\n%s", r.stderr)
		}
	})
	t.Run("a zone_file that is a password file", func(t *testing.T) {
		dir := quickstart(t)
		os.WriteFile(filepath.Join(dir, "example.test.zone"), []byte("root:$6$"+secret+":19000:0:99999:7:::\n"), 0o644)
		r := tf(t, dir, "plan")
		mustCode(t, r, 1, "plan on a password file")
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("the error quotes the file:\n%s", r.stderr)
		}
	})
}
