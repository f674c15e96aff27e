package acme

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/go-acme/lego/v4/acme"

	"github.com/trustform/trustform/providers/certificate"
)

var _ certificate.Revoker = (*Issuer)(nil)

// keyCompromise is RFC 5280's CRLReason for a leaked key.
const keyCompromise = 1

// Revoke asks the CA to revoke cert (RFC 8555 §7.6). A keyCompromise
// revocation is signed with the certificate's own key while a copy is
// left: proof of possession, which CAs ask for before they block the key
// (Let's Encrypt does). Otherwise the account signs, and the certificate's
// key stands in when the account is gone (its key lost, or the CA forgot
// it). A certificate revoked already is not an error.
func (i *Issuer) Revoke(ctx context.Context, cert *x509.Certificate, key crypto.Signer, reason int) error {
	code := uint(reason)
	msg := acme.RevokeCertMessage{Certificate: base64.RawURLEncoding.EncodeToString(cert.Raw), Reason: &code}
	if key != nil && reason == keyCompromise {
		return revoked(i.revokeWith(ctx, key, "", msg))
	}
	err := i.revokeByAccount(ctx, msg)
	if err == nil || key == nil || !accountGone(err) {
		return revoked(err)
	}
	return revoked(i.revokeWith(ctx, key, "", msg))
}

// revokeByAccount signs the revocation with the account key.
func (i *Issuer) revokeByAccount(ctx context.Context, msg acme.RevokeCertMessage) error {
	key, err := i.Account.loadKey(false)
	if err != nil {
		return errors.Join(errAccountGone, err)
	}
	uri := i.Account.registration()
	if uri == "" {
		return errAccountGone
	}
	return i.revokeWith(ctx, key, uri, msg)
}

// revokeWith posts msg signed by key: with kid, as that account (RFC 8555
// §6.2); without, with the key itself in the request (the certificate's).
func (i *Issuer) revokeWith(ctx context.Context, key crypto.Signer, kid string, msg acme.RevokeCertMessage) error {
	core, err := i.Account.core(ctx, key, kid)
	if err != nil {
		return err
	}
	return retry(ctx, func() error { return core.Certificates.Revoke(msg) })
}

// accountGone: the CA does not know the account, or that it ordered the
// certificate (it registered again since).
func accountGone(err error) bool {
	var problem *acme.ProblemDetails
	if errors.As(err, &problem) {
		return strings.HasSuffix(problem.Type, ":accountDoesNotExist") || strings.HasSuffix(problem.Type, ":unauthorized")
	}
	return errors.Is(err, errAccountGone)
}

// revoked treats "revoked already" as done.
func revoked(err error) error {
	var problem *acme.ProblemDetails
	if errors.As(err, &problem) && strings.HasSuffix(problem.Type, ":alreadyRevoked") {
		return nil
	}
	return err
}
