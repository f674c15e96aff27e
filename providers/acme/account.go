package acme

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/trustform/trustform/internal/files"

	"github.com/go-acme/lego/v4/acme"
	"github.com/go-acme/lego/v4/certcrypto"
	"github.com/go-acme/lego/v4/lego"
	"github.com/go-acme/lego/v4/registration"

	"github.com/trustform/trustform/providers"
)

// Account is an ACME account, kept in Dir (account.key 0600, account.json),
// or with its key in KeyFile, which runners share through their secret
// store: a runner that has the key but not account.json finds the account
// at the CA by its key.
type Account struct {
	Directory string
	Email     string
	CARoots   []string // extra roots for the CA's HTTPS (a test CA)
	Dir       string
	KeyFile   string

	mu         sync.Mutex // issues run in parallel; they share the key and the registration
	uri        string     // filled by Observe / Register
	key        crypto.Signer
	keyMissing bool // Observe found no key: a new account will be registered
}

// user is lego's view of the account.
type user struct {
	email string
	reg   *registration.Resource
	key   crypto.PrivateKey
}

func (u *user) GetEmail() string                        { return u.email }
func (u *user) GetRegistration() *registration.Resource { return u.reg }
func (u *user) GetPrivateKey() crypto.PrivateKey        { return u.key }

type saved struct {
	URI       string `json:"uri"`
	Directory string `json:"directory"`
	Email     string `json:"email"`
}

func (a *Account) keyPath() string {
	if a.KeyFile != "" {
		return a.KeyFile
	}
	return filepath.Join(a.Dir, "account.key")
}

func (a *Account) infoPath() string { return filepath.Join(a.Dir, "account.json") }

// Observe reads the stored account. Without its key there is no usable
// account; with the key but no account.json (another runner registered
// it) the CA is asked for the account of that key.
func (a *Account) Observe(context.Context) (providers.Value, error) {
	_, err := os.Lstat(a.keyPath())
	a.mu.Lock()
	a.keyMissing = errors.Is(err, fs.ErrNotExist)
	missing := a.keyMissing
	a.mu.Unlock()
	if missing {
		return nil, nil
	}
	b, err := files.ReadOptional(a.infoPath())
	if err != nil {
		return nil, err
	}
	if b == nil {
		if a.KeyFile == "" {
			return nil, nil
		}
		return a.resolve()
	}
	var s saved
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", a.infoPath(), err)
	}
	a.mu.Lock()
	a.uri = s.URI
	a.mu.Unlock()
	return providers.Value{"directory": providers.String(s.Directory), "email": providers.String(s.Email)}, nil
}

// resolve asks the CA for the account of the key (RFC 8555 §7.3.1,
// onlyReturnExisting); none is absent.
func (a *Account) resolve() (providers.Value, error) {
	key, err := a.loadKey(false)
	if err != nil {
		return nil, err
	}
	client, err := a.client(key, "")
	if err != nil {
		return nil, fmt.Errorf("reaching %s: %w", a.Directory, err)
	}
	reg, err := client.Registration.ResolveAccountByKey()
	var problem *acme.ProblemDetails
	if errors.As(err, &problem) && strings.HasSuffix(problem.Type, ":accountDoesNotExist") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("looking up the account of %s at %s: %w", a.keyPath(), a.Directory, err)
	}
	a.mu.Lock()
	a.uri = reg.URI
	a.mu.Unlock()
	email := ""
	for _, c := range reg.Body.Contact {
		if e, ok := strings.CutPrefix(c, "mailto:"); ok {
			email = e
			break
		}
	}
	return providers.Value{"directory": providers.String(a.Directory), "email": providers.String(email)}, nil
}

var _ providers.Resource = (*Account)(nil)

// Plan asks for an account of the configured directory and email.
func (a *Account) Plan(observed providers.Value, _ providers.PlanOptions) (providers.Value, *providers.Change) {
	v := providers.Value{"directory": providers.String(a.Directory), "email": providers.String(a.Email)}
	where := ".trustform/"
	if a.KeyFile != "" {
		where = a.KeyFile
	}
	ch := providers.Diff(v, observed, providers.Phase{Name: "register", Description: "register the account; its key stays in " + where + " (0600)"})
	a.mu.Lock()
	missing := a.keyMissing
	a.mu.Unlock()
	if ch != nil && missing && a.KeyFile != "" {
		ch.Reasons = []string{fmt.Sprintf("no account key at %s on this machine: a new account is registered under the same contact (%s); certificates already issued stay valid. Give this runner the shared key to keep one account.", a.KeyFile, orNone(a.Email))}
	}
	return v, ch
}

func orNone(email string) string {
	if email == "" {
		return "no e-mail"
	}
	return email
}

// Apply registers the account; it has no other phase.
func (a *Account) Apply(ctx context.Context, phase string) error {
	if phase != "register" {
		return fmt.Errorf("acme_account: unknown phase %q", phase)
	}
	return a.Register(ctx)
}

// Register creates the account key (kept if it exists) and registers it.
func (a *Account) Register(ctx context.Context) error {
	key, err := a.loadKey(true)
	if err != nil {
		return err
	}
	client, err := a.client(key, "")
	if err != nil {
		return err
	}
	reg, err := client.Registration.Register(registration.RegisterOptions{TermsOfServiceAgreed: true})
	if err != nil {
		return fmt.Errorf("registering with %s: %w", a.Directory, err)
	}
	a.mu.Lock()
	a.uri = reg.URI
	a.mu.Unlock()
	b, _ := json.MarshalIndent(saved{URI: reg.URI, Directory: a.Directory, Email: a.Email}, "", "  ")
	return files.WriteAtomic(a.infoPath(), append(b, '\n'), 0o600)
}

// registration is the account URI known so far.
func (a *Account) registration() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.uri
}

// loadKey reads the account key, creating it (0600) when create is set.
func (a *Account) loadKey(create bool) (crypto.Signer, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.key != nil {
		return a.key, nil
	}
	b, err := files.ReadOptional(a.keyPath())
	if err != nil {
		return nil, err
	}
	if b == nil {
		if !create {
			return nil, fmt.Errorf("no account key at %s: apply the acme_account first", a.keyPath())
		}
		k, err := certcrypto.GeneratePrivateKey(certcrypto.EC256)
		if err != nil {
			return nil, err
		}
		if err := files.WriteAtomic(a.keyPath(), certcrypto.PEMEncode(k), 0o600); err != nil {
			return nil, err
		}
		a.key = k.(crypto.Signer)
		return a.key, nil
	}
	k, err := certcrypto.ParsePEMPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.keyPath(), err)
	}
	a.key = k.(crypto.Signer)
	return a.key, nil
}

// client is a lego client for the account; uri is its registration, if any.
func (a *Account) client(key crypto.Signer, uri string) (*lego.Client, error) {
	u := &user{email: a.Email, key: key}
	if uri != "" {
		u.reg = &registration.Resource{URI: uri}
	}
	cfg := lego.NewConfig(u)
	cfg.CADirURL = a.Directory
	cfg.UserAgent = "trustform"
	hc, err := a.httpClient()
	if err != nil {
		return nil, err
	}
	cfg.HTTPClient = hc
	return lego.NewClient(cfg)
}

// roots are the system roots plus ca_roots: what the CA's HTTPS and the
// chains it issues must build to.
func (a *Account) roots() (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	for _, f := range a.CARoots {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("ca_roots: %w", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("ca_roots: %s holds no PEM certificate", f)
		}
	}
	return pool, nil
}

// httpClient trusts roots().
func (a *Account) httpClient() (*http.Client, error) {
	pool, err := a.roots()
	if err != nil {
		return nil, err
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, Proxy: http.ProxyFromEnvironment,
	}}, nil
}
