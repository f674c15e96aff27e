package webserver

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/trustform/trustform/internal/host"
)

// TestInstalledVersions: the versions come from the package database, as
// dpkg writes it: installed packages only, epoch and Debian revision
// dropped; no database leaves them unknown.
func TestInstalledVersions(t *testing.T) {
	status := `Package: nginx
Status: install ok installed
Version: 1.26.3-3+deb13u1
Description: small, powerful, scalable web/proxy server
 long text

Package: apache2-bin
Status: deinstall ok config-files
Version: 2.4.62-1

Package: apache2
Status: install ok installed
Version: 2.4.65-2

Package: libssl3t64
Status: install ok installed
Version: 1:3.5.1-1

`
	dir := t.TempDir()
	path := filepath.Join(dir, "status")
	os.WriteFile(path, []byte(status), 0o644)
	installed := Installed(host.Local{}, path)
	if got := installed("nginx"); got != (Versions{Server: "1.26.3", OpenSSL: "3.5.1"}) {
		t.Errorf("nginx: %+v", got)
	}
	if got := installed("apache"); got != (Versions{Server: "2.4.65", OpenSSL: "3.5.1"}) {
		t.Errorf("apache (apache2-bin is not installed): %+v", got)
	}
	if got := Installed(host.Local{}, filepath.Join(dir, "none"))("nginx"); got != (Versions{}) {
		t.Errorf("without a database: %+v", got)
	}
	if v := (Versions{OpenSSL: "3.5.1"}).curves([]string{"X25519MLKEM768", "X25519"}); len(v) != 2 {
		t.Errorf("OpenSSL 3.5 knows the hybrid group: %v", v)
	}
}
