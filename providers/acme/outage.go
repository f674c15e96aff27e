package acme

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/go-acme/lego/v4/acme"
	"github.com/go-acme/lego/v4/certcrypto"

	"github.com/trustform/trustform/internal/files"
	"github.com/trustform/trustform/providers/certificate"
)

// What an account remembers of its CA between runs, beside its key: an
// outage, and the CA it last issued under.

// An outage of the CA, as an account sees it: since when its orders have
// failed for the CA's own reasons (unreachable, a server error, a
// timeout, the account refused), and the last such error. It is kept in
// the account's directory (outage.json), so that a certificate with
// fallback_issuers fails over once the outage has lasted long enough, run
// after run; the first order that goes through ends it.

type outageRecord struct {
	Since   time.Time `json:"since"`
	Problem string    `json:"problem"`
}

var _ certificate.Outager = (*Issuer)(nil)

func (a *Account) outagePath() string { return a.Dir + "/outage.json" }

// Outage is since when the CA has been failing, and why; zero when not.
func (i *Issuer) Outage() (time.Time, string) {
	i.Account.mu.Lock()
	defer i.Account.mu.Unlock()
	b, err := files.ReadOptional(i.Account.outagePath())
	var o outageRecord
	if err != nil || b == nil || json.Unmarshal(b, &o) != nil {
		return time.Time{}, "" // a damaged file: the next order says again
	}
	return o.Since, o.Problem
}

// noteOutage records an order's error when it is the CA's failing (the
// outage keeps its start), or ends the outage when the CA answered (a
// success, or an error of the order's own).
func (i *Issuer) noteOutage(err error) {
	a := i.Account
	a.mu.Lock()
	defer a.mu.Unlock()
	if err == nil || !failing(err) { // the CA answered
		_ = files.Remove(a.outagePath())
		return
	}
	var o outageRecord
	if b, rerr := files.ReadOptional(a.outagePath()); rerr == nil && b != nil {
		_ = json.Unmarshal(b, &o)
	}
	if o.Since.IsZero() {
		o.Since = i.now().UTC().Truncate(time.Second)
	}
	o.Problem = firstLine(err.Error())
	b, _ := json.MarshalIndent(o, "", "  ")
	_ = files.WriteAtomic(a.outagePath(), append(b, '\n'), 0o600) // best effort: at worst the failover waits longer
}

// failing reports whether err is the CA failing rather than the order's
// own fault (a name it refuses, a challenge not answered): the CA cannot
// be reached or times out, answers with a server error, or refuses the
// account.
func failing(err error) bool {
	var problem *acme.ProblemDetails
	var netErr net.Error
	switch {
	case errors.As(err, &problem):
		return problem.HTTPStatus >= 500 || strings.HasSuffix(problem.Type, ":accountDoesNotExist") || strings.HasSuffix(problem.Type, ":unauthorized") && problem.HTTPStatus == 401
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr):
		return true
	}
	msg := err.Error() // lego wraps some transport errors as text
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host") || strings.Contains(msg, "i/o timeout") || strings.Contains(msg, "EOF")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

var _ certificate.CAKeeper = (*Issuer)(nil)

func (a *Account) issuingCAPath() string { return a.Dir + "/issuing-ca.pem" }

// IssuingCA is the CA the account's last certificate was issued under, or
// nil.
func (i *Issuer) IssuingCA() *x509.Certificate {
	b, err := files.ReadOptional(i.Account.issuingCAPath())
	if err != nil || b == nil {
		return nil
	}
	certs, err := certcrypto.ParsePEMBundle(b)
	if err != nil || len(certs) == 0 {
		return nil
	}
	return certs[0]
}

// keepIssuingCA records the CA a chain (PEM, leaf first) was issued under.
func (i *Issuer) keepIssuingCA(chain []byte) {
	certs, err := certcrypto.ParsePEMBundle(chain)
	if err != nil || len(certs) < 2 {
		return
	}
	_ = files.WriteAtomic(i.Account.issuingCAPath(), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certs[1].Raw}), 0o644) // best effort: the next issue says again
}
