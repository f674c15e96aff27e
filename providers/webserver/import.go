package webserver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/trustform/trustform/providers"
)

// Importer reads hand-written site files of server ("nginx", "apache")
// as vhost blocks (and tls_policy blocks for their protocols and
// ciphers). A TLS site is tied to the certificate block whose files it
// serves; a file of several sites is left out (trustform keeps one site
// per file), as is a TLS site whose certificate no block declares.
func Importer(server string) providers.Importer {
	r, dir := Renderer(Nginx{}), "/etc/nginx/sites-enabled"
	if server == "apache" {
		r, dir = Apache{}, "/etc/apache2/sites-enabled"
	}
	return providers.Importer{Source: server, Defaults: []string{dir},
		About: server + "'s site files: vhost and tls_policy blocks",
		Read: func(_ context.Context, in providers.ImportInput) (providers.Imported, error) {
			return importSites(server, r, in)
		}}
}

func importSites(server string, r Renderer, in providers.ImportInput) (providers.Imported, error) {
	var out providers.Imported
	var files []string
	for _, p := range in.Paths {
		st, err := os.Stat(p)
		if err != nil {
			return out, err
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return out, err
		}
		for _, e := range entries {
			files = append(files, filepath.Join(p, e.Name()))
		}
	}
	policies := map[string]string{} // protocols and ciphers → tls_policy address
	for _, f := range files {
		real, err := filepath.EvalSymlinks(f)
		if err != nil {
			return out, err
		}
		if real != f {
			out.Note(fmt.Sprintf("%s is a link to %s: the vhost's config_file is the file itself (trustform writes no link)", f, real))
		}
		if why := providers.Planted(real); why != "" {
			out.Note(fmt.Sprintf("%s: left out: %s (another user may have put it there)", real, why))
			continue
		}
		b, err := os.ReadFile(real)
		if err != nil {
			return out, err
		}
		if providers.Managed(b) {
			out.Note(real + " was written by trustform: left out")
			continue
		}
		sites := r.Read(string(b))
		switch {
		case len(sites) == 0:
			out.Note(real + " declares no site: left out")
			continue
		case len(sites) > 1:
			out.Note(fmt.Sprintf("%s declares %d sites: left out (trustform keeps one site per file; split it, then import the parts)", real, len(sites)))
			continue
		}
		s := sites[0]
		name := strings.TrimSuffix(filepath.Base(real), filepath.Ext(real))
		v := providers.Found{Type: VhostType, Name: providers.Identifier(name), Resource: true}
		v.Attrs = append(v.Attrs, providers.Lit("server", cty.StringVal(server)), providers.Lit("config_file", cty.StringVal(real)),
			providers.Lit("listen", cty.StringVal(s.Listen)), providers.Lit("server_names", providers.Strings(s.Names...)))
		if s.TLS() {
			cert := ""
			for _, c := range in.Certs {
				if c.CertFile == s.CertFile && c.KeyFile == s.KeyFile {
					cert = c.Addr
				}
			}
			if cert == "" {
				out.Note(fmt.Sprintf("%s serves %s and %s, which no certificate block declares: left out (import or write the certificate first)", real, s.CertFile, s.KeyFile))
				continue
			}
			v.Attrs = append(v.Attrs, providers.RefAttr("certificate", cert))
			if len(s.Protocols) > 0 || s.Ciphers != "" {
				key := strings.Join(s.Protocols, " ") + "|" + s.Ciphers
				pol, ok := policies[key]
				if !ok {
					p := providers.Found{Type: "tls_policy", Name: v.Name}
					if len(s.Protocols) > 0 {
						p.Attrs = append(p.Attrs, providers.Lit("protocols", providers.Strings(s.Protocols...)))
					}
					if s.Ciphers != "" {
						p.Attrs = append(p.Attrs, providers.Lit("ciphers", cty.StringVal(s.Ciphers)))
					}
					out.Blocks = append(out.Blocks, p)
					pol = "tls_policy." + p.Name
					policies[key] = pol
				}
				v.Attrs = append(v.Attrs, providers.RefAttr("tls_policy", pol))
			}
		}
		if s.Root != "" && !s.RedirectHTTPS {
			v.Attrs = append(v.Attrs, providers.Lit("root", cty.StringVal(s.Root)))
		}
		if s.RedirectHTTPS {
			v.Attrs = append(v.Attrs, providers.Lit("redirect_https", cty.True))
		}
		if s.ACMEWebroot != "" {
			v.Attrs = append(v.Attrs, providers.Lit("acme_webroot", cty.StringVal(s.ACMEWebroot)))
		}
		if in.TestCommand != "" {
			v.Attrs = append(v.Attrs, providers.Lit("test_command", cty.StringVal(in.TestCommand)))
		}
		if in.ReloadCommand != "" {
			v.Attrs = append(v.Attrs, providers.Lit("reload_command", cty.StringVal(in.ReloadCommand)))
		}
		if s.HSTS != "" {
			h, ok := hstsBlock(s.HSTS)
			if !ok || !s.TLS() {
				out.Note(fmt.Sprintf("%s: the Strict-Transport-Security header %q is left to the file (trustform writes HSTS as max-age, includeSubDomains and preload on the TLS site): the first rewrite of the file drops it", real, s.HSTS))
			} else {
				v.Blocks = append(v.Blocks, h)
			}
		}
		out.Blocks = append(out.Blocks, v)
	}
	return out, nil
}

// hstsBlock is the hsts block of a Strict-Transport-Security value, when
// it is one trustform renders the same.
func hstsBlock(value string) (providers.Found, bool) {
	h := providers.Found{Type: "hsts"}
	var maxAge int
	var sub, preload bool
	for _, part := range strings.Split(value, ";") {
		part = strings.TrimSpace(part)
		switch {
		case strings.HasPrefix(strings.ToLower(part), "max-age="):
			n, err := strconv.Atoi(strings.Trim(part[len("max-age="):], `"`))
			if err != nil {
				return h, false
			}
			maxAge = n
		case strings.EqualFold(part, "includeSubDomains"):
			sub = true
		case strings.EqualFold(part, "preload"):
			preload = true
		case part != "":
			return h, false
		}
	}
	if HSTSHeader(maxAge, sub, preload) != value {
		return h, false
	}
	h.Attrs = append(h.Attrs, providers.Lit("max_age", cty.NumberIntVal(int64(maxAge))))
	if sub {
		h.Attrs = append(h.Attrs, providers.Lit("include_subdomains", cty.True))
	}
	if preload {
		h.Attrs = append(h.Attrs, providers.Lit("preload", cty.True))
	}
	return h, true
}
