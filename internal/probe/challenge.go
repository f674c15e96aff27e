package probe

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/trustform/trustform/internal/netpolicy"
)

// Challenge fetches http://NAME/.well-known/acme-challenge/TOKEN as an ACME
// CA validating http-01 does: from the HTTP address, following at most ten
// redirects, each only to http or https on the default ports (80, 443),
// as Let's Encrypt does. Dial maps "http" and "https" to where those ports
// of NAME are served (the vhosts' addresses). It returns the body of the
// final 200 answer, or an error naming every answer on the way.
func Challenge(ctx context.Context, name, token string, dial map[string]string) (string, error) {
	var hops []string
	client := &http.Client{
		Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			// req.Response is the redirect answer that led here.
			if req.Response != nil {
				hops = append(hops, fmt.Sprintf("%d %s", req.Response.StatusCode, location(ctx, req.URL)))
			}
			switch {
			case len(via) >= 10:
				return fmt.Errorf("more than ten redirects")
			case req.URL.Scheme != "http" && req.URL.Scheme != "https":
				return fmt.Errorf("a redirect to %s, which a CA does not follow", req.URL.Scheme)
			case req.URL.Port() != "" && req.URL.Port() != "80" && req.URL.Port() != "443":
				return fmt.Errorf("a redirect to port %s: a CA follows only 80 and 443", req.URL.Port())
			case dial[req.URL.Scheme] == "" || !strings.EqualFold(req.URL.Hostname(), name):
				return fmt.Errorf("a redirect to %s, which no managed vhost of %s answers", location(ctx, req.URL), name)
			}
			return nil
		},
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				scheme := "http"
				if strings.HasSuffix(addr, ":443") {
					scheme = "https"
				}
				return netpolicy.Dialer(&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, dial[scheme])
			},
			// A CA does not check the certificate of a redirect target
			// (RFC 8555 §8.3): neither does this.
			TLSClientConfig:   &tls.Config{ServerName: name, InsecureSkipVerify: true},
			DisableKeepAlives: true,
		},
	}
	u := "http://" + name + "/.well-known/acme-challenge/" + url.PathEscape(token)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		hops = append(hops, fmt.Sprintf("%d", resp.StatusCode))
		return "", fmt.Errorf("GET %s is answered %s", u, strings.Join(hops, " → "))
	}
	return string(body), nil
}

// location is a redirect's target as a plan may quote it: not at all in
// an untrusted plan (netpolicy.Answer).
func location(ctx context.Context, u *url.URL) string {
	if netpolicy.From(ctx) == nil {
		return u.String()
	}
	return netpolicy.Answer(ctx, u.String())
}
