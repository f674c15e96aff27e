package webserver

import (
	"fmt"
	"strings"

	"github.com/trustform/trustform/providers"
)

// Site is a virtual host as the web server providers render it: the
// configuration with references resolved and paths as the server sees them.
type Site struct {
	Address   string // "vhost.NAME", written into the managed file's header
	Listen    string // host:port, "*" for every address
	Names     []string
	CertFile  string // empty for plain HTTP
	KeyFile   string
	Protocols []string
	Ciphers   string
	// Mozilla is the TLS policy's Mozilla profile, whose other lines
	// (curves, sessions, TLS 1.3 suites) are rendered too; nil for none.
	Mozilla *Profile
	// Versions are what the server runs, observed: the Mozilla lines
	// that depend on them follow.
	Versions      Versions
	Root          string
	RedirectHTTPS bool
	ACMEWebroot   string
	HSTS          string // Strict-Transport-Security value; empty for none
}

// TLS reports whether the site serves HTTPS.
func (s Site) TLS() bool { return s.CertFile != "" }

// HSTSHeader renders a Strict-Transport-Security value.
func HSTSHeader(maxAge int, includeSubdomains, preload bool) string {
	v := fmt.Sprintf("max-age=%d", maxAge)
	if includeSubdomains {
		v += "; includeSubDomains"
	}
	if preload {
		v += "; preload"
	}
	return v
}

// Renderer turns a Site into one server's configuration language, and reads
// the facts a plan shows back out of such a file (also a hand-edited one).
type Renderer interface {
	Render(Site) string
	// Summarize extracts hsts, redirect and acme_webroot from a config file.
	Summarize(content string) providers.Value
	// Read is the sites a file declares (also a hand-written one), as
	// the server reads them: what an import makes vhost blocks of.
	Read(content string) []Site
	DefaultTestCommand() string
	DefaultReloadCommand() string
}

// Indent joins lines with a leading indent, skipping empty groups.
func Indent(prefix string, lines ...string) string {
	var b strings.Builder
	for _, l := range lines {
		if l == "" {
			continue
		}
		b.WriteString(prefix + l + "\n")
	}
	return b.String()
}

// optional renders prefix+v+suffix, or nothing when v is empty.
func optional(prefix, v, suffix string) string {
	if v == "" {
		return ""
	}
	return prefix + v + suffix
}
