package main

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-acme/lego/v4/certcrypto"
	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/internal/testutil"
	"github.com/trustform/trustform/providers/dns"
)

// binary is trustform built once for the tests that need real processes.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "trustform-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "trustform")
	// Tests run the binary with the race detector (the CLI runs
	// certificate issues in parallel) and the test hooks; benchmarks alone
	// (-run '^$') time the binary users run.
	build := []string{"build", "-race", "-tags", "trustformtest"}
	flag.Parse()
	if flag.Lookup("test.bench").Value.String() != "" && flag.Lookup("test.run").Value.String() == "^$" {
		build = []string{"build"}
	}
	if out, err := exec.Command("go", append(build, "-o", binary, ".")...).CombinedOutput(); err != nil {
		panic("building trustform: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// tf runs the trustform binary in dir.
func tf(t testing.TB, dir string, args ...string) result {
	t.Helper()
	return tfEnv(t, dir, nil, args...)
}

// tfAt runs the trustform binary in dir with its clock frozen at now.
func tfAt(t testing.TB, dir string, now time.Time, args ...string) result {
	t.Helper()
	return tfEnv(t, dir, []string{"TRUSTFORM_TEST_NOW=" + now.UTC().Format(time.RFC3339)}, args...)
}

func tfEnv(t testing.TB, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"-chdir=" + dir}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), env...)
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// tfPlanJSON is the plan object of `plan ARGS…` (saved, then `show -json`,
// as `plan -json` is the machine-readable stream): stdout is the plan
// JSON, code and stderr plan's.
func tfPlanJSON(t testing.TB, dir string, env []string, args ...string) result {
	t.Helper()
	saved := filepath.Join(t.TempDir(), "p.plan")
	r := tfEnv(t, dir, env, append([]string{"plan", "-out=" + saved}, args...)...)
	if r.code == 1 {
		return r
	}
	shown := tfEnv(t, dir, env, "show", "-json", saved)
	mustCode(t, shown, 0, "show -json of the saved plan")
	r.stdout = shown.stdout
	return r
}

func mustCode(t testing.TB, r result, want int, what string) {
	t.Helper()
	if r.code != want {
		t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", what, r.code, want, r.stdout, r.stderr)
	}
}

func quickstart(t *testing.T) string {
	return testutil.CopyDir(t, filepath.Join("..", "..", "examples", "quickstart"))
}

// TestQuickstart is the first-run experience: plan shows changes, apply
// makes them, and a second plan finds nothing to do.
func TestQuickstart(t *testing.T) {
	dir := quickstart(t)
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 2, "first plan")
	r := tf(t, dir, "apply", "-auto-approve")
	mustCode(t, r, 0, "apply")
	if !strings.Contains(r.stdout, "Apply complete: 9 step(s) applied.") {
		t.Errorf("apply output lacks its summary:\n%s", r.stdout)
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "second plan")

	// The zone file parses, and its TLSA records match the deployed keys (3 1 1).
	zone, err := os.ReadFile(filepath.Join(dir, "example.test.zone"))
	if err != nil {
		t.Fatal(err)
	}
	rrs, err := dns.ParseZone(zone, "example.test.", "example.test.zone")
	if err != nil {
		t.Fatalf("applied zone file does not parse: %v", err)
	}
	tlsa := map[string]*mdns.TLSA{}
	for _, rr := range rrs {
		if r, ok := rr.(*mdns.TLSA); ok {
			tlsa[r.Hdr.Name] = r
		}
	}
	for owner, cert := range map[string]string{
		"_443._tcp.www.example.test.": "out/etc/ssl/example/www.fullchain.pem",
		"_25._tcp.mail.example.test.": "out/etc/ssl/example/mail.fullchain.pem",
	} {
		pemBytes, err := os.ReadFile(filepath.Join(dir, cert))
		if err != nil {
			t.Fatal(err)
		}
		chain, err := certcrypto.ParsePEMBundle(pemBytes)
		if err != nil {
			t.Fatal(err)
		}
		rec := tlsa[owner]
		if rec == nil {
			t.Fatalf("no TLSA record at %s in the zone file:\n%s", owner, zone)
		}
		if err := rec.Verify(chain[0]); err != nil {
			t.Errorf("TLSA at %s does not match %s: %v", owner, cert, err)
		}
	}
	for _, key := range []string{"out/etc/ssl/example/www.key.pem", "out/etc/ssl/example/mail.key.pem", ".trustform/local_ca/example/ca.key"} {
		st, err := os.Stat(filepath.Join(dir, key))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", key, st.Mode().Perm())
		}
	}

	// No private key material in state, in plan JSON or on the terminal.
	stateJSON, _ := os.ReadFile(filepath.Join(dir, ".trustform", "state.json"))
	planJSON := tf(t, dir, "plan", "-json").stdout + tfPlanJSON(t, dir, nil).stdout
	var keys [][]byte
	for _, key := range []string{"out/etc/ssl/example/www.key.pem", ".trustform/local_ca/example/ca.key"} {
		b, _ := os.ReadFile(filepath.Join(dir, key))
		block, _ := pem.Decode(b)
		keys = append(keys, b, block.Bytes)
	}
	for name, text := range map[string]string{"state.json": string(stateJSON), "plan -json": planJSON, "apply output": r.stdout + r.stderr} {
		if strings.Contains(text, "PRIVATE KEY") {
			t.Errorf("%s contains a PEM private key", name)
		}
		for _, k := range keys {
			if bytes.Contains([]byte(text), k) || strings.Contains(text, string(pem.EncodeToMemory(&pem.Block{Type: "X", Bytes: k}))) {
				t.Errorf("%s contains private key bytes", name)
			}
		}
	}
}

// TestKeyRollover changes key_type: the plan puts the TLSA publication
// before the certificate with a gate between, and the prune after; apply
// stops at the gate; apply -wait completes the rollover.
func TestKeyRollover(t *testing.T) {
	dir := quickstart(t)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "first apply")
	cfgPath := filepath.Join(dir, "main.hcl")
	cfg, _ := os.ReadFile(cfgPath)
	cfg = bytes.Replace(cfg, []byte(`key_type  = "ec256"`), []byte(`key_type  = "ec384"`), 1)
	cfg = bytes.Replace(cfg, []byte(`rollover_wait = "10m"`), []byte(`rollover_wait = "2s"`), 1)
	os.WriteFile(cfgPath, cfg, 0o644)

	r := tfPlanJSON(t, dir, nil)
	mustCode(t, r, 0, "plan")
	var p struct {
		Steps []struct {
			Index     int     `json:"index"`
			Address   string  `json:"address"`
			Phase     string  `json:"phase"`
			Rule      string  `json:"rule"`
			DependsOn []int   `json:"depends_on"`
			NotBefore *string `json:"not_before"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Steps {
		line := s.Address + " " + s.Phase + " [" + s.Rule + "]"
		if s.NotBefore != nil {
			line += " gated"
		}
		got = append(got, line)
	}
	want := []string{
		"certificate.www stage-key [tlsa-before-cert]",
		"tlsa.www_https publish [tlsa-before-cert]",
		"certificate.www deploy-next [tlsa-before-cert] gated",
		"vhost.https reload []",                   // the server presents the new key before
		"tlsa.www_https prune [tlsa-before-cert]", // the old record goes
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rollover steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	liveSPKI := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "out/etc/ssl/example/www.fullchain.pem"))
		chain, _ := certcrypto.ParsePEMBundle(b)
		rec, _ := dns.Record([3]uint8{3, 1, 1}, chain[0])
		return rec
	}
	wwwRecords := func() []string {
		zone, _ := os.ReadFile(filepath.Join(dir, "example.test.zone"))
		rrs, err := dns.ParseZone(zone, "example.test.", "zone")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, rr := range rrs {
			if r, ok := rr.(*mdns.TLSA); ok && r.Hdr.Name == "_443._tcp.www.example.test." {
				out = append(out, strings.Join(strings.Fields(r.String())[4:], " "))
			}
		}
		return out
	}
	old := liveSPKI()

	r = tf(t, dir, "apply", "-auto-approve")
	mustCode(t, r, 0, "apply stopping at the gate")
	if !strings.Contains(r.stdout, "wait for a time gate") {
		t.Errorf("apply did not say it stopped at a gate:\n%s", r.stdout)
	}
	if liveSPKI() != old {
		t.Fatal("the certificate changed before its gate opened")
	}
	if recs := wwwRecords(); len(recs) != 2 || !contains(recs, old) {
		t.Fatalf("after the first rollover apply the RRset is %v; want the old record and the next key's", recs)
	}

	r = tf(t, dir, "apply", "-auto-approve", "-wait")
	mustCode(t, r, 0, "apply -wait")
	if strings.Contains(r.stderr, "\r") || !strings.Contains(r.stderr, "gate open") {
		t.Errorf("apply -wait into a pipe wrote a carriage return, or no line for the gate opening:\n%q", r.stderr)
	}
	if liveSPKI() == old {
		t.Fatal("the certificate did not change")
	}
	if recs := wwwRecords(); len(recs) != 1 || recs[0] != liveSPKI() {
		t.Fatalf("after the rollover the RRset is %v; want only %s", recs, liveSPKI())
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after the rollover")
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

// TestSavedPlanStale: apply PLANFILE refuses a plan made before the state,
// the configuration or the live world changed.
func TestSavedPlanStale(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(dir string)
		want   string
	}{
		{"state", func(dir string) { tf(t, dir, "apply", "-auto-approve") }, "the state changed"},
		{"configuration", func(dir string) {
			f := filepath.Join(dir, "main.hcl")
			b, _ := os.ReadFile(f)
			os.WriteFile(f, append(b, []byte("\n# a comment\n")...), 0o644)
		}, "the configuration changed"},
		{"observed record", func(dir string) {
			f := filepath.Join(dir, "example.test.zone")
			b, _ := os.ReadFile(f)
			os.WriteFile(f, append(b, []byte("_443._tcp.www IN TLSA 3 1 1 00112233\n")...), 0o644)
		}, "the live world changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := quickstart(t)
			planFile := filepath.Join(dir, "reviewed.tfplan")
			mustCode(t, tf(t, dir, "plan", "-out="+planFile), 0, "plan -out")
			tc.change(dir)
			r := tf(t, dir, "apply", planFile)
			mustCode(t, r, 1, "apply of a stale plan")
			if !strings.Contains(r.stderr, "plan is stale: "+tc.want) {
				t.Errorf("stderr does not explain the refusal:\n%s", r.stderr)
			}
		})
	}
	t.Run("fresh plan applies", func(t *testing.T) {
		dir := quickstart(t)
		planFile := filepath.Join(dir, "reviewed.tfplan")
		mustCode(t, tf(t, dir, "plan", "-out="+planFile), 0, "plan -out")
		mustCode(t, tf(t, dir, "apply", planFile), 0, "apply PLANFILE")
		mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after applying the saved plan")
	})
}

// TestConcurrentApplies: while one apply holds the lock, another fails after
// -lock-timeout naming the holder; the state stays whole.
func TestConcurrentApplies(t *testing.T) {
	dir := quickstart(t)
	held, err := state.Acquire(filepath.Join(dir, ".trustform"), "apply", 0)
	if err != nil {
		t.Fatal(err)
	}
	r := tf(t, dir, "apply", "-auto-approve", "-lock-timeout=300ms")
	mustCode(t, r, 1, "apply while locked")
	if !regexp.MustCompile(`state is locked by trustform apply \(pid \d+ on `).MatchString(r.stderr) {
		t.Errorf("the error does not name the lock holder:\n%s", r.stderr)
	}
	held.Release()

	// Two real applies at once: both succeed (one waits), state parses, serials add up.
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = tf(t, dir, "apply", "-auto-approve", "-lock-timeout=60s")
		}()
	}
	wg.Wait()
	for i, r := range results {
		mustCode(t, r, 0, "concurrent apply "+string(rune('A'+i)))
	}
	st, err := state.Load(filepath.Join(dir, ".trustform", "state.json"))
	if err != nil {
		t.Fatalf("state after concurrent applies: %v", err)
	}
	if len(st.Resources) != 9 {
		t.Errorf("state holds %d resources, want 9", len(st.Resources))
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after concurrent applies")
}

// TestFailedStepStopsApply: a vhost whose config test fails stops the apply
// at that step, naming it and quoting the server; earlier steps are saved,
// the file is not left behind, and a fixed configuration completes.
func TestFailedStepStopsApply(t *testing.T) {
	dir := quickstart(t)
	cfgPath := filepath.Join(dir, "main.hcl")
	orig, _ := os.ReadFile(cfgPath)
	broken := bytes.Replace(orig, []byte(`test_command   = "" # no nginx runs in the quickstart`),
		[]byte(`test_command   = "echo 'nginx: [emerg] invalid cipher' >&2; exit 1"`), 1)
	os.WriteFile(cfgPath, broken, 0o644)

	r := tf(t, dir, "apply", "-auto-approve")
	mustCode(t, r, 1, "apply with a failing config test")
	for _, want := range []string{"(vhost.https write) failed", "nginx: [emerg] invalid cipher"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("error lacks %q:\n%s", want, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out/etc/nginx/sites-enabled/example-https.conf")); !os.IsNotExist(err) {
		t.Error("the config that failed its test was left in place")
	}
	st, err := state.Load(filepath.Join(dir, ".trustform", "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Get("certificate.www") == nil || st.Get("vhost.https") != nil {
		t.Errorf("state after the failure: the steps before it must be saved, the failed one not")
	}
	os.WriteFile(cfgPath, orig, 0o644)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply after the fix")
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after the fix")
}

// TestTarget limits the plan to a resource and what it refers to.
func TestTarget(t *testing.T) {
	dir := quickstart(t)
	r := tf(t, dir, "plan", "-target=apt_source.example")
	mustCode(t, r, 0, "plan -target")
	if !strings.Contains(r.stdout, "Plan: 2 to create") || strings.Contains(r.stdout, "certificate.www") {
		t.Errorf("plan -target=apt_source.example:\n%s", r.stdout)
	}
}
