package schema

import "strings"

// Mozilla's server-side TLS guidelines, version 6.0. The cipher string is
// the OpenSSL list for TLS 1.2; TLS 1.3 suites are left to the library's
// defaults, as the guidelines recommend.
var profiles = map[string]struct {
	protocols []string
	ciphers   string
}{
	"mozilla-modern": {
		protocols: []string{"TLSv1.3"},
	},
	"mozilla-intermediate": {
		protocols: []string{"TLSv1.2", "TLSv1.3"},
		ciphers: strings.Join([]string{
			"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
			"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
			"ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
		}, ":"),
	},
}

// Effective returns the protocols and cipher string a policy stands for,
// with its profile expanded. A nil policy means the server's defaults.
func (p *TLSPolicy) Effective() (protocols []string, ciphers string) {
	if p == nil {
		return nil, ""
	}
	if prof, ok := profiles[p.Profile]; ok {
		return prof.protocols, prof.ciphers
	}
	return p.Protocols, p.Ciphers
}

var tlsProtocols = map[string]bool{"TLSv1": true, "TLSv1.1": true, "TLSv1.2": true, "TLSv1.3": true}
