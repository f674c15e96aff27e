package main

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-acme/lego/v4/certcrypto"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/engine/state/pgtest"
	"github.com/trustform/trustform/internal/host/sshtest"
	"github.com/trustform/trustform/internal/labutil"
	"github.com/trustform/trustform/providers/certificate"
)

// The tests of this file are a pull request's author attacking the runner
// that plans it: each is named after what the author tried.

// payload is a test_command that, run as its first word with -V (as plan
// once did to learn the server's version), writes who ran it and their
// environment into dir/PWNED.
func payload(dir string) string {
	return "(id;env)>" + dir + "/PWNED;true -t"
}

// TestPlanRunsAuthorsShell: a vhost whose test_command is a shell payload,
// with a Mozilla profile (whose lines depend on the server's version), is
// planned locally and on a host with become: nothing runs, on either.
func TestPlanRunsAuthorsShell(t *testing.T) {
	t.Run("local", func(t *testing.T) {
		dir, loot := quickstart(t), t.TempDir()
		rewrite(t, dir, func(s string) string {
			return strings.Replace(s, `test_command   = "" # no nginx runs in the quickstart`, fmt.Sprintf("test_command   = %q", payload(loot)), 1)
		})
		for _, args := range [][]string{{"validate"}, {"plan", "-markdown"}, {"plan", "-refresh-only"}, {"show"}} {
			tfEnv(t, dir, []string{"PGPASSWORD=pg-hunter2"}, args...)
			if _, err := os.Stat(filepath.Join(loot, "PWNED")); err == nil {
				t.Fatalf("%v ran the test_command", args)
			}
		}
	})
	t.Run("become over SSH", func(t *testing.T) {
		needBecomeUser(t)
		lab := sshtest.StartAs(t, sshtest.BecomeUser)
		root := labutil.OpenDir(t, "becomehost")
		loot := labutil.OpenDir(t, "loot")
		os.Chmod(loot, 0o777)
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(fmt.Sprintf(fixture("untrusted_authors_shell.hcl.tmpl"), root, sshtest.BecomeUser, lab.Port, lab.IdentityFile, lab.KnownHosts, payload(loot))), 0o644)
		r := tfEnv(t, dir, []string{"PGPASSWORD=pg-hunter2"}, "plan", "-markdown")
		mustCode(t, r, 0, "plan")
		if b, err := os.ReadFile(filepath.Join(loot, "PWNED")); err == nil {
			t.Fatalf("plan ran the test_command on the host, through sudo:\n%s", b)
		}
	})
}

// TestCommandsGetNoCredentials: the commands apply runs (test_command,
// reload_command) see the host's environment and the allow-listed
// variables, not the runner's PGPASSWORD, CI token or TSIG secret.
func TestCommandsGetNoCredentials(t *testing.T) {
	dir, loot := quickstart(t), t.TempDir()
	rewrite(t, dir, func(s string) string {
		s = strings.Replace(s, `root    = "out"`, "root    = \"out\"\n  environment = { NGINX_CONF = \"/etc/nginx/nginx.conf\" }", 1)
		return strings.Replace(s, `test_command   = "" # no nginx runs in the quickstart`, fmt.Sprintf("test_command   = %q", "env >"+loot+"/env"), 1)
	})
	mustCode(t, tfEnv(t, dir, []string{"PGPASSWORD=pg-hunter2", "GITHUB_TOKEN=ghs_secret", "TRUSTFORM_TSIG_SECRET_K=c2VjcmV0"}, "apply", "-auto-approve"), 0, "apply")
	b, err := os.ReadFile(filepath.Join(loot, "env"))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"pg-hunter2", "ghs_secret", "c2VjcmV0"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("the test_command saw %s:\n%s", secret, b)
		}
	}
	for _, want := range []string{"PATH=", "NGINX_CONF=/etc/nginx/nginx.conf"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the test_command lacks %s:\n%s", want, b)
		}
	}
}

// needBecomeUser skips a test that needs the become tests' login user
// where it does not exist. scripts/test.sh creates the user where it may
// (as root, or with sudo -n); there, under CI, a missing user fails.
func needBecomeUser(t *testing.T) {
	t.Helper()
	if _, err := user.Lookup(sshtest.BecomeUser); err != nil {
		if _, serr := exec.LookPath("sudo"); os.Getenv("CI") == "true" && (os.Geteuid() == 0 || serr == nil && exec.Command("sudo", "-n", "true").Run() == nil) {
			t.Fatalf("the login user %s does not exist, though scripts/test.sh could have created it", sshtest.BecomeUser)
		}
		t.Skipf("SKIPPED: become needs the user %s with passwordless sudo; scripts/test.sh creates it only as root or with sudo -n", sshtest.BecomeUser)
	}
}

// TestFileLeaksRunnerSecrets: file() of the local CA's key in .trustform/,
// or of the TSIG secret the CI layout keeps beside the configuration, does
// not reach the pull-request comment, the saved plan or any output.
func TestFileLeaksRunnerSecrets(t *testing.T) {
	dir := quickstart(t)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	caKey, err := os.ReadFile(filepath.Join(dir, ".trustform", "local_ca", "example", "ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	const tsig = "dHNpZy1zZWNyZXQtb2YtdGhlLXJ1bm5lcg=="
	os.MkdirAll(filepath.Join(dir, "secrets"), 0o700)
	os.WriteFile(filepath.Join(dir, "secrets", "tsig.secret"), []byte(tsig+"\n"), 0o600)
	body := string(caKey[40:80])
	for _, path := range []string{".trustform/local_ca/example/ca.key", "secrets/tsig.secret"} {
		rewrite(t, dir, func(s string) string {
			s, _, _ = strings.Cut(s, "\n# leak\n")
			return s + "\n# leak\n" + fmt.Sprintf("locals {\n  leak = file(%q)\n}\n", path) + `
tls_policy "leak" {
  ciphers = local.leak
}
`
		})
		for _, args := range [][]string{{"plan", "-markdown", "-out=p.plan"}, {"plan", "-json"}, {"validate"}} {
			r := tf(t, dir, args...)
			mustCode(t, r, 1, fmt.Sprintf("%v reading %s", args, path))
			if strings.Contains(r.stdout+r.stderr, body) || strings.Contains(r.stdout+r.stderr, tsig) {
				t.Errorf("%v with file(%q) prints the secret:\n%s%s", args, path, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr+r.stdout, "file()") {
				t.Errorf("%v: the error does not say file() refused:\n%s", args, r.stderr)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "p.plan")); err == nil {
			t.Error("a plan was saved")
		}
	}
}

// standIn is a PostgreSQL server of a pull request's author: it asks every
// client for its password in clear and keeps what it gets.
type standIn struct {
	addr  string
	conns atomic.Int32
	mu    sync.Mutex
	got   []string
}

func startStandIn(t *testing.T) *standIn {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &standIn{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				be := pgproto3.NewBackend(c, c)
				msg, err := be.ReceiveStartupMessage()
				if _, ssl := msg.(*pgproto3.SSLRequest); ssl {
					c.Write([]byte("N"))
					msg, err = be.ReceiveStartupMessage()
				}
				if err != nil {
					return
				}
				be.Send(&pgproto3.AuthenticationCleartextPassword{})
				if be.Flush() != nil {
					return
				}
				be.SetAuthType(pgproto3.AuthTypeCleartextPassword)
				if m, err := be.Receive(); err == nil {
					if pw, ok := m.(*pgproto3.PasswordMessage); ok {
						s.mu.Lock()
						s.got = append(s.got, pw.Password)
						s.mu.Unlock()
					}
				}
			}()
		}
	}()
	return s
}

// TestStatePasswordToAuthorsServer: a state block naming the author's
// server never gets the runner's PGPASSWORD: not in clear, not over TLS
// unverified, and not at all where the runner pins the state elsewhere.
func TestStatePasswordToAuthorsServer(t *testing.T) {
	evil := startStandIn(t)
	lab := pgtest.Start(t)
	block := func(connStr string) func(string) string {
		return func(s string) string {
			s, _, _ = strings.Cut(s, "\n# state\n")
			if connStr == "-" {
				return s + "\n# state\nstate \"postgres\" {\n  name = \"pinned\"\n}\n"
			}
			return s + "\n# state\n" + fmt.Sprintf("state \"postgres\" {\n  conn_str = %q\n}\n", connStr)
		}
	}
	dir := quickstart(t)
	pw := "PGPASSWORD=" + lab.Password
	for _, tc := range []struct {
		name, connStr string
		env           []string
		want          string
	}{
		{"in clear", "postgres://trustform@" + evil.addr + "/x?sslmode=disable", []string{pw}, "in clear"},
		{"sslmode=prefer", "postgres://trustform@" + evil.addr + "/x", []string{pw}, "sslmode=verify-full"},
		{"sslmode=require", "postgres://trustform@" + evil.addr + "/x?sslmode=require", []string{pw}, "without its certificate checked"},
		{"pinned elsewhere", "postgres://trustform@" + evil.addr + "/x?sslmode=verify-full&sslrootcert=system", []string{pw, "TRUSTFORM_PG_CONN_STR=" + lab.ConnStr()}, "another PostgreSQL server than the one this runner pins"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rewrite(t, dir, block(tc.connStr))
			for _, args := range [][]string{{"plan"}, {"apply", "-auto-approve"}, {"state", "list"}, {"show"}} {
				r := tfEnv(t, dir, tc.env, args...)
				mustCode(t, r, 1, fmt.Sprint(args))
				if !strings.Contains(r.stderr, tc.want) {
					t.Errorf("%v does not say why (%q):\n%s", args, tc.want, r.stderr)
				}
			}
			if n := evil.conns.Load(); n != 0 {
				t.Errorf("the author's server was contacted %d times; it got %q", n, evil.got)
			}
		})
	}
	t.Run("pinned", func(t *testing.T) {
		rewrite(t, dir, block("-"))
		mustCode(t, tfEnv(t, dir, []string{pw, "TRUSTFORM_PG_CONN_STR=" + lab.ConnStr()}, "apply", "-auto-approve"), 0, "apply with the pinned state")
		r := tfEnv(t, dir, []string{pw}, "state", "list", "-backend-config=conn_str="+lab.ConnStr(), "-backend-config=name=pinned")
		mustCode(t, r, 0, "state list through -backend-config")
		if !strings.Contains(r.stdout, "certificate.www") {
			t.Errorf("the pinned state is not the one applied:\n%s", r.stdout)
		}
		if _, err := os.Stat(filepath.Join(dir, ".trustform", "state.json")); err == nil {
			t.Error("the state went to .trustform/")
		}
	})
	t.Run("an untrusted plan only reads", func(t *testing.T) {
		// A schema nobody created: the untrusted plan does not create it,
		// and a lock held by another runner does not stop it.
		rewrite(t, dir, func(s string) string {
			s, _, _ = strings.Cut(s, "\n# state\n")
			return s + "\n# state\nstate \"postgres\" {\n  schema = \"pull_request\"\n}\n"
		})
		env := []string{pw, "TRUSTFORM_PG_CONN_STR=" + lab.ConnStr(), "TRUSTFORM_ALLOW_NET=127.0.0.1/32"}
		holder := &state.PostgresStore{ConnStr: lab.ConnStr(), Schema: "trustform", Name: "pinned"}
		t.Setenv("PGPASSWORD", lab.Password)
		if err := holder.Lock(t.Context(), "apply", 0); err != nil {
			t.Fatal(err)
		}
		defer holder.Close()
		r := tfEnv(t, dir, env, "plan", "-untrusted", "-lock-timeout=0s")
		if r.code == 1 {
			t.Fatalf("the untrusted plan failed:\n%s", r.stderr)
		}
		conn, err := pgx.Connect(t.Context(), lab.ConnStr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(t.Context())
		var exists bool
		conn.QueryRow(t.Context(), "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'pull_request')").Scan(&exists)
		if exists {
			t.Error("the untrusted plan created its schema in the state database")
		}
		// The runner's own state, locked by another run, is read, not waited for.
		rewrite(t, dir, func(s string) string { return strings.Replace(s, `schema = "pull_request"`, `name = "pinned"`, 1) })
		if r := tfEnv(t, dir, env, "plan", "-untrusted", "-lock-timeout=0s"); r.code == 1 {
			t.Errorf("the untrusted plan waited for the lock or failed:\n%s", r.stderr)
		}
	})
}

// TestEditedPlanAddsReplaceRevoke: a reviewed "no changes" plan, edited
// in the artefact store to say -replace and -revoke with the steps that
// go with them, is refused: with the runner's plan key its signature
// fails; without one, apply was not given those options. Nothing is
// re-keyed or revoked, and the state is not written. The same options
// from a signed file, or given again to apply, do apply.
func TestEditedPlanAddsReplaceRevoke(t *testing.T) {
	dir := quickstart(t)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "first apply")
	signed := []string{"TRUSTFORM_PLAN_KEY=" + strings.Repeat("0123456789abcdef", 2)}
	nothing, compromise := filepath.Join(dir, "nothing.plan"), filepath.Join(dir, "compromise.plan")
	mustCode(t, tfEnv(t, dir, signed, "plan", "-out="+nothing), 0, "the reviewed plan")
	mustCode(t, tf(t, dir, "plan", "-replace=certificate.www", "-revoke=keyCompromise", "-out="+compromise), 0, "the attacker's template")
	var doc, evil map[string]any
	b, _ := os.ReadFile(nothing)
	json.Unmarshal(b, &doc)
	b, _ = os.ReadFile(compromise)
	json.Unmarshal(b, &evil)
	for _, k := range []string{"replace", "revoke", "steps", "changes", "summary"} {
		doc[k] = evil[k]
	}
	b, _ = json.Marshal(doc)
	os.WriteFile(nothing, b, 0o644)
	key := filepath.Join(dir, "out", "etc", "ssl", "example", "www.key.pem")
	keyBefore, _ := os.ReadFile(key)
	stateBefore, _ := os.ReadFile(filepath.Join(dir, ".trustform", "state.json"))
	for _, tc := range []struct {
		env  []string
		want string
	}{{signed, "signature does not verify"}, {nil, "the plan was made with -replace=certificate.www -revoke=keyCompromise and this apply runs with no -replace"}} {
		r := tfEnv(t, dir, tc.env, "apply", nothing)
		mustCode(t, r, 1, "apply of the edited plan")
		if !strings.Contains(r.stderr, tc.want) {
			t.Errorf("the refusal does not say %q:\n%s", tc.want, r.stderr)
		}
	}
	if k, _ := os.ReadFile(key); !bytes.Equal(k, keyBefore) {
		t.Fatal("the key was replaced")
	}
	if st, _ := os.ReadFile(filepath.Join(dir, ".trustform", "state.json")); !bytes.Equal(st, stateBefore) {
		t.Fatal("the state was written (a revocation recorded?)")
	}
	// show recomputes the summary: the file's own is not believed.
	doc["summary"] = map[string]any{"create": 0, "update": 0, "delete": 0, "replace": 0, "wait": 0}
	b, _ = json.Marshal(doc)
	os.WriteFile(nothing, b, 0o644)
	if r := tf(t, dir, "show", nothing); !strings.Contains(r.stdout, "1 to replace") {
		t.Errorf("show believes the file's summary:\n%s", r.stdout)
	}
	// The options themselves apply, when they come from a signed file or
	// from apply's own command line.
	mustCode(t, tfEnv(t, dir, signed, "plan", "-replace=certificate.www", "-out="+compromise), 0, "a signed plan -replace")
	mustCode(t, tfEnv(t, dir, signed, "apply", compromise), 0, "apply of the signed plan")
	mustCode(t, tf(t, dir, "plan", "-replace=certificate.mail", "-out="+compromise), 0, "an unsigned plan -replace")
	mustCode(t, tf(t, dir, "apply", "-replace=certificate.mail", compromise), 0, "apply of the unsigned plan with its options")
}

// TestPlantedNextKeyDeployed: a key another user planted as KEY_FILE.next
// (a link to their key, or a file of theirs) is never taken for a staged
// next key: the plan warns, and apply neither publishes nor deploys it.
func TestPlantedNextKeyDeployed(t *testing.T) {
	for _, how := range []string{"link", "owner"} {
		t.Run(how, func(t *testing.T) {
			if how == "owner" && os.Geteuid() != 0 {
				t.Skip("SKIPPED: planting a file of another user needs root")
			}
			dir := quickstart(t)
			mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "first apply")
			liveKey := filepath.Join(dir, "out", "etc", "ssl", "example", "www.key.pem")
			planted, err := certcrypto.GeneratePrivateKey(certcrypto.EC256)
			if err != nil {
				t.Fatal(err)
			}
			theirs := filepath.Join(t.TempDir(), "theirs.pem")
			os.WriteFile(theirs, certcrypto.PEMEncode(planted), 0o600)
			next := liveKey + ".next"
			if how == "link" {
				os.Symlink(theirs, next)
			} else {
				os.WriteFile(next, certcrypto.PEMEncode(planted), 0o600)
				os.Chown(next, 65534, 65534)
			}
			r := tf(t, dir, "plan")
			mustCode(t, r, 0, "plan")
			if strings.Contains(r.stdout, "a staged next key waits") {
				t.Errorf("the planted key is taken for a staged key:\n%s", r.stdout)
			}
			if !strings.Contains(r.stderr+r.stdout, "A staged file is not trustform's") {
				t.Errorf("the plan does not warn of the planted file:\n%s%s", r.stdout, r.stderr)
			}
			mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
			zone, _ := os.ReadFile(filepath.Join(dir, "example.test.zone"))
			plantedSPKI := certificate.SPKIHash(planted.(crypto.Signer).Public())
			if strings.Contains(strings.ToLower(string(zone)), plantedSPKI) {
				t.Error("the planted key's TLSA record is published")
			}
			if k, _ := os.ReadFile(liveKey); strings.Contains(string(k), string(certcrypto.PEMEncode(planted))) {
				t.Error("the planted key is deployed")
			}
		})
	}
}

// TestTamperedRetiringRevokesLive: a retiring entry in state whose serial
// says "00" but whose PEM is the live certificate revokes nothing: the
// PEM is what would be revoked, so the PEM is checked.
func TestTamperedRetiringRevokesLive(t *testing.T) {
	dir := quickstart(t)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "first apply")
	pemLive, _ := os.ReadFile(filepath.Join(dir, "out", "etc", "ssl", "example", "www.fullchain.pem"))
	leaf, err := certcrypto.ParsePEMCertificate(pemLive)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, ".trustform", "state.json")
	b, _ := os.ReadFile(path)
	var doc map[string]any
	json.Unmarshal(b, &doc)
	doc["retiring"] = map[string]any{"certificate.www": []any{map[string]any{
		"serial": "00", "spki_sha256": strings.Repeat("ab", 32), "not_after": leaf.NotAfter.UTC().Format(time.RFC3339),
		"certificate": string(certcrypto.PEMEncode(certcrypto.DERCertificateBytes(leaf.Raw))), "reason": "keyCompromise",
	}}}
	b, _ = json.Marshal(doc)
	os.WriteFile(path, b, 0o600)
	r := tf(t, dir, "apply", "-auto-approve")
	crl, _ := os.ReadFile(filepath.Join(dir, ".trustform", "local_ca", "example", "crl.pem"))
	if len(crl) > 0 {
		c, err := x509.ParseRevocationList(pemBytes(t, crl))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range c.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
				t.Fatal("the live certificate was revoked")
			}
		}
	}
	if !strings.Contains(r.stderr, "state was edited") {
		t.Errorf("apply does not refuse the edited entry:\n%s%s", r.stdout, r.stderr)
	}
}

func pemBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("not PEM")
	}
	return blk.Bytes
}

// counter is a set of listeners of an author's choosing (DNS over UDP and
// TCP, HTTP, a POP3 banner): it counts every connection and datagram.
type counter struct {
	n     atomic.Int32
	ports []int
	udp   int
}

func startCounter(t *testing.T, tcp int) *counter {
	c := &counter{}
	for range tcp {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		c.ports = append(c.ports, ln.Addr().(*net.TCPAddr).Port)
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				c.n.Add(1)
				conn.Write([]byte("+OK SSH-2.0-OpenSSH_9.2p1 build-secrets-vault.corp.internal\r\n"))
				conn.Close()
			}
		}()
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:"+fmt.Sprint(c.ports[0]))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			c.n.Add(1)
		}
	}()
	return c
}

// TestUntrustedPlanEveryVector: one pull request tries everything above
// at once; planned with -untrusted, as examples/ci plans pull requests,
// nothing runs, nothing is contacted outside TRUSTFORM_ALLOW_NET (the
// author's listeners count), no secret reaches any output, no lock is
// taken and nothing is written to the state.
func TestUntrustedPlanEveryVector(t *testing.T) {
	lst := startCounter(t, 4)
	dns, web, pop, dir2 := lst.ports[0], lst.ports[1], lst.ports[2], lst.ports[3]
	secrets, loot := t.TempDir(), t.TempDir()
	const tsig = "dW50cnVzdGVkLXBsYW4tdHNpZy1zZWNyZXQ="
	os.WriteFile(filepath.Join(secrets, "tsig.secret"), []byte(tsig+"\n"), 0o600)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("Example CA"), 0o644)
	cfg := fmt.Sprintf(fixture("untrusted_every_vector.hcl.tmpl"), dns, web, pop, dir2, filepath.Join(secrets, "tsig.secret"),
		payload(loot), "touch "+loot+"/RELOADED", "touch "+loot+"/TESTED", "touch "+loot+"/RELOADED2")
	// Without the zone, whose observation fails first, the others are
	// observed too: the probes, the service's banner, the CA, the key URL.
	a, rest, _ := strings.Cut(cfg, "dns_zone \"z\"")
	_, rest, _ = strings.Cut(rest, "acme_account")
	b, rest, _ := strings.Cut(rest, "tlsa \"www\"")
	_, rest, _ = strings.Cut(rest, "tls_policy")
	noZone := a + "acme_account" + b + "tls_policy" + rest
	env := []string{"TRUSTFORM_ALLOW_NET=192.0.2.0/24", "PGPASSWORD=pg-hunter2", "GITHUB_TOKEN=ghs_secret"}
	for _, args := range [][]string{{"plan", "-untrusted", "-markdown", "-out=pr.plan"}, {"plan", "-untrusted", "-json"}, {"plan", "-untrusted", "-refresh-only"}, {"plan", "-untrusted", "-markdown"}} {
		c := cfg
		if args[len(args)-1] == "-markdown" {
			c = noZone
		}
		os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(c), 0o644)
		r := tfEnv(t, dir, env, args...)
		out := r.stdout + r.stderr
		t.Logf("%v: exit %d\n%s", args, r.code, out)
		for _, secret := range []string{tsig, "pg-hunter2", "ghs_secret", "build-secrets-vault"} {
			if strings.Contains(out, secret) {
				t.Errorf("%v prints %q:\n%s", args, secret, out)
			}
		}
		if !strings.Contains(out, "outside the networks this untrusted plan may reach") {
			t.Errorf("%v does not say what it did not contact:\n%s", args, out)
		}
	}
	if n := lst.n.Load(); n != 0 {
		t.Errorf("the author's listeners were contacted %d times", n)
	}
	if ents, _ := os.ReadDir(loot); len(ents) > 0 {
		t.Errorf("a command of the configuration ran: %v", ents)
	}
	if _, err := os.Stat(filepath.Join(dir, ".trustform")); err == nil {
		t.Error("the untrusted plan created .trustform/ (a lock, a state)")
	}

	// The state: a block naming the author's server is refused by the
	// allow-list before any connection, with the password in the
	// environment; the runner's own state (.trustform/, an earlier apply's)
	// is neither locked nor written.
	evil := startStandIn(t)
	os.WriteFile(filepath.Join(dir, "state.hcl"), []byte(fmt.Sprintf("state \"postgres\" {\n  conn_str = %q\n}\n", "postgres://trustform@"+evil.addr+"/x?sslmode=verify-full&sslrootcert=system")), 0o644)
	r := tfEnv(t, dir, append(env, "PGPASSWORD=pg-hunter2"), "plan", "-untrusted")
	mustCode(t, r, 1, "untrusted plan with the author's state server")
	if evil.conns.Load() != 0 {
		t.Errorf("the author's state server was contacted; it got %q", evil.got)
	}
	os.Remove(filepath.Join(dir, "state.hcl"))
	qs := quickstart(t)
	mustCode(t, tf(t, qs, "apply", "-auto-approve"), 0, "apply")
	before, _ := os.ReadFile(filepath.Join(qs, ".trustform", "state.json"))
	// Another run holds the lock: the untrusted plan neither waits for it
	// nor takes it.
	held, err := state.Acquire(filepath.Join(qs, ".trustform"), "apply", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	mustCode(t, tf(t, qs, "plan", "-lock-timeout=0s"), 1, "a trusted plan while the lock is held")
	r = tfEnv(t, qs, []string{"TRUSTFORM_ALLOW_NET="}, "plan", "-untrusted", "-lock-timeout=0s")
	mustCode(t, r, 0, "untrusted plan of the quickstart while the lock is held")
	if after, _ := os.ReadFile(filepath.Join(qs, ".trustform", "state.json")); !bytes.Equal(before, after) {
		t.Error("the untrusted plan wrote the state")
	}
}

// TestSensitiveSearchAndReplace: sensitivity follows the value, not its
// text: upper(var.pw) is as sensitive as var.pw; a sensitive value with
// an & is not stored in clear by the saved plan's JSON escapes; and a
// sensitive value that is an ordinary word ("mail") is hidden where it
// is used, not wherever the word appears.
func TestSensitiveSearchAndReplace(t *testing.T) {
	dir := quickstart(t)
	rewrite(t, dir, func(s string) string {
		s = strings.Replace(s, `common_name = "Example Test CA"`, `common_name = "${upper(var.pw)} ${var.url} ${var.word}"`, 1)
		return s + `
variable "pw" {
  type      = string
  sensitive = true
}
variable "url" {
  type      = string
  sensitive = true
}
variable "word" {
  type      = string
  sensitive = true
}
`
	})
	env := []string{"TRUSTFORM_VAR_pw=hunter2", "TRUSTFORM_VAR_url=https://ca.example/?id=7&token=tok-4711", "TRUSTFORM_VAR_word=mail"}
	var outputs []string
	for _, args := range [][]string{{"plan"}, {"plan", "-markdown"}, {"plan", "-json"}, {"plan", "-out=p.plan"}, {"apply", "-auto-approve"}, {"show"}, {"state", "pull"}} {
		r := tfEnv(t, dir, env, args...)
		mustCode(t, r, 0, fmt.Sprint(args))
		outputs = append(outputs, r.stdout+r.stderr)
	}
	saved, _ := os.ReadFile(filepath.Join(dir, "p.plan"))
	st, _ := os.ReadFile(filepath.Join(dir, ".trustform", "state.json"))
	outputs = append(outputs, string(saved), string(st))
	for i, o := range outputs {
		for _, secret := range []string{"hunter2", "HUNTER2", "tok-4711", `\u0026token`} {
			if strings.Contains(o, secret) {
				t.Errorf("output %d shows %q:\n%s", i, secret, o)
			}
		}
	}
	for _, want := range []string{"certificate.mail", "mail.example.test", `common_name = "(sensitive)"`} {
		if !strings.Contains(outputs[0], want) {
			t.Errorf("the plan does not show %q (a sensitive value that is an ordinary word hides it everywhere?):\n%s", want, outputs[0])
		}
	}
}

// TestShowTamperedPlanFile: a plan file whose addresses carry an escape
// sequence (which would erase "IRREVERSIBLE" on a terminal) or Markdown is
// refused by show and apply before anything prints it.
func TestShowTamperedPlanFile(t *testing.T) {
	dir := quickstart(t)
	mustCode(t, tf(t, dir, "plan", "-out=p.plan"), 0, "plan")
	b, _ := os.ReadFile(filepath.Join(dir, "p.plan"))
	var doc map[string]any
	json.Unmarshal(b, &doc)
	for _, edit := range []func(){
		func() { doc["steps"].([]any)[0].(map[string]any)["address"] = "local_ca.example\x1b[2K\r" },
		func() { doc["steps"].([]any)[0].(map[string]any)["phase"] = "create</details>" },
	} {
		edit()
		b, _ = json.Marshal(doc)
		os.WriteFile(filepath.Join(dir, "p.plan"), b, 0o644)
		for _, args := range [][]string{{"show", "p.plan"}, {"show", "-markdown", "p.plan"}, {"apply", "p.plan"}} {
			r := tf(t, dir, args...)
			mustCode(t, r, 1, fmt.Sprint(args))
			if strings.Contains(r.stdout+r.stderr, "\x1b[2K") || strings.Contains(r.stdout, "</details>") {
				t.Errorf("%v prints the tampered field:\n%q", args, r.stdout+r.stderr)
			}
		}
	}
}

// TestUnmanagedFileShown: a config_file pointed at a file trustform did not
// write (here a stand-in for /etc/shadow) shows neither its content nor
// its size and digest, with which a guess of the content could be checked.
func TestUnmanagedFileShown(t *testing.T) {
	dir := quickstart(t)
	shadow := filepath.Join(dir, "out", "etc", "shadow")
	os.MkdirAll(filepath.Dir(shadow), 0o755)
	content := []byte("root:$6$salt$hash:19000:0:99999:7:::\n")
	os.WriteFile(shadow, content, 0o644)
	rewrite(t, dir, func(s string) string {
		return strings.Replace(s, "/etc/nginx/sites-enabled/example-https.conf", "/etc/shadow", 1)
	})
	sum := fmt.Sprintf("%x", sha256.Sum256(content))
	for _, args := range [][]string{{"plan"}, {"plan", "-json"}, {"plan", "-markdown"}} {
		r := tf(t, dir, args...)
		mustCode(t, r, 0, fmt.Sprint(args))
		if strings.Contains(r.stdout, sum) || strings.Contains(r.stdout, fmt.Sprintf("%d bytes", len(content))) || strings.Contains(r.stdout, "$6$") {
			t.Errorf("%v shows the file's digest, size or content:\n%s", args, r.stdout)
		}
	}
}

// TestPlantedKeyLinkCopiedToPrev: a key_file replaced by a link to
// another file is refused at deployment before anything is read through
// it: the link's target is not copied to KEY_FILE.prev.
func TestPlantedKeyLinkCopiedToPrev(t *testing.T) {
	dir := quickstart(t)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	key := filepath.Join(dir, "out", "etc", "ssl", "example", "www.key.pem")
	// The target is a key of someone else's (here: another service's).
	victim, _ := os.ReadFile(filepath.Join(dir, "out", "etc", "ssl", "example", "mail.key.pem"))
	target := filepath.Join(t.TempDir(), "victim.key")
	os.WriteFile(target, victim, 0o600)
	os.Remove(key)
	os.Symlink(target, key)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "the rollover's first steps")
	r := tfAt(t, dir, time.Now().Add(time.Hour), "apply", "-auto-approve")
	mustCode(t, r, 1, "the deployment through a planted link")
	if !strings.Contains(r.stderr, "www.key.pem is not a regular file") {
		t.Errorf("the refusal does not name the link:\n%s", r.stderr)
	}
	if b, _ := os.ReadFile(key + ".prev"); bytes.Equal(b, victim) {
		t.Fatal("the link's target was copied to .prev")
	}
	if b, _ := os.ReadFile(target); !bytes.Equal(b, victim) {
		t.Fatal("the link's target was overwritten")
	}
}
