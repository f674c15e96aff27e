package rules

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/engine/graph"
	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/internal/probe"
	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// ACMEChallengeNotRedirected: for an http-01 certificate, the HTTP vhost
// serving its names answers /.well-known/acme-challenge/ from acme_webroot
// and does not redirect it. A redirect that swallows the path makes
// renewals fail (a "400 Bad Request" from the redirect target is a classic).
const ACMEChallengeNotRedirected acmeChallengeNotRedirected = "acme-challenge-not-redirected"

type acmeChallengeNotRedirected string

var (
	_ Refuser     = ACMEChallengeNotRedirected
	_ LiveChecker = ACMEChallengeNotRedirected
	_ Orderer     = ACMEChallengeNotRedirected
)

// Name is the rule's name.
func (r acmeChallengeNotRedirected) Name() string { return string(r) }

// Refuse finds http-01 certificates whose names an HTTP vhost redirects
// without serving the challenge path first.
func (r acmeChallengeNotRedirected) Refuse(cfg *schema.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	httpByName := indexVhosts(cfg, false)
	for _, c := range certificates(cfg) {
		if c.Challenge != "http-01" {
			continue
		}
		var names []string
		var vhost *providers.Web
		for _, d := range c.Names {
			for _, hv := range httpByName.lookup(d) {
				if hv.RedirectHTTPS && hv.ACMEWebroot == "" {
					if vhost == nil || vhost == hv {
						vhost = hv
						names = append(names, d)
					}
				}
			}
		}
		if vhost == nil {
			continue
		}
		names = slices.Compact(names)
		diags = append(diags, refusal(r, vhost.RedirectRange,
			"the HTTP vhost redirects the challenge path",
			fmt.Sprintf("certificate.%s is validated with http-01 for %s, but vhost.%s redirects every request to HTTPS, /.well-known/acme-challenge/ included, so renewals fail. Set acme_webroot on vhost.%s: the challenge is then answered over HTTP before the redirect.",
				c.Name, strings.Join(names, ", "), vhost.Name, vhost.Name)))
	}
	return diags
}

// Live quotes a running HTTP vhost that redirects the challenge path.
func (r acmeChallengeNotRedirected) Live(_ context.Context, vhosts []Probed) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, v := range vhosts {
		if v.Block.Certificate.Set() {
			continue
		}
		if c := v.Observed["served_challenge"].Str; strings.HasPrefix(c, "redirected") {
			name := v.Block.Names[0]
			diags = append(diags, Warning(r, v.Block.DeclRange, "the challenge path is redirected",
				fmt.Sprintf("GET http://%s/.well-known/acme-challenge/%s is answered %q: http-01 validation would follow it and fail. The configuration serves it from %s; apply it.", name, probe.ChallengeProbe, strings.TrimPrefix(c, "redirected: "), v.ACMEWebroot)))
		}
	}
	return diags
}

// PreCheck returns the check an http-01 issuer runs before it orders: for
// each name it writes a random token under the webroot (on the vhost's
// host), fetches it as the CA would (probe.Challenge: port 80, following
// redirects to http or https on the default ports) and removes it. Any
// answer but the token (a 400 from a redirect target, a 404, a redirect
// elsewhere) stops the order before the CA counts a failed authorization.
func (r acmeChallengeNotRedirected) PreCheck(webroot host.Host, dir string, dial func(name string) map[string]string) func(ctx context.Context, domains []string) error {
	return func(ctx context.Context, domains []string) error {
		for _, d := range domains {
			if strings.HasPrefix(d, "*.") {
				continue // wildcards are validated with dns-01 only
			}
			if err := r.roundTrip(ctx, webroot, dir, d, dial(d)); err != nil {
				return fmt.Errorf("%s: %w; nothing was ordered", r.Name(), err)
			}
		}
		return nil
	}
}

// roundTrip writes a token for name, fetches it back, and removes it.
func (r acmeChallengeNotRedirected) roundTrip(ctx context.Context, h host.Host, dir, name string, dial map[string]string) error {
	b := make([]byte, 24)
	rand.Read(b)
	token := "trustform-" + base64.RawURLEncoding.EncodeToString(b)
	path := filepath.Join(dir, ".well-known", "acme-challenge", token)
	if err := h.WriteFile(path, []byte(token), 0o644); err != nil {
		return fmt.Errorf("writing a test token into %s: %w", dir, err)
	}
	defer h.Remove(path)
	got, err := probe.Challenge(ctx, name, token, dial)
	switch {
	case err != nil:
		return fmt.Errorf("%s: the CA would get no token: %w", name, err)
	case strings.TrimSpace(got) != token:
		return fmt.Errorf("%s: the challenge path answers 200 but not with the token written into %s: is acme_webroot the directory the vhost serves?", name, dir)
	}
	return nil
}

// Order makes http-01 certificates wait for the HTTP vhost that answers
// their challenge. When that vhost also takes its HSTS header from the HTTPS
// vhost (which waits for the certificate), it is first deployed in a
// "challenge" phase without HSTS, and in full after the HTTPS vhost.
func (r acmeChallengeNotRedirected) Order(g *graph.Graph) {
	for _, n := range g.Nodes {
		c := certOf(g.Config, schema.Ref{Address: n.Addr})
		kd, isCert := n.Res.(providers.KeyDeployer)
		if c == nil || !isCert || n.Change == nil || !kd.KeyPlan().Issue || c.Challenge != "http-01" {
			continue
		}
		for _, vn := range g.Nodes {
			v := webOf(g.Config, vn.Addr)
			if v == nil || v.Certificate.Set() || v.ACMEWebroot == "" || vn.Change == nil || vn.Change.Action == providers.Delete || !Serves(v.Names, c.Names[0]) {
				continue
			}
			if vn.Observed != nil && vn.Observed["acme_webroot"].Equal(vn.Desired["acme_webroot"]) {
				continue // it answers the challenge already
			}
			write := g.Last(vn.Addr)
			if !v.HSTSFrom.Set() {
				g.First(n.Addr).After(write, r.Name())
				continue
			}
			ch := g.AddFirst(vn.Addr, vn.Change.Action, providers.PhaseChallenge, r.Name(),
				"serve /.well-known/acme-challenge/ and the redirect first; the HSTS header follows once the certificate is served")
			write.After(ch, r.Name())
			g.First(n.Addr).After(ch, r.Name())
		}
	}
}
