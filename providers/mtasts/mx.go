package mtasts

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/internal/chain"
	"github.com/trustform/trustform/internal/probe"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/certificate"
	"github.com/trustform/trustform/providers/service"
	"github.com/trustform/trustform/schema"
)

// mxService is a mail service trustform manages that answers SMTP for a
// host (an endpoint smtp://HOST:PORT), with the certificate it serves.
type mxService struct {
	Host     string // the endpoint's host, lower case
	Endpoint probe.Endpoint
	Service  schema.Address
	Cert     schema.Address
	Names    []string // the certificate's domains
	// LocalCA: the certificate comes from a local CA, which no sender's
	// Web PKI trusts.
	LocalCA bool
	// Roots are the certificate issuer's roots (nil: the system's), which
	// the live check builds the served chain to.
	Roots func() *x509.CertPool
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
			ep, err := service.ParseEndpoint(e)
			if err != nil || ep.Scheme != "smtp" {
				continue
			}
			host, _, _ := net.SplitHostPort(ep.Addr)
			out = append(out, mxService{Host: strings.ToLower(host), Service: a, Cert: s.Certificate.Address,
				Endpoint: probe.Endpoint{URL: e, Addr: ep.Addr, StartTLS: ep.StartTLS},
				Names:    cb.Domains, LocalCA: cb.Issuer.Address.Type == "local_ca"})
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
	for _, s := range m.answering() {
		switch {
		case s.LocalCA:
			out = append(out, fmt.Sprintf("%s answers SMTP for the MX host %s with %s, issued by a local CA: senders that enforce MTA-STS check the certificate in the Web PKI and refuse it", s.Service, s.Host, s.Cert))
		case !providers.Serves(s.Names, s.Host):
			out = append(out, fmt.Sprintf("%s answers SMTP for the MX host %s with %s, which names %s, not %s: senders that enforce MTA-STS refuse it", s.Service, s.Host, s.Cert, strings.Join(s.Names, ", "), s.Host))
		}
	}
	return out
}

// answering are the managed services that answer for the domain's MX
// hosts, each with Host set to the MX host it answers for: its endpoint
// names the host, or its certificate does (an endpoint given by address).
func (m *MTASTS) answering() []mxService {
	var out []mxService
	for _, s := range m.services {
		mx := ""
		for _, h := range m.mx {
			if covers(h, s.Host) || (mx == "" && providers.Serves(s.Names, h)) {
				mx = h
			}
		}
		if mx != "" {
			s.Host = mx
			out = append(out, s)
		}
	}
	return out
}

// mxTLS is the live check of point 4: each managed MX's certificate as a
// sender that enforces MTA-STS sees it, over STARTTLS on its endpoint,
// verified in the Web PKI (or the issuer's roots) for the MX host's name.
// "yes", or each MX that fails and why. MX hosts no service of the
// configuration answers for are not dialled: a plan opens no connection
// to port 25 of hosts it does not manage.
func (m *MTASTS) mxTLS(ctx context.Context) string {
	var bad []string
	for _, s := range m.answering() {
		c, err := s.Endpoint.Chain(ctx, s.Host, 5*time.Second)
		if err == nil {
			var roots *x509.CertPool
			if s.Roots != nil {
				roots = s.Roots()
			}
			if roots == nil {
				roots, err = x509.SystemCertPool()
			}
			if err == nil {
				err = chain.Verify(c, roots, s.Host, time.Now())
			}
		}
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s (%s): %s", s.Host, s.Endpoint.URL, strings.ReplaceAll(err.Error(), "\n", " ")))
		}
	}
	if len(bad) == 0 {
		return "yes"
	}
	return "no: " + strings.Join(bad, "; ")
}
