package apt

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/zclconf/go-cty/cty"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/providers"
)

// Importer reads APT's sources (sources.list, sources.list.d/*.list and
// *.sources under an APT directory, /etc/apt by default) as apt_key and
// apt_source blocks. A repository trusted through a keyring its entry
// names (Signed-By) keeps that keyring; one trusted globally (a key in
// trusted.gpg or trusted.gpg.d/, the apt-key way) is matched to its key
// by the signature of its InRelease file, and moves to a keyring of its
// own with Signed-By at the next apply, the global copy removed last.
func Importer() providers.Importer {
	return providers.Importer{Source: "apt", Defaults: []string{"/etc/apt"},
		About: "APT's sources and the keys that sign them: apt_key and apt_source blocks",
		Read:  importAPT}
}

// repo is one repository of a sources file, as an import groups it.
type repo struct {
	file, uri, typ, signedBy string
	suites, components       []string
}

func importAPT(ctx context.Context, in providers.ImportInput) (providers.Imported, error) {
	var out providers.Imported
	for _, etc := range in.Paths {
		got, err := importEtcApt(ctx, etc)
		if err != nil {
			return out, err
		}
		out.Add(got)
	}
	return out, nil
}

func importEtcApt(ctx context.Context, etc string) (providers.Imported, error) {
	var out providers.Imported
	files := []string{filepath.Join(etc, "sources.list")}
	for _, pattern := range []string{"*.list", "*.sources"} {
		m, _ := filepath.Glob(filepath.Join(etc, "sources.list.d", pattern))
		files = append(files, m...)
	}
	var repos []*repo
	for _, f := range files {
		if why := providers.Planted(f); why != "" {
			out.Note(fmt.Sprintf("%s: left out: %s (another user may have put it there)", f, why))
			continue
		}
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		} else if err != nil {
			return out, err
		}
		entries := parseList(f, string(b))
		if strings.HasSuffix(f, ".sources") {
			entries = parseSources(f, string(b))
		}
		for _, e := range entries {
			if e.Type != "deb" || e.Trusted {
				if e.Trusted {
					out.Note(fmt.Sprintf("%s:%d trusts %s without signatures (trusted=yes): left out", f, e.Line, e.URI))
				}
				continue
			}
			i := slices.IndexFunc(repos, func(r *repo) bool { return r.file == f && r.uri == e.URI && r.signedBy == e.SignedBy })
			if i < 0 {
				repos = append(repos, &repo{file: f, uri: e.URI, typ: e.Type, signedBy: e.SignedBy})
				i = len(repos) - 1
			}
			r := repos[i]
			if !slices.Contains(r.suites, e.Suite) {
				r.suites = append(r.suites, e.Suite)
			}
			for _, c := range e.Components {
				if !slices.Contains(r.components, c) {
					r.components = append(r.components, c)
				}
			}
		}
	}
	legacy, err := (&Key{Host: host.Local{}, EtcApt: etc}).legacyKeyrings()
	if err != nil {
		return out, err
	}
	names := map[string]int{}
	for _, r := range repos {
		name := providers.Identifier(strings.TrimSuffix(filepath.Base(r.file), filepath.Ext(r.file)))
		if names[name]++; names[name] > 1 {
			name = fmt.Sprintf("%s_%d", name, names[name])
		}
		key := providers.Found{Type: "apt_key", Name: name}
		src := providers.Found{Type: "apt_source", Name: name}
		if r.signedBy != "" {
			if why := providers.Planted(r.signedBy); why != "" {
				out.Note(fmt.Sprintf("%s: %s is signed by %s: left out: %s (another user may have put it there)", r.file, r.uri, r.signedBy, why))
				continue
			}
			el, err := readKeyringPath(r.signedBy)
			if err != nil || len(el) != 1 {
				out.Note(fmt.Sprintf("%s: %s is signed by %s, which does not hold exactly one key (%v): left out", r.file, r.uri, r.signedBy, err))
				continue
			}
			key.Resource = true
			key.Attrs = append(key.Attrs, providers.Lit("fingerprint", cty.StringVal(fingerprint(el[0]))),
				providers.Lit("url", cty.StringVal(r.signedBy)), providers.Lit("keyring", cty.StringVal(r.signedBy)))
		} else {
			fpr, file, err := signerOf(ctx, r, legacy)
			if err != nil {
				out.Note(fmt.Sprintf("%s: %s: %v: left out", r.file, r.uri, err))
				continue
			}
			key.Attrs = append(key.Attrs, providers.Lit("fingerprint", cty.StringVal(fpr)), providers.Lit("url", cty.StringVal(file)),
				providers.Lit("keyring", cty.StringVal(filepath.Join(etc, "keyrings", name+".gpg"))))
			out.Note(fmt.Sprintf("%s is trusted for every repository (%s): the next apply gives it a keyring of its own (%s) used by %s only, and removes the global copy last; then point url at the vendor's published key", fpr, file, filepath.Join(etc, "keyrings", name+".gpg"), r.uri))
		}
		file := r.file
		if !strings.HasSuffix(file, ".sources") {
			file = filepath.Join(etc, "sources.list.d", name+".sources")
			out.Note(fmt.Sprintf("%s: %s moves to %s (deb822, Signed-By); the next apply comments the old line out", r.file, r.uri, file))
		}
		src.Attrs = append(src.Attrs, providers.Lit("file", cty.StringVal(file)), providers.Lit("uris", providers.Strings(r.uri)),
			providers.Lit("suites", providers.Strings(r.suites...)))
		if len(r.components) > 0 {
			src.Attrs = append(src.Attrs, providers.Lit("components", providers.Strings(r.components...)))
		}
		src.Attrs = append(src.Attrs, providers.RefAttr("signed_by", "apt_key."+name))
		out.Blocks = append(out.Blocks, key, src)
	}
	return out, nil
}

func readKeyringPath(path string) (openpgp.EntityList, error) {
	k := &Key{Host: host.Local{}}
	el, err := k.readKeyringFile(path)
	if err == nil && el == nil {
		err = fmt.Errorf("%s holds no OpenPGP key this reads", path)
	}
	return el, err
}

// signerOf finds the global key that signs a repository: the issuer of
// the signature over its first suite's InRelease, looked up in the global
// keyrings. It returns the key's primary fingerprint and its file.
func signerOf(ctx context.Context, r *repo, legacy []string) (string, string, error) {
	if !strings.HasPrefix(r.uri, "http://") && !strings.HasPrefix(r.uri, "https://") {
		return "", "", fmt.Errorf("not over HTTP: its signing key cannot be told")
	}
	u := strings.TrimSuffix(r.uri, "/") + "/dists/" + r.suites[0] + "/InRelease"
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("fetching %s to tell its signing key: %w", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("fetching %s to tell its signing key: %s %v", u, resp.Status, err)
	}
	block, _ := clearsign.Decode(b)
	if block == nil {
		return "", "", fmt.Errorf("%s is not a clearsigned file", u)
	}
	p, err := packet.Read(block.ArmoredSignature.Body)
	if err != nil {
		return "", "", fmt.Errorf("%s: its signature: %w", u, err)
	}
	sig, ok := p.(*packet.Signature)
	if !ok {
		return "", "", fmt.Errorf("%s: no signature", u)
	}
	for _, f := range legacy {
		el, err := readKeyringPath(f)
		if err != nil {
			continue
		}
		for _, e := range el {
			if keyIs(e.PrimaryKey, sig) {
				return fingerprint(e), f, nil
			}
			for _, sub := range e.Subkeys {
				if keyIs(sub.PublicKey, sig) {
					return fingerprint(e), f, nil
				}
			}
		}
	}
	return "", "", fmt.Errorf("%s is signed by a key no global keyring of %s holds", u, filepath.Dir(legacy[0]))
}

// keyIs reports whether sig names k as its issuer.
func keyIs(k *packet.PublicKey, sig *packet.Signature) bool {
	if len(sig.IssuerFingerprint) > 0 {
		return strings.EqualFold(hex.EncodeToString(sig.IssuerFingerprint), hex.EncodeToString(k.Fingerprint))
	}
	return sig.IssuerKeyId != nil && *sig.IssuerKeyId == k.KeyId
}
