package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/providers/webserver/apachetest"
	"github.com/trustform/trustform/providers/webserver/nginxtest"
)

// TestRolloverKilledAtEveryStep rotates the key of DANE-protected services
// with trustform killed (SIGKILL) after every single step, and in a second
// rollover inside every single step (after its write, before what it made
// true is recorded), restarting apply each time as a scheduled run would.
// All along, an independent checker asks both authoritative servers (real
// BIND primary and secondary) for the TLSA RRsets and nginx for its
// certificates: the served key (or its issuing CA, for DANE-TA) must always
// be published on both, and the state file must always parse. After each
// rollover the state must be the world: no drift, and the TLSA records dig
// shows on every server. The rollovers: a key_type change with the local
// CA (on nginx, and on Apache); an emergency -replace with Pebble of a
// certificate pinned by a 3 1 1 and a DANE-TA 2 1 1 RRset; a -replace with
// publish_next; and the mail case, a same-key renewal under 3 0 1 on
// Postfix and Dovecot, checked by OpenSSL's DANE verifier through
// STARTTLS, then killed at random moments as an unattended timer meets it.
func TestRolloverKilledAtEveryStep(t *testing.T) {
	for _, server := range []string{"nginx", "apache"} {
		t.Run("key-type-change/local-ca/"+server, func(t *testing.T) {
			dir, servers, services := localCARollover(t, server, "bind")
			keyType := func(from, to string) {
				cfg, _ := os.ReadFile(filepath.Join(dir, "main.hcl"))
				os.WriteFile(filepath.Join(dir, "main.hcl"), bytes.Replace(cfg, []byte(`key_type  = "`+from+`"`), []byte(`key_type  = "`+to+`"`), 1), 0o644)
			}
			// stage-key, publish, deploy-next, write (and reload), prune
			keyType("ec256", "ec384")
			killAtEveryStep(t, dir, servers, services, "after", 5, nil)
			keyType("ec384", "ec256")
			killAtEveryStep(t, dir, servers, services, "inside", 5, nil)
		})
	}
	t.Run("replace/pebble/ee-and-ta", func(t *testing.T) {
		lab := startDANELab(t, func(cfg string) string {
			cfg = strings.ReplaceAll(cfg, `rollover_wait = "10s"`, `rollover_wait = "1s"`)
			return strings.Replace(cfg, `tlsa "https" {`, "tlsa \"https\" {\n  usage         = 2", 1)
		})
		mustCode(t, tf(t, lab.dir, "apply", "-auto-approve", "-propagation-wait=10s"), 0, "first apply")
		// stage-key, stage-cert, publish, deploy-next, reload, prune (one
		// nginx reload serves both vhosts: after a restart the second has
		// nothing left to do)
		for _, how := range []string{"after", "inside"} {
			killAtEveryStep(t, lab.dir, bindAuthorities(lab.dns.Servers()...), lab.services, how, 6, []string{"-replace=certificate.www"})
		}
	})
	t.Run("same-key-renewal/local-ca/postfix-3-0-1", func(t *testing.T) {
		l := startMailLab(t, "bind")
		mustCode(t, tf(t, l.dir, "apply", "-auto-approve", "-propagation-wait=10s"), 0, "first apply")
		for _, owner := range []string{l.smtpOwner, l.imapsOwner} {
			l.zone.waitAgree(t, owner)
		}
		one, two := `domains   = ["mail.example.test"]`, `domains   = ["mail.example.test", "smtp.example.test"]`
		// stage-cert, publish, deploy-next, the two services' reloads, prune
		l.edit(t, one, two)
		killAtEveryStepWatched(t, l.dir, l.zone.servers, l.watchMail(t), "after", 5, nil)
		l.edit(t, two, one)
		killAtEveryStepWatched(t, l.dir, l.zone.servers, l.watchMail(t), "inside", 5, nil)
		l.edit(t, one, two)
		killAtRandom(t, l.dir, l.zone.servers, l.watchMail(t), 15)
	})
	t.Run("replace/pebble/publish-next", func(t *testing.T) {
		lab := startDANELab(t, func(cfg string) string {
			return strings.ReplaceAll(cfg, `rollover_wait = "10s"`, "rollover_wait = \"1s\"\n  publish_next  = true")
		})
		mustCode(t, tf(t, lab.dir, "apply", "-auto-approve", "-propagation-wait=10s"), 0, "first apply")
		// No sleep for rollover_wait: apply -wait waits for the gate itself.
		// deploy-next, stage-key, reload, prune
		for _, how := range []string{"after", "inside"} {
			killAtEveryStep(t, lab.dir, bindAuthorities(lab.dns.Servers()...), lab.services, how, 4, []string{"-replace=certificate.www"})
		}
	})
}

// TestRolloverKilledOnEveryBackend is the same guarantee where the zone is
// not on BIND: Knot (RFC 2136, its own signing and refresh schedule) and
// PowerDNS (its HTTP API, one PATCH per phase). A 3 1 1 key rollover on
// nginx killed after every one of its steps, and the mail case, a
// same-key renewal under 3 0 1 on Postfix and Dovecot, killed at five
// random moments, checked by OpenSSL's DANE verifier. The checker asks the
// backend's own name server all along; zero violations, and the state
// left is the world.
func TestRolloverKilledOnEveryBackend(t *testing.T) {
	for _, backend := range []string{"knot", "powerdns"} {
		t.Run("key-type-change/local-ca/nginx/"+backend, func(t *testing.T) {
			dir, servers, services := localCARollover(t, "nginx", backend)
			cfg, _ := os.ReadFile(filepath.Join(dir, "main.hcl"))
			os.WriteFile(filepath.Join(dir, "main.hcl"), bytes.Replace(cfg, []byte(`key_type  = "ec256"`), []byte(`key_type  = "ec384"`), 1), 0o644)
			killAtEveryStep(t, dir, servers, services, "after", 5, nil)
		})
		t.Run("same-key-renewal/local-ca/postfix-3-0-1/"+backend, func(t *testing.T) {
			l := startMailLab(t, backend)
			mustCode(t, tf(t, l.dir, "apply", "-auto-approve", "-propagation-wait=10s"), 0, "first apply")
			l.edit(t, `domains   = ["mail.example.test"]`, `domains   = ["mail.example.test", "smtp.example.test"]`)
			killAtRandom(t, l.dir, l.zone.servers, l.watchMail(t), 5)
		})
	}
}

// killAtEveryStep runs apply -wait again and again, each run killed
// (SIGKILL) "after" its first step (done and saved) or "inside" it (after
// the step's write, before what it made true is recorded), until a run
// completes: the first run with args, the restarts without (as a
// scheduled run). Every step is so killed (at least min kills), the
// checker must have seen no violation, and the state the runs leave must
// be the world (stateIsTheWorld).
func killAtEveryStep(t *testing.T, dir string, servers []authority, services map[string]string, how string, min int, args []string) {
	t.Helper()
	killAtEveryStepWatched(t, dir, servers, watchDANE(t, dir, servers, services), how, min, args)
}

// killAtEveryStepWatched is killAtEveryStep with a checker already
// watching; stop ends it.
func killAtEveryStepWatched(t *testing.T, dir string, servers []authority, stop func() (int, []string), how string, min int, args []string) {
	t.Helper()
	hook := "TRUSTFORM_TEST_KILL_AFTER_STEPS=1"
	if how == "inside" {
		hook = "TRUSTFORM_TEST_KILL_INSIDE=" + filepath.Join(t.TempDir(), "killed")
	}
	kills := 0
	var runs []string
	for run := 0; run < 25; run++ {
		out, err := applyRun(dir, run, args, hook, 0)
		runs = append(runs, fmt.Sprintf("%s run %d:\n%s", time.Now().Format("05.000"), run, out))
		if err == nil {
			break // nothing was left: the apply finished without reaching the hook
		}
		if !strings.Contains(out, "fault hook: killed "+how+" step") {
			t.Fatalf("apply failed for another reason: %v\n%s", err, strings.Join(runs, "\n"))
		}
		kills++
	}
	checks, violations := stop()
	t.Logf("%d kills %s a step, %d invariant checks, %d violations", kills, how, checks, len(violations))
	if kills < min {
		t.Errorf("only %d kills, want a kill %s each of at least %d steps:\n%s", kills, how, min, strings.Join(runs, "\n"))
	}
	if len(violations) > 0 {
		t.Errorf("%d moments without a published record for the served key:\n%s\nthe runs:\n%s", len(violations), strings.Join(violations, "\n"), strings.Join(runs, "\n"))
	}
	stateIsTheWorld(t, dir, servers, runs)
}

// killAtRandom is the unattended timer's view of a rollover: apply -wait
// killed at n random moments (the seed is logged), then one apply to
// finish. DANE holds all along, and the state left is the world.
func killAtRandom(t *testing.T, dir string, servers []authority, stop func() (int, []string), n int) {
	t.Helper()
	seed := time.Now().UnixNano()
	random := rand.New(rand.NewPCG(uint64(seed), 0))
	var runs []string
	for run := 0; run < n; run++ {
		out, _ := applyRun(dir, run, nil, "", time.Duration(random.IntN(2000))*time.Millisecond)
		runs = append(runs, fmt.Sprintf("%s run %d:\n%s", time.Now().Format("05.000"), run, out))
	}
	out, err := applyRun(dir, n, nil, "", 0)
	runs = append(runs, fmt.Sprintf("%s the apply that finishes:\n%s", time.Now().Format("05.000"), out))
	if err != nil {
		t.Fatalf("the apply after the kills failed: %v\n%s", err, strings.Join(runs, "\n"))
	}
	checks, violations := stop()
	t.Logf("seed %d: %d runs killed at random moments; %d invariant checks, %d violations", seed, n, checks, len(violations))
	if len(violations) > 0 {
		t.Errorf("%d moments without a published record for the served key:\n%s\nthe runs:\n%s", len(violations), strings.Join(violations, "\n"), strings.Join(runs, "\n"))
	}
	stateIsTheWorld(t, dir, servers, runs)
}

// applyRun runs apply -wait in dir (run 0 with args) with the environment
// variable env set, killing it after killAfter when that is not zero; it
// returns the output.
func applyRun(dir string, run int, args []string, env string, killAfter time.Duration) (string, error) {
	a := []string{"-chdir=" + dir, "apply", "-auto-approve", "-wait", "-propagation-wait=10s"}
	if run == 0 {
		a = append(a, args...)
	}
	cmd := exec.Command(binary, a...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1", env)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if killAfter == 0 {
		err := <-done
		return out.String(), err
	}
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(killAfter):
		cmd.Process.Signal(syscall.SIGKILL)
		err := <-done
		return out.String() + "(killed by the test after " + killAfter.String() + ")\n", err
	}
}

// stateIsTheWorld: after a rollover, plan finds no drift and no change,
// and the TLSA RRsets in state are what dig shows on every server.
func stateIsTheWorld(t *testing.T, dir string, servers []authority, runs []string) {
	t.Helper()
	if r := tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode"); r.code != 0 {
		t.Errorf("the state disagrees with the world after the rollover: plan -refresh-only exit %d\n%s%s\nthe runs:\n%s", r.code, r.stdout, r.stderr, strings.Join(runs, "\n"))
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after the rollover")
	stateIsWhatDigShows(t, dir, servers)
}

// stateIsWhatDigShows compares each TLSA owner's records in state (the
// union of its tlsa resources, each of its own parameters) with what dig
// shows on every server (a secondary is given 15 s to catch up).
func stateIsWhatDigShows(t *testing.T, dir string, servers []authority) {
	t.Helper()
	st, err := state.Load(filepath.Join(dir, ".trustform", "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	owners := map[string][]string{}
	for _, r := range st.Resources {
		if r.Type == "tlsa" {
			name := r.Value["name"].Str
			owners[name] = append(owners[name], r.Value["records"].List...)
		}
	}
	if len(owners) == 0 {
		t.Fatal("state records no TLSA RRset")
	}
	for owner, recs := range owners {
		slices.Sort(recs)
		for _, n := range servers {
			got := digTLSA(t, n.Addr, owner)
			for deadline := time.Now().Add(15 * time.Second); !slices.Equal(got, recs) && time.Now().Before(deadline); {
				time.Sleep(200 * time.Millisecond)
				got = digTLSA(t, n.Addr, owner)
			}
			if !slices.Equal(got, recs) {
				t.Errorf("state records %q at %s, dig @%s shows %q", recs, owner, n.Addr, got)
			}
		}
	}
}

// digTLSA asks addr for the TLSA RRset at owner with dig, and returns its
// records as trustform writes them (lower-case hex in one piece), sorted.
func digTLSA(t *testing.T, addr, owner string) []string {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command("dig", "+short", "+norecurse", "-p", port, "@"+host, owner, "TLSA").Output()
	if err != nil {
		t.Fatalf("dig @%s %s TLSA: %v", addr, owner, err)
	}
	var recs []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		recs = append(recs, strings.ToLower(strings.Join(f[:3], " ")+" "+strings.Join(f[3:], "")))
	}
	slices.Sort(recs)
	return recs
}

// localCARollover deploys a certificate from the local CA, pinned by a 3 1 1
// RRset on real BIND and served by real nginx or Apache.
func localCARollover(t *testing.T, server, backend string) (dir string, servers []authority, services map[string]string) {
	zone := startZone(t, backend, "www A 127.0.0.1")
	var web struct{ Sites, HTTPS, TestCommand, ReloadCommand string }
	if server == "apache" {
		l := apachetest.Start(t)
		web.Sites, web.HTTPS, web.TestCommand, web.ReloadCommand = l.Sites, l.HTTPS, l.TestCommand, l.ReloadCommand
	} else {
		l := nginxtest.Start(t)
		web.Sites, web.HTTPS, web.TestCommand, web.ReloadCommand = l.Sites, l.HTTPS, l.TestCommand, l.ReloadCommand
	}
	dir = t.TempDir()
	zone.writeSecrets(t, dir)
	cfg := fmt.Sprintf(fixture("local_ca_rollover.hcl.tmpl"), zone.block, web.Sites, web.HTTPS, web.TestCommand, web.ReloadCommand, server)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-propagation-wait=10s"), 0, "first apply")
	owner := "_443._tcp.www.example.test."
	zone.waitAgree(t, owner)
	return dir, zone.servers, map[string]string{owner: web.HTTPS}
}

func handshakeSPKI(addr, name string) (string, error) {
	recs, err := handshakeRecords(addr, name)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(recs[0], "3 1 1 "), nil
}

// handshakeRecords returns the TLSA records that would match what addr
// serves: "3 1 1" of the leaf's key and "2 1 1" of the issuing CA's key (the
// second certificate sent), then "3 0 1" of the whole leaf, computed here,
// independently of trustform.
func handshakeRecords(addr, name string) ([]string, error) {
	c, err := tlsDial(addr, name)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var out []string
	chain := c.ConnectionState().PeerCertificates
	for i, cert := range chain[:min(2, len(chain))] {
		out = append(out, []string{"3 1 1 ", "2 1 1 "}[i]+spkiHex(cert.RawSubjectPublicKeyInfo))
	}
	if len(chain) > 0 {
		out = append(out, "3 0 1 "+spkiHex(chain[0].Raw)) // the whole leaf (selector 0)
	}
	return out, nil
}

// coversEveryCombination is RFC 7671 §8's invariant: the RRset is not empty
// and, for each usage/selector/matching type in it, holds the record of what
// is served (matching has one record per combination the checker computes).
func coversEveryCombination(recs, matching []string) bool {
	if len(recs) == 0 {
		return false
	}
	for _, r := range recs {
		combo := strings.Join(strings.Fields(r)[:3], " ") + " "
		if !slices.ContainsFunc(matching, func(m string) bool { return strings.HasPrefix(m, combo) && slices.Contains(recs, m) }) {
			return false
		}
	}
	return true
}

// watchDANE is the independent checker: every 20 ms, for each TLSA owner, it
// handshakes the TLS service at its address and asks every authoritative
// server for the RRset; on all of them, each combination in the RRset (3 1 1
// of the served key, 2 1 1 of the CA that issued it, 3 0 1 of the whole leaf) must hold the record of
// what is served; 3 0 1 of the whole leaf). It
// also parses the state file. stop ends it and returns the number of checks
// and the violations seen.
func watchDANE(t *testing.T, dir string, servers []authority, services map[string]string) (stop func() (int, []string)) {
	return watch(20*time.Millisecond, func() (checks int, violations []string) {
		for owner, addr := range services {
			matching, err := handshakeRecords(addr, strings.SplitN(owner, ".", 3)[2])
			if err != nil {
				continue // nginx between workers; the next check sees it
			}
			for _, n := range servers {
				recs := n.tlsa(t, owner)
				checks++
				if !coversEveryCombination(recs, matching) {
					violations = append(violations, fmt.Sprintf("%s %s publishes %v at %s while %s serves %v", time.Now().Format("05.000"), n.Addr, recs, owner, addr, matching))
				}
			}
		}
		return checks, append(violations, stateParses(dir)...)
	})
}

// stateParses is the checkers' own invariant: the state file always
// parses.
func stateParses(dir string) []string {
	if _, err := state.Load(filepath.Join(dir, ".trustform", "state.json")); err != nil {
		return []string{"state.json: " + err.Error()}
	}
	return nil
}

// watch runs an independent checker every interval until stop: check
// returns how many checks it made and the violations it saw; stop returns
// their totals.
func watch(interval time.Duration, check func() (int, []string)) (stop func() (int, []string)) {
	var checks int
	var violations []string
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			case <-time.After(interval):
			}
			n, v := check()
			checks, violations = checks+n, append(violations, v...)
		}
	}()
	return func() (int, []string) {
		close(done)
		wg.Wait()
		return checks, violations
	}
}

// TestCheckerCatchesViolations: the independent checker itself, on the
// moments it must flag.
func TestCheckerCatchesViolations(t *testing.T) {
	served := []string{"3 1 1 new", "2 1 1 ca"}
	for _, tc := range []struct {
		recs []string
		ok   bool
	}{
		{[]string{"3 1 1 new"}, true},
		{[]string{"3 1 1 new", "3 1 1 old"}, true},
		{[]string{"2 1 1 ca", "3 1 1 new"}, true},
		{nil, false},                                  // nothing published
		{[]string{"3 1 1 old"}, false},                // the served key is not published
		{[]string{"2 1 1 ca", "3 1 1 old"}, false},    // one combination lacks it
		{[]string{"2 1 1 other", "3 1 1 new"}, false}, // the other lacks it
		{[]string{"3 0 1 x", "3 1 1 new"}, false},     // a combination the checker cannot vouch for
	} {
		if got := coversEveryCombination(tc.recs, served); got != tc.ok {
			t.Errorf("coversEveryCombination(%q) = %t", tc.recs, got)
		}
	}
}
