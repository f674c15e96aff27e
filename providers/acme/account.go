package acme

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-acme/lego/v4/acme"
	"github.com/go-acme/lego/v4/acme/api"
	"github.com/go-acme/lego/v4/certcrypto"
	"github.com/go-acme/lego/v4/lego"
	"github.com/go-acme/lego/v4/registration"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/trustform/trustform/internal/files"
	"github.com/trustform/trustform/internal/netpolicy"
	"github.com/trustform/trustform/providers"
)

// Account is an ACME account, kept in Dir (account.key 0600, account.json),
// or with its key in KeyFile, which runners share through their secret
// store: a runner that has the key but not account.json finds the account
// at the CA by its key.
type Account struct {
	Directory string
	Email     string
	CARoots   []string // extra roots for the CA's HTTPS and chains (a test CA)
	Dir       string
	KeyFile   string
	// TermsAgreed is terms_of_service_agreed: registration agrees to the
	// terms the directory publishes, and is refused without it.
	TermsAgreed bool
	// EAB is the external account binding, if configured.
	EAB *EAB
	// CAAIdentity is caa_identity: the CA's name in CAA records, where
	// its directory publishes none or the wrong one.
	CAAIdentity string
	Now         func() time.Time

	mu         sync.Mutex // issues run in parallel; they share the key and the registration
	uri        string     // filled by Observe / Register
	savedCAA   []string   // the CAA identities account.json keeps (saved)
	key        crypto.Signer
	keyMissing bool            // Observe found no key: a new account will be registered
	dir        *acme.Directory // the CA's directory, as Observe read it (nil: unreachable)
	dirErr     error
	registers  bool // the last Plan registers the account
}

// EAB is an external account binding (RFC 8555 §7.3.4): the key id the CA
// gave and the base64url HMAC key, which only registration sends.
type EAB struct {
	KeyID   string
	HMACKey string
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
	// CAAIdentities are the directory's meta.caaIdentities when the
	// account was registered: the CAA records that permit it can still be
	// written while the CA is down (a failover to another CA).
	CAAIdentities []string `json:"caa_identities,omitempty"`
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
func (a *Account) Observe(ctx context.Context) (providers.Value, error) {
	dir, dirErr := a.readDirectory(ctx)
	a.mu.Lock()
	a.dir, a.dirErr = dir, dirErr
	a.mu.Unlock()
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
		return a.resolve(ctx)
	}
	var s saved
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", a.infoPath(), err)
	}
	a.mu.Lock()
	a.uri, a.savedCAA = s.URI, s.CAAIdentities
	a.mu.Unlock()
	return providers.Value{"directory": providers.String(s.Directory), "email": providers.String(s.Email)}, nil
}

// resolve asks the CA for the account of the key (RFC 8555 §7.3.1,
// onlyReturnExisting); none is absent.
func (a *Account) resolve(ctx context.Context) (providers.Value, error) {
	key, err := a.loadKey(false)
	if err != nil {
		return nil, err
	}
	client, err := a.client(ctx, key, "")
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

var (
	_ providers.Resource = (*Account)(nil)
	_ providers.Warner   = (*Account)(nil)
)

// Plan asks for an account of the configured directory and email.
// Without an email, the contact of an existing account is left as the CA
// has it (certbot keeps no copy of it: an imported account names none).
func (a *Account) Plan(observed providers.Value, _ providers.PlanOptions) (providers.Value, *providers.Change) {
	v := providers.Value{"directory": providers.String(a.Directory), "email": providers.String(a.Email)}
	if a.Email == "" && observed != nil {
		v["email"] = observed["email"]
	}
	where := ".trustform/"
	if a.KeyFile != "" {
		where = a.KeyFile
	}
	desc := "register the account; its key stays in " + where + " (0600)"
	a.mu.Lock()
	missing, dir := a.keyMissing, a.dir
	a.mu.Unlock()
	if dir != nil && dir.Meta.TermsOfService != "" {
		desc += ", agreeing to the terms of service at " + dir.Meta.TermsOfService
	}
	if a.EAB != nil {
		desc += ", bound to the CA's external account " + a.EAB.KeyID
	}
	ch := providers.Diff(v, observed, providers.Phase{Name: "register", Description: desc})
	if ch != nil && missing && a.KeyFile != "" {
		ch.Reasons = []string{fmt.Sprintf("no account key at %s on this machine: a new account is registered under the same contact (%s); certificates already issued stay valid. Give this runner the shared key to keep one account.", a.KeyFile, orNone(a.Email))}
	}
	a.mu.Lock()
	a.registers = ch != nil
	a.mu.Unlock()
	return v, ch
}

// Warnings refuse a registration the CA would refuse: terms of service
// not agreed to, an external account binding missing.
func (a *Account) Warnings() []providers.Warning {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.registers || a.dir == nil {
		return nil
	}
	var out []providers.Warning
	if terms := a.dir.Meta.TermsOfService; terms != "" && !a.TermsAgreed {
		out = append(out, providers.Warning{Error: true, Attr: "terms_of_service_agreed",
			Summary: "the CA's terms of service are not agreed to",
			Detail:  fmt.Sprintf("%s asks new accounts to agree to its terms of service at %s. Read them, then set terms_of_service_agreed = true.", a.Directory, terms)})
	}
	if a.dir.Meta.ExternalAccountRequired && a.EAB == nil {
		out = append(out, providers.Warning{Error: true,
			Summary: "the CA requires external account binding",
			Detail:  fmt.Sprintf("%s registers only accounts bound to one at the CA (RFC 8555 §7.3.4). Add eab { key_id = \"…\" hmac_key_file = \"…\" } with the key id and HMAC key the CA gave you (or set the HMAC key in the environment).", a.Directory)})
	}
	return out
}

// readDirectory reads the CA's directory: its terms, whether it requires
// external account binding, the profiles it offers.
func (a *Account) readDirectory(ctx context.Context) (*acme.Directory, error) {
	hc, err := a.httpClient(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Get(a.Directory)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", a.Directory, resp.Status)
	}
	var d acme.Directory
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&d); err != nil {
		return nil, fmt.Errorf("%s: %w", a.Directory, err)
	}
	return &d, nil
}

// directory is the CA's directory as observed; nil with the reason when it
// could not be read.
func (a *Account) directory() (*acme.Directory, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.dir, a.dirErr
}

func orNone(email string) string {
	if email == "" {
		return "no e-mail"
	}
	return email
}

// Apply registers the account; it has no other phase.
func (a *Account) Apply(ctx context.Context, _ *providers.Change, phase string) error {
	if phase != "register" {
		return fmt.Errorf("acme_account: unknown phase %q", phase)
	}
	return retry(ctx, func() error { return a.Register(ctx) })
}

// Register creates the account key (kept if it exists) and registers it.
func (a *Account) Register(ctx context.Context) error {
	key, err := a.loadKey(true)
	if err != nil {
		return err
	}
	client, err := a.client(ctx, key, "")
	if err != nil {
		return err
	}
	var reg *registration.Resource
	if a.EAB != nil {
		reg, err = client.Registration.RegisterWithExternalAccountBinding(registration.RegisterEABOptions{
			TermsOfServiceAgreed: a.TermsAgreed, Kid: a.EAB.KeyID, HmacEncoded: a.EAB.HMACKey})
	} else {
		reg, err = client.Registration.Register(registration.RegisterOptions{TermsOfServiceAgreed: a.TermsAgreed})
	}
	if err != nil {
		return fmt.Errorf("registering with %s: %w", a.Directory, err)
	}
	a.mu.Lock()
	a.uri = reg.URI
	a.mu.Unlock()
	info := saved{URI: reg.URI, Directory: a.Directory, Email: a.Email}
	if dir, _ := a.directory(); dir != nil {
		info.CAAIdentities = dir.Meta.CaaIdentities
	}
	b, _ := json.MarshalIndent(info, "", "  ")
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
	k, err := ParseAccountKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.keyPath(), err)
	}
	a.key = k
	return a.key, nil
}

// ParseAccountKey reads an account key: PEM, as trustform writes it, or
// the JSON Web Key (RFC 7517) certbot keeps in
// accounts/SERVER/directory/ID/private_key.json, so that an account
// certbot registered is used with its own key file rather than a copy.
func ParseAccountKey(b []byte) (crypto.Signer, error) {
	if trimmed := bytes.TrimSpace(b); len(trimmed) > 0 && trimmed[0] == '{' {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(trimmed); err != nil {
			return nil, fmt.Errorf("not a JSON Web Key: %w", err)
		}
		k, ok := jwk.Key.(crypto.Signer)
		if !ok || jwk.IsPublic() {
			return nil, errors.New("the JSON Web Key holds no private key")
		}
		return k, nil
	}
	k, err := certcrypto.ParsePEMPrivateKey(b)
	if err != nil {
		return nil, err
	}
	return k.(crypto.Signer), nil
}

// userAgent names trustform in every request to a CA.
const userAgent = "trustform"

// client is a lego client for the account, its requests bound to ctx; uri
// is its registration, if any.
func (a *Account) client(ctx context.Context, key crypto.Signer, uri string) (*lego.Client, error) {
	u := &user{email: a.Email, key: key}
	if uri != "" {
		u.reg = &registration.Resource{URI: uri}
	}
	cfg := lego.NewConfig(u)
	cfg.CADirURL = a.Directory
	cfg.UserAgent = userAgent
	hc, err := a.httpClient(ctx)
	if err != nil {
		return nil, err
	}
	cfg.HTTPClient = hc
	return lego.NewClient(cfg)
}

// core is lego's ACME API for the account's directory, its requests
// signed by key, as the account kid (its registration) or, without one,
// with the key in each request; bound to ctx.
func (a *Account) core(ctx context.Context, key crypto.Signer, kid string) (*api.Core, error) {
	hc, err := a.httpClient(ctx)
	if err != nil {
		return nil, err
	}
	return api.New(hc, userAgent, a.Directory, kid, key)
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

// httpClient trusts roots(); each request is bounded by 30 s and by ctx,
// which lego's API does not take: Ctrl-C or -lock-timeout ends an order
// at its next request.
func (a *Account) httpClient(ctx context.Context) (*http.Client, error) {
	pool, err := a.roots()
	if err != nil {
		return nil, err
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: ctxTransport{ctx, &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, Proxy: http.ProxyFromEnvironment,
		DialContext: netpolicy.Dialer(&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	}}}, nil
}

// ctxTransport sends every request under ctx.
type ctxTransport struct {
	ctx  context.Context
	base http.RoundTripper
}

func (t ctxTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.base.RoundTrip(req.WithContext(t.ctx))
}

// ReadHMACKey reads an EAB HMAC key from file or, without one, from the
// environment variable env: base64url as CAs hand it out (padding and the
// standard alphabet are accepted too). Errors name the file or variable,
// never the key.
func ReadHMACKey(file, env string, getenv func(string) string) (string, error) {
	raw, from := "", "$"+env
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		raw, from = string(b), file
		if st, err := os.Stat(file); err == nil && st.Mode().Perm()&0o077 != 0 {
			return "", fmt.Errorf("%s has mode %04o: an HMAC key is a secret, chmod 600 it", file, st.Mode().Perm())
		}
	} else if raw = getenv(env); raw == "" {
		return "", fmt.Errorf("set hmac_key_file or the environment variable %s", env)
	}
	key := strings.NewReplacer("+", "-", "/", "_", "=", "").Replace(strings.TrimSpace(raw))
	if _, err := base64.RawURLEncoding.DecodeString(key); err != nil || key == "" {
		return "", fmt.Errorf("%s does not hold a base64url HMAC key", from)
	}
	return key, nil
}
