package mtasts

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/certificate"
	"github.com/trustform/trustform/providers/service"
	"github.com/trustform/trustform/schema"
)

// mxService is a mail service trustform manages that answers SMTP for a
// host (an endpoint smtp://HOST:PORT), with the certificate it serves.
type mxService struct {
	Host    string // the endpoint's host, lower case
	Service schema.Address
	Cert    schema.Address
	Names   []string // the certificate's domains
	// LocalCA: the certificate comes from a local CA, which no sender's
	// Web PKI trusts.
	LocalCA bool
}

// mxServices lists the configuration's services with an smtp:// endpoint.
func mxServices(cfg *schema.Config) []mxService {
	var out []mxService
	cfg.Each(func(a schema.Address, _ hcl.Range, blk schema.Block) {
		s, ok := blk.(*service.Block)
		if !ok {
			return
		}
		cb, _ := cfg.Block(s.Certificate.Address).(*certificate.Block)
		if cb == nil {
			return
		}
		for _, e := range s.Endpoints {
			u, err := url.Parse(e)
			if err != nil || u.Scheme != "smtp" {
				continue
			}
			out = append(out, mxService{Host: strings.ToLower(u.Hostname()), Service: a, Cert: s.Certificate.Address,
				Names: cb.Domains, LocalCA: cb.Issuer.Address.Type == "local_ca"})
		}
	})
	return out
}

// covers reports whether a policy's mx pattern matches host (RFC 8461
// §4.1: a leading "*." stands for one label).
func covers(pattern, host string) bool {
	pattern, host = strings.ToLower(strings.TrimSuffix(pattern, ".")), strings.ToLower(strings.TrimSuffix(host, "."))
	if rest, ok := strings.CutPrefix(pattern, "*."); ok {
		i := strings.Index(host, ".")
		return i > 0 && host[i+1:] == rest
	}
	return pattern == host
}

// MXProblems are why senders would refuse an MX under an enforce policy
// (rule mta-sts-mx-covered): an MX host no pattern matches, and a managed
// MX whose certificate is not valid in the Web PKI for its name.
func (m *MTASTS) MXProblems() []string {
	if m.Mode != "enforce" {
		return nil
	}
	patterns := m.policy().MX
	var out []string
	for _, mx := range m.mx {
		matched := false
		for _, p := range patterns {
			matched = matched || covers(p, mx)
		}
		if !matched {
			out = append(out, fmt.Sprintf("the MX host %s matches none of the policy's mx patterns (%s): senders that enforce the policy do not deliver to it", mx, strings.Join(patterns, ", ")))
		}
	}
	for _, s := range m.services {
		// The service answers for an MX host when its endpoint names the
		// host, or its certificate does (an endpoint given by address).
		mx := ""
		for _, h := range m.mx {
			if covers(h, s.Host) || (mx == "" && providers.Serves(s.Names, h)) {
				mx = h
			}
		}
		if mx == "" {
			continue
		}
		s.Host = mx
		switch {
		case s.LocalCA:
			out = append(out, fmt.Sprintf("%s answers SMTP for the MX host %s with %s, issued by a local CA: senders that enforce MTA-STS check the certificate in the Web PKI and refuse it", s.Service, s.Host, s.Cert))
		case !providers.Serves(s.Names, s.Host):
			out = append(out, fmt.Sprintf("%s answers SMTP for the MX host %s with %s, which names %s, not %s: senders that enforce MTA-STS refuse it", s.Service, s.Host, s.Cert, strings.Join(s.Names, ", "), s.Host))
		}
	}
	return out
}
