package probe

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/trustform/trustform/internal/chain"
	"github.com/trustform/trustform/internal/netpolicy"
)

// Vhost is a virtual host to probe.
type Vhost struct {
	Addr        string   // host:port to connect to
	Names       []string // server names, each probed with SNI / Host
	TLS         bool
	ACMEWebroot bool // the configuration serves the ACME challenge here
	Timeout     time.Duration
	// Roots, when set and not nil, are what the served chain must build to
	// for each name (served_chain), as a client would check it.
	Roots func() *x509.CertPool
}

// ChainVerifies is what served_chain says of a name whose chain verifies.
const ChainVerifies = "verifies"

// ChallengeProbe is the token requested under /.well-known/acme-challenge/.
const ChallengeProbe = "trustform-probe"

var versions = []struct {
	id   uint16
	name string
}{{tls.VersionTLS10, "TLSv1"}, {tls.VersionTLS11, "TLSv1.1"}, {tls.VersionTLS12, "TLSv1.2"}, {tls.VersionTLS13, "TLSv1.3"}}

func (v *Vhost) timeout() time.Duration {
	if v.Timeout > 0 {
		return v.Timeout
	}
	return 3 * time.Second
}

// Served is what a vhost's server answers, by attribute (served_certificate,
// served_hsts, …): a string, or a list of strings.
type Served map[string]any

// Observe returns the served_* attributes of the vhost. A server that does
// not answer is observed as such ("unreachable: …"), not as an error: it is
// drift to report, not a reason to stop planning.
func (v *Vhost) Observe(ctx context.Context) (Served, error) {
	out := Served{}
	name := v.Names[0]
	if v.TLS {
		t := v.handshake(ctx, name, 0)
		if t.err != nil {
			out["served_certificate"] = "unreachable: " + t.err.Error()
			return out, nil
		}
		var certs, chains []string
		roots := v.roots()
		for _, n := range v.Names {
			s := v.handshake(ctx, n, 0)
			if s.err != nil {
				certs = append(certs, n+" unreachable: "+s.err.Error())
				continue
			}
			certs = append(certs, n+" "+s.cert)
			if roots != nil {
				why := ChainVerifies
				if err := chain.Verify(s.chain, roots, n, time.Now()); err != nil {
					why = err.Error()
				}
				chains = append(chains, n+" "+why)
			}
		}
		out["served_certificate"] = certs
		if len(chains) > 0 {
			out["served_chain"] = chains
		}
		out["served_protocol"] = t.version
		out["served_protocols"] = v.accepted(ctx, name)
		out["served_hsts"] = v.get(ctx, "https", name, "/").hsts
		return out, nil
	}
	root := v.get(ctx, "http", name, "/")
	if root.err != nil {
		out["served_redirect"] = "unreachable: " + root.err.Error()
		return out, nil
	}
	out["served_redirect"] = root.redirect()
	out["served_hsts"] = root.hsts
	if v.ACMEWebroot {
		out["served_challenge"] = "not redirected"
		for _, n := range v.Names { // every name: each is validated on its own
			if c := v.get(ctx, "http", n, "/.well-known/acme-challenge/"+ChallengeProbe).challenge(); c != "not redirected" {
				if len(v.Names) > 1 {
					c = strings.Replace(c, ": ", ": "+n+": ", 1)
				}
				out["served_challenge"] = c
				break
			}
		}
	}
	return out, nil
}

// roots are the roots to verify served chains against; nil: not checked.
func (v *Vhost) roots() *x509.CertPool {
	if v.Roots == nil {
		return nil
	}
	return v.Roots()
}

// VerifiesChain says whether Observe checks served chains.
func (v *Vhost) VerifiesChain() bool { return v.roots() != nil }

type handshake struct {
	chain   []*x509.Certificate // as served, leaf first
	cert    string              // Leaf(chain[0])
	version string              // negotiated protocol
	err     error
}

// handshake connects with SNI name, limited to one protocol version (0: any).
func (v *Vhost) handshake(ctx context.Context, name string, version uint16) handshake {
	cfg := &tls.Config{
		ServerName:         name,
		InsecureSkipVerify: true, // the certificate is compared with the deployed file, not a trust store
		MinVersion:         tls.VersionTLS10,
	}
	if version != 0 {
		cfg.MinVersion, cfg.MaxVersion = version, version
	}
	d := tls.Dialer{NetDialer: netpolicy.Dialer(&net.Dialer{Timeout: v.timeout()}), Config: cfg}
	ctx, cancel := context.WithTimeout(ctx, v.timeout())
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", v.Addr)
	if err != nil {
		return handshake{err: err}
	}
	defer c.Close()
	st := c.(*tls.Conn).ConnectionState()
	return handshake{chain: st.PeerCertificates, cert: Leaf(st.PeerCertificates[0]), version: tls.VersionName(st.Version)}
}

// Leaf names a certificate exactly, as plans show it: the SHA-256 of its DER
// (a renewal with the same key is another certificate) and its expiry.
func Leaf(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return "sha256:" + hex.EncodeToString(sum[:]) + " expires " + c.NotAfter.UTC().Format(time.RFC3339)
}

// accepted lists the protocol versions the server completes a handshake with.
func (v *Vhost) accepted(ctx context.Context, name string) []string {
	var out []string
	for _, ver := range versions {
		if v.handshake(ctx, name, ver.id).err == nil {
			out = append(out, ver.name)
		}
	}
	return out
}

type response struct {
	status   int
	location string
	hsts     string
	host     string
	err      error
}

// get requests scheme://name/path from the vhost's address without
// following redirects.
func (v *Vhost) get(ctx context.Context, scheme, name, path string) response {
	client := &http.Client{
		Timeout:       v.timeout(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return netpolicy.Dialer(&net.Dialer{Timeout: v.timeout()}).DialContext(ctx, network, v.Addr)
			},
			TLSClientConfig:   &tls.Config{ServerName: name, InsecureSkipVerify: true},
			DisableKeepAlives: true,
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+name+path, nil)
	if err != nil {
		return response{err: err}
	}
	resp, err := client.Do(req)
	if err != nil {
		return response{err: err}
	}
	resp.Body.Close()
	return response{status: resp.StatusCode, location: resp.Header.Get("Location"), hsts: hstsHeader(resp.Header), host: name}
}

// hstsHeader is the Strict-Transport-Security header as observed: its
// value, or every value when the response has more than one (a hand-added
// add_header, a backend's own), which the preload list refuses and browsers
// read only the first of (RFC 6797 §8.1).
func hstsHeader(h http.Header) string {
	vals := h.Values("Strict-Transport-Security")
	if len(vals) > 1 {
		return fmt.Sprintf("%d headers: %s", len(vals), strings.Join(vals, " | "))
	}
	return h.Get("Strict-Transport-Security")
}

// HSTSHeaders is how many Strict-Transport-Security headers an observed
// served_hsts stands for.
func HSTSHeaders(served string) int {
	var n int
	if _, err := fmt.Sscanf(served, "%d headers: ", &n); err == nil && n > 1 {
		return n
	}
	if served == "" {
		return 0
	}
	return 1
}

// redirect describes the answer to GET /: "301 https://NAME/" or "200 (no redirect)".
func (r response) redirect() string {
	if r.location == "" {
		return fmt.Sprintf("%d (no redirect)", r.status)
	}
	return fmt.Sprintf("%d %s", r.status, r.location)
}

// challenge describes the answer for the challenge path: "not redirected"
// whatever the status (no file is there), or the redirect.
func (r response) challenge() string {
	if r.err != nil {
		return "unreachable: " + r.err.Error()
	}
	if r.status >= 300 && r.status < 400 {
		return fmt.Sprintf("redirected: %d %s", r.status, r.location)
	}
	return "not redirected"
}

// WantRedirect is how a same-host redirect to HTTPS of GET / is observed.
func WantRedirect(name string) string { return "301 https://" + name + "/" }

// SameHostHTTPS reports whether a Location sends name to HTTPS on the same host.
func SameHostHTTPS(location, name string) bool {
	u, err := url.Parse(location)
	return err == nil && u.Scheme == "https" && strings.EqualFold(u.Hostname(), name)
}

// SortedProtocols is a protocol list in the order versions are probed.
func SortedProtocols(p []string) []string {
	rank := map[string]int{}
	for i, v := range versions {
		rank[v.name] = i
	}
	out := slices.Clone(p)
	slices.SortFunc(out, func(a, b string) int { return rank[a] - rank[b] })
	return out
}
