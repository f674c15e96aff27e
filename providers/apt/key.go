package apt

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/internal/netpolicy"
	"github.com/trustform/trustform/providers"
)

// Phases of an apt_key change.
const (
	PhaseWrite        = providers.PhaseWrite        // fetch, verify, write the keyring
	PhaseRemoveLegacy = providers.PhaseRemoveLegacy // drop the key from trusted.gpg and trusted.gpg.d
)

// Key is an APT signing key kept alone in its own keyring file.
type Key struct {
	Host        host.Host // where the keyrings are
	Fingerprint string    // upper-case hex: 40 digits, 64 for a v6 key
	URL         string    // https:, http:, file: or a local path
	// sourceMissing is why the last Plan cannot fetch the key (a local
	// url that is not there), or "".
	sourceMissing string
	Keyserver     string
	Keyring       string // target path, as Signed-By names it
	KeyringFile   string // keyring as configured, for step descriptions
	Path          string // where the keyring is on this machine
	ConfigDir     string // relative URLs are relative to it
	// EtcApt is APT's configuration directory on this machine, where the
	// legacy global keyrings (trusted.gpg, trusted.gpg.d/) are looked for.
	EtcApt      string
	RenewBefore time.Duration
	Now         func() time.Time

	// Filled by Observe.
	expires time.Time // zero: never
	revoked bool
	legacy  []string // global keyrings that also trust the key
}

// Observe reads the keyring (which fingerprints it holds; when the pinned key
// expires, or whether it is revoked) and the legacy global keyrings.
func (k *Key) Observe(context.Context) (providers.Value, error) {
	k.expires, k.revoked, k.legacy = time.Time{}, false, nil
	legacy, err := k.findLegacy()
	if err != nil {
		return nil, err
	}
	k.legacy = legacy
	b, err := k.Host.ReadFile(k.Path)
	if err != nil {
		return nil, err
	}
	if b == nil && len(legacy) == 0 {
		return nil, nil
	}
	v := providers.Value{
		"keyring":      providers.String(k.Keyring),
		"fingerprints": providers.List(),
		"legacy":       providers.List(legacy...),
	}
	if b == nil {
		return v, nil
	}
	el, err := readKeys(b)
	if err != nil {
		return nil, fmt.Errorf("keyring %s: %w", k.Path, err)
	}
	v["fingerprints"] = providers.List(fingerprints(el)...)
	for _, e := range el {
		if fingerprint(e) == k.Fingerprint {
			k.expires = expiry(e)
			k.revoked = e.Revoked(k.Now())
			v["expires"] = providers.String(formatExpiry(k.expires))
			if k.revoked {
				v["revoked"] = providers.String("true")
			}
		}
	}
	return v, nil
}

var (
	_ providers.Resource = (*Key)(nil)
	_ providers.Renewing = (*Key)(nil)
	_ providers.Warner   = (*Key)(nil)
)

// Plan asks for a keyring holding exactly the pinned key, trusted nowhere
// else. The keyring is written when it differs or the key runs out; the
// legacy global keyrings lose the key in a second phase, which
// apt-key-before-source orders after the sources that name the keyring.
func (k *Key) Plan(observed providers.Value, _ providers.PlanOptions) (providers.Value, *providers.Change) {
	k.sourceMissing = ""
	v := providers.Value{
		"keyring":      providers.String(k.Keyring),
		"fingerprints": providers.List(k.Fingerprint),
		"legacy":       providers.List(),
	}
	due, why := k.due()
	var ch *providers.Change
	switch {
	case due && observed != nil:
		ch = &providers.Change{Action: providers.Update, Reasons: []string{why + ": refresh it from its source"}}
	default:
		ch = providers.Diff(v, observed)
	}
	if ch == nil {
		return v, nil
	}
	written := v.Clone()
	delete(written, "legacy")
	if due || observed == nil || providers.Differs(written, observed) != nil {
		ch.Phases = append(ch.Phases, providers.Phase{Name: PhaseWrite, Description: "fetch the key, verify its fingerprint, write " + k.KeyringFile})
		k.sourceMissing = k.missingSource()
	}
	if len(k.legacy) > 0 {
		ch.Phases = append(ch.Phases, providers.Phase{Name: PhaseRemoveLegacy, Placed: true,
			Description: "remove the key from the global keyrings " + strings.Join(k.legacy, ", ") + ", where it is trusted for every repository"})
	}
	return v, ch
}

// missingSource says why the key cannot be fetched from a local url (a
// path or file:) because the file is not there, or "": found at plan
// time, not at the apply's write.
func (k *Key) missingSource() string {
	if k.Keyserver != "" {
		return ""
	}
	u, err := url.Parse(k.URL)
	p := k.URL
	switch {
	case err == nil && u.Scheme == "file":
		p = cmp.Or(u.Opaque, u.Path)
	case err == nil && len(u.Scheme) > 1:
		return "" // fetched over the network
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(k.ConfigDir, p)
	}
	if _, err := os.Stat(p); err != nil {
		return fmt.Sprintf("url names %s, and it cannot be read (%v): the key cannot be fetched", p, err)
	}
	return ""
}

// Warnings refuse a plan that needs to fetch the key from a local file
// that is not there.
func (k *Key) Warnings() []providers.Warning {
	if k.sourceMissing == "" {
		return nil
	}
	return []providers.Warning{{Error: true, Attr: "url", Summary: "The key's source is missing", Detail: k.sourceMissing + "."}}
}

// Due says why the installed key must be refreshed, if it must.
func (k *Key) Due() []string {
	if due, why := k.due(); due {
		return []string{why}
	}
	return nil
}

// due reports whether the installed key must be refreshed: it is revoked,
// expired, or expires within RenewBefore. Observe must have run.
func (k *Key) due() (bool, string) {
	switch {
	case k.revoked:
		return true, "the key " + k.Fingerprint + " is revoked"
	case k.expires.IsZero():
		return false, ""
	case !k.Now().Before(k.expires):
		return true, fmt.Sprintf("the key expired %s (apt-get update fails with EXPKEYSIG)", formatExpiry(k.expires))
	case !k.Now().Add(k.RenewBefore).Before(k.expires):
		return true, fmt.Sprintf("the key expires %s, within renew_before (%s)", formatExpiry(k.expires), k.RenewBefore)
	}
	return false, ""
}

// Apply carries out one phase.
func (k *Key) Apply(ctx context.Context, _ *providers.Change, phase string) error {
	switch phase {
	case PhaseWrite:
		return k.write(ctx)
	case PhaseRemoveLegacy:
		return k.removeLegacy()
	case providers.PhaseDelete:
		return k.Host.Remove(k.Path)
	}
	return fmt.Errorf("apt_key: unknown phase %q", phase)
}

// Delete removes the keyring: nothing trusts the key any more.
func (k *Key) Delete(providers.Value) *providers.Change {
	return &providers.Change{Action: providers.Delete,
		Reasons: []string{"its block is gone: " + k.KeyringFile + " would go on trusting " + k.Fingerprint},
		Phases:  []providers.Phase{{Name: providers.PhaseDelete, Description: "remove " + k.KeyringFile}}}
}

var _ providers.Deleter = (*Key)(nil)

// write fetches the key, refuses it unless its primary fingerprint is the
// pinned one (and, when refreshing a key that runs out, unless it lasts
// longer), and writes a keyring with only that key. Nothing is written
// when a check fails.
func (k *Key) write(ctx context.Context) error {
	raw, where, err := k.fetch(ctx)
	if err != nil {
		return err
	}
	el, err := readKeys(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	var key *openpgp.Entity
	for _, e := range el {
		if fingerprint(e) == k.Fingerprint {
			key = e
		}
	}
	if key == nil {
		if primary := primaryOf(el, k.Fingerprint); primary != "" {
			return fmt.Errorf("refused the key from %s: %s is the fingerprint of a subkey of the key %s (gpg's NO_PUBKEY and EXPKEYSIG messages name the signing subkey); pin the primary key: fingerprint = %q; nothing was written",
				where, k.Fingerprint, primary, primary)
		}
		return fmt.Errorf("refused the key from %s: it has fingerprint %s, but the configuration pins %s; nothing was written",
			where, strings.Join(fingerprints(el), ", "), k.Fingerprint)
	}
	if due, why := k.due(); due && !k.expires.IsZero() {
		if fresh := expiry(key); !fresh.IsZero() && !fresh.After(k.expires) || key.Revoked(k.Now()) {
			return fmt.Errorf("%s, and the key at %s is no better (expires %s): the repository owner must extend or replace it; the keyring was left as it is", why, where, formatExpiry(fresh))
		}
	}
	out, err := serialize(k.Path, []*openpgp.Entity{key})
	if err != nil {
		return err
	}
	return k.Host.WriteFile(k.Path, out, 0o644)
}

// serialize writes keys as a keyring: armored for .asc, binary otherwise.
func serialize(path string, keys []*openpgp.Entity) ([]byte, error) {
	var out bytes.Buffer
	if !strings.HasSuffix(path, ".asc") {
		for _, e := range keys {
			if err := e.Serialize(&out); err != nil {
				return nil, err
			}
		}
		return out.Bytes(), nil
	}
	w, err := armor.Encode(&out, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil, err
	}
	for _, e := range keys {
		if err := e.Serialize(w); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// fetch gets the key bytes from its URL or keyserver.
func (k *Key) fetch(ctx context.Context) ([]byte, string, error) {
	src := k.URL
	if k.Keyserver != "" {
		src = strings.TrimSuffix(k.Keyserver, "/") + "/pks/lookup?op=get&options=mr&search=0x" + k.Fingerprint
	}
	u, err := url.Parse(src)
	if err != nil || u.Scheme == "" || len(u.Scheme) == 1 { // a bare path (or a Windows drive letter)
		p := src
		if !filepath.IsAbs(p) {
			p = filepath.Join(k.ConfigDir, p)
		}
		b, err := os.ReadFile(p)
		return b, p, err
	}
	switch u.Scheme {
	case "file":
		p := u.Opaque
		if p == "" {
			p = u.Path
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(k.ConfigDir, p)
		}
		b, err := os.ReadFile(p)
		return b, p, err
	case "https", "http", "hkp", "hkps":
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, HTTPURL(u).String(), nil)
		if err != nil {
			return nil, src, err
		}
		// A keyserver that never answers must not hold a plan forever.
		resp, err := (&http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: http.ProxyFromEnvironment,
			DialContext: netpolicy.Dialer(&net.Dialer{Timeout: 30 * time.Second}).DialContext}}).Do(req)
		if err != nil {
			return nil, src, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, src, fmt.Errorf("GET %s: %s", src, resp.Status)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return b, src, err
	}
	return nil, src, fmt.Errorf("unsupported key URL scheme %q in %s", u.Scheme, src)
}

// HTTPURL is where a key URL is fetched over HTTP: hkp:// is HTTP on HKP's
// own port 11371 unless one is given, hkps:// is HTTPS.
func HTTPURL(u *url.URL) *url.URL {
	out := *u
	switch u.Scheme {
	case "hkp":
		out.Scheme = "http"
		if u.Port() == "" {
			out.Host = net.JoinHostPort(u.Hostname(), "11371")
		}
	case "hkps":
		out.Scheme = "https"
	}
	return &out
}

// readKeys parses armored or binary OpenPGP public keys.
func readKeys(b []byte) (openpgp.EntityList, error) {
	if bytes.Contains(b, []byte("-----BEGIN PGP")) {
		return openpgp.ReadArmoredKeyRing(bytes.NewReader(b))
	}
	return openpgp.ReadKeyRing(bytes.NewReader(b))
}

func fingerprint(e *openpgp.Entity) string {
	return strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
}

// primaryOf is the primary fingerprint of the key that has fpr as a
// subkey, or "".
func primaryOf(el openpgp.EntityList, fpr string) string {
	for _, e := range el {
		for _, sub := range e.Subkeys {
			if strings.EqualFold(hex.EncodeToString(sub.PublicKey.Fingerprint), fpr) {
				return fingerprint(e)
			}
		}
	}
	return ""
}

func fingerprints(el openpgp.EntityList) []string {
	out := make([]string, 0, len(el))
	for _, e := range el {
		out = append(out, fingerprint(e))
	}
	slices.Sort(out)
	return out
}

// expiry is when the key stops verifying signatures: the primary key's
// expiry, or sooner the expiry of the latest signing-capable key (APT fails
// with EXPKEYSIG when the signing subkey has run out). Zero means never.
func expiry(e *openpgp.Entity) time.Time {
	lifetime := func(created time.Time, sig *packet.Signature) time.Time {
		if sig == nil || sig.KeyLifetimeSecs == nil || *sig.KeyLifetimeSecs == 0 {
			return time.Time{}
		}
		return created.Add(time.Duration(*sig.KeyLifetimeSecs) * time.Second)
	}
	later := func(a, b time.Time) time.Time { // zero is "never", the latest of all
		if a.IsZero() || b.IsZero() {
			return time.Time{}
		}
		if a.After(b) {
			return a
		}
		return b
	}
	self, _ := e.PrimarySelfSignature()
	primary := lifetime(e.PrimaryKey.CreationTime, self)
	var signing time.Time
	found := false
	if self != nil && self.FlagsValid && self.FlagSign {
		signing, found = primary, true
	}
	for _, sub := range e.Subkeys {
		if sub.Sig == nil || !sub.Sig.FlagsValid || !sub.Sig.FlagSign || len(sub.Revocations) > 0 {
			continue
		}
		exp := lifetime(sub.PublicKey.CreationTime, sub.Sig)
		if !found {
			signing, found = exp, true
		} else {
			signing = later(signing, exp)
		}
	}
	switch {
	case !found || signing.IsZero():
		return primary
	case primary.IsZero() || signing.Before(primary):
		return signing
	}
	return primary
}

func formatExpiry(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}
