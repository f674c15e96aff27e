package webserver

import (
	"fmt"
	"regexp"
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

var (
	nginxHstsRe     = regexp.MustCompile(`(?m)^\s*add_header\s+Strict-Transport-Security\s+"([^"]*)"`)
	nginxRedirectRe = regexp.MustCompile(`(?m)^\s*return\s+30[1278]\s+(\S+);`)
	nginxAcmeRe     = regexp.MustCompile(`(?s)location\s+\^?~?\s*/\.well-known/acme-challenge/\s*\{[^}]*?root\s+([^;]+);`)
)

// Summarize reads the HSTS header, redirect target and challenge webroot.
func (Nginx) Summarize(content string) providers.Value {
	return providers.Value{
		"hsts":         providers.String(first(nginxHstsRe, content)),
		"redirect":     providers.String(first(nginxRedirectRe, content)),
		"acme_webroot": providers.String(first(nginxAcmeRe, content)),
	}
}

func first(re *regexp.Regexp, s string) string {
	if m := re.FindStringSubmatch(s); m != nil {
		return strings.TrimSpace(m[1])
	}
	return ""
}
