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

	"github.com/trustform/trustform/providers/acme/pebbletest"
	"github.com/trustform/trustform/providers/dns/dnstest"
	"github.com/trustform/trustform/providers/webserver/nginxtest"
)

// TestFailoverToSecondCA: two Pebbles with their own roots, BIND and
// nginx; DANE by an end-entity record (3 1 1) and a trust-anchor one
// (2 1 1, which pins the issuing CA: the fallback's is published and
// waited out before its chain is served). The caa block permits both accounts (dig shows both account URIs
// before any order). With the primary down at renewal time, the first
// apply fails and names it; once failover_after has passed the renewal
// goes to the fallback, whose chain nginx serves and OpenSSL verifies
// with the fallback's roots, while OpenSSL's DANE verifier checks the
// 3 1 1 record (the key is reused) with no violation. The fallback's
// certificate is kept while nothing is due; with the primary back, the
// next renewal returns to it.
func TestFailoverToSecondCA(t *testing.T) {
	zone := dnstest.Start(t, "example.test", "www IN A 127.0.0.1")
	// Ten-minute certificates: renew_before = "598s" makes one due at once.
	profiles := map[string]pebbletest.Profile{"short": {Description: "ten minutes", ValidityPeriod: 600}}
	primary := pebbletest.Start(t, pebbletest.Options{HTTPPort: 1, DNSServer: zone.Primary.Addr, Profiles: profiles})
	fallback := pebbletest.Start(t, pebbletest.Options{HTTPPort: 1, DNSServer: zone.Primary.Addr, Profiles: profiles})
	web := nginxtest.Start(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tsig.secret"), []byte(zone.Secret), 0o600)
	_, httpsPort, _ := strings.Cut(web.HTTPS, ":")
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(fmt.Sprintf(`variable "renew_before" {
  type    = string
  default = "1/3"
}

acme_account "primary" {
  directory               = %[1]q
  email                   = "hostmaster@example.test"
  ca_roots                = [%[2]q]
  terms_of_service_agreed = true
}

acme_account "fallback" {
  directory               = %[3]q
  email                   = "hostmaster@example.test"
  ca_roots                = [%[4]q]
  terms_of_service_agreed = true
}

dns_zone "example" {
  name        = "example.test"
  server      = %[5]q
  nameservers = [%[5]q]
  tsig {
    name        = "trustform-key"
    secret_file = "tsig.secret"
  }
}

caa "example" {
  zone    = dns_zone.example
  issuers = [acme_account.primary, acme_account.fallback]
  ttl     = 2
}

certificate "www" {
  domains          = ["www.example.test"]
  issuer           = acme_account.primary
  fallback_issuers = [acme_account.fallback]
  failover_after   = "2s"
  challenge        = "dns-01"
  profile          = "short"
  renew_before     = var.renew_before
  cert_file        = "certs/www.pem"
  key_file         = "certs/www.key"
}

tlsa "www" {
  zone          = dns_zone.example
  port          = %[6]s
  hostname      = "www.example.test"
  certificate   = certificate.www
  ttl           = 2
  rollover_wait = "1s"
}

tlsa "www_ta" {
  zone          = dns_zone.example
  port          = %[6]s
  hostname      = "www.example.test"
  certificate   = certificate.www
  usage         = 2
  ttl           = 2
  rollover_wait = "1s"
}

vhost "www" {
  server         = "nginx"
  config_file    = "%[7]s/www.conf"
  listen         = %[8]q
  server_names   = ["www.example.test"]
  certificate    = certificate.www
  test_command   = %[9]q
  reload_command = %[10]q
}
`, primary.Directory, primary.RootsFile, fallback.Directory, fallback.RootsFile, zone.Primary.Addr, httpsPort, web.Sites, web.HTTPS, web.TestCommand, web.ReloadCommand)), 0o644)

	orders := func(l *pebbletest.Lab) int { return strings.Count(l.Log(t), "Added order") }
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-wait"), 0, "the first apply")
	caa, _ := exec.Command("dig", "+short", "-p", port(zone.Primary.Addr), "@127.0.0.1", "example.test.", "CAA").Output()
	if strings.Count(string(caa), "accounturi=") != 2 {
		t.Fatalf("dig CAA does not show both accounts before the failover:\n%s", caa)
	}
	verifies := func(roots string) error {
		cmd := exec.Command("openssl", "s_client", "-connect", web.HTTPS, "-servername", "www.example.test", "-verify_hostname", "www.example.test",
			"-CAfile", roots, "-verify_return_error", "-brief")
		cmd.Stdin = strings.NewReader("")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Verification: OK") {
			return fmt.Errorf("%v: %s", err, lastLines(string(out), 3))
		}
		return nil
	}
	if err := verifies(primary.RootsFile); err != nil {
		t.Fatalf("nginx does not serve the primary's chain: %v", err)
	}
	// DANE, checked twice: by the end-entity record (3 1 1) and by the
	// trust-anchor records (2 1 1) alone, so that each kind must match.
	dane := func() error {
		var ee, ta []string
		for _, rr := range zone.Primary.Query(t, "_"+httpsPort+"._tcp.www.example.test.", mdns.TypeTLSA).Answer {
			if r, ok := rr.(*mdns.TLSA); ok {
				rec := fmt.Sprintf("%d %d %d %s", r.Usage, r.Selector, r.MatchingType, r.Certificate)
				if r.Usage == 2 {
					ta = append(ta, rec)
				} else {
					ee = append(ee, rec)
				}
			}
		}
		if err := daneCheck(web.HTTPS, ee); err != nil {
			return err
		}
		return daneCheck(web.HTTPS, ta)
	}

	stop := watch(100*time.Millisecond, func() (int, []string) {
		if err := dane(); err != nil {
			return 1, []string{time.Now().Format("05.000") + " " + err.Error()}
		}
		return 1, nil
	})
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()

	// The primary is down at renewal time (forced: renew_before 598s).
	primary.Down()
	due := "-var=renew_before=598s"
	r := tf(t, dir, "apply", "-auto-approve", "-wait", due)
	mustCode(t, r, 1, "the renewal with the primary down")
	if !strings.Contains(r.stderr, "issue from acme_account.primary") {
		t.Errorf("the failed renewal does not name the primary:\n%s", r.stderr)
	}
	time.Sleep(2500 * time.Millisecond) // failover_after
	r = tf(t, dir, "plan", due)
	if !strings.Contains(r.stdout, "issuing from the fallback acme_account.fallback") {
		t.Errorf("the plan does not say it fails over:\n%s", r.stdout)
	}
	before := orders(fallback)
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-wait", due), 0, "the renewal from the fallback")
	if orders(fallback) == before {
		t.Error("the fallback received no order")
	}
	if err := verifies(fallback.RootsFile); err != nil {
		t.Errorf("nginx does not serve a chain the fallback's roots verify: %v", err)
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "the plan after the failover: the fallback's certificate is kept")

	// The primary back: the next renewal returns to it.
	primary.Up(t)
	before = orders(primary)
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-wait", due), 0, "the next renewal")
	if orders(primary) == before {
		t.Error("the next renewal did not go to the primary")
	}
	if err := verifies(primary.RootsFile); err != nil {
		t.Errorf("nginx does not serve the primary's chain again: %v", err)
	}
	checks, violations := stop()
	stopped = true
	t.Logf("%d DANE checks, %d violations", checks, len(violations))
	if len(violations) > 0 {
		t.Errorf("a validating client would have refused nginx:\n%s", strings.Join(violations, "\n"))
	}
}

// daneCheck verifies what addr serves for www.example.test against
// records alone, with OpenSSL's DANE verifier.
func daneCheck(addr string, recs []string) error {
	args := []string{"s_client", "-connect", addr, "-servername", "www.example.test", "-dane_tlsa_domain", "www.example.test", "-verify_return_error", "-brief"}
	for _, r := range recs {
		args = append(args, "-dane_tlsa_rrdata", r)
	}
	cmd := exec.Command("openssl", args...)
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verification: OK") {
		return fmt.Errorf("DANE %v: %v: %s", recs, err, lastLines(string(out), 3))
	}
	return nil
}
