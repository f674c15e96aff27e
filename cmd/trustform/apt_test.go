package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustform/trustform/providers/apt/apttest"
)

// aptConfig writes a configuration that installs repo's key (fetched as
// source says: keyserver or url) and its source into root, a system's "/".
func aptConfig(t *testing.T, repo *apttest.Repo, root, fingerprint, source string) string {
	dir := t.TempDir()
	cfg := fmt.Sprintf(`apt_key "vendor" {
  fingerprint = %q
  %s
  keyring     = "%s/etc/apt/keyrings/vendor.gpg"
}

apt_source "vendor" {
  file       = "%s/etc/apt/sources.list.d/vendor.sources"
  uris       = [%q]
  suites     = ["stable"]
  components = ["main"]
  signed_by  = apt_key.vendor
}
`, fingerprint, source, root, root, repo.URL)
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// handWritten is the source an administrator wrote from a blog post: no Signed-By.
func handWritten(t *testing.T, repo *apttest.Repo, root string) {
	os.MkdirAll(filepath.Join(root, "etc/apt/sources.list.d"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/apt/sources.list.d/vendor.sources"), []byte("Types: deb\nURIs: "+repo.URL+"\nSuites: stable\nComponents: main\n"), 0o644)
}

func TestAPTKeyFromKeyserverWithRealAptGet(t *testing.T) {
	repo := apttest.NewRepo(t, "2y")
	root := t.TempDir()
	handWritten(t, repo, root)
	if out, ok := apttest.AptUpdate(t, root); ok || !strings.Contains(out, "NO_PUBKEY") {
		t.Fatalf("before apply apt-get update should fail with NO_PUBKEY:\n%s", out)
	}
	dir := aptConfig(t, repo, root, repo.Fingerprint, fmt.Sprintf("keyserver = %q", repo.Keyserver))
	r := tf(t, dir, "apply", "-auto-approve")
	mustCode(t, r, 0, "apply")
	if out, ok := apttest.AptUpdate(t, root); !ok {
		t.Fatalf("after apply apt-get update fails:\n%s", out)
	}
	src, _ := os.ReadFile(filepath.Join(root, "etc/apt/sources.list.d/vendor.sources"))
	if !strings.Contains(string(src), "Signed-By: "+root+"/etc/apt/keyrings/vendor.gpg") {
		t.Errorf("the source does not name its keyring:\n%s", src)
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after apply")
}

func TestAPTKeyWithOtherFingerprintRefused(t *testing.T) {
	repo := apttest.NewRepo(t, "2y")
	root := t.TempDir()
	pinned := "734608F7CD36DD4E720A4C708BF26C0845ABC4F2" // the quickstart's key, not the repository's
	dir := aptConfig(t, repo, root, pinned, fmt.Sprintf("url         = %q", repo.KeyURL))
	r := tf(t, dir, "apply", "-auto-approve")
	mustCode(t, r, 1, "apply of a key with another fingerprint")
	for _, want := range []string{pinned, repo.Fingerprint, "nothing was written", "apt_key.vendor"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the refusal lacks %q:\n%s", want, r.stderr)
		}
	}
	for _, f := range []string{"etc/apt/keyrings/vendor.gpg", "etc/apt/sources.list.d/vendor.sources"} {
		if _, err := os.Stat(filepath.Join(root, f)); !os.IsNotExist(err) {
			t.Errorf("%s was written", f)
		}
	}
}

// A key that runs out soon is drift; once the owner extends it, apply
// refreshes the keyring and apt keeps working.
func TestAPTKeyExpiringSoon(t *testing.T) {
	repo := apttest.NewRepo(t, "10d")
	root := t.TempDir()
	dir := aptConfig(t, repo, root, repo.Fingerprint, fmt.Sprintf("url         = %q", repo.KeyURL))
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	if out, ok := apttest.AptUpdate(t, root); !ok {
		t.Fatalf("apt-get update:\n%s", out)
	}

	r := tfPlanJSON(t, dir, nil, "-refresh-only", "-detailed-exitcode")
	mustCode(t, r, 2, "plan -refresh-only with a key expiring in 10 days")
	var p struct {
		Changes []struct {
			Address string   `json:"address"`
			Reasons []string `json:"reasons"`
		} `json:"changes"`
	}
	json.Unmarshal([]byte(r.stdout), &p)
	if len(p.Changes) != 1 || p.Changes[0].Address != "apt_key.vendor" || !strings.Contains(strings.Join(p.Changes[0].Reasons, " "), "within renew_before") {
		t.Fatalf("drift entries: %+v", p.Changes)
	}
	r = tf(t, dir, "apply", "-auto-approve")
	mustCode(t, r, 1, "apply while the owner has not extended the key")
	if !strings.Contains(r.stderr, "the repository owner must extend or replace it") {
		t.Errorf("stderr:\n%s", r.stderr)
	}

	repo.Extend(t, "2y")
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply after the owner extended the key")
	mustCode(t, tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode"), 0, "drift after the refresh")
	if out, ok := apttest.AptUpdate(t, root); !ok {
		t.Fatalf("apt-get update after the refresh:\n%s", out)
	}
}

// A key trusted globally the apt-key way moves to its own keyring; the
// global copy goes only after the keyring and the source are in place.
func TestAPTLegacyKeyMoved(t *testing.T) {
	repo := apttest.NewRepo(t, "2y")
	root := t.TempDir()
	handWritten(t, repo, root)
	legacy := filepath.Join(root, "etc/apt/trusted.gpg.d/vendor.asc")
	os.MkdirAll(filepath.Dir(legacy), 0o755)
	key, _ := readURL(repo.KeyURL)
	os.WriteFile(legacy, key, 0o644)
	if out, ok := apttest.AptUpdate(t, root); !ok {
		t.Fatalf("the legacy setup does not work to begin with:\n%s", out)
	}
	dir := aptConfig(t, repo, root, repo.Fingerprint, fmt.Sprintf("url         = %q", repo.KeyURL))
	r := tf(t, dir, "plan")
	if !strings.Contains(r.stdout, "remove-legacy  after 1,2  [apt-key-before-source]") {
		t.Errorf("the legacy removal is not ordered after the keyring and the source:\n%s", r.stdout)
	}
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	if _, err := os.Stat(legacy); !os.IsNotExist(err) {
		t.Error("the key is still trusted globally")
	}
	if out, ok := apttest.AptUpdate(t, root); !ok {
		t.Fatalf("apt-get update after the move:\n%s", out)
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after apply")
}

func readURL(u string) ([]byte, error) {
	resp, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// The blog-post leftover: an old .list line for the same repository with
// another keyring makes the real apt-get update fail while the managed
// source is fine. A drift check names the file and line; apply comments the
// line out, and apt-get update works again.
func TestAPTConflictingListEntry(t *testing.T) {
	repo := apttest.NewRepo(t, "2y")
	root := t.TempDir()
	dir := aptConfig(t, repo, root, repo.Fingerprint, fmt.Sprintf("url         = %q", repo.KeyURL))
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	if out, ok := apttest.AptUpdate(t, root); !ok {
		t.Fatalf("apt-get update after apply:\n%s", out)
	}
	old := filepath.Join(root, "etc/apt/sources.list.d/vendor-old.list")
	line := "deb [arch=amd64 signed-by=/usr/share/keyrings/vendor-old.gpg] " + repo.URL + " stable main\n"
	os.WriteFile(old, []byte("# from the vendor's 2019 install guide\n"+line), 0o644)
	if out, ok := apttest.AptUpdate(t, root); ok || !strings.Contains(out, "Conflicting values set for option Signed-By") {
		t.Fatalf("apt-get update should fail on the conflict:\n%s", out)
	}
	r := tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode")
	mustCode(t, r, 2, "drift check")
	if !strings.Contains(r.stdout, old+":2 also lists "+repo.URL+" stable with Signed-By /usr/share/keyrings/vendor-old.gpg") {
		t.Errorf("the drift does not name the line:\n%s", r.stdout)
	}
	r = tf(t, dir, "plan")
	if !strings.Contains(r.stdout, "disable-conflicts") || !strings.Contains(r.stdout, "apply comments that line out") {
		t.Errorf("the plan does not propose the fix:\n%s", r.stdout)
	}
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply with the conflict")
	if out, ok := apttest.AptUpdate(t, root); !ok {
		t.Fatalf("apt-get update after the fix:\n%s", out)
	}
	b, _ := os.ReadFile(old)
	if !strings.Contains(string(b), "# from the vendor's 2019 install guide\n# disabled by trustform (apt_source.vendor") || !strings.HasSuffix(string(b), line) {
		t.Errorf("the old line is not kept, commented out:\n%s", b)
	}
	mustCode(t, tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode"), 0, "drift check after the fix")
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after the fix")
}

// A deb822 stanza with Trusted: yes switches signature checking off for the
// repository (apt-get installs unsigned packages from it): disabled with
// Enabled: no. A stanza that also lists another repository is not touched:
// apply stops there naming it.
func TestAPTTrustedStanza(t *testing.T) {
	repo := apttest.NewRepo(t, "2y")
	root := t.TempDir()
	dir := aptConfig(t, repo, root, repo.Fingerprint, fmt.Sprintf("url         = %q", repo.KeyURL))
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	mixed := filepath.Join(root, "etc/apt/sources.list.d/mixed.sources")
	os.WriteFile(mixed, []byte("Types: deb\nURIs: "+repo.URL+"\nSuites: stable testing\nComponents: main\nTrusted: yes\n"), 0o644)
	r := tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode")
	mustCode(t, r, 2, "drift check")
	if !strings.Contains(r.stdout, mixed+":1 also lists "+repo.URL+" stable with trusted=yes") {
		t.Errorf("the drift does not name the stanza:\n%s", r.stdout)
	}
	r = tf(t, dir, "apply", "-auto-approve")
	mustCode(t, r, 1, "apply with a stanza naming another suite")
	if !strings.Contains(r.stderr, mixed+":1 names other repositories too") {
		t.Errorf("apply does not say why it stopped:\n%s", r.stderr)
	}
	if b, _ := os.ReadFile(mixed); strings.Contains(string(b), "Enabled") {
		t.Errorf("a stanza for another suite was disabled:\n%s", b)
	}
	os.WriteFile(mixed, []byte("Types: deb\nURIs: "+repo.URL+"\nSuites: stable\nComponents: main\nTrusted: yes\n\nTypes: deb\nURIs: "+repo.URL+"\nSuites: testing\nComponents: main\n"), 0o644)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply with the stanza split")
	b, _ := os.ReadFile(mixed)
	if !strings.HasPrefix(string(b), "Types: deb\nEnabled: no\n") || strings.Count(string(b), "Enabled") != 1 {
		t.Errorf("the trusted stanza is not disabled alone:\n%s", b)
	}
	// The test repository has no testing suite: apt-get update reports
	// that, but no conflict, and fetches stable signed.
	if out, _ := apttest.AptUpdate(t, root); strings.Contains(out, "Conflicting") || !strings.Contains(out, "stable InRelease") {
		t.Fatalf("apt-get update after the fix:\n%s", out)
	}
	mustCode(t, tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode"), 0, "drift check after the fix")
}
