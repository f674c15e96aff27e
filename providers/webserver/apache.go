package webserver

import (
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

// Summarize reads the HSTS header, redirect target and challenge webroot,
// the way httpd reads them: any quoting, any section.
func (Apache) Summarize(content string) providers.Value {
	var hsts, redirect, webroot string
	for _, d := range apacheDirectives(content) {
		a := d.args
		switch strings.ToLower(d.name) {
		case "header":
			if len(a) > 0 && (strings.EqualFold(a[0], "always") || strings.EqualFold(a[0], "onsuccess")) {
				a = a[1:]
			}
			if len(a) >= 3 && isHeaderSet(a[0]) && strings.EqualFold(a[1], "Strict-Transport-Security") {
				hsts = firstOf(hsts, a[2])
			}
		case "rewriterule":
			if len(a) >= 3 && strings.Contains(strings.ToUpper(a[2]), "R=30") {
				redirect = firstOf(redirect, a[1])
			}
		case "redirect", "redirectpermanent", "redirecttemp":
			if len(a) >= 2 && !strings.HasPrefix(a[0], "/") {
				a = a[1:] // the status: permanent, temp, 301…
			}
			if len(a) >= 2 && a[0] == "/" { // the whole site, not one path
				redirect = firstOf(redirect, a[1])
			}
		case "alias":
			if len(a) == 2 && strings.HasPrefix(strings.TrimSuffix(a[0], "/")+"/", "/.well-known/acme-challenge/") {
				webroot = firstOf(webroot, challengeDir(a[1], true))
			}
		}
	}
	return providers.Value{
		"hsts":         providers.String(hsts),
		"redirect":     providers.String(redirect),
		"acme_webroot": providers.String(webroot),
	}
}

// isHeaderSet reports whether a Header action sets a value.
func isHeaderSet(action string) bool {
	switch strings.ToLower(action) {
	case "set", "append", "add", "merge", "setifempty":
		return true
	}
	return false
}
