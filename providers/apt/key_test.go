package apt_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/providers/apt"
)

const exampleFingerprint = "734608F7CD36DD4E720A4C708BF26C0845ABC4F2"

func exampleKey(t *testing.T) string {
	p, err := filepath.Abs(filepath.Join("..", "..", "examples", "quickstart", "keys", "example-archive.asc"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKeyWritesOnlyThePinnedKey(t *testing.T) {
	for _, name := range []string{"vendor.gpg", "vendor.asc"} {
		path := filepath.Join(t.TempDir(), name)
		k := &apt.Key{Host: host.Local{}, Fingerprint: exampleFingerprint, URL: "file:" + exampleKey(t), Keyring: "/etc/apt/keyrings/" + name, Path: path, Now: time.Now}
		if err := k.Apply(context.Background(), nil, "write"); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		if armored := strings.HasPrefix(string(b), "-----BEGIN PGP PUBLIC KEY BLOCK-----"); armored != strings.HasSuffix(name, ".asc") {
			t.Errorf("%s: armored %v", name, armored)
		}
		v, err := k.Observe(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := v["fingerprints"].List; len(got) != 1 || got[0] != exampleFingerprint || v["expires"].Str != "never" {
			t.Errorf("%s holds %v, expires %q", name, got, v["expires"].Str)
		}
		if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
			t.Errorf("%s mode %v, want 0644 (apt reads it as _apt)", name, st.Mode().Perm())
		}
	}
}

// A key whose fingerprint is not the pinned one is refused, naming both,
// and nothing is written.
func TestKeyWrongFingerprintRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vendor.gpg")
	pinned := strings.Repeat("AB", 20)
	k := &apt.Key{Host: host.Local{}, Fingerprint: pinned, URL: exampleKey(t), Path: path, Now: time.Now}
	err := k.Apply(context.Background(), nil, "write")
	if err == nil || !strings.Contains(err.Error(), exampleFingerprint) || !strings.Contains(err.Error(), pinned) {
		t.Fatalf("refusal does not show both fingerprints: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("a keyring was written for a refused key")
	}
}

// TestHKPPort: hkp:// keyservers are asked on HKP's port, 11371, not on 80.
func TestHKPPort(t *testing.T) {
	for in, want := range map[string]string{
		"hkp://keys.example.test/pks/lookup":    "http://keys.example.test:11371/pks/lookup",
		"hkp://keys.example.test:80/pks/lookup": "http://keys.example.test:80/pks/lookup",
		"hkp://[2001:db8::1]/pks/lookup":        "http://[2001:db8::1]:11371/pks/lookup",
		"hkps://keys.openpgp.org/pks/lookup":    "https://keys.openpgp.org/pks/lookup",
		"https://vendor.example.test/key.asc":   "https://vendor.example.test/key.asc",
	} {
		u, _ := url.Parse(in)
		if got := apt.HTTPURL(u).String(); got != want {
			t.Errorf("%s is fetched from %s, want %s", in, got, want)
		}
	}
}
