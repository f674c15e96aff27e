package notify

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/schema"
)

// Type is the block type of a notification target.
const Type = "notify"

// Block is a notify block: which events, how often a lasting finding is
// repeated, and where it goes (a webhook or e-mail).
//
//	notify "ops" {
//	  on           = ["drift", "apply-failed", "renewal-failing"]
//	  repeat_after = "1d"
//	  webhook {
//	    url          = "https://hooks.example.net/trustform"
//	    headers_file = "/etc/trustform/secrets/webhook-headers"  # 0600
//	  }
//	}
type Block struct {
	Name        string        `hcl:"name,label"`
	On          []string      `hcl:"on"`
	RepeatAfter string        `hcl:"repeat_after,optional"`
	Webhook     *WebhookBlock `hcl:"webhook,block"`
	Email       *EmailBlock   `hcl:"email,block"`

	OnRange          hcl.Range `hcl:"on,attr_value_range"`
	RepeatAfterRange hcl.Range `hcl:"repeat_after,attr_value_range"`
	DeclRange        hcl.Range `hcl:",def_range"`

	// Repeat is repeat_after with its default, a day.
	Repeat time.Duration
}

// WebhookBlock posts the notification as JSON to url, with the headers
// (one "Name: value" per line, such as an Authorization token) of a 0600
// file.
type WebhookBlock struct {
	URL         string `hcl:"url"`
	HeadersFile string `hcl:"headers_file,optional"`

	URLRange  hcl.Range `hcl:"url,attr_value_range"`
	DeclRange hcl.Range `hcl:",def_range"`
}

// EmailBlock sends the notification by SMTP through smtp (host:port),
// always over STARTTLS, authenticated as username with the password of a
// 0600 file when one is given; ca_file holds the roots of a relay whose
// certificate is not in the system's.
type EmailBlock struct {
	SMTP         string   `hcl:"smtp"`
	From         string   `hcl:"from"`
	To           []string `hcl:"to"`
	Username     string   `hcl:"username,optional"`
	PasswordFile string   `hcl:"password_file,optional"`
	CAFile       string   `hcl:"ca_file,optional"`

	SMTPRange hcl.Range `hcl:"smtp,attr_value_range"`
	FromRange hcl.Range `hcl:"from,attr_value_range"`
	ToRange   hcl.Range `hcl:"to,attr_value_range"`
	DeclRange hcl.Range `hcl:",def_range"`
}

var (
	_ schema.Validator = (*Block)(nil)
	_ schema.FileNamer = (*Block)(nil)
)

// Kind is the notify kind.
func Kind() providers.Kind {
	return providers.Kind{Kind: schema.Kind{Type: Type, Rank: 4, New: func() schema.Block { return &Block{} }}, Bind: bind}
}

func (b *Block) Header() (*string, *hcl.Range) { return &b.Name, &b.DeclRange }

// Files are the secret files: the webhook's headers, the SMTP password.
func (b *Block) Files() []schema.File {
	var out []schema.File
	if b.Webhook != nil && b.Webhook.HeadersFile != "" {
		out = append(out, schema.File{Attr: "headers_file", Path: b.Webhook.HeadersFile, Secret: "the webhook headers of notify." + b.Name, Credential: true})
	}
	if b.Email != nil && b.Email.PasswordFile != "" {
		out = append(out, schema.File{Attr: "password_file", Path: b.Email.PasswordFile, Secret: "the SMTP password of notify." + b.Name, Credential: true})
	}
	return out
}

// Validate checks the events, the duration and the one target.
func (b *Block) Validate(c *schema.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if len(b.On) == 0 {
		diags = append(diags, schema.ErrAt(b.OnRange, "No events", "on lists the events to tell of: "+strings.Join(providers.Events(), ", ")+"."))
	}
	for _, e := range b.On {
		if !slices.Contains(providers.Events(), e) {
			diags = append(diags, schema.ErrAt(b.OnRange, "Unknown event", fmt.Sprintf("%q is not an event; on takes %s.", e, strings.Join(providers.Events(), ", "))))
		}
	}
	b.Repeat = 24 * time.Hour
	if b.RepeatAfter != "" {
		d, err := schema.ParseDuration(b.RepeatAfter)
		switch {
		case err != nil:
			diags = append(diags, schema.ErrAt(b.RepeatAfterRange, "Invalid duration", err.Error()))
		case time.Duration(d) <= 0:
			diags = append(diags, schema.ErrAt(b.RepeatAfterRange, "Invalid repeat_after", "repeat_after is how long a lasting finding is not sent again: more than zero."))
		default:
			b.Repeat = time.Duration(d)
		}
	}
	switch {
	case (b.Webhook == nil) == (b.Email == nil):
		diags = append(diags, schema.ErrAt(b.DeclRange, "One target", fmt.Sprintf("notify.%s takes one webhook block or one email block.", b.Name)))
	case b.Webhook != nil:
		u, err := url.Parse(b.Webhook.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			diags = append(diags, schema.ErrAt(b.Webhook.URLRange, "Invalid webhook url", fmt.Sprintf("%q is not an http(s) URL without credentials: a token goes into headers_file, not the URL, which plans and logs show.", b.Webhook.URL)))
		}
	case b.Email != nil:
		if _, _, err := net.SplitHostPort(b.Email.SMTP); err != nil {
			diags = append(diags, schema.ErrAt(b.Email.SMTPRange, "Invalid smtp", fmt.Sprintf("smtp is the relay as host:port (587 for submission); got %q.", b.Email.SMTP)))
		}
		if _, err := mail.ParseAddress(b.Email.From); err != nil || strings.ContainsAny(b.Email.From, "\r\n") {
			diags = append(diags, schema.ErrAt(b.Email.FromRange, "Invalid from", fmt.Sprintf("%q is not an e-mail address.", b.Email.From)))
		}
		if len(b.Email.To) == 0 {
			diags = append(diags, schema.ErrAt(b.Email.ToRange, "No recipients", "to lists who gets the notifications."))
		}
		for _, to := range b.Email.To {
			if _, err := mail.ParseAddress(to); err != nil || strings.ContainsAny(to, "\r\n") {
				diags = append(diags, schema.ErrAt(b.Email.ToRange, "Invalid to", fmt.Sprintf("%q is not an e-mail address.", to)))
			}
		}
		if (b.Email.Username == "") != (b.Email.PasswordFile == "") {
			diags = append(diags, schema.ErrAt(b.Email.DeclRange, "username and password_file go together", "Authentication takes both the username and the file of its password; without either, mail is sent unauthenticated (over STARTTLS all the same)."))
		}
	}
	return diags
}
