// Package chain checks a certificate chain as a TLS client does: a path
// from the leaf through the chain's own certificates to a trusted root, for
// a name, at a time. Its errors name the classic faults (the intermediate
// not sent, the chain out of order, expiry, a name mismatch) in words an
// administrator acts on, because crypto/x509's say only "unknown authority".
package chain

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Verify checks certs (leaf first, as served or as written) against roots.
// name, when set, must be one of the leaf's names. A nil error means a
// client trusting roots accepts the chain as it is, in its order.
func Verify(certs []*x509.Certificate, roots *x509.CertPool, name string, now time.Time) error {
	if len(certs) == 0 {
		return errors.New("no certificate")
	}
	leaf := certs[0]
	switch {
	case now.After(leaf.NotAfter):
		return fmt.Errorf("expired on %s", leaf.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(leaf.NotBefore):
		return fmt.Errorf("not valid before %s", leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	if name != "" {
		if err := leaf.VerifyHostname(name); err != nil {
			return fmt.Errorf("name mismatch: the certificate is for %s, not %s", strings.Join(leaf.DNSNames, ", "), name)
		}
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	var unknown x509.UnknownAuthorityError
	switch {
	case errors.As(err, &unknown) && !issuedBySent(certs):
		return fmt.Errorf("incomplete chain: the intermediate CA that issued it (%s) is not sent", leaf.Issuer.CommonName)
	case err != nil:
		return fmt.Errorf("does not build to a trusted root: %w", err)
	}
	for i := 0; i+1 < len(certs); i++ {
		if certs[i].CheckSignatureFrom(certs[i+1]) != nil {
			return fmt.Errorf("chain out of order: certificate %d (%s) did not issue certificate %d (%s)",
				i+2, certs[i+1].Subject.CommonName, i+1, certs[i].Subject.CommonName)
		}
	}
	return nil
}

// issuedBySent reports whether the chain holds the leaf's issuer (or the
// leaf is self-signed): if not, the chain lacks its intermediate.
func issuedBySent(certs []*x509.Certificate) bool {
	for _, c := range certs {
		if certs[0].CheckSignatureFrom(c) == nil {
			return true
		}
	}
	return false
}
