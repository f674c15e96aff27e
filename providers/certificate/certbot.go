package certificate

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/trustform/trustform/internal/host"
)

// CertbotDir is certbot's default configuration directory; its renewal/
// holds a renewal configuration per certificate it renews.
const CertbotDir = "/etc/letsencrypt"

// certbotDir is the certbot configuration directory that concerns a
// certificate: the one whose live/NAME/ holds its cert_file (certbot run
// with --config-dir), else the default.
func certbotDir(certFile string) string {
	if live := filepath.Dir(filepath.Dir(certFile)); filepath.Base(live) == "live" {
		return filepath.Dir(live)
	}
	return CertbotDir
}

// renewal is one certificate certbot renews: its renewal configuration,
// the files it writes (as trustform reads them on this machine) and the
// names of the certificate it holds now.
type renewal struct {
	File    string // the renewal configuration, as the host sees it
	Name    string // certbot's name for the certificate (--cert-name)
	Paths   []string
	Domains []string
}

// certbotRenewals reads what certbot renews on one host, once per run
// for every certificate of the host. A host without certbot has none; a
// renewal configuration with autorenew = False is left out (certbot does
// not renew it).
type certbotRenewals struct {
	dir  string // the configuration directory, as the host sees it
	once sync.Once
	list []renewal
	err  error
}

// read reads the renewal configurations: local maps a path on the host to
// where trustform reads it (a host's root).
func (r *certbotRenewals) read(h host.Host, local func(string) string) ([]renewal, error) {
	r.once.Do(func() {
		files, err := h.Glob(local(filepath.Join(r.dir, "renewal")) + "/*.conf")
		if err != nil {
			r.err = err
			return
		}
		for _, f := range files {
			b, err := h.ReadFile(f)
			if err != nil || b == nil {
				r.err = err
				return
			}
			rn, renews := parseRenewal(b)
			if !renews {
				continue
			}
			rn.File = filepath.Join(r.dir, "renewal", filepath.Base(f))
			rn.Name = strings.TrimSuffix(filepath.Base(f), ".conf")
			for i, p := range rn.Paths {
				rn.Paths[i] = local(p)
			}
			if len(rn.Paths) > 0 {
				if pemBytes, err := h.ReadFile(rn.Paths[0]); err == nil && pemBytes != nil {
					if blk, _ := pem.Decode(pemBytes); blk != nil {
						if c, err := x509.ParseCertificate(blk.Bytes); err == nil {
							rn.Domains = c.DNSNames
						}
					}
				}
			}
			r.list = append(r.list, rn)
		}
	})
	return r.list, r.err
}

// parseRenewal reads a renewal configuration (readCertbotConf's grammar):
// the files of its top section (cert first), and whether certbot renews it.
func parseRenewal(b []byte) (renewal, bool) {
	c := parseCertbotConf(b)
	var rn renewal
	for _, k := range []string{"cert", "privkey", "chain", "fullchain"} {
		if p := c.top[k]; p != "" {
			rn.Paths = append(rn.Paths, p)
		}
	}
	return rn, !strings.EqualFold(c.params["autorenew"], "false")
}

// certbotOverlap says, for each certificate certbot still renews that
// covers this one (the same files, or names in common), why the two
// renewers would fight and how to stop certbot's.
func (c *Certificate) certbotOverlap(list []renewal) []string {
	mine := []string{c.CertPath, c.KeyPath}
	for _, cp := range c.Copies {
		mine = append(mine, cp.Path)
	}
	var out []string
	for _, rn := range list {
		var why []string
		for _, p := range rn.Paths {
			if slices.Contains(mine, p) {
				why = append(why, "writes "+p)
			}
		}
		var shared []string
		for _, d := range c.Domains {
			if slices.Contains(rn.Domains, d) {
				shared = append(shared, d)
			}
		}
		if len(shared) > 0 {
			why = append(why, "holds "+strings.Join(shared, ", "))
		}
		if len(why) == 0 {
			continue
		}
		out = append(out, fmt.Sprintf("certbot still renews its certificate %q (%s), which %s: two renewers would each replace the other's certificate and key, and with DANE every renewal is a TLSA change. Stop certbot's: add `autorenew = False` under [renewalparams] in %s, or run `certbot delete --cert-name %s` once nothing reads its files (`systemctl disable --now certbot.timer` stops certbot for every certificate).",
			rn.Name, rn.File, strings.Join(why, " and "), rn.File, rn.Name))
	}
	return out
}
