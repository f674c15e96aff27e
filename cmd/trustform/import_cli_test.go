package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportRefuses: import never overwrites a file, names the sources it
// knows, and leaves nothing behind when what it found is not a valid
// configuration with the rest (here: a site whose certificate no block
// declares is left out, with the reason, and nothing is written).
func TestImportRefuses(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "taken.hcl"), []byte("# mine\n"), 0o644)
	r := tf(t, dir, "import", "certbot", dir, "-out=taken.hcl")
	mustCode(t, r, 1, "import into an existing file")
	if b, _ := os.ReadFile(filepath.Join(dir, "taken.hcl")); string(b) != "# mine\n" || !strings.Contains(r.stderr, "exists already") {
		t.Errorf("import touched an existing file, or did not say why it stopped: %q\n%s", b, r.stderr)
	}
	r = tf(t, dir, "import", "certbto", "-out=x.hcl")
	mustCode(t, r, 1, "an unknown source")
	if !strings.Contains(r.stderr, `unknown source "certbto"`) || !strings.Contains(r.stderr, "certbot, nginx") {
		t.Errorf("an unknown source is not named with the known ones:\n%s", r.stderr)
	}
	os.Remove(filepath.Join(dir, "taken.hcl"))
	sites := filepath.Join(dir, "sites")
	os.MkdirAll(sites, 0o755)
	os.WriteFile(filepath.Join(sites, "www.conf"), []byte("server {\n listen 443 ssl;\n server_name www.example.test;\n ssl_certificate /etc/ssl/www.pem;\n ssl_certificate_key /etc/ssl/www.key;\n}\n"), 0o644)
	os.WriteFile(filepath.Join(sites, "two.conf"), []byte("server { listen 80; server_name a.test; }\nserver { listen 80; server_name b.test; }\n"), 0o644)
	planted := filepath.Join(sites, "planted.conf")
	os.WriteFile(planted, []byte("server { listen 80; server_name planted.test; location / { return 301 https://evil.test/; } }\n"), 0o644)
	if err := os.Chown(planted, 65534, 65534); err != nil {
		t.Fatalf("giving a file to another user (the tests run as root): %v", err)
	}
	r = tf(t, dir, "import", "nginx", sites, "-out=nginx.hcl")
	mustCode(t, r, 1, "import of sites whose certificate is not declared")
	for _, want := range []string{"which no certificate block declares", "declares 2 sites: left out", "found nothing to import", planted + ": left out: " + planted + " belongs to uid 65534"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("import does not say %q:\n%s", want, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "nginx.hcl")); err == nil {
		t.Error("import wrote a file though it found nothing")
	}
}

// TestImportedSiteStaysAsWritten: a hand-written site an import adopted
// is left as written while it says what its block says; a block changed
// since, or a file edited since, makes it an adoption again (replaced,
// with the backup and the reason).
func TestImportedSiteStaysAsWritten(t *testing.T) {
	dir := t.TempDir()
	sites := filepath.Join(dir, "sites")
	os.MkdirAll(sites, 0o755)
	site := filepath.Join(sites, "www-http.conf")
	hand := "# by hand\nserver {\n    listen 127.0.0.1:8080;\n    server_name www.example.test;\n    location ^~ /.well-known/acme-challenge/ { root /srv/acme; }\n    location / { return 301 https://$host$request_uri; }\n    access_log /var/log/nginx/www.log;\n}\n"
	os.WriteFile(site, []byte(hand), 0o644)
	mustCode(t, tf(t, dir, "import", "nginx", sites, "-out=nginx.hcl", "-test-command=true", "-reload-command=true"), 0, "import nginx")
	b, _ := os.ReadFile(filepath.Join(dir, "nginx.hcl"))
	b = []byte(strings.Replace(string(b), `reload_command = "true"`, `reload_command = ""`, 1)) // no server to ask
	os.WriteFile(filepath.Join(dir, "nginx.hcl"), b, 0o644)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply (the state repaired: the import had probed the server)")
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "the plan after the import")
	if got, _ := os.ReadFile(site); string(got) != hand {
		t.Fatalf("the hand-written site was rewritten:\n%s", got)
	}

	os.WriteFile(filepath.Join(dir, "nginx.hcl"), []byte(strings.Replace(string(b), `"/srv/acme"`, `"/srv/other"`, 1)), 0o644)
	r := tf(t, dir, "plan", "-detailed-exitcode")
	mustCode(t, r, 2, "the plan after the block changed")
	for _, want := range []string{"adopt and replace", "does not say what the block does (acme_webroot)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the plan does not say %q:\n%s", want, r.stdout)
		}
	}
	os.WriteFile(filepath.Join(dir, "nginx.hcl"), b, 0o644)
	os.WriteFile(site, []byte(strings.Replace(hand, "www.log", "other.log", 1)), 0o644)
	r = tf(t, dir, "plan", "-detailed-exitcode")
	mustCode(t, r, 2, "the plan after the file was edited")
	if !strings.Contains(r.stdout, "adopt and replace") {
		t.Errorf("a file edited since the import is not an adoption again:\n%s", r.stdout)
	}
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	if b, _ := os.ReadFile(site + ".trustform-backup"); !strings.Contains(string(b), "other.log") {
		t.Errorf("no backup of the hand-written file: %q", b)
	}
}
