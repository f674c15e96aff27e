package service

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/schema"
)

// Endpoint is one address where a service answers TLS, as a service's
// endpoints list writes it: "smtp://127.0.0.1:25".
type Endpoint struct {
	Scheme string
	Addr   string // host:port, the scheme's port when none is written
	// StartTLS is the plain-text protocol that upgrades to TLS ("smtp",
	// "imap", "pop3"), "" for TLS from the first byte.
	StartTLS string
}

func (e Endpoint) String() string { return e.Scheme + "://" + e.Addr }

// Port is the endpoint's port.
func (e Endpoint) Port() string {
	_, p, _ := net.SplitHostPort(e.Addr)
	return p
}

// endpointSchemes: the default port and STARTTLS protocol of each scheme.
var endpointSchemes = map[string]struct {
	port     int
	startTLS string
}{
	"smtp": {25, "smtp"}, "submission": {587, "smtp"}, "imap": {143, "imap"}, "pop3": {110, "pop3"},
	"smtps": {465, ""}, "imaps": {993, ""}, "pop3s": {995, ""}, "https": {443, ""}, "tls": {0, ""},
}

// EndpointSchemes lists the schemes an endpoint may have.
func EndpointSchemes() []string {
	var out []string
	for s := range endpointSchemes {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// ParseEndpoint reads "SCHEME://HOST[:PORT]": a known scheme, a host that
// is an IP address or a host name, a port (required for tls), nothing else.
func ParseEndpoint(s string) (Endpoint, error) {
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Host == "" {
		return Endpoint{}, fmt.Errorf("%q is not SCHEME://HOST[:PORT]", s)
	}
	sc, ok := endpointSchemes[u.Scheme]
	if !ok {
		return Endpoint{}, fmt.Errorf("%q: the scheme is one of %s", s, strings.Join(EndpointSchemes(), ", "))
	}
	host, port := u.Hostname(), u.Port()
	if net.ParseIP(host) == nil && schema.CheckHostname(hcl.Range{}, "endpoints", host, false, false) != nil {
		return Endpoint{}, fmt.Errorf("%q: %q is neither an IP address nor a host name", s, host)
	}
	switch {
	case port == "" && sc.port == 0:
		return Endpoint{}, fmt.Errorf("%q: a tls endpoint needs its port", s)
	case port == "":
		port = strconv.Itoa(sc.port)
	default:
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return Endpoint{}, fmt.Errorf("%q: the port must be 1-65535", s)
		}
	}
	return Endpoint{Scheme: u.Scheme, Addr: net.JoinHostPort(host, port), StartTLS: sc.startTLS}, nil
}
