package certificate

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-acme/lego/v4/certcrypto"

	"github.com/trustform/trustform/internal/chain"
	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// Issuer issues certificates. The local CA and ACME accounts implement it.
type Issuer interface {
	// Issue returns a PEM chain, leaf first, for the request. It may take
	// time (an ACME order) and must honour ctx.
	Issue(ctx context.Context, req Request) ([]byte, error)
	// Issued reports whether chain was issued by this issuer, so a
	// certificate from another CA shows as drift.
	Issued(chain []*x509.Certificate) bool
	// Roots are the roots its chains must build to (chain.Verify), both
	// before a chain is written and in what a server sends; nil when they
	// are not known yet (a CA not created), and chains go unchecked.
	Roots() *x509.CertPool
}

// Request is one certificate to issue: for Domains and the public half of
// Key; Replaces is the certificate it succeeds, if any (an ACME renewal
// order names it, RFC 9773 §5, so the CA counts it as a renewal).
type Request struct {
	Domains  []string
	Key      crypto.Signer
	Replaces *x509.Certificate
}

// RenewalAdvisor is an Issuer that can say when a certificate should be
// renewed: ACME Renewal Information (RFC 9773). A zero time, or an error,
// means it has no opinion, and renew_before alone decides.
type RenewalAdvisor interface {
	RenewAt(ctx context.Context, leaf *x509.Certificate) (time.Time, error)
}

// OrderChecker is an Issuer that checks the certificate's order settings
// against what the CA offers (an ACME profile the directory lists), at
// plan time. Observe of the issuer must have run.
type OrderChecker interface {
	CheckOrder() []providers.Warning
}

// OrderGuard is an Issuer that checks, before anything reaches the CA,
// what would make the CA refuse an order for domains: the DNSSEC chain
// of trust of the zones that hold them (chainErr, rule
// dnssec-chain-valid) and their CAA records (caaErr, rule
// caa-before-order). Observe asks it; Issue asks it again.
type OrderGuard interface {
	GuardOrder(ctx context.Context, domains []string) (chainErr, caaErr error)
}

// Waiter is an Issuer that may have been told to wait (an ACME rate
// limit): no order for domains before the time it returns.
type Waiter interface {
	WaitUntil(domains []string) (time.Time, string)
}

// Phases of a certificate change, in the order a key rollover uses them.
const (
	PhaseStageKey    = providers.PhaseStageKey
	PhaseIssue       = "issue"         // issue for the live key (or a first key) and deploy
	PhaseIssueNewKey = "issue-new-key" // issue for a fresh key and deploy
	PhaseStageCert   = providers.PhaseStageCert
	PhaseDeployNext  = providers.PhaseDeployNext
	PhaseProtect     = "protect"      // set the key file's mode back to 0600
	PhaseCopies      = "write-copies" // write the optional copies from cert_file and key_file
)

// Copy is one optional file made from the deployed chain and key.
type Copy struct {
	Attr string   // fullchain_file, chain_file, bundle_file
	File string   // as configured
	Path string   // on the host
	Kind CopyKind // what it holds
}

// CopyKind is what a copy holds.
type CopyKind int

const (
	FullChain CopyKind = iota // leaf and intermediates, as cert_file
	ChainOnly                 // the intermediates
	Bundle                    // leaf, intermediates and key (0600), as HAProxy loads it
)

// copyOf is what c holds for chain (PEM, as issued) and key (PEM), and its mode.
func copyOf(c Copy, chainPEM, keyPEM []byte) ([]byte, fs.FileMode, error) {
	switch c.Kind {
	case ChainOnly:
		certs, err := certcrypto.ParsePEMBundle(chainPEM)
		if err != nil {
			return nil, 0, err
		}
		var out []byte
		for _, x := range certs[1:] {
			out = append(out, certcrypto.PEMEncode(certcrypto.DERCertificateBytes(x.Raw))...)
		}
		return out, 0o644, nil
	case Bundle:
		return append(slices.Clone(chainPEM), keyPEM...), 0o600, nil
	}
	return chainPEM, 0o644, nil
}

// Certificate is a certificate chain and its private key, deployed as files.
type Certificate struct {
	Addr     string    // certificate.NAME, for values known after apply
	Host     host.Host // where the files are deployed
	Domains  []string
	KeyType  string // ec256, ec384, rsa2048, ...
	ReuseKey bool
	// RenewBefore is renew_before as a duration, RenewFraction as a
	// fraction of the lifetime; both zero: the default (renewWindow).
	RenewBefore   time.Duration
	RenewFraction float64
	CertPath      string // where the chain is written on this machine
	KeyPath       string // where the key is written (mode 0600)
	KeyFile       string // key_file as configured, for step descriptions
	CertFile      string // cert_file as configured, for step descriptions
	// Copies are the optional files written with cert_file and key_file
	// (fullchain_file, chain_file, bundle_file).
	Copies     []Copy
	Issuer     Issuer
	IssuerAddr schema.Address
	// Fallbacks are fallback_issuers, tried in order after Issuer when it
	// fails (failover.go); FailoverAfter (zero: the default) and
	// FailoverBefore say when.
	Fallbacks                     []Fallback
	FailoverAfter, FailoverBefore time.Duration
	Now                           func() time.Time
	// KeepNext keeps a staged next key at all times (publish_next on the
	// certificate's TLSA RRsets, RFC 7671 §8.1). Its key file is then not a
	// rollover under way but the key the next rollover, planned or
	// emergency, moves to without waiting: its record is already published.
	KeepNext bool

	// Filled by Observe.
	Chain   []*x509.Certificate // the live chain, leaf first
	LiveKey crypto.PublicKey    // public half of the live key file
	NextKey crypto.PublicKey    // public half of the staged next key, if any
	// StagedChain is a chain issued but not deployed yet (cert_file.next):
	// with a DANE-TA RRset, its issuing CA is published before it is served.
	StagedChain []*x509.Certificate
	RenewAt     time.Time // the CA's suggested renewal start (ARI), if it has one
	// KeyPlanted says why the key file may be another user's (see
	// host.Planted); such a key is never adopted as a first key.
	KeyPlanted  string
	KeyMode     fs.FileMode // the key file's permission bits
	KeyForeign  string      // why the key file is not this user's or root's, if so
	StaleCopies []string    // the copies that do not hold what cert_file and key_file do
	// Foreign are the staged files (KEY_FILE.next, CERT_FILE.next) that
	// another user may have put there: never adopted, and replaced when
	// trustform stages its own.
	Foreign []string
	// links are cert_file and key_file where they are symbolic links
	// (certbot's), by attribute name; adopted the paths of those an
	// import adopted (adopt.go).
	links   map[string]string
	adopted []string
	unlink  []string // the adopted links the change being applied replaces (its decision's)
	from    choice   // the issuer the change being applied orders from (its decision's)
	// certbot is what certbot renews on the certificate's host, local maps
	// a path there to where it is read; fights the renewals that cover
	// this certificate, as Observe found them.
	certbot *certbotRenewals
	local   func(string) string
	fights  []string
	// What the issuer's OrderGuard found would make the CA refuse an
	// order: a broken chain of trust, a CAA record that forbids it.
	orderChain, orderCAA error
	checked              chainCheck // what the live chain's signatures say (checkChain)

	intent    Intent // the last Plan's
	replacing bool   // the last Plan's was asked for a new key (-replace)
	// unfinished: an apply approved with -replace recorded the live key as
	// retiring, and it is still deployed: the replacement goes on without
	// -replace, as the revocation does (retire.go).
	unfinished bool
	replaced   bool // -replace is done: the key was replaced in this run
	// retiring are the replaced certificates still to revoke or whose key
	// may still be on the host (the last Plan's, see retire.go).
	retiring []providers.Retired
}

var (
	_ providers.KeyDeployer  = (*Certificate)(nil)
	_ providers.Parallel     = (*Certificate)(nil)
	_ providers.Renewing     = (*Certificate)(nil)
	_ providers.Deleter      = (*Certificate)(nil)
	_ providers.KeyHolder    = (*Certificate)(nil)
	_ providers.Adopter      = (*Certificate)(nil)
	_ providers.Warner       = (*Certificate)(nil)
	_ providers.Deployment   = (*Certificate)(nil)
	_ providers.Linker       = (*Certificate)(nil)
	_ providers.ChainGuarded = (*Certificate)(nil)
	_ providers.CAAGuarded   = (*Certificate)(nil)
	_ providers.Measured     = (*Certificate)(nil)
)

// Link keeps a next key staged when a TLSA RRset that pins the
// certificate publishes it (publish_next).
func (c *Certificate) Link(b providers.Binding) {
	addr, err := schema.ParseAddress(c.Addr)
	if err != nil {
		return
	}
	for _, a := range b.Config().Referrers(addr) {
		if p, ok := b.Bound(a).(providers.Pin); ok && p.Pinned() == addr && p.KeepsNext() {
			c.KeepNext = true
		}
	}
}

// ChainBroken is why the last Plan's order would go for names in a zone
// whose chain of trust does not validate, or nil (rule dnssec-chain-valid).
func (c *Certificate) ChainBroken() error {
	if !c.intent.Issue {
		return nil
	}
	return c.orderChain
}

// CAAForbids is why the CAA records forbid the last Plan's order, or nil
// (rule caa-before-order).
func (c *Certificate) CAAForbids() error {
	if !c.intent.Issue {
		return nil
	}
	return c.orderCAA
}

// Deployed is where the certificate's files are, its names, and the roots
// its chains build to, for the kinds that read its files.
func (c *Certificate) Deployed() providers.Deployed {
	d := providers.Deployed{CertPath: c.CertPath, KeyPath: c.KeyPath, Names: c.Domains}
	if c.Issuer != nil {
		d.Roots = c.deployedRoots
	}
	return d
}

// deployedRoots are the roots of the issuer of the deployed chain: a
// fallback's, after a failover (x509 pools do not merge).
func (c *Certificate) deployedRoots() *x509.CertPool {
	if i := c.issuedBy(c.Chain); i > 0 {
		return c.Fallbacks[i-1].Issuer.Roots()
	}
	return c.Issuer.Roots()
}

// Warnings are the issuer's findings on the order settings, and the
// staged files that are not trustform's.
func (c *Certificate) Warnings() []providers.Warning {
	var out []providers.Warning
	if oc, ok := c.Issuer.(OrderChecker); ok {
		out = oc.CheckOrder()
	}
	if life := c.lifetime(); c.RenewBefore > 0 && life > 0 && c.RenewBefore >= life {
		out = append(out, providers.Warning{Error: true, Attr: "renew_before", Summary: "renew_before is not shorter than the certificate's lifetime",
			Detail: fmt.Sprintf("renew_before is %s, and %s issues certificates valid for %s: each would be due for renewal as soon as it is issued, and a rollover could never finish. Give a shorter duration, or a fraction of the lifetime (\"1/3\").",
				c.RenewBefore, c.IssuerAddr, roundLife(life))})
	}
	for _, why := range c.fights {
		out = append(out, providers.Warning{Attr: "domains", Summary: "certbot renews it too", Detail: why})
	}
	for _, why := range c.Foreign {
		out = append(out, providers.Warning{Summary: "A staged file is not trustform's",
			Detail: why + ": it may have been put there by another user, so it is neither published nor deployed; trustform replaces it when it stages its own."})
	}
	return out
}

// roundLife rounds a lifetime for a message: to the hour, or to the
// second for one under an hour.
func roundLife(d time.Duration) time.Duration {
	if d < time.Hour {
		return d.Round(time.Second)
	}
	return d.Round(time.Hour)
}

// Lifetimer is an Issuer that knows how long its certificates are valid
// before it issues one (the local CA).
type Lifetimer interface {
	Lifetime() time.Duration
}

// lifetime is how long this certificate's certificates are valid from
// their issue: the issuer's if it says, else the deployed one's (less any
// backdating, which the issuer's does not have); 0 when not known yet (an
// ACME CA before its first certificate).
func (c *Certificate) lifetime() time.Duration {
	if l, ok := c.Issuer.(Lifetimer); ok {
		return l.Lifetime()
	}
	if len(c.Chain) > 0 {
		return c.Chain[0].NotAfter.Sub(c.Chain[0].NotBefore)
	}
	return 0
}

// NextKeyPath is where a staged next key waits, beside the live key.
func (c *Certificate) NextKeyPath() string { return c.KeyPath + ".next" }

// NextCertPath is where a staged chain waits, beside the live one.
func (c *Certificate) NextCertPath() string { return c.CertPath + ".next" }

// Observe reads the live chain, key and staged key. Absent files are not errors.
func (c *Certificate) Observe(ctx context.Context) (providers.Value, error) {
	c.Chain, c.LiveKey, c.NextKey, c.StagedChain, c.RenewAt = nil, nil, nil, nil, time.Time{}
	c.KeyPlanted, c.KeyMode, c.KeyForeign, c.StaleCopies, c.Foreign = "", 0, "", nil, nil
	c.orderChain, c.orderCAA, c.fights = nil, nil, nil
	if c.certbot != nil {
		renewals, err := c.certbot.read(c.Host, c.local)
		if err != nil {
			return nil, fmt.Errorf("reading certbot's renewal configurations in %s: %w", filepath.Join(c.certbot.dir, "renewal"), err)
		}
		c.fights = c.certbotOverlap(renewals)
	}
	guard, guarded := c.Issuer.(OrderGuard)
	if guarded {
		c.orderChain, c.orderCAA = guard.GuardOrder(ctx, c.Domains)
	}
	// A staged key or chain is used only when it is trustform's own: a key
	// another user planted as KEY_FILE.next would be published and deployed.
	foreign := map[string]bool{}
	for _, p := range []string{c.NextKeyPath(), c.NextCertPath()} {
		why, err := host.Planted(c.Host, p)
		if err != nil {
			return nil, err
		}
		if why != "" {
			c.Foreign, foreign[p] = append(c.Foreign, "the staged "+filepath.Base(p)+": "+why), true
		}
	}
	var next crypto.PublicKey
	var err error
	if !foreign[c.NextKeyPath()] {
		if next, err = c.readPublicKey(c.NextKeyPath()); err != nil {
			return nil, err
		}
	}
	c.NextKey = next
	if !foreign[c.NextCertPath()] {
		if c.StagedChain, err = c.readChain(c.NextCertPath()); err != nil {
			return nil, err
		}
	}
	chain, err := c.readChain(c.CertPath)
	if err != nil {
		return nil, err
	}
	live, err := c.readPublicKey(c.KeyPath)
	if err != nil {
		return nil, err
	}
	c.LiveKey = live
	if err := c.observeLinks(); err != nil {
		return nil, err
	}
	if live != nil {
		if c.KeyPlanted, err = host.Planted(c.Host, c.KeyPath); err != nil {
			return nil, err
		}
		st, err := c.Host.Stat(c.KeyPath)
		if err != nil {
			return nil, err
		}
		if st != nil {
			c.KeyMode, c.KeyForeign = st.Mode().Perm(), host.Foreign(c.Host, st)
		}
	}
	if chain == nil {
		return nil, nil
	}
	if c.StaleCopies, err = c.staleCopies(); err != nil {
		return nil, err
	}
	c.Chain = chain
	c.checkChain() // here, where certificates are read side by side
	leaf := chain[0]
	v := providers.Value{
		"domains":     providers.List(sortedNames(leaf)...),
		"key_type":    providers.String(KeyTypeOf(leaf.PublicKey)),
		"not_after":   providers.String(leaf.NotAfter.UTC().Format(time.RFC3339)),
		"spki_sha256": providers.String(SPKIHash(leaf.PublicKey)),
	}
	if live != nil {
		v["key_mode"] = providers.String(fmt.Sprintf("%04o", c.KeyMode))
	}
	if live == nil || SPKIHash(live) != SPKIHash(leaf.PublicKey) {
		v["key_matches"] = providers.String("false")
	} else {
		v["key_matches"] = providers.String("true")
	}
	if next != nil {
		v["next_spki_sha256"] = providers.String(SPKIHash(next))
	}
	v["issuer"] = providers.String(c.issuerOf(chain))
	if len(c.StagedChain) > 0 {
		v["staged_certificate"] = providers.String(c.NextCertPath() + " for " + SPKIHash(c.StagedChain[0].PublicKey))
	}
	if guarded { // drift when a CAA record stops permitting the next renewal
		v["caa"] = providers.String("permits")
		if c.orderCAA != nil {
			v["caa"] = providers.String(c.orderCAA.Error())
		}
	}
	if adv, ok := c.Issuer.(RenewalAdvisor); ok {
		if at, err := adv.RenewAt(ctx, leaf); err == nil && !at.IsZero() {
			c.RenewAt = at
			v["renew_from"] = providers.String(at.UTC().Format(time.RFC3339))
		}
	}
	return v, nil
}

// staleCopies lists the copies that differ from what the deployed chain
// and key make (or have another mode).
func (c *Certificate) staleCopies() ([]string, error) {
	if len(c.Copies) == 0 {
		return nil, nil
	}
	chainPEM, err := c.Host.ReadFile(c.CertPath)
	if err != nil {
		return nil, err
	}
	keyPEM, err := c.Host.ReadFile(c.KeyPath)
	if err != nil {
		return nil, err
	}
	var stale []string
	for _, cp := range c.Copies {
		want, mode, err := copyOf(cp, chainPEM, keyPEM)
		if err != nil {
			return nil, err
		}
		got, err := c.Host.ReadFile(cp.Path)
		if err != nil {
			return nil, err
		}
		st, err := c.Host.Stat(cp.Path)
		if err != nil {
			return nil, err
		}
		if got == nil || !bytes.Equal(got, want) || st == nil || st.Mode().Perm() != mode {
			stale = append(stale, cp.Attr+" "+cp.File)
		}
	}
	return stale, nil
}

// writeCopies writes every copy from chainPEM and keyPEM.
func (c *Certificate) writeCopies(chainPEM, keyPEM []byte) error {
	for _, cp := range c.Copies {
		b, mode, err := copyOf(cp, chainPEM, keyPEM)
		if err != nil {
			return err
		}
		if err := c.Host.WriteFile(cp.Path, b, mode); err != nil {
			return err
		}
	}
	return nil
}

// issuerOf names the issuer of chain: the configured issuer's address, or
// "other: <issuer DN>". The issuer has been observed already (the engine
// observes what a resource refers to first).
func (c *Certificate) issuerOf(chain []*x509.Certificate) string {
	if i := c.issuedBy(chain); i >= 0 {
		return c.issuers()[i].Addr.String()
	}
	return "other: " + chain[0].Issuer.String()
}

// Intent is what a certificate needs, decided from configuration and observation.
type Intent struct {
	Value  providers.Value // desired value; spki unknown until a new key exists
	From   choice          // the issuer an issue orders from (failover.go)
	Issue  bool            // a certificate must be issued
	NewKey bool            // ... for a key that is not the live one
	Target crypto.PublicKey
	// StageNext: KeepNext needs a new next key, because none is staged, the
	// staged one has the wrong type, or this change deploys it.
	StageNext bool
	// Next is the next key that stays staged after this change (KeepNext).
	Next crypto.PublicKey
	// Adopt: the first issue uses the key already at key_file.
	Adopt bool
	// Protect: the key file's mode is looser than 0600, and nothing else
	// rewrites it.
	Protect bool
	// Copies: an optional copy is missing or out of date, and nothing else
	// writes it.
	Copies  bool
	Reasons []string
}

// intentFor decides what the certificate needs. replace forces a new key (a
// compromised key). A staged next key of the right type is the target of
// any new key; without KeepNext it also means a rollover is under way.
func (c *Certificate) intentFor(replace bool) Intent {
	addr := c.Addr
	now := c.Now()
	names := slices.Clone(c.Domains)
	slices.Sort(names)
	in := Intent{Value: providers.Value{
		"domains":  providers.List(names...),
		"key_type": providers.String(c.KeyType),
		"issuer":   providers.String(c.IssuerAddr.String()),
	}}
	staged := c.NextKey != nil && KeyTypeOf(c.NextKey) == c.KeyType
	issuedBy := func() int { return c.checkChain().issuer }
	chainProblem := func() error { return c.checkChain().problem }
	var leaf *x509.Certificate
	if len(c.Chain) > 0 {
		leaf = c.Chain[0]
	}
	switch {
	case leaf == nil:
		in.Issue, in.NewKey = true, true
		in.Reasons = append(in.Reasons, "no certificate at "+c.CertPath)
		if c.LiveKey != nil && c.ReuseKey && KeyTypeOf(c.LiveKey) == c.KeyType {
			if why := c.untrustedKey(); why != "" {
				in.Reasons = append(in.Reasons, "the existing key at "+c.KeyFile+" is not adopted ("+why+"): a new key is generated")
			} else {
				in.Adopt = true
				in.Reasons = append(in.Reasons, "adopting the existing key at "+c.KeyFile)
			}
		}
	case replace && c.unfinished:
		in.Issue, in.NewKey = true, true
		in.Reasons = append(in.Reasons, "the replacement of the key approved with -replace is not finished: the replaced key is still deployed; once it is through, no copy of the old key stays: "+c.KeyFile+".prev is removed")
	case replace:
		in.Issue, in.NewKey = true, true
		in.Reasons = append(in.Reasons, "replacement of the key requested (-replace); once the apply is through, no copy of the old key stays: "+c.KeyFile+".prev is removed")
	case staged && !c.KeepNext:
		in.Issue, in.NewKey = true, true
		in.Reasons = append(in.Reasons, "a staged next key waits in "+c.NextKeyPath())
	case KeyTypeOf(leaf.PublicKey) != c.KeyType:
		in.Issue, in.NewKey = true, true
		in.Reasons = append(in.Reasons, fmt.Sprintf("key_type changes from %s to %s", KeyTypeOf(leaf.PublicKey), c.KeyType))
	case c.LiveKey == nil || SPKIHash(c.LiveKey) != SPKIHash(leaf.PublicKey):
		in.Issue, in.NewKey = true, true
		in.Reasons = append(in.Reasons, "the key file does not match the certificate")
	}
	if leaf != nil && !in.NewKey {
		due := leaf.NotAfter.Add(-c.renewWindow(leaf))
		switch {
		case c.StagedChainFor(c.LiveKey):
			in.Issue = true
			in.Reasons = append(in.Reasons, "a certificate issued for the live key waits in "+c.NextCertPath())
		case c.KeepNext && staged && c.StagedChainFor(c.NextKey):
			in.Issue, in.NewKey = true, true
			in.Reasons = append(in.Reasons, "a certificate issued for the staged key waits in "+c.NextCertPath())
		case !now.Before(due):
			in.Issue = true
			in.Reasons = append(in.Reasons, fmt.Sprintf("expires %s, within renew_before", leaf.NotAfter.UTC().Format(time.RFC3339)))
		case !c.RenewAt.IsZero() && !now.Before(c.RenewAt):
			in.Issue = true
			in.Reasons = append(in.Reasons, fmt.Sprintf("the CA's renewal information (ARI) asks for renewal from %s", c.RenewAt.UTC().Format(time.RFC3339)))
		case !slices.Equal(sortedNames(leaf), names):
			in.Issue = true
			in.Reasons = append(in.Reasons, "domains change")
		case len(c.Chain) == 1 && chainProblem() != nil: // a leaf without its intermediate
			in.Issue = true
			in.Reasons = append(in.Reasons, fmt.Sprintf("the chain in %s does not verify: %v", c.CertFile, chainProblem()))
		case issuedBy() < 0:
			in.Issue = true
			in.Reasons = append(in.Reasons, "issued by "+c.issuerOf(c.Chain)+", not "+c.issuerNames())
		case chainProblem() != nil:
			in.Issue = true
			in.Reasons = append(in.Reasons, fmt.Sprintf("the chain in %s does not verify: %v", c.CertFile, chainProblem()))
		}
		if in.Issue && !in.NewKey && !c.ReuseKey && !c.StagedChainFor(c.LiveKey) {
			in.NewKey = true
			in.Reasons = append(in.Reasons, "reuse_key = false: renewals get a new key")
		}
		if !in.NewKey && c.KeyMode&0o077 != 0 {
			in.Protect = !in.Issue
			in.Reasons = append(in.Reasons, fmt.Sprintf("%s has mode %04o: a private key is 0600 (others could read it: consider -replace)", c.KeyFile, c.KeyMode))
		}
		if !in.Issue && len(c.StaleCopies) > 0 {
			in.Copies = true
			in.Reasons = append(in.Reasons, strings.Join(c.StaleCopies, ", ")+" does not hold what "+c.CertFile+" and "+c.KeyFile+" do")
		}
		if !in.NewKey && c.KeyForeign != "" {
			in.Protect = !in.Issue
			in.Reasons = append(in.Reasons, c.KeyFile+" "+c.KeyForeign+": it is written again as this user's (consider -replace)")
		}
	}
	if in.Issue {
		in.From = c.choose(leaf)
		in.Reasons = append(in.Reasons, in.From.why...)
		in.Value["issuer"] = providers.String(in.From.Addr.String())
	} else if i := issuedBy(); i > 0 { // a fallback's certificate stays until its renewal
		in.Value["issuer"] = providers.String(c.issuers()[i].Addr.String())
	}
	if w, ok := c.Issuer.(Waiter); ok && in.Issue && in.From.Index == 0 {
		if until, problem := w.WaitUntil(c.Domains); now.Before(until) {
			in.Reasons = append(in.Reasons, fmt.Sprintf("waiting for the CA until %s: it rate-limited these names (%s); apply does not order before then", until.UTC().Format(time.RFC3339), problem))
		}
	}
	switch {
	case !in.NewKey:
		in.Target = leaf.PublicKey
	case staged:
		in.Target = c.NextKey
	}
	if c.KeepNext {
		c.planNext(addr, &in, staged)
	}
	if in.Target != nil {
		in.Value["spki_sha256"] = providers.String(SPKIHash(in.Target))
	} else {
		in.Value["spki_sha256"] = providers.Unknown(addr + " generates its new key")
	}
	if leaf != nil {
		in.Value["key_mode"] = providers.String("0600")
	}
	if in.Issue {
		in.Value["not_after"] = providers.Unknown(addr + " is issued")
	} else {
		in.Value["not_after"] = providers.String(leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return in
}

// renewWindow is how long before its expiry leaf is renewed: renew_before,
// or by default 30 days, and a third of the lifetime for a certificate
// that lives less than 30 days (a six-day certificate renews after four).
func (c *Certificate) renewWindow(leaf *x509.Certificate) time.Duration {
	life := leaf.NotAfter.Sub(leaf.NotBefore)
	switch {
	case c.RenewFraction > 0:
		return time.Duration(float64(life) * c.RenewFraction)
	case c.RenewBefore > 0:
		return c.RenewBefore
	case life < 30*24*time.Hour:
		return life / 3
	}
	return 30 * 24 * time.Hour
}

// planNext decides the next key KeepNext keeps staged after this change.
func (c *Certificate) planNext(addr string, in *Intent, staged bool) {
	switch {
	case staged && in.NewKey && in.Target == c.NextKey:
		in.StageNext = true
		in.Reasons = append(in.Reasons, "publish_next: the staged next key is deployed; a new one takes its place")
	case staged:
		in.Next = c.NextKey
	case c.NextKey != nil:
		in.StageNext = true
		in.Reasons = append(in.Reasons, fmt.Sprintf("publish_next: the staged next key is %s, not %s", KeyTypeOf(c.NextKey), c.KeyType))
	default:
		in.StageNext = true
		in.Reasons = append(in.Reasons, "publish_next: no next key is staged in "+c.NextKeyPath())
	}
	if in.Next != nil {
		in.Value["next_spki_sha256"] = providers.String(SPKIHash(in.Next))
	} else {
		in.Value["next_spki_sha256"] = providers.Unknown(addr + " stages its next key")
	}
}

// Apply carries out one phase of the change Plan decided. Once a phase
// that deploys has run, -replace is done for this run: the key was
// replaced.
func (c *Certificate) Apply(ctx context.Context, ch *providers.Change, phase string) error {
	d := c.decisionOf(ch)
	in := d.intent
	c.unlink, c.from = d.adopted, in.From
	if phase != PhaseStageKey && phase != PhaseRevoke && d.replacing {
		c.replaced = true
	}
	switch phase {
	case PhaseStageKey:
		key, err := c.newKey()
		if err != nil {
			return err
		}
		return c.Host.WriteFile(c.NextKeyPath(), certcrypto.PEMEncode(key), 0o600)
	case PhaseStageCert:
		key, err := c.keyFor(in.Target)
		if err != nil {
			return err
		}
		chain, err := c.issue(ctx, key)
		if err != nil {
			return err
		}
		return c.Host.WriteFile(c.NextCertPath(), chain, 0o644)
	case PhaseProtect:
		b, err := c.Host.ReadFile(c.KeyPath)
		if err != nil || b == nil {
			return err
		}
		return c.Host.WriteFile(c.KeyPath, b, 0o600)
	case PhaseCopies:
		chainPEM, err := c.Host.ReadFile(c.CertPath)
		if err != nil {
			return err
		}
		keyPEM, err := c.Host.ReadFile(c.KeyPath)
		if err != nil {
			return err
		}
		return c.writeCopies(chainPEM, keyPEM)
	case PhaseIssue:
		key, err := c.liveKeyIfReusable(in.Adopt)
		if err != nil {
			return err
		}
		if key == nil {
			if key, err = c.newKey(); err != nil {
				return err
			}
		}
		return c.issueAndDeploy(ctx, key)
	case PhaseIssueNewKey:
		key, err := c.newKey()
		if err != nil {
			return err
		}
		return c.issueAndDeploy(ctx, key)
	case PhaseDeployNext:
		return c.deployNext(ctx)
	case PhaseRevoke:
		return c.revoke(ctx)
	case providers.PhaseDelete:
		return c.remove()
	}
	return fmt.Errorf("certificate: unknown phase %q", phase)
}

// Delete removes the certificate's files: chain and key, what is staged
// beside them, and the previous pair (an old private key, too).
func (c *Certificate) Delete(providers.Value) *providers.Change {
	return &providers.Change{Action: providers.Delete,
		Reasons: []string{"its block is gone: nothing trustform manages serves it any more"},
		Phases:  []providers.Phase{{Name: providers.PhaseDelete, Description: "remove " + c.CertFile + ", " + c.KeyFile + " and their .next and .prev copies"}}}
}

func (c *Certificate) remove() error {
	for _, cp := range c.Copies {
		if err := c.Host.Remove(cp.Path); err != nil {
			return err
		}
	}
	for _, p := range []string{c.CertPath, c.KeyPath} {
		for _, f := range []string{p, p + ".next", p + ".prev"} {
			if err := c.Host.Remove(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// deployNext deploys the staged chain with its key (the staged or the live
// one) or, without a staged chain, issues for the staged key and deploys.
func (c *Certificate) deployNext(ctx context.Context) error {
	next, err := c.readPrivateKey(c.NextKeyPath())
	if err != nil {
		return err
	}
	chainPEM, err := c.Host.ReadFile(c.NextCertPath())
	if err != nil {
		return err
	}
	if chainPEM != nil {
		chain, err := certcrypto.ParsePEMBundle(chainPEM)
		if err != nil {
			return fmt.Errorf("%s: %w", c.NextCertPath(), err)
		}
		if next != nil && c.stagedFits(chain, next.Public()) {
			return c.deploy(next, chainPEM, true)
		}
		live, err := c.readPrivateKey(c.KeyPath)
		if err != nil {
			return err
		}
		if live != nil && c.stagedFits(chain, live.Public()) {
			return c.deploy(live, chainPEM, false)
		}
	}
	if next == nil && chainPEM == nil && c.stagedFits(c.Chain, c.LiveKey) {
		// Nothing staged, and the live pair is what the configuration asks
		// for: this step was interrupted after its deploy (it runs again
		// from state's pending steps), and has nothing left to do.
		return nil
	}
	if next == nil {
		return fmt.Errorf("no staged key at %s: run plan again", c.NextKeyPath())
	}
	chain, err := c.issue(ctx, next)
	if err != nil {
		return err
	}
	return c.deploy(next, chain, true)
}

// keyFor returns the private key (live or staged) whose public half is pub.
func (c *Certificate) keyFor(pub crypto.PublicKey) (crypto.Signer, error) {
	for _, path := range []string{c.KeyPath, c.NextKeyPath()} {
		k, err := c.readPrivateKey(path)
		if err != nil {
			return nil, err
		}
		if k != nil && pub != nil && SPKIHash(k.Public()) == SPKIHash(pub) {
			return k, nil
		}
	}
	return nil, errors.New("neither " + c.KeyPath + " nor " + c.NextKeyPath() + " holds the planned key: run plan again")
}

// StagedChainFor reports whether the staged chain is one to deploy for
// pub: issued for that key and for the configured domains. Any other staged
// chain is left over (the configuration changed) and is issued anew.
func (c *Certificate) StagedChainFor(pub crypto.PublicKey) bool {
	return c.stagedFits(c.StagedChain, pub)
}

func (c *Certificate) stagedFits(chain []*x509.Certificate, pub crypto.PublicKey) bool {
	names := slices.Clone(c.Domains)
	slices.Sort(names)
	return len(chain) > 0 && pub != nil && SPKIHash(chain[0].PublicKey) == SPKIHash(pub) && slices.Equal(sortedNames(chain[0]), names)
}

func (c *Certificate) newKey() (crypto.Signer, error) { return NewKey(c.KeyType) }

// NewKey generates a private key of a key_type.
func NewKey(keyType string) (crypto.Signer, error) {
	kt, ok := legoKeyTypes()[keyType]
	if !ok {
		return nil, fmt.Errorf("unknown key type %q", keyType)
	}
	k, err := certcrypto.GeneratePrivateKey(kt)
	if err != nil {
		return nil, err
	}
	return k.(crypto.Signer), nil
}

// liveKeyIfReusable returns the live private key when renewals may reuse
// it, or when the plan adopts an existing key.
func (c *Certificate) liveKeyIfReusable(adopt bool) (crypto.Signer, error) {
	if !c.ReuseKey || (len(c.Chain) == 0 && !adopt) {
		return nil, nil
	}
	key, err := c.readPrivateKey(c.KeyPath)
	if err != nil || key == nil {
		return nil, err
	}
	if KeyTypeOf(key.Public()) != c.KeyType {
		return nil, nil
	}
	return key, nil
}

// issueAndDeploy obtains a chain for key and deploys both.
func (c *Certificate) issueAndDeploy(ctx context.Context, key crypto.Signer) error {
	chain, err := c.issue(ctx, key)
	if err != nil {
		return err
	}
	return c.deploy(key, chain, false)
}

// issue obtains a PEM chain for key from the issuer.
func (c *Certificate) issue(ctx context.Context, key crypto.Signer) ([]byte, error) {
	from := c.issuers()[min(c.from.Index, len(c.Fallbacks))]
	if c.from.Index > 0 && c.Issuer != nil { // each renewal tries the primary first
		chain, err := c.issueFrom(ctx, key, c.issuers()[0])
		if err == nil {
			return chain, nil
		}
	}
	chain, err := c.issueFrom(ctx, key, from)
	if err != nil && len(c.Chain) > 0 && c.Chain[0].NotAfter.Sub(c.Now()) <= c.failoverBefore() {
		return nil, fmt.Errorf("%w; %s expires %s", err, c.Addr, c.Chain[0].NotAfter.UTC().Format(time.RFC3339))
	}
	return chain, err
}

// issueFrom orders from one issuer and checks the chain it issues.
func (c *Certificate) issueFrom(ctx context.Context, key crypto.Signer, from Fallback) ([]byte, error) {
	if from.Issuer == nil {
		return nil, errors.New("no issuer available for " + from.Addr.String())
	}
	req := Request{Domains: c.Domains, Key: key}
	if len(c.Chain) > 0 && c.issuedBy(c.Chain) == slices.IndexFunc(c.issuers(), func(f Fallback) bool { return f.Addr == from.Addr }) {
		req.Replaces = c.Chain[0] // a renewal at the CA that issued it (RFC 9773)
	}
	chain, err := from.Issuer.Issue(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("issue from %s: %w", from.Addr, err)
	}
	certs, err := certcrypto.ParsePEMBundle(chain)
	if err == nil {
		err = chainProblemFor(certs, from.Issuer.Roots(), c.Now())
	}
	if err != nil {
		return nil, fmt.Errorf("the chain %s issued does not verify (%w): nothing is written, the deployed certificate stays", from.Addr, err)
	}
	return chain, nil
}

// chainCheck is what a chain's signatures say: which of the issuers
// issued it (its index in issuers(), -1: none) and why it would not verify
// (nil: it does).
type chainCheck struct {
	leaf    *x509.Certificate // the chain's first certificate: the check is for it
	issuer  int
	problem error
}

// checkChain checks the live chain, once per chain read: each check
// verifies signatures, which Observe does side by side for a fleet's
// certificates rather than Plan one after another (1,000 certificates took
// a quarter of a second of the plan).
func (c *Certificate) checkChain() chainCheck {
	if len(c.Chain) == 0 {
		return chainCheck{issuer: -1}
	}
	if c.checked.leaf != c.Chain[0] {
		i := c.issuedBy(c.Chain)
		c.checked = chainCheck{leaf: c.Chain[0], issuer: i, problem: c.chainProblemBy(c.Chain, i)}
	}
	return c.checked
}

// chainProblemBy is why certs, issued by c.issuers()[i] (-1: by none of
// them), would not verify for a client trusting that issuer's roots, now
// or, for an expired leaf, just before it expired (expiry is
// renew_before's business); nil when it verifies or the roots are not
// known.
func (c *Certificate) chainProblemBy(certs []*x509.Certificate, i int) error {
	iss := c.Issuer
	if i > 0 {
		iss = c.issuers()[i].Issuer
	}
	return chainProblemFor(certs, iss.Roots(), c.Now())
}

// chainProblemFor is chainProblemBy under roots.
func chainProblemFor(certs []*x509.Certificate, roots *x509.CertPool, at time.Time) error {
	if roots == nil || len(certs) == 0 {
		return nil
	}
	if last := certs[0].NotAfter.Add(-time.Minute); at.After(last) {
		at = last
	}
	return chain.Verify(certs, roots, "", at)
}

// deploy writes key and chain, keeping the previous pair as *.prev until the
// next deployment, then removes what was staged for it: the chain, and the
// key when it came from the staged key file.
func (c *Certificate) deploy(key crypto.Signer, chain []byte, stagedKey bool) error {
	adopted := c.unlink
	for _, p := range []string{c.CertPath, c.KeyPath} {
		// Nothing is read through a link planted at the path: its target
		// would be copied to .prev. A link an import adopted is read,
		// then removed for the file written in its place.
		if st, err := c.Host.Stat(p); err != nil {
			return err
		} else if st != nil && !st.Mode().IsRegular() && !slices.Contains(adopted, p) {
			return fmt.Errorf("%s is not a regular file (a symbolic link?): nothing is written, nothing read through it", p)
		}
	}
	for _, p := range []string{c.CertPath, c.KeyPath} {
		old, err := c.Host.ReadFile(p)
		if err != nil {
			return err
		}
		if old != nil {
			if err := c.Host.WriteFile(p+".prev", old, 0o600); err != nil {
				return err
			}
		}
	}
	for _, p := range adopted { // certbot's link goes; the file written next takes its place
		if st, err := c.Host.Stat(p); err != nil {
			return err
		} else if st != nil && st.Mode()&fs.ModeSymlink != 0 {
			if err := c.Host.Remove(p); err != nil {
				return err
			}
		}
	}
	keyPEM := certcrypto.PEMEncode(key)
	if err := c.Host.WriteFile(c.KeyPath, keyPEM, 0o600); err != nil {
		return err
	}
	if err := c.Host.WriteFile(c.CertPath, chain, 0o644); err != nil {
		return err
	}
	// The copies straight after, each replaced atomically: a server reading
	// a pair of them sees the old pair or the new one for as long as it
	// sees key_file and cert_file apart.
	if err := c.writeCopies(chain, keyPEM); err != nil {
		return err
	}
	if err := c.Host.Remove(c.NextCertPath()); err != nil {
		return err
	}
	if stagedKey {
		return c.Host.Remove(c.NextKeyPath())
	}
	return nil
}

// legoKeyTypes maps the vocabulary of key_type (KeyTypes, what key_type accepts) to lego's.
func legoKeyTypes() map[string]certcrypto.KeyType {
	return map[string]certcrypto.KeyType{
		"ec256": certcrypto.EC256, "ec384": certcrypto.EC384,
		"rsa2048": certcrypto.RSA2048, "rsa3072": certcrypto.RSA3072,
		"rsa4096": certcrypto.RSA4096, "rsa8192": certcrypto.RSA8192,
	}
}

// KeyTypes lists the key types this package generates.
func KeyTypes() []string { return slices.Sorted(maps.Keys(legoKeyTypes())) }

// KeyTypeOf names a public key in the vocabulary of key_type.
func KeyTypeOf(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "ec" + strings.TrimPrefix(k.Curve.Params().Name, "P-")
	case *rsa.PublicKey:
		return fmt.Sprintf("rsa%d", k.N.BitLen())
	}
	return fmt.Sprintf("%T", pub)
}

// SPKIHash is the hex SHA-256 of a public key's SubjectPublicKeyInfo: the
// data of a 3 1 1 TLSA record, and how plans name a key.
func SPKIHash(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

func sortedNames(c *x509.Certificate) []string {
	names := slices.Clone(c.DNSNames)
	slices.Sort(names)
	return names
}

func (c *Certificate) readPrivateKey(path string) (crypto.Signer, error) {
	b, err := c.Host.ReadFile(path)
	if err != nil || b == nil {
		return nil, err
	}
	k, err := certcrypto.ParsePEMPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: unsupported key", path)
	}
	return s, nil
}

// readChain parses a PEM chain file, leaf first; nil if it does not exist.
func (c *Certificate) readChain(path string) ([]*x509.Certificate, error) {
	b, err := c.Host.ReadFile(path)
	if err != nil || b == nil {
		return nil, err
	}
	chain, err := certcrypto.ParsePEMBundle(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return chain, nil
}

func (c *Certificate) readPublicKey(path string) (crypto.PublicKey, error) {
	k, err := c.readPrivateKey(path)
	if err != nil || k == nil {
		return nil, err
	}
	return k.Public(), nil
}

// untrustedKey says why the key file is not adopted as a first key: it may
// be another user's, or others may have read it.
func (c *Certificate) untrustedKey() string {
	if c.KeyPlanted != "" {
		return c.KeyPlanted
	}
	if c.KeyMode&0o077 != 0 {
		return fmt.Sprintf("mode %04o, readable by other users", c.KeyMode)
	}
	return ""
}

// Held reads the deployed chain and key for the inventory.
func (c *Certificate) Held(ctx context.Context) (*providers.Held, error) {
	if _, err := c.Observe(ctx); err != nil {
		return nil, err
	}
	h := &providers.Held{Domains: c.Domains, KeyType: c.KeyType, CertFile: c.CertFile, KeyFile: c.KeyFile}
	if c.NextKey != nil {
		h.NextKey = SPKIHash(c.NextKey)
	}
	if st, err := c.Host.Stat(c.KeyPath); err == nil && st != nil {
		t := st.ModTime().UTC().Truncate(time.Second)
		h.KeyWritten = &t
	}
	if len(c.Chain) == 0 {
		return h, nil
	}
	leaf := c.Chain[0]
	nb, na := leaf.NotBefore.UTC(), leaf.NotAfter.UTC()
	h.Domains, h.KeyType, h.SPKISHA256 = sortedNames(leaf), KeyTypeOf(leaf.PublicKey), SPKIHash(leaf.PublicKey)
	h.Serial, h.Issuer, h.NotBefore, h.NotAfter = serialOf(leaf), leaf.Issuer.String(), &nb, &na
	leafSum := sha256.Sum256(leaf.Raw)
	h.LeafSHA256 = hex.EncodeToString(leafSum[:])
	if !c.RenewAt.IsZero() {
		t := c.RenewAt.UTC()
		h.RenewFrom = &t
	}
	return h, nil
}
