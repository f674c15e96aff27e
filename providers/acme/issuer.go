package acme

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-acme/lego/v4/acme"
	"github.com/go-acme/lego/v4/acme/api"
	"github.com/go-acme/lego/v4/certcrypto"
	legocert "github.com/go-acme/lego/v4/certificate"
	"github.com/go-acme/lego/v4/challenge"
	"github.com/go-acme/lego/v4/challenge/dns01"
	"github.com/go-acme/lego/v4/challenge/http01"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/certificate"
)

// Issuer obtains certificates for one certificate block from an account.
type Issuer struct {
	Account *Account
	Order
}

// Order are the settings of one certificate's orders.
type Order struct {
	Challenge string // "http-01" or "dns-01"
	// Profile is the ACME profile ordered ("" the CA's default);
	// PreferredChain the issuer common name of the chain to prefer.
	Profile        string
	PreferredChain string

	// http-01: the webroot of the HTTP vhost serving the names, on that
	// vhost's host; without one, lego's own server listens on HTTPAddress.
	Webroot     string
	WebrootHost host.Host // where Webroot is
	HTTPAddress string
	// PreCheck, if set, runs before an order (http-01 through a vhost: the
	// challenge path must not be redirected); its error stops the order.
	PreCheck func(ctx context.Context, domains []string) error

	// dns-01: the zone the challenge records are written into.
	DNS TXTZone

	// Zones are the configuration's managed zones, which GuardOrder asks
	// for CAA records and chains of trust.
	Zones []NameZone
}

// Issuer is the account's issuer for one certificate's orders.
func (a *Account) Issuer(o Order) certificate.Issuer { return &Issuer{Account: a, Order: o} }

var (
	_ certificate.Issuer         = (*Issuer)(nil)
	_ certificate.RenewalAdvisor = (*Issuer)(nil)
	_ certificate.OrderChecker   = (*Issuer)(nil)
	_ certificate.Waiter         = (*Issuer)(nil)
)

// RenewAt asks the CA's renewal information (ARI) when leaf should be
// renewed: a point inside the suggested window, the same for a certificate
// on every run and spread across a fleet, as RFC 9773 §4.2 asks (the
// point is derived from the serial). A CA without ARI answers an error,
// which the caller ignores.
func (i *Issuer) RenewAt(ctx context.Context, leaf *x509.Certificate) (time.Time, error) {
	key, err := i.Account.loadKey(false)
	if err != nil {
		return time.Time{}, err
	}
	client, err := i.Account.client(ctx, key, i.Account.registration())
	if err != nil {
		return time.Time{}, err
	}
	info, err := client.Certificate.GetRenewalInfo(legocert.RenewalInfoRequest{Cert: leaf})
	if err != nil {
		return time.Time{}, err
	}
	return PointInWindow(info.SuggestedWindow.Start, info.SuggestedWindow.End, leaf.SerialNumber.Bytes()), nil
}

// PointInWindow is the point of [start, end] that seed picks: a fraction
// of the window from the SHA-256 of seed.
func PointInWindow(start, end time.Time, seed []byte) time.Time {
	if !end.After(start) {
		return start
	}
	sum := sha256.Sum256(seed)
	frac := float64(binary.BigEndian.Uint64(sum[:8])>>11) / float64(1<<53)
	return start.Add(time.Duration(frac * float64(end.Sub(start))))
}

// CheckOrder refuses a profile the CA's directory does not offer.
func (i *Issuer) CheckOrder() []providers.Warning {
	if i.Profile == "" {
		return nil
	}
	dir, err := i.Account.directory()
	if dir == nil {
		return []providers.Warning{{Attr: "profile", Summary: "profile " + i.Profile + " is not checked",
			Detail: fmt.Sprintf("The directory of %s could not be read (%v), so whether it offers profile %q is not known.", i.Account.Directory, err, i.Profile)}}
	}
	if _, ok := dir.Meta.Profiles[i.Profile]; ok {
		return nil
	}
	offered := "none"
	if len(dir.Meta.Profiles) > 0 {
		var l []string
		for _, name := range slices.Sorted(maps.Keys(dir.Meta.Profiles)) {
			l = append(l, fmt.Sprintf("%q (%s)", name, dir.Meta.Profiles[name]))
		}
		offered = strings.Join(l, ", ")
	}
	return []providers.Warning{{Error: true, Attr: "profile", Summary: "the CA offers no profile " + strconv.Quote(i.Profile),
		Detail: fmt.Sprintf("%s offers these profiles: %s.", i.Account.Directory, offered)}}
}

// WaitUntil is when the CA said it will take an order for domains again,
// after a rate limit; zero when it did not.
func (i *Issuer) WaitUntil(domains []string) (time.Time, string) {
	h := i.Account.hold(domains)
	if h == nil {
		return time.Time{}, ""
	}
	return h.Until, h.Problem
}

// Issue obtains a chain for the request. The order runs under ctx: when
// ctx ends (Ctrl-C), Issue returns within a few seconds, whatever lego is
// waiting for, and nothing is deployed.
func (i *Issuer) Issue(ctx context.Context, req certificate.Request) ([]byte, error) {
	if until, problem := i.WaitUntil(req.Domains); i.now().Before(until) {
		return nil, fmt.Errorf("the CA rate-limited these names (%s): no order before %s", problem, until.UTC().Format(time.RFC3339))
	}
	chainErr, caaErr := i.GuardOrder(ctx, req.Domains)
	if chainErr != nil {
		return nil, fmt.Errorf("dnssec-chain-valid: nothing is ordered: %w", chainErr)
	}
	if caaErr != nil {
		return nil, fmt.Errorf("caa-before-order: nothing is ordered: %w", caaErr)
	}
	if i.PreCheck != nil {
		if err := i.PreCheck(ctx, req.Domains); err != nil {
			return nil, err
		}
	}
	var res *legocert.Resource
	order := func() (err error) { res, err = i.orderUnder(ctx, req); return err }
	err := retry(ctx, order)
	if err != nil && errors.Is(err, errAccountGone) { // the CA forgot the account: register again, once
		if rerr := retry(ctx, func() error { return i.Account.Register(ctx) }); rerr != nil {
			i.noteOutage(rerr)
			return nil, rerr
		}
		err = retry(ctx, order)
	}
	i.noteOutage(err)
	var limited *acme.RateLimitedError
	if errors.As(err, &limited) {
		until := i.now().Add(time.Hour) // a CA that names no time: an hour
		if d, perr := api.ParseRetryAfter(limited.RetryAfter); perr == nil && d > 0 {
			until = i.now().Add(d)
		}
		i.Account.setHold(req.Domains, &rateHold{Until: until.UTC().Truncate(time.Second), Problem: limited.Detail})
		return nil, fmt.Errorf("rate limited by the CA (%s): retry after %s", limited.Detail, until.UTC().Format(time.RFC3339))
	}
	if err != nil {
		return nil, err
	}
	i.Account.setHold(req.Domains, nil)
	i.keepIssuingCA(res.Certificate)
	return res.Certificate, nil
}

func (i *Issuer) now() time.Time {
	if i.Account.Now != nil {
		return i.Account.Now()
	}
	return time.Now()
}

// abandonAfter is how long an interrupted order is given to end by itself
// (its requests fail at once; lego may be sleeping in its propagation
// wait).
const abandonAfter = 3 * time.Second

// orderUnder runs an order, returning when it ends or, after ctx ends,
// within abandonAfter.
func (i *Issuer) orderUnder(ctx context.Context, req certificate.Request) (*legocert.Resource, error) {
	type result struct {
		res *legocert.Resource
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := i.obtain(ctx, req)
		done <- result{res, err}
	}()
	select {
	case r := <-done:
		if ctx.Err() != nil {
			return nil, fmt.Errorf("the order was interrupted (%w): nothing is deployed", context.Cause(ctx))
		}
		return r.res, r.err
	case <-ctx.Done():
	}
	select {
	case <-done:
	case <-time.After(abandonAfter):
	}
	return nil, fmt.Errorf("the order was interrupted (%w): nothing is deployed", context.Cause(ctx))
}

var errAccountGone = errors.New("account does not exist")

// obtain orders the certificate. A renewal names the certificate it
// replaces (RFC 9773 §5); a CA that refuses that (it never issued it to
// this account, or it was replaced already by an order whose certificate
// was never deployed) gets the order without it.
func (i *Issuer) obtain(ctx context.Context, req certificate.Request) (*legocert.Resource, error) {
	accountKey, err := i.Account.loadKey(false)
	if err != nil {
		return nil, err
	}
	core, err := i.Account.core(ctx, accountKey, i.Account.registration())
	if err != nil {
		return nil, err
	}
	s, err := i.solver(ctx, core)
	if err != nil {
		return nil, err
	}
	certifier := legocert.NewCertifier(core, s, legocert.CertifierOptions{KeyType: certcrypto.RSA2048, Timeout: 30 * time.Second})
	or := legocert.ObtainRequest{Domains: req.Domains, PrivateKey: req.Key, Bundle: true,
		Profile: i.Profile, PreferredChain: i.PreferredChain}
	if req.Replaces != nil {
		or.ReplacesCertID, _ = legocert.MakeARICertID(req.Replaces)
	}
	res, err := certifier.Obtain(or)
	if problem, ok := err.(*acme.ProblemDetails); ok && or.ReplacesCertID != "" && !strings.HasSuffix(problem.Type, ":rateLimited") && ctx.Err() == nil {
		or.ReplacesCertID = ""
		res, err = certifier.Obtain(or)
	}
	var problem *acme.ProblemDetails
	if errors.As(err, &problem) && strings.HasSuffix(problem.Type, ":accountDoesNotExist") {
		return nil, fmt.Errorf("%w: %v", errAccountGone, err)
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// solver answers the order's challenges of the certificate's type.
func (i *Issuer) solver(ctx context.Context, core *api.Core) (*solver, error) {
	s := &solver{ctx: ctx}
	switch i.Challenge {
	case "dns-01":
		if i.DNS == nil {
			return nil, errors.New("dns-01 needs a dns_zone that holds the certificate's names")
		}
		// The record goes through the zone's own backend, and the
		// pre-check replaces lego's, which asks the system's resolvers: no
		// lego global is written, and orders run side by side.
		// lego follows CNAMEs of _acme-challenge names through the system's
		// resolvers, outside the zone the challenge is written into, for
		// its pre-check; its only switch is this variable, which it reads
		// at each challenge.
		os.Setenv("LEGO_DISABLE_CNAME_SUPPORT", "true")
		s.challenge = dns01.NewChallenge(core, s.validate, zoneProvider{ctx, i.DNS}, dns01.WrapPreCheck(i.txtServed(ctx)))
	default:
		var p challenge.Provider = webroot{i.WebrootHost, i.Webroot}
		if i.Webroot == "" {
			host, port, err := net.SplitHostPort(i.HTTPAddress)
			if err != nil {
				host, port = "", "80"
			}
			p = http01.NewProviderServer(host, port)
		}
		s.challenge = http01.NewChallenge(core, s.validate, p)
	}
	return s, nil
}

// txtServed is the dns-01 pre-check: the exact TXT value on every
// authoritative server of the zone, asked through trustform's DNS client,
// before the CA is told to look. Interrupted (ctx), it stops the wait.
func (i *Issuer) txtServed(ctx context.Context) dns01.WrapPreCheckFunc {
	return func(_, fqdn, value string, _ dns01.PreCheckFunc) (bool, error) {
		if err := ctx.Err(); err != nil {
			return true, err
		}
		lagging, err := i.DNS.TXTServed(ctx, fqdn, value)
		if err != nil {
			return false, err
		}
		if len(lagging) > 0 {
			return false, fmt.Errorf("%s: not served yet by %s", fqdn, strings.Join(lagging, ", "))
		}
		return true, nil
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
