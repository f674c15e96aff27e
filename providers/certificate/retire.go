package certificate

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-acme/lego/v4/certcrypto"

	"github.com/trustform/trustform/providers"
)

// Revoker is an Issuer that revokes what it issued: an ACME CA (RFC 8555
// §7.6), the local CA's CRL. key is the certificate's own private key, nil
// when no copy is left; an ACME CA accepts a request signed with it when
// the account that ordered the certificate is gone. A certificate revoked
// already is not an error. Revocation cannot be undone.
type Revoker interface {
	Revoke(ctx context.Context, cert *x509.Certificate, key crypto.Signer, reason int) error
}

// PhaseRevoke revokes the certificates a -replace replaced, once their
// successor is served (the rule revoke-after-served places it).
const PhaseRevoke = providers.PhaseRevoke

var _ providers.Retirer = (*Certificate)(nil)

// Retiring is what is left to do for the certificates this one replaced:
// a revocation, a copy of the old key on the host.
func (c *Certificate) Retiring() []providers.Retired { return slices.Clone(c.retiring) }

// retire decides the retirements of this Plan: those handed in, and the
// live certificate when -replace replaces it (revoked too with -revoke).
func (c *Certificate) retire(opts providers.PlanOptions) {
	c.retiring = slices.Clone(opts.Retiring)
	if !c.replacing || len(c.Chain) == 0 {
		return
	}
	leaf := c.Chain[0]
	serial := serialOf(leaf)
	if slices.ContainsFunc(c.retiring, func(r providers.Retired) bool { return r.Serial == serial }) {
		return
	}
	c.retiring = append(c.retiring, providers.Retired{
		Serial: serial, SPKISHA256: SPKIHash(leaf.PublicKey), NotAfter: leaf.NotAfter.UTC().Format(time.RFC3339),
		Certificate: string(certcrypto.PEMEncode(certcrypto.DERCertificateBytes(leaf.Raw))), Reason: opts.Revoke,
	})
}

// replacementUnfinished says whether an approved replacement recorded in
// rs still has its key deployed: the live certificate, or the live key
// file, holds a key being retired.
func (c *Certificate) replacementUnfinished(rs []providers.Retired) bool {
	var live []string
	if len(c.Chain) > 0 {
		live = append(live, SPKIHash(c.Chain[0].PublicKey))
	}
	if c.LiveKey != nil {
		live = append(live, SPKIHash(c.LiveKey))
	}
	return slices.ContainsFunc(rs, func(r providers.Retired) bool { return slices.Contains(live, r.SPKISHA256) })
}

// toRevoke lists the retirements still to revoke.
func (c *Certificate) toRevoke() []providers.Retired {
	var out []providers.Retired
	for _, r := range c.retiring {
		if r.Reason != "" && !r.Revoked {
			out = append(out, r)
		}
	}
	return out
}

// revokePhase is the step that revokes them, placed by revoke-after-served.
func (c *Certificate) revokePhase(rs []providers.Retired) providers.Phase {
	var what []string
	for _, r := range rs {
		what = append(what, r.Serial+" ("+r.Reason+")")
	}
	return providers.Phase{Name: PhaseRevoke, Placed: true, Irreversible: true,
		Description: "revoke the replaced certificate " + strings.Join(what, ", ") + " at " + c.IssuerAddr.String() + ": this cannot be undone"}
}

// revoke asks the issuer to revoke every replaced certificate still to
// revoke, never the one deployed; it stops at the first the CA refuses.
func (c *Certificate) revoke(ctx context.Context) error {
	rv, ok := c.Issuer.(Revoker)
	if !ok {
		return fmt.Errorf("%s cannot revoke certificates", c.IssuerAddr)
	}
	for i, r := range c.retiring {
		if r.Reason == "" || r.Revoked {
			continue
		}
		if len(c.Chain) > 0 && serialOf(c.Chain[0]) == r.Serial {
			return fmt.Errorf("the certificate %s is still the one deployed at %s: it is revoked only once its successor is served", r.Serial, c.CertFile)
		}
		leaf, err := certcrypto.ParsePEMCertificate([]byte(r.Certificate))
		if err != nil {
			return fmt.Errorf("the replaced certificate %s in state: %w", r.Serial, err)
		}
		// State may come from a shared database or state push -force: what
		// is revoked is the PEM, so the PEM itself is checked, not the
		// entry's serial and key fields beside it.
		switch {
		case serialOf(leaf) != r.Serial || SPKIHash(leaf.PublicKey) != r.SPKISHA256:
			return fmt.Errorf("the replaced certificate %s in state does not hold that certificate (its PEM is serial %s): state was edited, nothing is revoked", r.Serial, serialOf(leaf))
		case len(c.Chain) > 0 && (serialOf(leaf) == serialOf(c.Chain[0]) || SPKIHash(leaf.PublicKey) == SPKIHash(c.Chain[0].PublicKey)):
			return fmt.Errorf("the certificate %s (or its key) is still the one deployed at %s: it is revoked only once its successor is served", serialOf(leaf), c.CertFile)
		}
		key, err := c.keyOf(r.SPKISHA256)
		if err != nil {
			return err
		}
		if err := rv.Revoke(ctx, leaf, key, providers.RevocationReasons()[r.Reason]); err != nil {
			return fmt.Errorf("revoking the replaced certificate %s (%s) at %s: %w (its successor stays deployed; state keeps the revocation and the next apply retries it)", r.Serial, r.Reason, c.IssuerAddr, err)
		}
		c.retiring[i].Revoked = true
	}
	return nil
}

// keyOf returns the private key whose SPKI is spki from the key files
// (live, previous, staged), or nil when none holds it any more.
func (c *Certificate) keyOf(spki string) (crypto.Signer, error) {
	for _, p := range []string{c.KeyPath + ".prev", c.KeyPath, c.NextKeyPath()} {
		k, err := c.readPrivateKey(p)
		if err != nil {
			return nil, err
		}
		if k != nil && SPKIHash(k.Public()) == spki {
			return k, nil
		}
	}
	return nil, nil
}

var _ providers.Finisher = (*Certificate)(nil)

// Finish removes the previous key and chain once an apply that replaced
// the key (-replace: a compromise) is through: the services that might
// have needed them back have reloaded, and a replaced key must not stay on
// the host as KEY_FILE.prev. A retirement is done then, unless its
// revocation is still to come.
func (c *Certificate) Finish(context.Context) error {
	if len(c.retiring) == 0 {
		return nil
	}
	live := ""
	if c.LiveKey != nil {
		live = SPKIHash(c.LiveKey)
	}
	prev, err := c.readPublicKey(c.KeyPath + ".prev")
	if err != nil {
		return err
	}
	old := func(spki string) bool {
		return slices.ContainsFunc(c.retiring, func(r providers.Retired) bool { return r.SPKISHA256 == spki && spki != live })
	}
	if prev != nil && old(SPKIHash(prev)) {
		for _, p := range []string{c.KeyPath + ".prev", c.CertPath + ".prev"} {
			if err := c.Host.Remove(p); err != nil {
				return err
			}
		}
	}
	c.retiring = slices.DeleteFunc(c.retiring, func(r providers.Retired) bool {
		return r.SPKISHA256 != live && (r.Reason == "" || r.Revoked)
	})
	return nil
}

// retiringReasons say what a Plan's retirements hold that the change does
// not already say.
func (c *Certificate) retiringReasons(rs []providers.Retired) []string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("the replaced certificate %s is still to revoke (%s), as an approved apply asked", r.Serial, r.Reason))
	}
	return out
}

// serialOf is a certificate's serial as openssl x509 -serial prints it:
// upper-case hex, whole bytes.
func serialOf(c *x509.Certificate) string {
	s := strings.ToUpper(c.SerialNumber.Text(16))
	if len(s)%2 == 1 {
		s = "0" + s
	}
	return s
}
