package webserver

import (
	"fmt"
	"strings"

	"github.com/trustform/trustform/providers"
)

// Nginx is nginx.
type Nginx struct{}

var _ Renderer = Nginx{}

// DefaultTestCommand checks the whole configuration before a reload.
func (Nginx) DefaultTestCommand() string { return "nginx -t" }

// DefaultReloadCommand reloads gracefully: workers finish their requests.
func (Nginx) DefaultReloadCommand() string { return "nginx -s reload" }

// listenDirective turns host:port into nginx's listen syntax.
func listenDirective(l string) string {
	return strings.TrimPrefix(l, "*:")
}

// Render writes one server block. On plain HTTP the ACME challenge location
// comes before the redirect, so renewals are never redirected; the HSTS
// header rides on the redirect itself.
func (Nginx) Render(s Site) string {
	var b strings.Builder
	b.WriteString(providers.ManagedHeader(s.Address))
	b.WriteString("server {\n")
	if s.TLS() {
		// "listen … http2" rather than "http2 on": nginx before 1.25.1 (Debian
		// 12 ships 1.22) knows only the former; later ones still accept it.
		b.WriteString(Indent("    ",
			"listen "+listenDirective(s.Listen)+" ssl http2;",
			"server_name "+strings.Join(s.Names, " ")+";",
		))
		b.WriteString("\n")
		b.WriteString(Indent("    ",
			"ssl_certificate     "+s.CertFile+";",
			"ssl_certificate_key "+s.KeyFile+";",
			optional("ssl_protocols ", strings.Join(s.Protocols, " "), ";"),
			optional("ssl_ciphers ", s.Ciphers, ";"),
			optional("ssl_prefer_server_ciphers ", map[bool]string{true: "off"}[len(s.Protocols) > 0], ";"),
		))
		if m := s.Mozilla; m != nil {
			b.WriteString(Indent("    ",
				optional("ssl_ecdh_curve ", strings.Join(s.Versions.curves(m.Curves), ":"), ";"),
				"ssl_session_timeout 1d;",
				"ssl_session_cache shared:MozSSL:10m; # about 40000 sessions",
				// nginx rotates ticket keys itself since 1.23.2; before, a
				// ticket key lives as long as the process: forward secrecy lost.
				map[bool]string{false: "ssl_session_tickets off;"}[atLeast(s.Versions.Server, "1.23.2")],
			))
		}
		if s.HSTS != "" {
			b.WriteString("\n    add_header Strict-Transport-Security \"" + s.HSTS + "\" always;\n")
		}
		if s.Root != "" {
			b.WriteString("\n    root " + s.Root + ";\n")
		}
		b.WriteString("}\n")
		return b.String()
	}
	b.WriteString(Indent("    ",
		"listen "+listenDirective(s.Listen)+";",
		"server_name "+strings.Join(s.Names, " ")+";",
	))
	if s.ACMEWebroot != "" {
		fmt.Fprintf(&b, "\n    location ^~ /.well-known/acme-challenge/ {\n        root %s;\n        default_type \"text/plain\";\n        try_files $uri =404;\n    }\n", s.ACMEWebroot)
	}
	switch {
	case s.RedirectHTTPS:
		b.WriteString("\n    location / {\n")
		if s.HSTS != "" {
			b.WriteString("        add_header Strict-Transport-Security \"" + s.HSTS + "\" always;\n")
		}
		b.WriteString("        return 301 https://$host$request_uri;\n    }\n")
	case s.Root != "":
		b.WriteString("\n    root " + s.Root + ";\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// Summarize reads the HSTS header, redirect target and challenge webroot,
// the way nginx reads them: any quoting, any block.
func (Nginx) Summarize(content string) providers.Value {
	var hsts, redirect, webroot string
	for _, d := range nginxDirectives(content) {
		switch {
		case d.name == "add_header" && len(d.args) >= 2 && strings.EqualFold(d.args[0], "Strict-Transport-Security"):
			hsts = firstOf(hsts, d.args[1])
		case d.name == "return" && len(d.args) == 2 && isRedirect(d.args[0]):
			redirect = firstOf(redirect, d.args[1])
		case d.name == "root" || d.name == "alias":
			if loc, ok := d.within("location"); ok && len(d.args) == 1 && challengeLocation(loc.args) {
				webroot = firstOf(webroot, challengeDir(d.args[0], d.name == "alias"))
			}
		}
	}
	return providers.Value{
		"hsts":         providers.String(hsts),
		"redirect":     providers.String(redirect),
		"acme_webroot": providers.String(webroot),
	}
}

// challengeLocation reports whether a location's arguments match the
// ACME challenge path (a prefix, ^~ or = match; regex locations are not
// read back).
func challengeLocation(args []string) bool {
	if len(args) == 2 && (args[0] == "^~" || args[0] == "=") {
		args = args[1:]
	}
	return len(args) == 1 && strings.HasPrefix(strings.TrimSuffix(args[0], "/")+"/", "/.well-known/acme-challenge/")
}
