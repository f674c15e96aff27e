package certificate

import (
	"cmp"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	mdns "github.com/miekg/dns"
	"github.com/zclconf/go-cty/cty"

	"github.com/trustform/trustform/providers"
)

// CertbotImporter reads what certbot renews (its configuration directory,
// /etc/letsencrypt by default) as acme_account and certificate blocks:
// the account's key file and the live files referenced where they are,
// never copied. Nothing is written, nothing asked of the CA.
func CertbotImporter() providers.Importer {
	return providers.Importer{Source: "certbot", Defaults: []string{"/etc/letsencrypt"},
		About: "certbot's renewal configurations: acme_account and certificate blocks",
		Read:  importCertbot}
}

// certbotConf is one renewal configuration, as configobj reads it.
type certbotConf struct {
	name    string
	top     map[string]string
	params  map[string]string
	webroot map[string]string // [[webroot_map]]
}

func readCertbotConf(path string) (certbotConf, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return certbotConf{}, err
	}
	c := parseCertbotConf(b)
	c.name = strings.TrimSuffix(filepath.Base(path), ".conf")
	return c, nil
}

// parseCertbotConf reads a renewal configuration as configobj does: its
// top section, [renewalparams] and [[webroot_map]].
func parseCertbotConf(b []byte) certbotConf {
	c := certbotConf{top: map[string]string{}, params: map[string]string{}, webroot: map[string]string{}}
	section := c.top
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case line == "[renewalparams]":
			section = c.params
		case line == "[[webroot_map]]":
			section = c.webroot
		case strings.HasPrefix(line, "["):
			section = map[string]string{}
		default:
			if k, v, ok := strings.Cut(line, "="); ok {
				section[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	return c
}

func importCertbot(ctx context.Context, in providers.ImportInput) (providers.Imported, error) {
	var out providers.Imported
	for _, dir := range in.Paths {
		confs, err := filepath.Glob(filepath.Join(dir, "renewal", "*.conf"))
		if err != nil {
			return out, err
		}
		if len(confs) == 0 {
			return out, fmt.Errorf("%s: no renewal configuration (renewal/*.conf): is it certbot's configuration directory?", dir)
		}
		accounts := map[string]string{} // account id → acme_account address
		for _, p := range confs {
			if why := providers.Planted(p); why != "" {
				out.Note(fmt.Sprintf("%s: left out: %s (another user may have put it there)", p, why))
				continue
			}
			c, err := readCertbotConf(p)
			if err != nil {
				return out, err
			}
			if strings.EqualFold(c.params["autorenew"], "false") {
				out.Note(fmt.Sprintf("%s: autorenew = False, certbot does not renew it: left out", p))
				continue
			}
			acct, ok := accounts[c.params["account"]]
			if !ok {
				found, err := certbotAccount(dir, c, in.CARoots)
				if err != nil {
					return out, fmt.Errorf("%s: %w", p, err)
				}
				acct = found.Type + "." + found.Name
				accounts[c.params["account"]] = acct
				out.Blocks = append(out.Blocks, found)
			}
			got, err := certbotCertificate(ctx, c, acct)
			if err != nil {
				return out, fmt.Errorf("%s: %w", p, err)
			}
			out.Add(got)
			out.Note(fmt.Sprintf("certbot still renews %s: once the first plan is clean, stop it (add `autorenew = False` under [renewalparams] in %s, or `systemctl disable --now certbot.timer` for every certificate); until then every plan warns", c.name, p))
		}
	}
	return out, nil
}

// certbotAccount is the acme_account of a renewal configuration: its
// directory, contact and key file, found under accounts/.
func certbotAccount(dir string, c certbotConf, caRoots string) (providers.Found, error) {
	id, server := c.params["account"], c.params["server"]
	if id == "" || server == "" {
		return providers.Found{}, fmt.Errorf("no account or server under [renewalparams]")
	}
	var acctDir string
	err := filepath.WalkDir(filepath.Join(dir, "accounts"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == id {
			acctDir = p
			return filepath.SkipAll
		}
		return err
	})
	if err != nil || acctDir == "" {
		return providers.Found{}, fmt.Errorf("account %s is not under %s: %v", id, filepath.Join(dir, "accounts"), err)
	}
	var regr struct {
		Body struct {
			Contact []string `json:"contact"`
		} `json:"body"`
	}
	if b, err := os.ReadFile(filepath.Join(acctDir, "regr.json")); err == nil {
		json.Unmarshal(b, &regr)
	}
	u, err := url.Parse(server)
	if err != nil {
		return providers.Found{}, fmt.Errorf("server %q: %w", server, err)
	}
	f := providers.Found{Type: "acme_account", Name: accountName(u.Hostname()), Resource: true}
	f.Attrs = append(f.Attrs, providers.Lit("directory", cty.StringVal(server)))
	for _, ct := range regr.Body.Contact {
		if m, ok := strings.CutPrefix(ct, "mailto:"); ok {
			f.Attrs = append(f.Attrs, providers.Lit("email", cty.StringVal(m)))
			break
		}
	}
	f.Attrs = append(f.Attrs, providers.Lit("key_file", cty.StringVal(filepath.Join(acctDir, "private_key.json"))),
		providers.Lit("terms_of_service_agreed", cty.True))
	if caRoots != "" {
		f.Attrs = append(f.Attrs, providers.Lit("ca_roots", providers.Strings(caRoots)))
	}
	return f, nil
}

// accountName names the account of a CA: letsencrypt (and
// letsencrypt_staging) for Let's Encrypt's, else the CA's domain (certbot
// for a CA known by its address).
func accountName(host string) string {
	switch {
	case strings.HasSuffix(host, "api.letsencrypt.org") && strings.Contains(host, "staging"):
		return "letsencrypt_staging"
	case strings.HasSuffix(host, "api.letsencrypt.org"):
		return "letsencrypt"
	case net.ParseIP(host) != nil || !strings.Contains(host, "."):
		return "certbot"
	}
	labels := strings.Split(host, ".")
	return providers.Identifier(labels[len(labels)-2])
}

// certbotCertificate is the certificate block of a renewal configuration
// (and the dns_zone of its dns-rfc2136 credentials): its names and key
// type as the live certificate has them, the live files where they are.
func certbotCertificate(ctx context.Context, c certbotConf, account string) (providers.Imported, error) {
	var out providers.Imported
	fullchain, privkey := c.top["fullchain"], c.top["privkey"]
	if fullchain == "" || privkey == "" {
		return out, fmt.Errorf("no fullchain or privkey")
	}
	b, err := os.ReadFile(fullchain)
	if err != nil {
		return out, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return out, fmt.Errorf("%s holds no certificate", fullchain)
	}
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return out, fmt.Errorf("%s: %w", fullchain, err)
	}
	f := providers.Found{Type: "certificate", Name: providers.Identifier(c.name), Resource: true}
	f.Attrs = append(f.Attrs, providers.Lit("domains", providers.Strings(sortedNames(leaf)...)), providers.RefAttr("issuer", account))
	switch auth := c.params["authenticator"]; auth {
	case "webroot":
		f.Attrs = append(f.Attrs, providers.Lit("challenge", cty.StringVal("http-01")))
		var roots []string
		for _, w := range c.webroot {
			roots = append(roots, w)
		}
		slices.Sort(roots)
		out.Note(fmt.Sprintf("certificate.%s: certbot answers http-01 from the webroot %s: import the vhost that serves it (trustform import nginx or apache), whose acme_webroot it becomes", f.Name, strings.Join(slices.Compact(roots), ", ")))
	case "dns-rfc2136":
		f.Attrs = append(f.Attrs, providers.Lit("challenge", cty.StringVal("dns-01")))
		zone, err := rfc2136Zone(ctx, c.params["dns_rfc2136_credentials"], leaf.DNSNames)
		if err != nil {
			return out, err
		}
		out.Blocks = append(out.Blocks, zone)
	case "standalone":
		f.Attrs = append(f.Attrs, providers.Lit("challenge", cty.StringVal("http-01")))
	default:
		out.Note(fmt.Sprintf("certificate.%s: certbot's authenticator %q has no counterpart here: the challenge is left to the default (http-01); check it before the next renewal", f.Name, auth))
	}
	f.Attrs = append(f.Attrs, providers.Lit("key_type", cty.StringVal(KeyTypeOf(leaf.PublicKey))),
		providers.Lit("reuse_key", cty.BoolVal(strings.EqualFold(c.params["reuse_key"], "true"))),
		providers.Lit("cert_file", cty.StringVal(fullchain)), providers.Lit("key_file", cty.StringVal(privkey)))
	out.Blocks = append(out.Blocks, f)
	return out, nil
}

// rfc2136Zone is the dns_zone certbot's dns-rfc2136 credentials update:
// the server and key they name, the zone found by asking that server for
// the SOA above the first name. The secret stays in certbot's file,
// which secret_file reads.
func rfc2136Zone(ctx context.Context, creds string, names []string) (providers.Found, error) {
	b, err := os.ReadFile(creds)
	if err != nil {
		return providers.Found{}, fmt.Errorf("dns-rfc2136 credentials: %w", err)
	}
	ini := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			ini[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	server := net.JoinHostPort(ini["dns_rfc2136_server"], cmp.Or(ini["dns_rfc2136_port"], "53"))
	zone, err := soaOwner(ctx, server, strings.TrimPrefix(names[0], "*."))
	if err != nil {
		return providers.Found{}, err
	}
	f := providers.Found{Type: "dns_zone", Name: providers.Identifier(strings.TrimSuffix(zone, "."))}
	f.Attrs = append(f.Attrs, providers.Lit("name", cty.StringVal(strings.TrimSuffix(zone, "."))),
		providers.Lit("server", cty.StringVal(server)), providers.Lit("nameservers", providers.Strings(server)))
	f.Blocks = append(f.Blocks, providers.Found{Type: "tsig", Attrs: []providers.FoundAttr{
		providers.Lit("name", cty.StringVal(strings.TrimSuffix(ini["dns_rfc2136_name"], "."))),
		providers.Lit("algorithm", cty.StringVal(strings.ToLower(cmp.Or(ini["dns_rfc2136_algorithm"], "hmac-md5")))),
		providers.Lit("secret_file", cty.StringVal(creds)),
	}})
	return f, nil
}

// soaOwner asks server for the SOA of name and returns the zone apex its
// answer names.
func soaOwner(ctx context.Context, server, name string) (string, error) {
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), mdns.TypeSOA)
	r, _, err := new(mdns.Client).ExchangeContext(ctx, m, server)
	if err != nil {
		return "", fmt.Errorf("asking %s for the zone of %s: %w", server, name, err)
	}
	for _, rr := range append(r.Answer, r.Ns...) {
		if soa, ok := rr.(*mdns.SOA); ok {
			return strings.ToLower(soa.Hdr.Name), nil
		}
	}
	return "", fmt.Errorf("%s names no zone for %s (no SOA in its answer)", server, name)
}
