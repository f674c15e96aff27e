package webserver

import (
	"context"
	"regexp"
	"strconv"
	"strings"

	"github.com/trustform/trustform/internal/host"
)

// Versions are the server's and OpenSSL's, as the host reports them; the
// Mozilla generator's version-dependent lines follow them. Empty: unknown
// (no server runs, as in the quickstart), and the lines that are safe on
// every version are chosen.
type Versions struct {
	Server  string // "1.22.1" (nginx), "2.4.62" (Apache)
	OpenSSL string // "3.0.15"
}

var (
	serverVersion  = regexp.MustCompile(`(?:nginx|Apache)/(\d+(?:\.\d+)*)`)
	opensslVersion = regexp.MustCompile(`OpenSSL (\d+(?:\.\d+)*)`)
	runningWith    = regexp.MustCompile(`running with OpenSSL (\d+(?:\.\d+)*)`)
)

// observeVersions asks the binary of the test command for its version (-V
// for nginx also names the OpenSSL it runs with), and `openssl version`.
// Failures leave a version unknown: they are not the vhost's to report.
func observeVersions(ctx context.Context, h host.Host, testCommand string) Versions {
	var v Versions
	bin := strings.Fields(testCommand)
	if len(bin) == 0 {
		return v
	}
	if out, err := h.Run(ctx, bin[0]+" -V 2>&1 || "+bin[0]+" -v 2>&1"); err == nil {
		if m := serverVersion.FindSubmatch(out); m != nil {
			v.Server = string(m[1])
		}
		if m := runningWith.FindSubmatch(out); m != nil {
			v.OpenSSL = string(m[1])
		}
	}
	if v.OpenSSL == "" {
		if out, err := h.Run(ctx, "openssl version"); err == nil {
			if m := opensslVersion.FindSubmatch(out); m != nil {
				v.OpenSSL = string(m[1])
			}
		}
	}
	return v
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
