package apt

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/trustform/trustform/internal/host"
)

// FuzzReadKeys: a keyring or key download is parsed without a panic.
func FuzzReadKeys(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("..", "..", "examples", "quickstart", "keys", "example-archive.asc")); err == nil {
		f.Add(b)
	}
	f.Add([]byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n-----END PGP PUBLIC KEY BLOCK-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := readKeys(b)
		if err == nil {
			for _, k := range keys {
				_ = fingerprint(k)
			}
		}
	})
}

// FuzzSourceReadBack: a .sources file found on disk is read back without a
// panic, and a file trustform did not write is never shown.
func FuzzSourceReadBack(f *testing.F) {
	s := &Source{Address: "apt_source.x", File: "/etc/apt/sources.list.d/x.sources", Types: []string{"deb"}, URIs: []string{"https://x.test/debian"}, Suites: []string{"stable"}, SignedBy: "/etc/apt/keyrings/x.gpg"}
	f.Add([]byte(s.Render()))
	f.Add([]byte("Types: deb\nURIs: https://x\nSigned-By:\n -----BEGIN PGP\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		src := *s
		src.Path = filepath.Join(dir, "x.sources")
		src.Host = host.Local{}
		os.WriteFile(src.Path, b, 0o644)
		v, err := src.Observe(t.Context())
		if err != nil || v == nil {
			return
		}
		_ = signedBy(string(b))
	})
}

// FuzzConflicts: other sources files found on disk are read without a
// panic, and once apply has disabled their conflicting entries (when it
// can), none is found again.
func FuzzConflicts(f *testing.F) {
	f.Add([]byte("deb [signed-by=/old.gpg] https://x.test/debian stable main\n"))
	f.Add([]byte("Types: deb\nURIs: https://x.test/debian/\nSuites: stable\nTrusted: yes\nEnabled: yes\n"))
	f.Add([]byte("Types: deb\nURIs: https://x.test/debian\n  https://y.test/\nSuites: stable\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := filepath.Join(t.TempDir(), "sources.list.d")
		os.Mkdir(dir, 0o755)
		s := &Source{Host: host.Local{}, Address: "apt_source.x", File: "/etc/apt/sources.list.d/x.sources", Path: filepath.Join(dir, "x.sources"),
			Types: []string{"deb"}, URIs: []string{"https://x.test/debian"}, Suites: []string{"stable"}, SignedBy: "/etc/apt/keyrings/x.gpg"}
		for _, name := range []string{"other.list", "other.sources", "../sources.list"} {
			os.WriteFile(filepath.Join(dir, name), b, 0o644)
		}
		if _, err := s.Observe(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := s.Apply(t.Context(), nil, PhaseDisableConflicts); err != nil {
			return // a stanza naming other repositories too: left alone
		}
		if _, err := s.Observe(t.Context()); err != nil {
			t.Fatal(err)
		}
		if len(s.conflicts) > 0 {
			t.Fatalf("still conflicting after apply: %+v", s.conflicts)
		}
	})
}
