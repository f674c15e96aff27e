package notify

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/smtp"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// Notify is a bound notify block.
type Notify struct {
	Name   string // notify.NAME
	On     []string
	Repeat time.Duration
	// Webhook or Email: the one target.
	Webhook *Webhook
	Email   *Email
}

var _ providers.Notifier = (*Notify)(nil)

func bind(b providers.Binding, block schema.Block) (any, hcl.Diagnostics) {
	blk, cfg := block.(*Block), b.Config()
	n := &Notify{Name: "notify." + blk.Name, On: blk.On, Repeat: blk.Repeat}
	if w := blk.Webhook; w != nil {
		n.Webhook = &Webhook{URL: w.URL}
		if w.HeadersFile != "" {
			n.Webhook.HeadersFile = cfg.LocalPath(schema.Ref{}, w.HeadersFile)
		}
	}
	if e := blk.Email; e != nil {
		n.Email = &Email{SMTP: e.SMTP, From: e.From, To: e.To, Username: e.Username}
		if e.PasswordFile != "" {
			n.Email.PasswordFile = cfg.LocalPath(schema.Ref{}, e.PasswordFile)
		}
		if e.CAFile != "" {
			n.Email.CAFile = cfg.LocalPath(schema.Ref{}, e.CAFile)
		}
	}
	return n, nil
}

// Wants reports whether on lists the event.
func (n *Notify) Wants(event string) bool { return slices.Contains(n.On, event) }

// RepeatAfter is repeat_after.
func (n *Notify) RepeatAfter() time.Duration { return n.Repeat }

// Send delivers the notification to the one target.
func (n *Notify) Send(ctx context.Context, msg providers.Notification) error {
	if n.Webhook != nil {
		return n.Webhook.Send(ctx, msg)
	}
	return n.Email.Send(ctx, msg)
}

// Webhook posts the notification as JSON.
type Webhook struct {
	URL         string
	HeadersFile string // "Name: value" lines, 0600; "" for none
}

// Send posts msg as JSON (Content-Type application/json) with the headers
// of the file; any answer but 2xx is an error, which names the status and
// not the body (a hostile receiver's words are not repeated).
func (w *Webhook) Send(ctx context.Context, msg providers.Notification) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "trustform")
	if w.HeadersFile != "" {
		headers, err := readSecret(w.HeadersFile)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(strings.NewReader(headers))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				return fmt.Errorf("%s: a line is not \"Name: value\"", w.HeadersFile)
			}
			req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	client := &http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("posting to %s: %w", w.URL, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s", w.URL, resp.Status)
	}
	return nil
}

// Email sends the notification by SMTP over STARTTLS.
type Email struct {
	SMTP         string // host:port
	From         string
	To           []string
	Username     string
	PasswordFile string // 0600; "" for no authentication
	CAFile       string // PEM roots of the relay; "" for the system's
}

// Send submits msg as a plain-text message. The relay must offer STARTTLS
// and present a certificate valid for its name: nothing, not even
// findings, goes out in clear text, and no password to a relay that could
// be anyone.
func (e *Email) Send(ctx context.Context, msg providers.Notification) error {
	host, _, _ := net.SplitHostPort(e.SMTP)
	roots, err := e.roots()
	if err != nil {
		return err
	}
	d := net.Dialer{Timeout: 15 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", e.SMTP)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", e.SMTP, err)
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("%s: %w", e.SMTP, err)
	}
	defer c.Close()
	if err := c.Hello("trustform.invalid"); err != nil {
		return fmt.Errorf("%s: EHLO: %w", e.SMTP, err)
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		return fmt.Errorf("%s does not offer STARTTLS: nothing is sent in clear text", e.SMTP)
	}
	if err := c.StartTLS(&tls.Config{ServerName: host, RootCAs: roots, MinVersion: tls.VersionTLS12}); err != nil {
		return fmt.Errorf("%s: STARTTLS: %w", e.SMTP, err)
	}
	if e.PasswordFile != "" {
		password, err := readSecret(e.PasswordFile)
		if err != nil {
			return err
		}
		if err := c.Auth(smtp.PlainAuth("", e.Username, strings.TrimSpace(password), host)); err != nil {
			return fmt.Errorf("%s: authenticating as %s: %w", e.SMTP, e.Username, err)
		}
	}
	if err := c.Mail(e.From); err != nil {
		return fmt.Errorf("%s: MAIL FROM: %w", e.SMTP, err)
	}
	for _, to := range e.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("%s: RCPT TO %s: %w", e.SMTP, to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("%s: DATA: %w", e.SMTP, err)
	}
	if _, err := w.Write(Message(e.From, e.To, msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("%s: the message was refused: %w", e.SMTP, err)
	}
	return c.Quit()
}

func (e *Email) roots() (*x509.CertPool, error) {
	if e.CAFile == "" {
		return nil, nil
	}
	b, err := os.ReadFile(e.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", e.CAFile)
	}
	return pool, nil
}

// Message is the e-mail of a notification: headers and one line per
// finding, CRLF-ended, with the JSON body attached as text after them.
func Message(from string, to []string, msg providers.Notification) []byte {
	var b strings.Builder
	subject := fmt.Sprintf("trustform %s on %s: %d finding(s)", msg.Command, msg.Runner, len(msg.Findings))
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nAuto-Submitted: auto-generated\r\n\r\n",
		from, strings.Join(to, ", "), oneLine(subject), msg.At.Format(time.RFC1123Z))
	for _, f := range msg.Findings {
		fmt.Fprintf(&b, "%s  %s: %s\r\n", f.Event, f.Address, oneLine(f.Summary))
	}
	body, _ := json.MarshalIndent(msg, "", "  ")
	b.WriteString("\r\n-- \r\n" + strings.ReplaceAll(string(body), "\n", "\r\n") + "\r\n")
	// A line that is a lone dot ends DATA early: net/smtp's writer
	// dot-stuffs, so only bare CR and LF need care (oneLine).
	return []byte(b.String())
}

// oneLine keeps a text on one line of a message (no header injection).
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
}

// readSecret reads a secret file, refusing one that others may read.
func readSecret(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s has mode %v: a secret is read only from a file no one else may read (chmod 600)", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	return string(b), err
}
