package apt

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/files"
)

// Key is an APT signing key kept alone in its own keyring file.
type Key struct {
	Fingerprint string // 40 upper-case hex digits
	URL         string // https:, http:, file: or a local path
	Keyserver   string
	Keyring     string // target path, as Signed-By names it
	Path        string // where the keyring is on this machine
	ConfigDir   string // relative URLs are relative to it
	Now         func() time.Time
}

// Observe reads the keyring: which fingerprints it holds and when the pinned key expires.
func (k *Key) Observe(context.Context) (providers.Value, error) {
	b, err := files.ReadOptional(k.Path)
	if err != nil || b == nil {
		return nil, err
	}
	el, err := readKeys(b)
	if err != nil {
		return nil, fmt.Errorf("keyring %s: %w", k.Path, err)
	}
	v := providers.Value{
		"keyring":      providers.String(k.Keyring),
		"fingerprints": providers.List(fingerprints(el)...),
	}
	for _, e := range el {
		if fingerprint(e) == k.Fingerprint {
			v["expires"] = providers.String(expiry(e))
		}
	}
	return v, nil
}

// Desired is a keyring holding exactly the pinned key.
func (k *Key) Desired() providers.Value {
	return providers.Value{
		"keyring":      providers.String(k.Keyring),
		"fingerprints": providers.List(k.Fingerprint),
	}
}

// Apply fetches the key, refuses it unless its primary fingerprint is the
// pinned one, and writes a keyring with only that key. Nothing is written
// when the check fails.
func (k *Key) Apply(ctx context.Context, _ string) error {
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
		return fmt.Errorf("refused the key from %s: it has fingerprint %s, but the configuration pins %s; nothing was written",
			where, strings.Join(fingerprints(el), ", "), k.Fingerprint)
	}
	var out bytes.Buffer
	if strings.HasSuffix(k.Path, ".asc") {
		w, err := armor.Encode(&out, openpgp.PublicKeyType, nil)
		if err != nil {
			return err
		}
		if err := key.Serialize(w); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		out.WriteByte('\n')
	} else if err := key.Serialize(&out); err != nil {
		return err
	}
	return files.WriteAtomic(k.Path, out.Bytes(), 0o644)
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
		if u.Scheme == "hkp" {
			u.Scheme = "http"
		} else if u.Scheme == "hkps" {
			u.Scheme = "https"
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, src, err
		}
		resp, err := http.DefaultClient.Do(req)
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

func fingerprints(el openpgp.EntityList) []string {
	out := make([]string, 0, len(el))
	for _, e := range el {
		out = append(out, fingerprint(e))
	}
	slices.Sort(out)
	return out
}

// expiry is when the primary key's self-signature says it expires, or "never".
func expiry(e *openpgp.Entity) string {
	sig, _ := e.PrimarySelfSignature()
	if sig == nil || sig.KeyLifetimeSecs == nil || *sig.KeyLifetimeSecs == 0 {
		return "never"
	}
	t := e.PrimaryKey.CreationTime.Add(time.Duration(*sig.KeyLifetimeSecs) * time.Second)
	return t.UTC().Format(time.RFC3339)
}
