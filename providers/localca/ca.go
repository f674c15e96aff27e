package localca

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/go-acme/lego/v4/certcrypto"

	"github.com/trustform/trustform/internal/files"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/certificate"
)

// Validity of what the CA issues: certificates like an ACME CA's, and a CA
// that outlives many of them.
const (
	LeafValidity = 90 * 24 * time.Hour
	CAValidity   = 10 * 365 * 24 * time.Hour
)

// CA is a local certificate authority kept in Dir, or in KeyFile and
// CertFile when the configuration keeps them elsewhere (runners sharing the
// CA through their secret store).
type CA struct {
	Addr       string // local_ca.NAME, for values known after apply
	Dir        string
	KeyFile    string
	CertFile   string
	CRLFile    string // where the CRL is written; default crl.pem in Dir
	CommonName string
	Now        func() time.Time

	cert *x509.Certificate // filled by Observe
}

var (
	_ certificate.Issuer    = (*CA)(nil)
	_ certificate.Revoker   = (*CA)(nil)
	_ certificate.Lifetimer = (*CA)(nil)
	_ providers.Resource    = (*CA)(nil)
)

func (ca *CA) certPath() string {
	if ca.CertFile != "" {
		return ca.CertFile
	}
	return filepath.Join(ca.Dir, "ca.pem")
}

func (ca *CA) keyPath() string {
	if ca.KeyFile != "" {
		return ca.KeyFile
	}
	return filepath.Join(ca.Dir, "ca.key")
}

// Observe reads the CA certificate.
func (ca *CA) Observe(context.Context) (providers.Value, error) {
	ca.cert = nil
	b, err := files.ReadOptional(ca.certPath())
	if err != nil {
		return nil, err
	}
	if err := ca.bothOrNeither(b != nil); err != nil {
		return nil, err
	}
	if b == nil {
		return nil, nil
	}
	c, err := certcrypto.ParsePEMCertificate(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ca.certPath(), err)
	}
	ca.cert = c
	v := providers.Value{
		"common_name": providers.String(c.Subject.CommonName),
		"spki_sha256": providers.String(certificate.SPKIHash(c.PublicKey)),
		"not_after":   providers.String(c.NotAfter.UTC().Format(time.RFC3339)),
	}
	if st, err := os.Lstat(ca.keyPath()); err == nil {
		v["key_mode"] = providers.String(fmt.Sprintf("%04o", st.Mode().Perm()))
	}
	return v, nil
}

// bothOrNeither refuses a CA kept in key_file and cert_file of which this
// machine has only one half: creating a new CA there would re-issue every
// certificate the shared one signed.
func (ca *CA) bothOrNeither(haveCert bool) error {
	if ca.KeyFile == "" {
		return nil
	}
	_, err := os.Lstat(ca.keyPath())
	haveKey := err == nil
	switch {
	case haveCert && !haveKey:
		return fmt.Errorf("the CA certificate %s is here but its key %s is not: give this machine the CA key from your secret store (a new CA would re-issue every certificate)", ca.certPath(), ca.keyPath())
	case haveKey && !haveCert:
		return fmt.Errorf("the CA key %s is here but its certificate %s is not: give this machine the CA certificate too", ca.keyPath(), ca.certPath())
	}
	return nil
}

// Plan asks for the observed CA while it is valid, else a new one. A CA
// key whose mode is looser than 0600 only gets its mode back.
func (ca *CA) Plan(observed providers.Value, _ providers.PlanOptions) (providers.Value, *providers.Change) {
	v := ca.desired(ca.Addr)
	ch := providers.Diff(v, observed, providers.Phase{Name: "create", Description: ca.createDescription()})
	if d := providers.Differs(v, observed); len(d) == 1 && d[0] == "key_mode" {
		ch = &providers.Change{Action: providers.Update,
			Reasons: []string{"the CA key has mode " + observed["key_mode"].Str + ": a private key is 0600 (others could read it)"},
			Phases:  []providers.Phase{{Name: "protect", Description: "set the CA key back to mode 0600"}}}
	}
	return v, ch
}

func (ca *CA) createDescription() string {
	if ca.KeyFile == "" {
		return "create the CA key (0600) and certificate in .trustform/"
	}
	return "create the CA key " + ca.KeyFile + " (0600) and certificate " + ca.CertFile + "; give every runner both"
}

// Apply creates the CA, or protects its key.
func (ca *CA) Apply(ctx context.Context, _ *providers.Change, phase string) error {
	switch phase {
	case "create":
		return ca.Create(ctx)
	case "protect":
		b, err := files.ReadOptional(ca.keyPath())
		if err != nil || b == nil {
			return err
		}
		return files.WriteAtomic(ca.keyPath(), b, 0o600)
	}
	return fmt.Errorf("local_ca: unknown phase %q", phase)
}

func (ca *CA) desired(addr string) providers.Value {
	v := providers.Value{"common_name": providers.String(ca.CommonName)}
	if ca.cert != nil && ca.cert.Subject.CommonName == ca.CommonName && ca.Now().Before(ca.cert.NotAfter) {
		v["spki_sha256"] = providers.String(certificate.SPKIHash(ca.cert.PublicKey))
		v["not_after"] = providers.String(ca.cert.NotAfter.UTC().Format(time.RFC3339))
		v["key_mode"] = providers.String("0600")
		return v
	}
	v["spki_sha256"] = providers.Unknown(addr + " is created")
	v["not_after"] = providers.Unknown(addr + " is created")
	return v
}

// Create makes a new CA key and self-signed certificate.
func (ca *CA) Create(context.Context) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := ca.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: ca.CommonName, Organization: []string{"trustform local CA"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return err
	}
	// Key first: a certificate without its key would be a CA that cannot sign.
	if err := files.WriteAtomic(ca.keyPath(), certcrypto.PEMEncode(key), 0o600); err != nil {
		return err
	}
	return files.WriteAtomic(ca.certPath(), certcrypto.PEMEncode(certcrypto.DERCertificateBytes(der)), 0o644)
}

func (ca *CA) crlPath() string {
	if ca.CRLFile != "" {
		return ca.CRLFile
	}
	return filepath.Join(ca.Dir, "crl.pem")
}

// Revoke adds cert to the CA's CRL and signs it again: the entries it
// held, this one, a number one higher. It is valid for LeafValidity, by
// when every certificate it lists has expired. key is not needed: the CA
// signs.
func (ca *CA) Revoke(_ context.Context, cert *x509.Certificate, _ crypto.Signer, reason int) error {
	caCert, caKey, err := ca.load()
	if err != nil {
		return err
	}
	if cert.CheckSignatureFrom(caCert) != nil {
		return fmt.Errorf("the certificate %s was not issued by this CA", cert.SerialNumber.Text(16))
	}
	crl := &x509.RevocationList{Number: big.NewInt(1)}
	b, err := files.ReadOptional(ca.crlPath())
	if err != nil {
		return err
	}
	if b != nil {
		block, _ := pem.Decode(b)
		if block == nil {
			return fmt.Errorf("%s holds no PEM CRL", ca.crlPath())
		}
		old, err := x509.ParseRevocationList(block.Bytes)
		if err != nil {
			return fmt.Errorf("%s: %w", ca.crlPath(), err)
		}
		if err := old.CheckSignatureFrom(caCert); err != nil {
			return fmt.Errorf("%s is not signed by this CA: %w", ca.crlPath(), err)
		}
		crl.RevokedCertificateEntries, crl.Number = old.RevokedCertificateEntries, new(big.Int).Add(old.Number, big.NewInt(1))
		for _, e := range old.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				return nil // revoked already
			}
		}
	}
	now := ca.Now()
	crl.ThisUpdate, crl.NextUpdate = now.Add(-time.Minute), now.Add(LeafValidity)
	crl.RevokedCertificateEntries = append(crl.RevokedCertificateEntries, x509.RevocationListEntry{
		SerialNumber: cert.SerialNumber, RevocationTime: now.UTC(), ReasonCode: reason,
	})
	der, err := x509.CreateRevocationList(rand.Reader, crl, caCert, caKey)
	if err != nil {
		return err
	}
	return files.WriteAtomic(ca.crlPath(), pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o644)
}

// load reads the CA's certificate and key.
func (ca *CA) load() (*x509.Certificate, crypto.Signer, error) {
	caCertPEM, err := files.ReadOptional(ca.certPath())
	if err != nil {
		return nil, nil, err
	}
	caKeyPEM, err := files.ReadOptional(ca.keyPath())
	if err != nil {
		return nil, nil, err
	}
	if caCertPEM == nil || caKeyPEM == nil {
		return nil, nil, fmt.Errorf("local CA in %s does not exist yet", ca.Dir)
	}
	caCert, err := certcrypto.ParsePEMCertificate(caCertPEM)
	if err != nil {
		return nil, nil, err
	}
	caKey, err := certcrypto.ParsePEMPrivateKey(caKeyPEM)
	if err != nil {
		return nil, nil, err
	}
	signer, ok := caKey.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("%s: unsupported key", ca.keyPath())
	}
	return caCert, signer, nil
}

// Issue signs a certificate for domains and key's public half. The chain
// holds the CA certificate too, as a server sends it, so DANE-TA (usage 2)
// records can pin the CA.
func (ca *CA) Issue(_ context.Context, req certificate.Request) ([]byte, error) {
	domains, key := req.Domains, req.Key
	caCert, caKey, err := ca.load()
	if err != nil {
		return nil, err
	}
	now := ca.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: domains[0]},
		DNSNames:     domains,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(LeafValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, key.Public(), caKey)
	if err != nil {
		return nil, err
	}
	leaf := certcrypto.PEMEncode(certcrypto.DERCertificateBytes(der))
	return append(leaf, certcrypto.PEMEncode(certcrypto.DERCertificateBytes(caCert.Raw))...), nil
}

// Lifetime is how long the certificates it issues are valid.
func (ca *CA) Lifetime() time.Duration { return LeafValidity }

// Issued reports whether the leaf of chain verifies against this CA.
func (ca *CA) Issued(chain []*x509.Certificate) bool {
	if ca.cert == nil || len(chain) == 0 {
		return false
	}
	return chain[0].CheckSignatureFrom(ca.cert) == nil
}

// Roots is the CA's certificate, once it exists.
func (ca *CA) Roots() *x509.CertPool {
	cert := ca.cert
	if cert == nil {
		b, err := files.ReadOptional(ca.certPath())
		if err != nil || b == nil {
			return nil
		}
		if cert, err = certcrypto.ParsePEMCertificate(b); err != nil {
			return nil
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n
}
