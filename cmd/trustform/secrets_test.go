package main

import (
	"crypto"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/go-acme/lego/v4/certcrypto"
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

// TestPathsAndLinks: links planted in the managed tree or at the plan file
// are refused; nothing lands where they point.
func TestPathsAndLinks(t *testing.T) {
	t.Run("symlinked out/etc/ssl", func(t *testing.T) {
		dir, elsewhere := quickstart(t), t.TempDir()
		os.MkdirAll(filepath.Join(dir, "out", "etc"), 0o755)
		os.Symlink(elsewhere, filepath.Join(dir, "out", "etc", "ssl"))
		r := tf(t, dir, "apply", "-auto-approve")
		mustCode(t, r, 1, "apply through a linked directory")
		if !strings.Contains(r.stderr, "out/etc/ssl is a symbolic link") {
			t.Errorf("the error does not name the link:\n%s", r.stderr)
		}
		if ents, _ := os.ReadDir(elsewhere); len(ents) > 0 {
			t.Errorf("keys landed where the link points: %v", ents)
		}
	})
	t.Run("plan -out at a link", func(t *testing.T) {
		dir := quickstart(t)
		victim := filepath.Join(t.TempDir(), "victim")
		os.WriteFile(victim, []byte("precious\n"), 0o644)
		link := filepath.Join(dir, "p.tfplan")
		os.Symlink(victim, link)
		mustCode(t, tf(t, dir, "plan", "-out="+link), 1, "plan -out through a link")
		if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
			t.Errorf("the link's target was overwritten: %q", b)
		}
	})
}

// TestDriftBlindSpots: a private key whose mode was loosened is drift, and
// apply sets it back to 0600.
func TestDriftBlindSpots(t *testing.T) {
	dir := quickstart(t)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "first apply")
	key := filepath.Join(dir, "out", "etc", "ssl", "example", "www.key.pem")
	caKey := filepath.Join(dir, ".trustform", "local_ca", "example", "ca.key")
	os.Chmod(key, 0o644)
	os.Chmod(caKey, 0o666)
	r := tf(t, dir, "plan", "-detailed-exitcode")
	mustCode(t, r, 2, "plan after chmod")
	for _, want := range []string{"www.key.pem has mode 0644", "the CA key has mode 0666", "protect"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the plan does not say %q:\n%s", want, r.stdout)
		}
	}
	before, _ := os.ReadFile(key)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "repair")
	for _, p := range []string{key, caKey} {
		if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %04o after apply", p, st.Mode().Perm())
		}
	}
	if after, _ := os.ReadFile(key); string(after) != string(before) {
		t.Error("repairing the mode changed the key")
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after the repair")

	if err := os.Chown(key, 65534, 65534); err != nil {
		t.Skipf("the owner case needs root: %v", err)
	}
	r = tf(t, dir, "plan", "-detailed-exitcode")
	mustCode(t, r, 2, "plan after chown")
	if !strings.Contains(r.stdout, "belongs to uid 65534") {
		t.Errorf("the plan does not name the owner:\n%s", r.stdout)
	}
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "repair the owner")
	if st, _ := os.Stat(key); st.Sys().(*syscall.Stat_t).Uid != uint32(os.Geteuid()) {
		t.Errorf("the key still belongs to uid %d", st.Sys().(*syscall.Stat_t).Uid)
	}
}

// TestAnotherUsersKeyAdopted: a key found at key_file before the first
// issue is adopted only when no other user can have put it there.
func TestAnotherUsersKeyAdopted(t *testing.T) {
	k, err := certcrypto.GeneratePrivateKey(certcrypto.EC256)
	if err != nil {
		t.Fatal(err)
	}
	planted := certcrypto.PEMEncode(k)
	for _, tc := range []struct {
		name    string
		dirMode os.FileMode
		chown   bool
		adopted bool
		want    string
	}{
		{"world-writable directory", 0o777, false, false, "writable by other users"},
		{"another user's file", 0o755, true, false, "not to this user"},
		{"own key in own directory", 0o700, false, true, "adopting the existing key at /etc/ssl/example/www.key.pem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := quickstart(t)
			keyDir := filepath.Join(dir, "out", "etc", "ssl", "example")
			os.MkdirAll(keyDir, 0o755)
			os.Chmod(keyDir, tc.dirMode)
			key := filepath.Join(keyDir, "www.key.pem")
			if err := os.WriteFile(key, planted, 0o600); err != nil {
				t.Fatal(err)
			}
			if tc.chown {
				if err := os.Chown(key, 65534, 65534); err != nil {
					t.Skipf("chown needs root: %v", err)
				}
			}
			r := tf(t, dir, "plan")
			mustCode(t, r, 0, "plan")
			if !strings.Contains(r.stdout, tc.want) {
				t.Errorf("the plan does not say %q:\n%s", tc.want, r.stdout)
			}
			mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
			der, _ := x509.MarshalPKIXPublicKey(k.(crypto.Signer).Public())
			adopted := keyFileSPKI(t, key) == spkiHex(der)
			if adopted != tc.adopted {
				t.Errorf("adopted = %t, want %t", adopted, tc.adopted)
			}
		})
	}
}

// TestInterruptedStepsRedone: trustform killed during a vhost's
// test_command leaves an untested file behind; the next plan says so and
// the next apply tests it (and would reload it) again.
func TestInterruptedStepsRedone(t *testing.T) {
	dir := quickstart(t)
	armed, tested := filepath.Join(dir, "armed"), filepath.Join(dir, "tested.log")
	os.WriteFile(armed, nil, 0o644)
	cfg := filepath.Join(dir, "main.hcl")
	b, _ := os.ReadFile(cfg)
	// The first run of the https vhost's test kills trustform, as kill -9 would.
	test := `if [ -e ` + armed + ` ]; then rm ` + armed + `; kill -9 $PPID; sleep 5; fi; echo tested >> ` + tested
	os.WriteFile(cfg, []byte(strings.Replace(string(b), `test_command   = "" # no nginx runs in the quickstart`, `test_command   = "`+strings.ReplaceAll(test, `"`, `\"`)+`"`, 1)), 0o644)
	r := tf(t, dir, "apply", "-auto-approve")
	if r.code == 0 {
		t.Fatalf("apply survived its own kill:\n%s", r.stderr)
	}
	p := tf(t, dir, "plan", "-detailed-exitcode")
	mustCode(t, p, 2, "plan after the kill")
	if !strings.Contains(p.stdout, "write step did not finish") {
		t.Errorf("the plan does not say the vhost's step is redone:\n%s", p.stdout)
	}
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply after the kill")
	if log, _ := os.ReadFile(tested); string(log) != "tested\n" {
		t.Errorf("the untested file was not tested by the next apply: %q", log)
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after the redo")
}
