package dns

import (
	"net"
	"strings"
)

// WithPort gives every nameserver a port, 53 by default.
func WithPort(servers []string) []string {
	out := make([]string, len(servers))
	for i, s := range servers {
		if _, _, err := net.SplitHostPort(s); err != nil {
			s = net.JoinHostPort(strings.Trim(s, "[]"), "53")
		}
		out[i] = s
	}
	return out
}

// Fqdn is a name lower case and fully qualified (with its final dot).
func Fqdn(s string) string {
	s = strings.ToLower(s)
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
