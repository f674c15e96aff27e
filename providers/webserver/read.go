package webserver

import (
	"slices"
	"strings"
)

// Reading a hand-written file as sites: what trustform import makes vhost
// blocks of, and what a plan compares with the block of a vhost whose
// file an import adopted. Only what a vhost block says is read; the rest
// of the file (other locations, logs, proxying) is left to the file.

// Read is the server blocks of an nginx file, in order.
func (Nginx) Read(content string) []Site {
	var sites []Site
	var cur *Site
	tlsListen := map[int]bool{}
	for _, d := range nginxDirectives(content) {
		if d.name == "server" && len(d.args) == 0 {
			sites = append(sites, Site{})
			cur = &sites[len(sites)-1]
			continue
		}
		if _, ok := d.within("server"); !ok || cur == nil {
			continue
		}
		loc, inLocation := d.within("location")
		switch d.name {
		case "listen":
			if len(d.args) > 0 && cur.Listen == "" {
				cur.Listen = d.args[0]
			}
			if slices.Contains(d.args, "ssl") {
				tlsListen[len(sites)-1] = true
			}
		case "server_name":
			cur.Names = append(cur.Names, d.args...)
		case "ssl_certificate":
			cur.CertFile = firstOf(cur.CertFile, strings.Join(d.args, " "))
		case "ssl_certificate_key":
			cur.KeyFile = firstOf(cur.KeyFile, strings.Join(d.args, " "))
		case "ssl_protocols":
			cur.Protocols = d.args
		case "ssl_ciphers":
			cur.Ciphers = firstOf(cur.Ciphers, strings.Join(d.args, " "))
		case "add_header":
			if len(d.args) >= 2 && strings.EqualFold(d.args[0], "Strict-Transport-Security") {
				cur.HSTS = firstOf(cur.HSTS, d.args[1])
			}
		case "return":
			if len(d.args) == 2 && isRedirect(d.args[0]) && strings.HasPrefix(d.args[1], "https://") {
				cur.RedirectHTTPS = true
			}
		case "root", "alias":
			switch {
			case inLocation && len(d.args) == 1 && challengeLocation(loc.args):
				cur.ACMEWebroot = firstOf(cur.ACMEWebroot, challengeDir(d.args[0], d.name == "alias"))
			case !inLocation && d.name == "root" && len(d.args) == 1:
				cur.Root = d.args[0]
			}
		}
	}
	for i := range sites {
		if tlsListen[i] && sites[i].CertFile == "" {
			sites[i].CertFile = "?" // TLS without a certificate of its own (nginx's http block gives it)
		}
	}
	return sites
}

// Read is the <VirtualHost> sections of an httpd file, in order.
func (Apache) Read(content string) []Site {
	var sites []Site
	var cur *Site
	for _, d := range apacheDirectives(content) {
		if strings.EqualFold(d.name, "<VirtualHost") {
			sites = append(sites, Site{})
			cur = &sites[len(sites)-1]
			if len(d.args) > 0 {
				cur.Listen = d.args[0]
			}
			continue
		}
		if _, ok := d.within("<VirtualHost"); !ok || cur == nil {
			continue
		}
		a := d.args
		switch strings.ToLower(d.name) {
		case "servername":
			if len(a) > 0 {
				cur.Names = append([]string{a[0]}, cur.Names...)
			}
		case "serveralias":
			cur.Names = append(cur.Names, a...)
		case "sslcertificatefile":
			cur.CertFile = firstOf(cur.CertFile, strings.Join(a, " "))
		case "sslcertificatekeyfile":
			cur.KeyFile = firstOf(cur.KeyFile, strings.Join(a, " "))
		case "sslprotocol":
			cur.Protocols = nil
			for _, p := range a {
				if strings.HasPrefix(p, "+") || (p != "-all" && !strings.HasPrefix(p, "-")) {
					cur.Protocols = append(cur.Protocols, strings.TrimPrefix(p, "+"))
				}
			}
		case "sslciphersuite":
			if len(a) == 1 {
				cur.Ciphers = firstOf(cur.Ciphers, a[0])
			}
		case "header":
			if len(a) > 0 && (strings.EqualFold(a[0], "always") || strings.EqualFold(a[0], "onsuccess")) {
				a = a[1:]
			}
			if len(a) >= 3 && isHeaderSet(a[0]) && strings.EqualFold(a[1], "Strict-Transport-Security") {
				cur.HSTS = firstOf(cur.HSTS, a[2])
			}
		case "rewriterule":
			if len(a) >= 3 && strings.Contains(strings.ToUpper(a[2]), "R=30") && strings.HasPrefix(a[1], "https://") {
				cur.RedirectHTTPS = true
			}
		case "redirect", "redirectpermanent":
			if len(a) >= 2 && !strings.HasPrefix(a[0], "/") {
				a = a[1:]
			}
			if len(a) >= 2 && a[0] == "/" && strings.HasPrefix(a[1], "https://") {
				cur.RedirectHTTPS = true
			}
		case "alias":
			if len(a) == 2 && strings.HasPrefix(strings.TrimSuffix(a[0], "/")+"/", "/.well-known/acme-challenge/") {
				cur.ACMEWebroot = firstOf(cur.ACMEWebroot, challengeDir(a[1], true))
			}
		case "documentroot":
			if len(a) == 1 {
				cur.Root = a[0]
			}
		}
	}
	return sites
}

// differs names what of a block's site the site read from a file does not
// say, in the block's words: what the file would change if trustform
// rendered it. A TLS policy given by a Mozilla profile is compared by its
// protocols and ciphers.
func (s Site) differs(got Site) []string {
	var d []string
	add := func(differ bool, what string) {
		if differ {
			d = append(d, what)
		}
	}
	add(strings.TrimPrefix(s.Listen, "*:") != strings.TrimPrefix(got.Listen, "*:"), "listen")
	add(!sameSet(s.Names, got.Names), "server_names")
	add(s.CertFile != got.CertFile || s.KeyFile != got.KeyFile, "certificate")
	add(len(s.Protocols) > 0 && !sameSet(s.Protocols, got.Protocols), "protocols")
	add(s.Ciphers != "" && s.Ciphers != got.Ciphers, "ciphers")
	add(s.HSTS != got.HSTS, "hsts")
	add(s.RedirectHTTPS != got.RedirectHTTPS, "redirect_https")
	add(s.ACMEWebroot != got.ACMEWebroot, "acme_webroot")
	add(!s.RedirectHTTPS && s.Root != got.Root, "root")
	return d
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
