package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/internal/labutil"
	"github.com/trustform/trustform/providers/acme/pebbletest"
	"github.com/trustform/trustform/providers/apt/apttest"
	"github.com/trustform/trustform/providers/dns/dnstest"
	"github.com/trustform/trustform/providers/service/mailtest"
	"github.com/trustform/trustform/providers/webserver/nginxtest"
)

// TestImportFromCertbot is a migration as an administrator does it.
// Debian's certbot issues two certificates from Pebble, one by webroot
// through nginx and one by dns-rfc2136 through BIND; nginx and Postfix
// are configured by hand to use them, and a TLSA 3 1 1 record is added
// with nsupdate. Then trustform import certbot, nginx, postfix and zone:
// the generated HCL is formatted and valid and holds references and no
// secret, the first plan has nothing to do, apply sends nothing to
// Pebble, and nginx and Postfix serve what they served. A renewal with a
// new key through trustform then goes through tlsa-before-cert while
// OpenSSL's DANE verifier checks the MX against what BIND serves: no
// moment without a matching record.
func TestImportFromCertbot(t *testing.T) {
	certbot := labutil.Binary(t, "certbot", "/usr/bin/certbot")
	labutil.Binary(t, "nsupdate", "/usr/bin/nsupdate")
	if _, err := os.Stat("/usr/lib/python3/dist-packages/certbot_dns_rfc2136"); err != nil && os.Getenv("CI") == "true" {
		t.Fatal("certbot's dns-rfc2136 plugin (python3-certbot-dns-rfc2136) is not installed")
	} else if err != nil {
		t.Skip("certbot's dns-rfc2136 plugin (python3-certbot-dns-rfc2136) is not installed")
	}
	zone := dnstest.Start(t, "example.test", "www IN A 127.0.0.1", "mail IN A 127.0.0.1")
	web := nginxtest.Start(t)
	_, httpPort, _ := strings.Cut(web.HTTP, ":")
	var port int
	fmt.Sscan(httpPort, &port)
	pebble := pebbletest.Start(t, pebbletest.Options{HTTPPort: port, DNSServer: zone.Primary.Addr})
	dir := t.TempDir()
	le := filepath.Join(dir, "letsencrypt") // certbot's --config-dir
	webroot := filepath.Join(dir, "acme")
	os.MkdirAll(webroot, 0o755)

	// The HTTP site, by hand: the challenge from the webroot, the rest redirected.
	writeSite := func(name, body string) {
		t.Helper()
		os.WriteFile(filepath.Join(web.Sites, name), []byte(body), 0o644)
		if out, err := exec.Command("sh", "-c", web.TestCommand+" && "+web.ReloadCommand).CombinedOutput(); err != nil {
			t.Fatalf("nginx: %v\n%s", err, out)
		}
	}
	writeSite("www-http.conf", fmt.Sprintf(`# by hand, after a blog post
server {
    listen %s;
    server_name www.example.test;

    location ^~ /.well-known/acme-challenge/ {
        root %s;
    }
    location / {
        return 301 https://$host$request_uri;
    }
}
`, web.HTTP, webroot))
	runCertbot := func(args ...string) {
		t.Helper()
		cmd := exec.Command(certbot, append([]string{"certonly", "--non-interactive", "--agree-tos", "-m", "hostmaster@example.test",
			"--server", pebble.Directory, "--config-dir", le, "--work-dir", filepath.Join(dir, "work"), "--logs-dir", filepath.Join(dir, "logs"),
			"--key-type", "ecdsa"}, args...)...)
		cmd.Env = append(os.Environ(), "REQUESTS_CA_BUNDLE="+pebble.RootsFile)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("certbot %v: %v\n%s", args, err, out)
		}
	}
	runCertbot("--webroot", "-w", webroot, "-d", "www.example.test", "--cert-name", "www.example.test")
	creds := filepath.Join(dir, "rfc2136.ini")
	os.WriteFile(creds, []byte(fmt.Sprintf("dns_rfc2136_server = 127.0.0.1\ndns_rfc2136_port = %s\ndns_rfc2136_name = %s\ndns_rfc2136_secret = %s\ndns_rfc2136_algorithm = HMAC-SHA256\n",
		strings.Split(zone.Primary.Addr, ":")[1], dnstest.KeyName, zone.Secret)), 0o600)
	runCertbot("--dns-rfc2136", "--dns-rfc2136-credentials", creds, "--dns-rfc2136-propagation-seconds", "1", "-d", "mail.example.test", "--cert-name", "mail.example.test")

	live := func(name, file string) string { return filepath.Join(le, "live", name, file) }
	writeSite("www-ssl.conf", fmt.Sprintf(`server {
    listen %s ssl;
    server_name www.example.test;
    ssl_certificate     %s;
    ssl_certificate_key %s;
    ssl_protocols TLSv1.2 TLSv1.3;
    root %s;
}
`, web.HTTPS, live("www.example.test", "fullchain.pem"), live("www.example.test", "privkey.pem"), webroot))
	mail := mailtest.StartPostfix(t, live("mail.example.test", "fullchain.pem"), live("mail.example.test", "privkey.pem"))
	_, smtpPort, _ := strings.Cut(mail.SMTP, ":")
	owner := "_" + smtpPort + "._tcp.mail.example.test."
	spki := spkiOfFile(t, live("mail.example.test", "fullchain.pem"))
	nsupdate := exec.Command("nsupdate", "-y", "hmac-sha256:"+dnstest.KeyName+":"+zone.Secret)
	nsupdate.Stdin = strings.NewReader(fmt.Sprintf("server %s %s\nzone example.test\nupdate add %s 2 IN TLSA 3 1 1 %s\nsend\n",
		strings.Split(zone.Primary.Addr, ":")[0], strings.Split(zone.Primary.Addr, ":")[1], owner, spki))
	if out, err := nsupdate.CombinedOutput(); err != nil {
		t.Fatalf("nsupdate: %v\n%s", err, out)
	}
	servedWWW, servedMail := httpsLeaf(t, web.HTTPS), smtpLeaf(t, mail.SMTP)
	orders := func() int { return strings.Count(pebble.Log(t), "Added order") }
	ordered := orders()

	// The migration.
	cfg := filepath.Join(dir, "trustform")
	os.MkdirAll(cfg, 0o755)
	r := tf(t, cfg, "import", "certbot", le, "-out=certbot.hcl", "-ca-roots="+pebble.RootsFile)
	mustCode(t, r, 0, "import certbot")
	if !strings.Contains(r.stdout, "autorenew = False") {
		t.Errorf("import certbot does not say how to stop certbot's renewals:\n%s", r.stdout)
	}
	mustCode(t, tf(t, cfg, "import", "nginx", web.Sites, "-out=nginx.hcl", "-test-command="+web.TestCommand, "-reload-command="+web.ReloadCommand), 0, "import nginx")
	mustCode(t, tf(t, cfg, "import", "postfix", filepath.Join(mail.Dir, "conf"), "-out=postfix.hcl", "-test-command="+mail.TestCommand, "-reload-command="+mail.ReloadCommand), 0, "import postfix")
	mustCode(t, tf(t, cfg, "import", "zone", "dns_zone.example_test", "-out=zone.hcl"), 0, "import zone")

	var generated strings.Builder
	for _, f := range []string{"certbot.hcl", "nginx.hcl", "postfix.hcl", "zone.hcl"} {
		b, _ := os.ReadFile(filepath.Join(cfg, f))
		fmt.Fprintf(&generated, "# %s\n%s\n", f, b)
	}
	hcl := generated.String()
	t.Logf("generated:\n%s", hcl)
	for _, want := range []string{"issuer                  = acme_account.certbot", "certificate = certificate.www_example_test", "certificate    = certificate.mail_example_test",
		"zone        = dns_zone.example_test", `challenge               = "dns-01"`, `acme_webroot = "` + webroot + `"`, "tls_policy   = tls_policy.www_ssl"} {
		if !strings.Contains(strings.Join(strings.Fields(hcl), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("the generated HCL lacks %q", want)
		}
	}
	if strings.Contains(hcl, zone.Secret) || strings.Contains(hcl, "PRIVATE KEY") {
		t.Error("the generated HCL holds a secret")
	}
	mustCode(t, tf(t, cfg, "fmt", "-check"), 0, "fmt -check of the generated HCL")
	mustCode(t, tf(t, cfg, "validate"), 0, "validate")
	r = tf(t, cfg, "plan", "-detailed-exitcode")
	mustCode(t, r, 0, "the first plan after the import")
	if !strings.Contains(r.stderr+r.stdout, "certbot still renews") {
		t.Errorf("the plan does not warn that certbot still renews:\n%s\n%s", r.stdout, r.stderr)
	}
	mustCode(t, tf(t, cfg, "apply", "-auto-approve"), 0, "apply after the import")
	if n := orders(); n != ordered {
		t.Errorf("the apply after the import sent %d orders to Pebble", n-ordered)
	}
	if httpsLeaf(t, web.HTTPS) != servedWWW || smtpLeaf(t, mail.SMTP) != servedMail {
		t.Error("nginx or Postfix serves another certificate after the import's apply")
	}
	if b, _ := os.ReadFile(filepath.Join(web.Sites, "www-http.conf")); !strings.Contains(string(b), "after a blog post") {
		t.Error("the hand-written site was rewritten")
	}

	// A renewal through trustform, with a new key (certbot's reuse_key =
	// False): the record first, then the certificate.
	dane := func() error {
		var recs []string
		for _, rr := range zone.Primary.Query(t, owner, mdns.TypeTLSA).Answer {
			if r, ok := rr.(*mdns.TLSA); ok {
				recs = append(recs, fmt.Sprintf("%d %d %d %s", r.Usage, r.Selector, r.MatchingType, r.Certificate))
			}
		}
		return opensslDANE(mail.SMTP, "smtp", recs)
	}
	if err := dane(); err != nil {
		t.Fatalf("DANE does not verify the MX before the renewal: %v", err)
	}
	stop := watch(100*time.Millisecond, func() (int, []string) {
		if err := dane(); err != nil {
			return 1, []string{time.Now().Format("05.000") + " " + err.Error()}
		}
		return 1, nil
	})
	r = tf(t, cfg, "apply", "-auto-approve", "-wait", "-replace=certificate.mail_example_test")
	checks, violations := stop()
	mustCode(t, r, 0, "the renewal through trustform")
	t.Logf("%d DANE checks during the renewal, %d violations", checks, len(violations))
	if len(violations) > 0 {
		t.Errorf("a validating sender could not verify the MX during the renewal:\n%s", strings.Join(violations, "\n"))
	}
	if !strings.Contains(r.stdout+r.stderr, "tlsa-before-cert") {
		t.Errorf("the renewal did not go through tlsa-before-cert:\n%s", r.stdout)
	}
	if smtpLeaf(t, mail.SMTP) == servedMail {
		t.Error("Postfix serves the certbot certificate after the renewal")
	}
	if st, err := os.Lstat(live("mail.example.test", "privkey.pem")); err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
		t.Errorf("the key in certbot's live directory is not trustform's 0600 file now: %v %v", st, err)
	}
	mustCode(t, tf(t, cfg, "plan", "-detailed-exitcode"), 0, "the plan after the renewal")

	// The same server taken over the Terraform way: import blocks, and
	// plan -generate-config-out for their blocks (the account declared by
	// hand, with the test CA's roots).
	ordered = orders()
	tfDir := filepath.Join(dir, "terraform-way")
	os.MkdirAll(tfDir, 0o755)
	os.WriteFile(filepath.Join(tfDir, "main.hcl"), []byte(fmt.Sprintf(`acme_account "certbot" {
  directory               = %q
  key_file                = %q
  ca_roots                = [%q]
  terms_of_service_agreed = true
}

import {
  to = certificate.www
  id = %q
}

import {
  to = vhost.www
  id = %q
}
`, pebble.Directory, accountKey(t, le), pebble.RootsFile, filepath.Join(le, "live", "www.example.test"), filepath.Join(web.Sites, "www-ssl.conf"))), 0o644)
	r = tf(t, tfDir, "plan", "-detailed-exitcode")
	mustCode(t, r, 1, "a plan of import blocks whose targets have no block")
	if !strings.Contains(r.stderr, "Configuration for import target does not exist") {
		t.Errorf("the missing blocks are not named:\n%s", r.stderr)
	}
	r = tf(t, tfDir, "plan", "-detailed-exitcode", "-generate-config-out=generated.hcl")
	mustCode(t, r, 2, "plan -generate-config-out")
	if !strings.Contains(r.stdout, "Plan: 2 to import, 0 to create, 0 to update, 0 to replace, 0 to delete.") {
		t.Errorf("the plan does not import the two and change nothing:\n%s", r.stdout)
	}
	gen, _ := os.ReadFile(filepath.Join(tfDir, "generated.hcl"))
	t.Logf("generated.hcl:\n%s", gen)
	if flat := strings.Join(strings.Fields(string(gen)), " "); !strings.Contains(flat, `certificate "www"`) || !strings.Contains(flat, "certificate = certificate.www") {
		t.Errorf("generated.hcl does not declare the targets, tied together:\n%s", gen)
	}
	mustCode(t, tf(t, tfDir, "fmt", "-check"), 0, "fmt -check of generated.hcl")
	mustCode(t, tf(t, tfDir, "apply", "-auto-approve"), 0, "apply of the imports")
	if n := orders(); n != ordered {
		t.Errorf("the import blocks' apply sent %d orders to Pebble", n-ordered)
	}
	mustCode(t, tf(t, tfDir, "plan", "-detailed-exitcode"), 0, "the plan after the imports")
}

// accountKey is certbot's account key file under DIR/accounts.
func accountKey(t *testing.T, dir string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "accounts", "*", "*", "*", "private_key.json"))
	if len(m) != 1 {
		t.Fatalf("certbot's account keys: %v", m)
	}
	return m[0]
}

// spkiOfFile is the SHA-256 of the key of a PEM certificate file's first
// certificate, hex (a 3 1 1 record's data).
func spkiOfFile(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("sh", "-c", "openssl x509 -in "+path+" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r").Output()
	if err != nil {
		t.Fatalf("openssl: %v", err)
	}
	return strings.Fields(string(out))[0]
}

// httpsLeaf is the SHA-256 fingerprint of the certificate an HTTPS
// endpoint serves for www.example.test.
func httpsLeaf(t *testing.T, addr string) string {
	t.Helper()
	out, err := exec.Command("sh", "-c", "openssl s_client -connect "+addr+" -servername www.example.test </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256").Output()
	if err != nil {
		t.Fatalf("reading what %s serves: %v", addr, err)
	}
	return strings.TrimSpace(string(out))
}

// TestImportAPT: a repository added the apt-key way (a .list line without
// Signed-By, its key in trusted.gpg.d) is imported, its key found by the
// signature of the repository's InRelease; the next apply moves it to a
// keyring of its own with Signed-By, comments the old line out and
// removes the global key last, and the real apt-get update works before
// and after.
func TestImportAPT(t *testing.T) {
	repo := apttest.NewRepo(t, "2y")
	root := t.TempDir()
	etc := filepath.Join(root, "etc/apt")
	os.MkdirAll(filepath.Join(etc, "sources.list.d"), 0o755)
	os.MkdirAll(filepath.Join(etc, "trusted.gpg.d"), 0o755)
	list := filepath.Join(etc, "sources.list.d/vendor.list")
	os.WriteFile(list, []byte("# from the vendor's install guide\ndeb "+repo.URL+" stable main\n"), 0o644)
	key, _ := readURL(repo.KeyURL)
	legacy := filepath.Join(etc, "trusted.gpg.d/vendor.asc")
	os.WriteFile(legacy, key, 0o644)
	if out, ok := apttest.AptUpdate(t, root); !ok {
		t.Fatalf("apt-get update before the import:\n%s", out)
	}
	dir := t.TempDir()
	r := tf(t, dir, "import", "apt", etc, "-out=apt.hcl")
	mustCode(t, r, 0, "import apt")
	b, _ := os.ReadFile(filepath.Join(dir, "apt.hcl"))
	t.Logf("generated:\n%s", b)
	for _, want := range []string{`fingerprint = "` + repo.Fingerprint + `"`, "signed_by  = apt_key.vendor", `"` + filepath.Join(etc, "keyrings/vendor.gpg") + `"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("apt.hcl lacks %q", want)
		}
	}
	mustCode(t, tf(t, dir, "validate"), 0, "validate")
	r = tf(t, dir, "plan")
	for _, want := range []string{"disable-conflicts", "remove-legacy"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the plan after the import lacks %s:\n%s", want, r.stdout)
		}
	}
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	if out, ok := apttest.AptUpdate(t, root); !ok {
		t.Fatalf("apt-get update after the migration:\n%s", out)
	}
	if _, err := os.Stat(legacy); !os.IsNotExist(err) {
		t.Error("the key is still trusted for every repository")
	}
	if b, _ := os.ReadFile(list); !strings.Contains(string(b), "# disabled by trustform (apt_source.vendor") || !strings.Contains(string(b), "deb "+repo.URL) {
		t.Errorf("the old line is not commented out:\n%s", b)
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after the migration")
}
