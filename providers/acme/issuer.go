package acme

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/providers/certificate"

	"github.com/go-acme/lego/v4/acme"
	legocert "github.com/go-acme/lego/v4/certificate"
	"github.com/go-acme/lego/v4/challenge/dns01"
	"github.com/go-acme/lego/v4/challenge/http01"
	"github.com/go-acme/lego/v4/lego"
	"github.com/go-acme/lego/v4/providers/dns/rfc2136"
)

// Issuer obtains certificates for one certificate block from an account.
type Issuer struct {
	Account *Account
	Order
}

// Order are the settings of one certificate's orders.
type Order struct {
	Challenge string // "http-01" or "dns-01"

	// http-01: the webroot of the HTTP vhost serving the names, on that
	// vhost's host; without one, lego's own server listens on HTTPAddress.
	Webroot     string
	WebrootHost host.Host // where Webroot is
	HTTPAddress string
	// PreCheck, if set, runs before an order (http-01 through a vhost: the
	// challenge path must not be redirected); its error stops the order.
	PreCheck func(ctx context.Context, domains []string) error

	// dns-01: the zone's RFC 2136 primary and TSIG key. DNSLock is shared by
	// every dns-01 issuer of a run: lego keeps the recursive nameservers of
	// dns-01 in a package variable, so dns-01 orders must not overlap.
	DNS     RFC2136
	DNSLock *sync.Mutex
}

// RFC2136 is a zone changed through its primary with TSIG (dns.Server):
// what dns-01 needs to publish its challenge records.
type RFC2136 interface {
	RFC2136() (primary, algorithm, keyName, secret string)
}

// Issuer is the account's issuer for one certificate's orders.
func (a *Account) Issuer(o Order) certificate.Issuer { return &Issuer{Account: a, Order: o} }

var (
	_ certificate.Issuer         = (*Issuer)(nil)
	_ certificate.RenewalAdvisor = (*Issuer)(nil)
)

// RenewAt asks the CA's renewal information (ARI) when leaf should be
// renewed: the start of its suggested window. A CA without ARI answers an
// error, which the caller ignores.
func (i *Issuer) RenewAt(_ context.Context, leaf *x509.Certificate) (time.Time, error) {
	key, err := i.Account.loadKey(false)
	if err != nil {
		return time.Time{}, err
	}
	client, err := i.Account.client(key, i.Account.registration())
	if err != nil {
		return time.Time{}, err
	}
	info, err := client.Certificate.GetRenewalInfo(legocert.RenewalInfoRequest{Cert: leaf})
	if err != nil {
		return time.Time{}, err
	}
	return info.SuggestedWindow.Start, nil
}

// Issue obtains a chain for domains and key.
func (i *Issuer) Issue(ctx context.Context, domains []string, key crypto.Signer) ([]byte, error) {
	if i.PreCheck != nil {
		if err := i.PreCheck(ctx, domains); err != nil {
			return nil, err
		}
	}
	res, err := i.obtain(domains, key)
	if err != nil && errors.Is(err, errAccountGone) { // the CA forgot the account: register again, once
		if rerr := i.Account.Register(ctx); rerr != nil {
			return nil, rerr
		}
		res, err = i.obtain(domains, key)
	}
	if err != nil {
		return nil, err
	}
	return res.Certificate, nil
}

var errAccountGone = errors.New("account does not exist")

func (i *Issuer) obtain(domains []string, key crypto.Signer) (*legocert.Resource, error) {
	if i.Challenge == "dns-01" && i.DNSLock != nil {
		i.DNSLock.Lock()
		defer i.DNSLock.Unlock()
	}
	accountKey, err := i.Account.loadKey(false)
	if err != nil {
		return nil, err
	}
	client, err := i.Account.client(accountKey, i.Account.registration())
	if err != nil {
		return nil, err
	}
	if err := i.setChallenge(client); err != nil {
		return nil, err
	}
	res, err := client.Certificate.Obtain(legocert.ObtainRequest{Domains: domains, PrivateKey: key, Bundle: true})
	var problem *acme.ProblemDetails
	if errors.As(err, &problem) && strings.HasSuffix(problem.Type, ":accountDoesNotExist") {
		return nil, fmt.Errorf("%w: %v", errAccountGone, err)
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (i *Issuer) setChallenge(client *lego.Client) error {
	switch i.Challenge {
	case "dns-01":
		if i.DNS == nil {
			return errors.New("dns-01 needs a dns_zone with a server and a tsig key for the certificate's names")
		}
		primary, alg, key, secret := i.DNS.RFC2136()
		p, err := rfc2136.NewDNSProviderConfig(&rfc2136.Config{
			Nameserver: primary, TSIGAlgorithm: alg, TSIGKey: key, TSIGSecret: secret,
			TTL: 60, PropagationTimeout: 2 * time.Minute, PollingInterval: 500 * time.Millisecond, DNSTimeout: 10 * time.Second,
		})
		if err != nil {
			return err
		}
		return client.Challenge.SetDNS01Provider(p,
			dns01.AddRecursiveNameservers([]string{primary}),
			dns01.DisableAuthoritativeNssPropagationRequirement())
	default:
		if i.Webroot != "" {
			return client.Challenge.SetHTTP01Provider(webroot{i.WebrootHost, i.Webroot})
		}
		host, port, err := net.SplitHostPort(i.HTTPAddress)
		if err != nil {
			host, port = "", "80"
		}
		return client.Challenge.SetHTTP01Provider(http01.NewProviderServer(host, port))
	}
}

// Roots are the system roots and the account's ca_roots; nil when a
// ca_roots file cannot be read (orders report that).
func (i *Issuer) Roots() *x509.CertPool {
	pool, err := i.Account.roots()
	if err != nil {
		return nil
	}
	return pool
}

// Issued reports whether chain is a chain an ACME CA issued: the leaf is
// signed by the next certificate. (Which CA is not pinned here.)
func (i *Issuer) Issued(chain []*x509.Certificate) bool {
	return len(chain) > 1 && chain[0].CheckSignatureFrom(chain[1]) == nil
}
