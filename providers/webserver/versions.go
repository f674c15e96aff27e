package webserver

import (
	"bufio"
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/trustform/trustform/internal/host"
)

// Versions are the server's and OpenSSL's, as the host's package database
// says or the vhost block states them; the Mozilla generator's
// version-dependent lines follow them. Empty: unknown (no package database,
// as in the quickstart), and the lines that are safe on every version are
// chosen.
//
// Plan runs no command to learn them: a test_command is the configuration
// author's text, and a plan of a pull request must not run it (not even its
// first word with -V).
type Versions struct {
	Server  string // "1.22.1" (nginx), "2.4.62" (Apache)
	OpenSSL string // "3.0.15"
}

// DpkgStatus is where Debian and Ubuntu keep what is installed.
const DpkgStatus = "/var/lib/dpkg/status"

// The packages whose versions are the server's and its OpenSSL's, first
// found first taken.
var (
	serverPackages  = map[string][]string{"nginx": {"nginx", "nginx-core", "nginx-full", "nginx-light", "nginx-extras"}, "apache": {"apache2-bin", "apache2"}}
	opensslPackages = []string{"libssl3t64", "libssl3", "openssl"}
	upstream        = regexp.MustCompile(`^(?:[0-9]+:)?([0-9]+(?:\.[0-9]+)*)`)
)

// Installed reads the versions of both web servers and OpenSSL from a dpkg
// status file on h, once, whoever asks first: every vhost of a host shares
// one read. A missing or unreadable file leaves them unknown.
func Installed(h host.Host, path string) func(server string) Versions {
	read := sync.OnceValue(func() map[string]string {
		b, err := h.ReadFile(path)
		if err != nil || b == nil {
			return nil
		}
		return dpkgVersions(b)
	})
	return func(server string) Versions {
		pkgs := read()
		var v Versions
		for _, p := range serverPackages[server] {
			if v.Server = pkgs[p]; v.Server != "" {
				break
			}
		}
		for _, p := range opensslPackages {
			if v.OpenSSL = pkgs[p]; v.OpenSSL != "" {
				break
			}
		}
		return v
	}
}

// dpkgVersions are the upstream versions of the installed packages of a
// dpkg status file ("1.22.1-9+deb12u1" → "1.22.1", the epoch dropped).
// Only the packages that matter here are kept.
func dpkgVersions(status []byte) map[string]string {
	wanted := map[string]bool{}
	for _, ps := range serverPackages {
		for _, p := range ps {
			wanted[p] = true
		}
	}
	for _, p := range opensslPackages {
		wanted[p] = true
	}
	out := map[string]string{}
	var pkg, version string
	installed := false
	flush := func() {
		if wanted[pkg] && installed {
			if m := upstream.FindStringSubmatch(version); m != nil {
				out[pkg] = m[1]
			}
		}
		pkg, version, installed = "", "", false
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, "Package: "):
			pkg = strings.TrimSpace(strings.TrimPrefix(line, "Package: "))
		case strings.HasPrefix(line, "Version: "):
			version = strings.TrimSpace(strings.TrimPrefix(line, "Version: "))
		case strings.HasPrefix(line, "Status: "):
			installed = strings.HasSuffix(strings.TrimSpace(line), " installed")
		}
	}
	flush()
	return out
}

// atLeast reports whether version v is known and not older than min.
func atLeast(v, min string) bool {
	if v == "" {
		return false
	}
	a, b := strings.Split(v, "."), strings.Split(min, ".")
	for i := range max(len(a), len(b)) {
		x, y := 0, 0
		if i < len(a) {
			x, _ = strconv.Atoi(a[i])
		}
		if i < len(b) {
			y, _ = strconv.Atoi(b[i])
		}
		if x != y {
			return x > y
		}
	}
	return true
}

// curves are the profile's TLS groups that the server's OpenSSL knows:
// the hybrid X25519MLKEM768 needs OpenSSL 3.5 (a group it does not know
// makes the server refuse its configuration).
func (v Versions) curves(profile []string) []string {
	var out []string
	for _, c := range profile {
		if strings.Contains(c, "MLKEM") && !atLeast(v.OpenSSL, "3.5") {
			continue
		}
		out = append(out, c)
	}
	return out
}
