// Package apttest builds a real signed APT repository for tests: a gpg key
// (a certification primary and a signing subkey, as vendors publish them), a
// repository made with apt-ftparchive whose InRelease is signed, served over
// loopback HTTP together with an HKP endpoint for the key. AptUpdate runs the
// real apt-get against it inside a temp root.
package apttest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/trustform/trustform/internal/labutil"
)

// Repo is a signed repository with suite "stable", component "main".
type Repo struct {
	URL       string // the repository, for uris
	Keyserver string // an HKP server that knows the key
	KeyURL    string // the armored key over HTTP
	// Fingerprint of the repository key's primary key, 40 upper-case hex digits.
	Fingerprint string

	gnupg string
	dir   string
	mu    sync.Mutex
	key   []byte // the armored public key as published now
}

// Need finds the tools; without them the test is skipped, or fails when CI=true.
func Need(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		labutil.Binary(t, tool)
	}
}

// NewRepo makes a key whose signing subkey expires after expire (a gpg
// expiry such as "10d" or "2y"), builds and signs the repository and serves it.
func NewRepo(t testing.TB, expire string) *Repo {
	t.Helper()
	Need(t, "gpg", "apt-ftparchive", "apt-get")
	r := &Repo{gnupg: t.TempDir(), dir: t.TempDir()}
	r.gpg(t, "--quick-gen-key", "trustform test archive <archive@example.test>", "ed25519", "cert", "5y")
	colons := r.gpg(t, "--with-colons", "--list-keys", "archive@example.test")
	for _, line := range strings.Split(colons, "\n") {
		if f := strings.Split(line, ":"); f[0] == "fpr" {
			r.Fingerprint = f[9]
			break
		}
	}
	r.gpg(t, "--quick-add-key", r.Fingerprint, "ed25519", "sign", expire)
	r.build(t)

	mux := http.NewServeMux()
	mux.Handle("/debian/", http.StripPrefix("/debian/", http.FileServer(http.Dir(r.dir))))
	mux.HandleFunc("/key.asc", func(w http.ResponseWriter, _ *http.Request) { w.Write(r.publishedKey()) })
	mux.HandleFunc("/pks/lookup", func(w http.ResponseWriter, req *http.Request) {
		q := req.URL.Query()
		if q.Get("op") != "get" || !strings.EqualFold(strings.TrimPrefix(q.Get("search"), "0x"), r.Fingerprint) {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/pgp-keys")
		w.Write(r.publishedKey())
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	r.URL, r.Keyserver, r.KeyURL = srv.URL+"/debian", srv.URL, srv.URL+"/key.asc"
	return r
}

func (r *Repo) publishedKey() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.key
}

// Extend moves the expiry of the key and its subkeys, as a repository owner
// does before it runs out, and republishes the key and the signature.
func (r *Repo) Extend(t testing.TB, expire string) {
	t.Helper()
	r.gpg(t, "--quick-set-expire", r.Fingerprint, expire, "*")
	r.build(t)
}

// build writes an empty repository, its Release and InRelease, and exports the key.
func (r *Repo) build(t testing.TB) {
	t.Helper()
	arch := strings.TrimSpace(run(t, "", nil, "dpkg", "--print-architecture"))
	bin := filepath.Join(r.dir, "dists", "stable", "main", "binary-"+arch)
	must(t, os.MkdirAll(bin, 0o755))
	must(t, os.WriteFile(filepath.Join(bin, "Packages"), nil, 0o644))
	release := run(t, r.dir, nil, "apt-ftparchive",
		"-o", "APT::FTPArchive::Release::Suite=stable", "-o", "APT::FTPArchive::Release::Codename=stable",
		"-o", "APT::FTPArchive::Release::Components=main", "-o", "APT::FTPArchive::Release::Architectures="+arch,
		"release", "dists/stable")
	must(t, os.WriteFile(filepath.Join(r.dir, "dists", "stable", "Release"), []byte(release), 0o644))
	os.Remove(filepath.Join(r.dir, "dists", "stable", "InRelease"))
	r.gpg(t, "--clearsign", "--digest-algo", "SHA256", "-o", filepath.Join(r.dir, "dists", "stable", "InRelease"), filepath.Join(r.dir, "dists", "stable", "Release"))
	key := r.gpg(t, "--armor", "--export", r.Fingerprint)
	r.mu.Lock()
	r.key = []byte(key)
	r.mu.Unlock()
}

func (r *Repo) gpg(t testing.TB, args ...string) string {
	t.Helper()
	base := []string{"--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", "", "--quiet"}
	return run(t, "", []string{"GNUPGHOME=" + r.gnupg}, "gpg", append(base, args...)...)
}

// AptUpdate runs the real apt-get update with every directory inside root:
// sources from root/etc/apt/sources.list.d, lists and cache under root. It
// returns apt's output and whether it succeeded.
func AptUpdate(t testing.TB, root string) (string, bool) {
	t.Helper()
	for _, d := range []string{"etc/apt/sources.list.d", "etc/apt/apt.conf.d", "etc/apt/trusted.gpg.d", "etc/apt/preferences.d",
		"var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/lib/dpkg", "var/log/apt"} {
		must(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	status := filepath.Join(root, "var/lib/dpkg/status")
	if _, err := os.Stat(status); err != nil {
		must(t, os.WriteFile(status, nil, 0o644))
	}
	etc := filepath.Join(root, "etc/apt")
	args := []string{
		"-o", "Dir::Etc=" + etc,
		"-o", "Dir::Etc::sourcelist=" + filepath.Join(etc, "sources.list"),
		"-o", "Dir::Etc::sourceparts=" + filepath.Join(etc, "sources.list.d"),
		"-o", "Dir::Etc::parts=" + filepath.Join(etc, "apt.conf.d"),
		"-o", "Dir::Etc::preferencesparts=" + filepath.Join(etc, "preferences.d"),
		"-o", "Dir::Etc::trusted=" + filepath.Join(etc, "trusted.gpg"),
		"-o", "Dir::Etc::trustedparts=" + filepath.Join(etc, "trusted.gpg.d"),
		"-o", "Dir::State=" + filepath.Join(root, "var/lib/apt"),
		"-o", "Dir::State::status=" + status,
		"-o", "Dir::Cache=" + filepath.Join(root, "var/cache/apt"),
		"-o", "Dir::Log=" + filepath.Join(root, "var/log/apt"),
		"-o", "APT::Sandbox::User=root",
		"-o", "Debug::NoLocking=1",
		"-o", "Acquire::Languages=none",
		"update",
	}
	out, err := exec.Command("apt-get", args...).CombinedOutput()
	ok := err == nil && !strings.Contains(string(out), "W: ") && !strings.Contains(string(out), "E: ")
	return string(out), ok
}

func run(t testing.TB, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr)
	}
	return string(out)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
