package host

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
)

// knownHosts is a known_hosts file read as OpenSSH reads it (sshd(8),
// "SSH_KNOWN_HOSTS FILE FORMAT"): plain keys, @cert-authority lines whose
// CA signs host certificates, @revoked keys, hashed names, patterns with
// * ? and ! negation matched against "host" on port 22 and "[host]:port"
// elsewhere. Lines are parsed by x/crypto's ssh.ParseKnownHosts and
// certificates checked by its ssh.CertChecker; the matching and the
// policy are written here because x/crypto's knownhosts package matches a
// pattern without a port against port 22 only ("@cert-authority *" then
// knows no host on another port) and says nothing of which algorithms to
// ask for.
type knownHosts struct {
	file    string
	entries []knownEntry
}

type knownEntry struct {
	marker   string // "", "cert-authority" or "revoked" (as ssh.ParseKnownHosts gives them, without @)
	patterns []string
	key      ssh.PublicKey
	line     int
}

// readKnownHosts reads file; a missing file knows no host.
func readKnownHosts(file string) (*knownHosts, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return &knownHosts{file: file}, nil
	}
	if err != nil {
		return nil, err
	}
	k := &knownHosts{file: file}
	for n, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		marker, hosts, key, _, _, err := ssh.ParseKnownHosts(line)
		if err != nil {
			continue // as OpenSSH: a line it cannot read is passed over
		}
		k.entries = append(k.entries, knownEntry{marker: marker, patterns: hosts, key: key, line: n + 1}) // marker without its @
	}
	return k, nil
}

// hostName is the name known_hosts lines are matched against: "host" on
// port 22, "[host]:port" on any other.
func hostName(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if port == "22" {
		return host
	}
	return "[" + host + "]:" + port
}

// matches reports whether the line's patterns match name: one positive
// pattern matches and no negated one does.
func (e knownEntry) matches(name string) bool {
	name = strings.ToLower(name)
	matched := false
	for _, p := range e.patterns {
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		var ok bool
		if strings.HasPrefix(p, "|1|") {
			ok = hashedMatch(p, name)
		} else {
			ok = wildcard(strings.ToLower(p), name)
		}
		if ok && neg {
			return false
		}
		matched = matched || ok
	}
	return matched
}

// wildcard is OpenSSH's match_pattern: * matches any run of characters,
// ? one, and nothing else is special (brackets included: "[host]:port" is
// matched as it is written).
func wildcard(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if wildcard(p[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if len(s) == 0 {
				return false
			}
		default:
			if len(s) == 0 || s[0] != p[0] {
				return false
			}
		}
		p, s = p[1:], s[1:]
	}
	return len(s) == 0
}

// hashedMatch checks a "|1|salt|hash" pattern (HashKnownHosts).
func hashedMatch(p, name string) bool {
	parts := strings.Split(p, "|")
	if len(parts) != 4 {
		return false
	}
	salt, err1 := base64.StdEncoding.DecodeString(parts[2])
	want, err2 := base64.StdEncoding.DecodeString(parts[3])
	if err1 != nil || err2 != nil {
		return false
	}
	m := hmac.New(sha1.New, salt)
	m.Write([]byte(name))
	return hmac.Equal(m.Sum(nil), want)
}

// of lists the entries with marker that match name.
func (k *knownHosts) of(marker, name string) []knownEntry {
	var out []knownEntry
	for _, e := range k.entries {
		if e.marker == marker && e.matches(name) {
			out = append(out, e)
		}
	}
	return out
}

// revoked reports whether key is listed @revoked (for any host).
func (k *knownHosts) revoked(key ssh.PublicKey) bool {
	for _, e := range k.entries {
		if e.marker == "revoked" && bytes.Equal(e.key.Marshal(), key.Marshal()) {
			return true
		}
	}
	return false
}

// algorithms are the host key algorithms to ask addr for: certificates
// first where a CA is trusted for it, then the types of every key known
// for it. Nil (the defaults) when nothing is known: the unknown key is
// then refused, naming its fingerprint.
func (k *knownHosts) algorithms(addr string) []string {
	name := hostName(addr)
	var out []string
	if len(k.of("cert-authority", name)) > 0 {
		out = append(out, ssh.CertAlgoED25519v01, ssh.CertAlgoECDSA256v01, ssh.CertAlgoECDSA384v01, ssh.CertAlgoECDSA521v01,
			ssh.CertAlgoRSASHA512v01, ssh.CertAlgoRSASHA256v01)
	}
	seen := map[string]bool{}
	for _, e := range k.of("", name) {
		for _, a := range algorithmsOf(e.key.Type()) {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

func algorithmsOf(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

// HostKeyError is a host key refused: unknown, changed or revoked. It
// names what was presented and what known_hosts has.
type HostKeyError struct {
	Host    string
	Reason  string
	Got     string   // the presented key, "TYPE SHA256:…"
	Known   []string // the keys known_hosts has for the host, with file:line
	Changed bool     // known_hosts knows other keys for the host
}

func (e *HostKeyError) Error() string {
	if e.Changed {
		return fmt.Sprintf("REMOTE HOST IDENTIFICATION HAS CHANGED: the host key of %s changed: it presents %s, and known_hosts has %s. Someone may be intercepting the connection (or the host's key was replaced): nothing was sent to the host. If the change is expected, replace the host's line in known_hosts",
			e.Host, e.Got, strings.Join(e.Known, ", "))
	}
	return fmt.Sprintf("%s for %s: %s", e.Reason, e.Host, e.Got)
}

// check is the host key callback: a certificate signed by a CA trusted for
// the host (valid now, naming the host as a principal, neither it nor its
// CA revoked), or a plain key known for the host and not revoked.
func (k *knownHosts) check(addr string, key ssh.PublicKey) error {
	name := hostName(addr)
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	got := key.Type() + " " + ssh.FingerprintSHA256(key)
	if cert, ok := key.(*ssh.Certificate); ok {
		cas := k.of("cert-authority", name)
		checker := &ssh.CertChecker{
			IsHostAuthority: func(auth ssh.PublicKey, _ string) bool {
				for _, e := range cas {
					if bytes.Equal(e.key.Marshal(), auth.Marshal()) {
						return !k.revoked(auth)
					}
				}
				return false
			},
			IsRevoked: func(c *ssh.Certificate) bool { return k.revoked(c.Key) || k.revoked(c) },
		}
		if len(cas) == 0 || !checker.IsHostAuthority(cert.SignatureKey, addr) {
			return &HostKeyError{Host: name, Reason: "host certificate signed by a CA that known_hosts does not trust for this host (no matching @cert-authority line)", Got: got + " signed by " + ssh.FingerprintSHA256(cert.SignatureKey)}
		}
		if err := checker.CheckCert(host, cert); err != nil {
			return &HostKeyError{Host: name, Reason: "host certificate refused (" + strings.TrimPrefix(err.Error(), "ssh: ") + ")", Got: got}
		}
		return nil
	}
	if k.revoked(key) {
		return &HostKeyError{Host: name, Reason: "host key marked @revoked in " + k.file, Got: got}
	}
	known := k.of("", name)
	var want []string
	for _, e := range known {
		if bytes.Equal(e.key.Marshal(), key.Marshal()) {
			return nil
		}
		want = append(want, fmt.Sprintf("%s %s (%s:%d)", e.key.Type(), ssh.FingerprintSHA256(e.key), k.file, e.line))
	}
	if len(known) == 0 {
		return &HostKeyError{Host: name, Got: got, Reason: fmt.Sprintf("unknown host key: %s does not know it, and trustform does not trust a key on first use. Check the fingerprint with the host's administrator, then add it (ssh-keyscan -p PORT HOST >> %s) or an @cert-authority line", k.file, k.file)}
	}
	return &HostKeyError{Host: name, Got: got, Known: want, Changed: true}
}
