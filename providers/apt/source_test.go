package apt_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustform/trustform/providers/apt"
	"github.com/trustform/trustform/providers/apt/apttest"
)

// TestAPTSignatureCheckingStaysOn: a source rendered from values at the edge
// of what the schema allows (every character of a deb822 word) is one
// stanza that the real apt-get reads, and it still checks signatures: with
// an empty keyring named by Signed-By, apt-get refuses the repository
// (NO_PUBKEY), so no value switched checking off.
func TestAPTSignatureCheckingStaysOn(t *testing.T) {
	apttest.Need(t, "apt-get", "gpg", "apt-ftparchive")
	repo := apttest.NewRepo(t, "1y")
	root := t.TempDir()
	keyring := filepath.Join(root, "etc/apt/keyrings/edge.asc")
	os.MkdirAll(filepath.Dir(keyring), 0o755)
	os.WriteFile(keyring, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n-----END PGP PUBLIC KEY BLOCK-----\n"), 0o644)
	src := &apt.Source{Address: "apt_source.edge", Types: []string{"deb"}, URIs: []string{repo.URL},
		Suites: []string{"stable"}, Components: []string{"main", "contrib~1.2+b_3-x"}, SignedBy: keyring}
	out := src.Render()
	if n := strings.Count(out, "\n\n"); n != 0 || strings.Contains(out, "Trusted") {
		t.Fatalf("not one stanza:\n%s", out)
	}
	os.MkdirAll(filepath.Join(root, "etc/apt/sources.list.d"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/apt/sources.list.d/edge.sources"), []byte(out), 0o644)
	got, ok := apttest.AptUpdate(t, root)
	if ok || !strings.Contains(got, "NO_PUBKEY") {
		t.Fatalf("apt-get accepted an unsigned-for-it repository, or did not read the stanza (ok=%v):\n%s\n%s", ok, got, out)
	}
}
