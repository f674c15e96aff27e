package service

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/trustform/trustform/providers"
)

// PostfixImporter reads Postfix's main.cf and master.cf (in /etc/postfix
// or the directories given) as a service block: the smtpd services of
// master.cf as endpoints, tied to the certificate block whose files
// main.cf names.
func PostfixImporter() providers.Importer {
	return providers.Importer{Source: "postfix", Defaults: []string{"/etc/postfix"},
		About: "Postfix's main.cf and master.cf: a service block",
		Read: func(_ context.Context, in providers.ImportInput) (providers.Imported, error) {
			return each(in, importPostfix)
		}}
}

// DovecotImporter reads dovecot.conf (and what it includes) as a service
// block: its TLS listeners as endpoints, tied to the certificate block
// whose files ssl_cert and ssl_key name.
func DovecotImporter() providers.Importer {
	return providers.Importer{Source: "dovecot", Defaults: []string{"/etc/dovecot/dovecot.conf"},
		About: "Dovecot's configuration: a service block",
		Read: func(_ context.Context, in providers.ImportInput) (providers.Imported, error) {
			return each(in, importDovecot)
		}}
}

// each imports every path of in with one reader.
func each(in providers.ImportInput, read func(path string, in providers.ImportInput) (providers.Imported, error)) (providers.Imported, error) {
	var out providers.Imported
	for _, p := range in.Paths {
		got, err := read(p, in)
		if err != nil {
			return out, err
		}
		out.Add(got)
	}
	return out, nil
}

// mainCF reads main.cf's parameters (continuation lines start with space).
func mainCF(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	params := map[string]string{}
	last := ""
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#"):
		case (line[0] == ' ' || line[0] == '\t') && last != "":
			params[last] = strings.TrimSpace(params[last] + " " + strings.TrimSpace(line))
		default:
			if k, v, ok := strings.Cut(line, "="); ok {
				last = strings.TrimSpace(k)
				params[last] = strings.TrimSpace(v)
			}
		}
	}
	return params, nil
}

// postfixPorts are the schemes of master.cf's service names.
var postfixPorts = map[string]string{"smtp": "25", "submission": "587", "smtps": "465", "submissions": "465"}

func importPostfix(dir string, in providers.ImportInput) (providers.Imported, error) {
	var out providers.Imported
	for _, f := range []string{"main.cf", "master.cf"} {
		if why := providers.Planted(filepath.Join(dir, f)); why != "" {
			out.Note(fmt.Sprintf("%s: left out: %s (another user may have put it there)", dir, why))
			return out, nil
		}
	}
	params, err := mainCF(filepath.Join(dir, "main.cf"))
	if err != nil {
		return out, err
	}
	cert, key := params["smtpd_tls_cert_file"], params["smtpd_tls_key_file"]
	if chain := strings.FieldsFunc(params["smtpd_tls_chain_files"], func(r rune) bool { return r == ',' || r == ' ' }); len(chain) == 2 {
		key, cert = chain[0], chain[1] // the key first, then its chain (postconf(5))
	}
	addr := certificateOf(in.Certs, cert, key)
	if addr == "" {
		out.Note(fmt.Sprintf("%s: Postfix serves %s and %s, which no certificate block declares: left out (import or write the certificate first)", dir, cert, key))
		return out, nil
	}
	master, err := os.ReadFile(filepath.Join(dir, "master.cf"))
	if err != nil {
		return out, err
	}
	listen := "127.0.0.1"
	if ifs := strings.Fields(strings.ReplaceAll(params["inet_interfaces"], ",", " ")); len(ifs) > 0 && ifs[0] != "all" && ifs[0] != "loopback-only" {
		listen = ifs[0]
	}
	var endpoints []string
	// A line that starts with white space continues the one before (the
	// -o overrides of a service).
	for _, line := range strings.Split(strings.ReplaceAll(strings.ReplaceAll(string(master), "\n ", " "), "\n\t", " "), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 || strings.HasPrefix(f[0], "#") || f[1] != "inet" || f[7] != "smtpd" {
			continue
		}
		host, port, err := net.SplitHostPort(f[0])
		if err != nil {
			host, port = listen, f[0]
		}
		scheme := "smtp"
		if p, ok := postfixPorts[port]; ok {
			scheme, port = port, p
		}
		if port == "465" || strings.Contains(line, "smtpd_tls_wrappermode=yes") {
			scheme = "smtps"
		} else if port == "587" {
			scheme = "submission"
		}
		endpoints = append(endpoints, scheme+"://"+net.JoinHostPort(host, port))
	}
	if len(endpoints) == 0 {
		out.Note(dir + "/master.cf has no smtpd service on inet: left out")
		return out, nil
	}
	s := providers.Found{Type: "service", Name: "postfix", Resource: true}
	if base := filepath.Base(dir); base != "postfix" { // another instance: /etc/postfix-out
		s.Name = providers.Identifier("postfix_" + strings.TrimPrefix(base, "postfix-"))
	}
	s.Attrs = append(s.Attrs, providers.RefAttr("certificate", addr), providers.Lit("endpoints", providers.Strings(endpoints...)),
		providers.Lit("test_command", cty.StringVal(cmp.Or(in.TestCommand, "postfix -c "+dir+" check"))),
		providers.Lit("reload_command", cty.StringVal(cmp.Or(in.ReloadCommand, "postfix -c "+dir+" reload"))))
	out.Blocks = append(out.Blocks, s)
	return out, nil
}

var (
	dovecotSetting = regexp.MustCompile(`^\s*(ssl_cert|ssl_key|protocols|listen)\s*=\s*(.*?)\s*$`)
	dovecotPort    = regexp.MustCompile(`^\s*port\s*=\s*(\d+)`)
	dovecotSSL     = regexp.MustCompile(`^\s*ssl\s*=\s*yes`)
	dovecotInclude = regexp.MustCompile(`^\s*!include(_try)?\s+(\S+)`)
	dovecotBlock   = regexp.MustCompile(`^\s*inet_listener\s+(\S+)\s*\{`)
)

// importDovecot reads path and the files it includes.
func importDovecot(path string, in providers.ImportInput) (providers.Imported, error) {
	var out providers.Imported
	set := map[string]string{}
	type listener struct {
		name, port string
		ssl        bool
	}
	var listeners []listener
	var read func(p string) error
	read = func(p string) error {
		if why := providers.Planted(p); why != "" {
			return fmt.Errorf("%s (another user may have put it there): nothing is imported", why)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var cur *listener
		for _, line := range strings.Split(string(b), "\n") {
			if m := dovecotInclude.FindStringSubmatch(line); m != nil {
				pattern := m[2]
				if !filepath.IsAbs(pattern) {
					pattern = filepath.Join(filepath.Dir(p), pattern)
				}
				files, _ := filepath.Glob(pattern)
				for _, f := range files {
					if err := read(f); err != nil && m[1] == "" {
						return err
					}
				}
				continue
			}
			if m := dovecotBlock.FindStringSubmatch(line); m != nil {
				listeners = append(listeners, listener{name: m[1]})
				cur = &listeners[len(listeners)-1]
				continue
			}
			if cur != nil {
				if m := dovecotPort.FindStringSubmatch(line); m != nil {
					cur.port = m[1]
				}
				if dovecotSSL.MatchString(line) {
					cur.ssl = true
				}
				if strings.Contains(line, "}") {
					cur = nil
				}
				continue
			}
			if m := dovecotSetting.FindStringSubmatch(line); m != nil {
				set[m[1]] = strings.TrimPrefix(m[2], "<")
			}
		}
		return nil
	}
	if err := read(path); err != nil {
		return out, err
	}
	addr := certificateOf(in.Certs, set["ssl_cert"], set["ssl_key"])
	if addr == "" {
		out.Note(fmt.Sprintf("%s: Dovecot serves %s and %s, which no certificate block declares: left out (import or write the certificate first)", path, set["ssl_cert"], set["ssl_key"]))
		return out, nil
	}
	host := "127.0.0.1"
	if l := strings.Fields(strings.ReplaceAll(set["listen"], ",", " ")); len(l) > 0 && l[0] != "*" && l[0] != "::" {
		host = l[0]
	}
	defaults := map[string]string{"imap": "143", "imaps": "993", "pop3": "110", "pop3s": "995"}
	var endpoints []string
	for _, l := range listeners {
		scheme := strings.TrimSuffix(l.name, "s")
		if l.ssl || strings.HasSuffix(l.name, "s") {
			scheme += "s"
		}
		if _, known := defaults[scheme]; !known {
			continue
		}
		endpoints = append(endpoints, scheme+"://"+net.JoinHostPort(host, cmp.Or(l.port, defaults[scheme])))
	}
	if len(endpoints) == 0 {
		for _, p := range strings.Fields(set["protocols"]) {
			if port, ok := defaults[p]; ok {
				endpoints = append(endpoints, p+"://"+net.JoinHostPort(host, port))
			}
		}
	}
	s := providers.Found{Type: "service", Name: "dovecot", Resource: true}
	s.Attrs = append(s.Attrs, providers.RefAttr("certificate", addr), providers.Lit("endpoints", providers.Strings(endpoints...)),
		providers.Lit("test_command", cty.StringVal(cmp.Or(in.TestCommand, "doveconf -c "+path+" -n >/dev/null"))),
		providers.Lit("reload_command", cty.StringVal(cmp.Or(in.ReloadCommand, "doveadm -c "+path+" reload"))))
	out.Blocks = append(out.Blocks, s)
	return out, nil
}

// certificateOf is the certificate block that declares the files.
func certificateOf(certs []providers.HeldCert, cert, key string) string {
	for _, c := range certs {
		if c.CertFile == cert && c.KeyFile == key {
			return c.Addr
		}
	}
	return ""
}
