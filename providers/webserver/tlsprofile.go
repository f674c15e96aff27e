package webserver

import (
	_ "embed"
	"encoding/json"
	"strings"
)

// Mozilla's server-side TLS guidelines, kept as Mozilla publishes them
// (mozilla/NOTICE): the profiles are data, not constants.
//
//go:embed mozilla/guidelines-6.0.json
var mozillaGuidelines []byte

// Profile is one configuration of Mozilla's guidelines, as the web server
// renderers need it.
type Profile struct {
	Name             string   // "mozilla-intermediate"
	Version          string   // of the guidelines: "6.0"
	Protocols        []string // tls_versions
	Ciphers          []string // ciphers.openssl, for TLS 1.2 and older
	Ciphersuites     []string // TLS 1.3 suites, IANA names
	Curves           []string // tls_curves, in preference order
	CertificateTypes []string // "ecdsa", "rsa"
}

// MozillaProfile returns the profile named "mozilla-intermediate" or
// "mozilla-modern", and whether there is one.
func MozillaProfile(name string) (*Profile, bool) {
	conf, ok := strings.CutPrefix(name, "mozilla-")
	if !ok {
		return nil, false
	}
	var g struct {
		Version        json.Number `json:"version"`
		Configurations map[string]struct {
			Ciphers struct {
				OpenSSL []string `json:"openssl"`
			} `json:"ciphers"`
			Ciphersuites     []string `json:"ciphersuites"`
			Curves           []string `json:"tls_curves"`
			Versions         []string `json:"tls_versions"`
			CertificateTypes []string `json:"certificate_types"`
		} `json:"configurations"`
	}
	if err := json.Unmarshal(mozillaGuidelines, &g); err != nil {
		panic("providers/webserver/mozilla/guidelines-6.0.json: " + err.Error()) // embedded: a broken file is a broken build
	}
	c, ok := g.Configurations[conf]
	if !ok || conf == "old" {
		return nil, false
	}
	return &Profile{Name: name, Version: g.Version.String(), Protocols: c.Versions, Ciphers: c.Ciphers.OpenSSL,
		Ciphersuites: c.Ciphersuites, Curves: c.Curves, CertificateTypes: c.CertificateTypes}, true
}

// Effective returns the protocols and cipher string a policy stands for,
// with its profile expanded. A nil policy means the server's defaults.
func (p *PolicyBlock) Effective() (protocols []string, ciphers string) {
	if p == nil {
		return nil, ""
	}
	if prof := p.Mozilla(); prof != nil {
		return prof.Protocols, strings.Join(prof.Ciphers, ":")
	}
	return p.Protocols, p.Ciphers
}

// Mozilla returns the policy's Mozilla profile, or nil.
func (p *PolicyBlock) Mozilla() *Profile {
	if p == nil {
		return nil
	}
	if p.mozilla != nil {
		return p.mozilla
	}
	prof, _ := MozillaProfile(p.Profile)
	return prof
}

var tlsProtocols = map[string]bool{"TLSv1": true, "TLSv1.1": true, "TLSv1.2": true, "TLSv1.3": true}
