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
// nginx; DANE by end-entity records (3 1 1, the key reused; 3 0 1, the
// certificate) and a trust-anchor one (2 1 1, the issuing CA), each checked alone
// by OpenSSL's DANE verifier throughout. With the primary down at renewal
// time and no fallback, apply fails naming the CA and the expiry, and
// refresh-only reports it. A fallback added while the caa block permits
// only the primary is refused (fallback-ca-pinned); once it permits both,
// the renewal goes to the fallback after failover_after: the CAA RRset
// is written before the fallback's challenge (BIND's update log), the
// fallback's CA record is published and waited out, and nginx serves a
// chain OpenSSL verifies with the fallback's roots. The fallback's
// certificate is kept while nothing is due; with the primary back, the
// next renewal returns to it, and the 2 1 1 RRset keeps both CAs. A second failover is killed inside each of
// its steps: no moment without a matching record, and the state left is
// the world.
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
	cfgPath := filepath.Join(dir, "main.hcl")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`variable "renew_before" {
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
  issuers = [acme_account.primary]
  ttl     = 2
}

certificate "www" {
  domains          = ["www.example.test"]
  issuer           = acme_account.primary
  fallback_issuers = []
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

tlsa "www_cert" {
  zone          = dns_zone.example
  port          = %[6]s
  hostname      = "www.example.test"
  certificate   = certificate.www
  selector      = 0
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
	if strings.Count(string(caa), "accounturi=") != 1 {
		t.Fatalf("dig CAA does not show the primary's account:\n%s", caa)
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
	// DANE, checked three times: by the key's record (3 1 1), the
	// certificate's (3 0 1) and the issuing CA's (2 1 1), each alone, so
	// that each kind must match.
	dane := func() error {
		byKind := map[string][]string{}
		for _, rr := range zone.Primary.Query(t, "_"+httpsPort+"._tcp.www.example.test.", mdns.TypeTLSA).Answer {
			if r, ok := rr.(*mdns.TLSA); ok {
				kind := fmt.Sprintf("%d %d %d", r.Usage, r.Selector, r.MatchingType)
				byKind[kind] = append(byKind[kind], kind+" "+r.Certificate)
			}
		}
		for _, kind := range []string{"3 1 1", "3 0 1", "2 1 1"} {
			if err := daneCheck(web.HTTPS, byKind[kind]); err != nil {
				return err
			}
		}
		return nil
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
	if !strings.Contains(r.stderr, "issue from acme_account.primary") || !strings.Contains(r.stderr, "certificate.www expires") {
		t.Errorf("the failed renewal does not name the primary and the expiry:\n%s", r.stderr)
	}
	r = tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode", due)
	mustCode(t, r, 2, "refresh-only with the primary failing near the expiry")
	if !strings.Contains(strings.Join(strings.Fields(r.stdout), " "), "no fallback_issuers to order from") {
		t.Errorf("the drift does not say there is no fallback:\n%s", r.stdout)
	}

	// A fallback now, but the CAA RRset does not permit its account yet:
	// the plan stops (fallback-ca-pinned).
	edit := func(old, new string) {
		b, _ := os.ReadFile(cfgPath)
		os.WriteFile(cfgPath, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
	}
	edit("fallback_issuers = []", "fallback_issuers = [acme_account.fallback]\n  failover_after   = \"2s\"")
	r = tf(t, dir, "plan", due)
	mustCode(t, r, 1, "a plan whose CAA RRset does not permit the fallback")
	if !strings.Contains(r.stderr, "fallback-ca-pinned: caa.example does not permit acme_account.fallback") {
		t.Errorf("the refusal does not name the rule, the RRset and the account:\n%s", r.stderr)
	}
	edit("issuers = [acme_account.primary]", "issuers = [acme_account.primary, acme_account.fallback]")
	time.Sleep(2500 * time.Millisecond) // failover_after
	r = tf(t, dir, "plan", due)
	if !strings.Contains(r.stdout, "issuing from the fallback acme_account.fallback") {
		t.Errorf("the plan does not say it fails over:\n%s", r.stdout)
	}
	before, mark := orders(fallback), time.Now().Truncate(time.Millisecond)
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-wait", due), 0, "the renewal from the fallback")
	if orders(fallback) == before {
		t.Error("the fallback received no order")
	}
	caa, _ = exec.Command("dig", "+short", "-p", port(zone.Primary.Addr), "@127.0.0.1", "example.test.", "CAA").Output()
	if strings.Count(string(caa), "accounturi=") != 2 {
		t.Errorf("dig CAA does not show both accounts after the failover:\n%s", caa)
	}
	// In BIND's update log, the CAA RRset that permits the fallback is
	// written before the fallback's challenge record.
	pinned, challenged := updateAfter(t, zone, mark, "CAA"), updateAfter(t, zone, mark, "_acme-challenge.www.example.test")
	if pinned.IsZero() || challenged.IsZero() || !pinned.Before(challenged) {
		t.Errorf("the CAA update (%v) does not come before the fallback's challenge (%v)", pinned, challenged)
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
	// Both CAs stay pinned in the trust-anchor RRset: the next failover
	// serves a CA its clients already accept.
	var cas int
	for _, rr := range zone.Primary.Query(t, "_"+httpsPort+"._tcp.www.example.test.", mdns.TypeTLSA).Answer {
		if r, ok := rr.(*mdns.TLSA); ok && r.Usage == 2 {
			cas++
		}
	}
	if cas != 2 {
		t.Errorf("the 2 1 1 RRset holds %d records, want both CAs'", cas)
	}
	checks, violations := stop()
	stopped = true
	t.Logf("%d DANE checks, %d violations", checks, len(violations))
	if len(violations) > 0 {
		t.Errorf("a validating client would have refused nginx:\n%s", strings.Join(violations, "\n"))
	}

	// The primary down again, and the failover renewal killed (SIGKILL)
	// inside each of its steps, each restart a scheduled run: DANE holds
	// at every moment, and the state left is the world.
	primary.Down()
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-wait", due), 1, "the renewal with the primary down again")
	time.Sleep(2500 * time.Millisecond) // failover_after
	killAtEveryStepWatched(t, dir, bindAuthorities(zone.Primary), watch(100*time.Millisecond, func() (int, []string) {
		if err := dane(); err != nil {
			return 1, []string{time.Now().Format("05.000") + " " + err.Error()}
		}
		return 1, nil
	}), "inside", 4, []string{due})
	if err := verifies(fallback.RootsFile); err != nil {
		t.Errorf("after the killed failover nginx does not serve the fallback's chain: %v", err)
	}
}

// updateAfter is when BIND's update log first shows text after mark.
func updateAfter(t *testing.T, l *dnstest.Lab, mark time.Time, text string) time.Time {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(l.Primary.Dir, "update.log"))
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.Contains(line, text) || !strings.Contains(line, "adding an RR") {
			continue
		}
		if at, err := time.ParseInLocation("02-Jan-2006 15:04:05.000", f[0]+" "+f[1], time.Local); err == nil && !at.Before(mark) {
			return at
		}
	}
	return time.Time{}
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
