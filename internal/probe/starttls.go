package probe

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"strings"
	"time"

	"github.com/trustform/trustform/internal/netpolicy"
)

// Endpoint is where a service answers TLS: at once, or after a STARTTLS
// exchange of StartTLS's protocol ("smtp", "imap", "pop3").
type Endpoint struct {
	URL      string // as configured, for messages: "smtp://127.0.0.1:25"
	Addr     string // host:port
	StartTLS string
}

// Chain handshakes with the endpoint (SNI name, any verification left to
// the caller: the chain is compared with files and records) and returns
// the chain it presents, leaf first.
func (e Endpoint) Chain(ctx context.Context, name string, timeout time.Duration) ([]*x509.Certificate, error) {
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := netpolicy.Dialer(nil).DialContext(ctx, "tcp", e.Addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	cfg := &tls.Config{ServerName: name, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
	switch e.StartTLS {
	case "":
	case "smtp":
		chain, err := smtpChain(conn, name, cfg)
		return chain, answered(ctx, e.StartTLS, err)
	case "imap", "pop3":
		if err := upgrade(conn, e.StartTLS); err != nil {
			return nil, answered(ctx, e.StartTLS, err)
		}
	default:
		return nil, fmt.Errorf("unknown STARTTLS protocol %q", e.StartTLS)
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tc.ConnectionState().PeerCertificates, nil
}

// answered is err as a plan may show it: the server's words quoted only
// outside an untrusted plan (netpolicy.Answer).
func answered(ctx context.Context, proto string, err error) error {
	if err == nil || netpolicy.From(ctx) == nil {
		return err
	}
	return fmt.Errorf("%s STARTTLS failed: %s", proto, netpolicy.Answer(ctx, err.Error()))
}

// smtpChain: EHLO, STARTTLS (RFC 3207) with the standard library's client.
func smtpChain(conn net.Conn, name string, cfg *tls.Config) ([]*x509.Certificate, error) {
	c, err := smtp.NewClient(conn, name)
	if err != nil {
		return nil, fmt.Errorf("SMTP greeting: %w", err)
	}
	if err := c.Hello("trustform.invalid"); err != nil {
		return nil, fmt.Errorf("SMTP EHLO: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		return nil, errors.New("the SMTP server does not offer STARTTLS")
	}
	if err := c.StartTLS(cfg); err != nil {
		return nil, fmt.Errorf("SMTP STARTTLS: %w", err)
	}
	st, _ := c.TLSConnectionState()
	c.Quit()
	return st.PeerCertificates, nil
}

// upgrade is the plain-text half of IMAP STARTTLS (RFC 9051 §6.2.1) and
// POP3 STLS (RFC 2595 §4): greeting, command, OK. Written here because the
// standard library has no IMAP or POP3 client and three lines of protocol
// do not warrant one.
func upgrade(conn net.Conn, proto string) error {
	r := bufio.NewReader(conn)
	greeting, err := r.ReadString('\n')
	if err != nil {
		return fmt.Errorf("%s greeting: %w", proto, err)
	}
	ok, command := "+OK", "STLS\r\n"
	if proto == "imap" {
		ok, command = "a1 OK", "a1 STARTTLS\r\n"
		if !strings.HasPrefix(greeting, "* OK") {
			return fmt.Errorf("IMAP greeting %q", strings.TrimSpace(greeting))
		}
	} else if !strings.HasPrefix(greeting, "+OK") {
		return fmt.Errorf("POP3 greeting %q", strings.TrimSpace(greeting))
	}
	if _, err := conn.Write([]byte(command)); err != nil {
		return err
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("%s STARTTLS: %w", proto, err)
		}
		switch {
		case strings.HasPrefix(line, ok):
			if r.Buffered() > 0 { // bytes after OK would be injected into TLS (CVE-2011-0411's kind)
				return fmt.Errorf("%s server sent data after its STARTTLS answer", proto)
			}
			return nil
		case proto == "imap" && strings.HasPrefix(line, "* "):
			continue // untagged data before the answer
		default:
			return fmt.Errorf("%s STARTTLS refused: %q", proto, strings.TrimSpace(line))
		}
	}
}
