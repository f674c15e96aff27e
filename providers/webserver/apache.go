package webserver

import (
	"regexp"
	"strings"

	"github.com/trustform/trustform/providers"
)

// Apache is Apache httpd.
type Apache struct{}

var _ Renderer = Apache{}

// DefaultTestCommand checks the whole configuration before a reload.
func (Apache) DefaultTestCommand() string { return "apachectl -t" }

// DefaultReloadCommand reloads gracefully.
func (Apache) DefaultReloadCommand() string { return "apachectl graceful" }

// Render writes one <VirtualHost>. mod_ssl answers 421 when a reused HTTP/2
// connection targets a vhost whose TLS settings differ from the handshake
// vhost; the cipher-consistency rule keeps the settings here identical
// across vhosts of one address.
func (Apache) Render(s Site) string {
	var b strings.Builder
	b.WriteString(providers.ManagedHeader(s.Address))
	b.WriteString("<VirtualHost " + s.Listen + ">\n")
	b.WriteString(Indent("    ", "ServerName "+s.Names[0]))
	if len(s.Names) > 1 {
		b.WriteString(Indent("    ", "ServerAlias "+strings.Join(s.Names[1:], " ")))
	}
	if s.TLS() {
		protocols := ""
		if len(s.Protocols) > 0 {
			protocols = "SSLProtocol -all +" + strings.Join(s.Protocols, " +")
		}
		b.WriteString(Indent("    ",
			"Protocols h2 http/1.1",
			"SSLEngine on",
			"SSLCertificateFile "+s.CertFile,
			"SSLCertificateKeyFile "+s.KeyFile,
			protocols,
			optional("SSLCipherSuite ", s.Ciphers, ""),
			optional("SSLHonorCipherOrder ", map[bool]string{true: "off"}[protocols != ""], ""),
		))
		if m := s.Mozilla; m != nil {
			b.WriteString(Indent("    ",
				optional("SSLOpenSSLConfCmd Curves ", strings.Join(s.Versions.curves(m.Curves), ":"), ""),
				optional("SSLCipherSuite TLSv1.3 ", strings.Join(m.Ciphersuites, ":"), ""),
				"SSLSessionTickets off", // mod_ssl never rotates its ticket keys
			))
		}
		if s.HSTS != "" {
			b.WriteString("    Header always set Strict-Transport-Security \"" + s.HSTS + "\"\n")
		}
		if s.Root != "" {
			b.WriteString("    DocumentRoot " + s.Root + "\n")
		}
		b.WriteString("</VirtualHost>\n")
		return b.String()
	}
	if s.ACMEWebroot != "" {
		dir := strings.TrimSuffix(s.ACMEWebroot, "/") + "/.well-known/acme-challenge/"
		b.WriteString("    Alias /.well-known/acme-challenge/ " + dir + "\n")
		b.WriteString("    <Directory \"" + dir + "\">\n        Require all granted\n    </Directory>\n")
	}
	switch {
	case s.RedirectHTTPS:
		if s.HSTS != "" {
			b.WriteString("    Header always set Strict-Transport-Security \"" + s.HSTS + "\"\n")
		}
		b.WriteString("    RewriteEngine On\n")
		if s.ACMEWebroot != "" {
			b.WriteString("    RewriteCond %{REQUEST_URI} !^/\\.well-known/acme-challenge/\n")
		}
		b.WriteString("    RewriteRule ^ https://%{HTTP_HOST}%{REQUEST_URI} [R=301,L]\n")
	case s.Root != "":
		b.WriteString("    DocumentRoot " + s.Root + "\n")
	}
	b.WriteString("</VirtualHost>\n")
	return b.String()
}

var (
	apacheHstsRe     = regexp.MustCompile(`(?m)^\s*Header\s+(?:always\s+)?set\s+Strict-Transport-Security\s+"([^"]*)"`)
	apacheRedirectRe = regexp.MustCompile(`(?m)^\s*(?:RewriteRule\s+\S+\s+(\S+)\s+\[[^\]]*R=30|Redirect\s+(?:permanent\s+)?/\s+(\S+))`)
	apacheAcmeRe     = regexp.MustCompile(`(?m)^\s*Alias\s+/\.well-known/acme-challenge/\s+(\S+)`)
)

// Summarize reads the HSTS header, redirect target and challenge webroot.
func (Apache) Summarize(content string) providers.Value {
	redirect := ""
	if m := apacheRedirectRe.FindStringSubmatch(content); m != nil {
		redirect = m[1] + m[2]
	}
	webroot := ""
	if m := apacheAcmeRe.FindStringSubmatch(content); m != nil {
		webroot = strings.TrimSuffix(strings.TrimSuffix(m[1], "/"), "/.well-known/acme-challenge")
	}
	hsts := ""
	if m := apacheHstsRe.FindStringSubmatch(content); m != nil {
		hsts = m[1]
	}
	return providers.Value{
		"hsts":         providers.String(hsts),
		"redirect":     providers.String(redirect),
		"acme_webroot": providers.String(webroot),
	}
}
