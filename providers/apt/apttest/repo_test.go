package apttest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Without the key apt refuses the repository (NO_PUBKEY); with a keyring
// named by Signed-By it accepts it.
func TestRepoNeedsItsKey(t *testing.T) {
	repo := NewRepo(t, "1y")
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc/apt/sources.list.d"), 0o755)
	keyring := filepath.Join(root, "etc/apt/keyrings/test.asc")
	os.WriteFile(filepath.Join(root, "etc/apt/sources.list.d/test.sources"), []byte("Types: deb\nURIs: "+repo.URL+"\nSuites: stable\nComponents: main\nSigned-By: "+keyring+"\n"), 0o644)
	os.MkdirAll(filepath.Dir(keyring), 0o755)
	os.WriteFile(keyring, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n-----END PGP PUBLIC KEY BLOCK-----\n"), 0o644)
	out, ok := AptUpdate(t, root)
	if ok || !strings.Contains(out, "NO_PUBKEY") {
		t.Fatalf("apt-get update without the key: ok=%v\n%s", ok, out)
	}
	os.WriteFile(keyring, repo.publishedKey(), 0o644)
	if out, ok := AptUpdate(t, root); !ok {
		t.Fatalf("apt-get update with the key failed:\n%s", out)
	}
}
