package probe

import (
	"context"
	"crypto/tls"
	"net/http"

	"golang.org/x/net/http2"

	"github.com/trustform/trustform/internal/netpolicy"
)

// ReusedConnectionStatus does what a browser does with names that share an
// address and a certificate: one TLS connection (SNI first, ALPN h2), then a
// request for first and one for second on that same connection. Apache
// answers the second with 421 Misdirected Request when the two vhosts' TLS
// settings differ. It returns the status of the second request.
func ReusedConnectionStatus(ctx context.Context, addr, first, second string) (int, error) {
	c, err := (&tls.Dialer{NetDialer: netpolicy.Dialer(nil), Config: &tls.Config{ServerName: first, NextProtos: []string{"h2"}, InsecureSkipVerify: true}}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	cc, err := (&http2.Transport{}).NewClientConn(c)
	if err != nil {
		return 0, err
	}
	var status int
	for _, name := range []string{first, second} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+name+"/", nil)
		if err != nil {
			return 0, err
		}
		resp, err := cc.RoundTrip(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		status = resp.StatusCode
	}
	return status, nil
}
