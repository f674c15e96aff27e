package engine_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustform/trustform/engine"
)

// mailBase is a mail server's certificate pinned at its SMTP owner by a
// 3 0 1 RRset (RFC 7671's examples) and a 3 1 1 RRset.
const mailBase = `
dns_zone "example" {
  name      = "example.test"
  zone_file = "zone"
}
local_ca "ca" {}
certificate "mail" {
  domains   = ["mail.example.test"]
  issuer    = local_ca.ca
  key_type  = "KEYTYPE"
  cert_file = "mail.pem"
  key_file  = "mail.key"
}
tlsa "smtp" {
  zone          = dns_zone.example
  name          = "_25._tcp.mail"
  certificate   = certificate.mail
  selector      = 0
  rollover_wait = "1h"
}
tlsa "smtp_spki" {
  zone          = dns_zone.example
  name          = "_25._tcp.mail"
  certificate   = certificate.mail
  rollover_wait = "1h"
}
`

// services are Postfix and Dovecot using the certificate; nothing listens
// on their endpoints here, so they are observed unreachable.
const services = `
service "mx" {
  certificate    = certificate.mail
  endpoints      = ["smtp://127.0.0.1:1"]
  test_command   = "true"
  reload_command = "true"
}
service "imap" {
  certificate    = certificate.mail
  endpoints      = ["imaps://127.0.0.1:1", "imap://127.0.0.1:2"]
}
`

// daneTA pins the issuing CA at the same owner (2 1 1).
const daneTA = `
tlsa "smtp_ca" {
  zone          = dns_zone.example
  name          = "_25._tcp.mail"
  certificate   = certificate.mail
  usage         = 2
  rollover_wait = "1h"
}
`

// TestMailPlans: the plans of a mail server's DANE records, and RFC 7672's
// warnings that need the live zone.
func TestMailPlans(t *testing.T) {
	ec256 := strings.ReplaceAll(mailBase, "KEYTYPE", "ec256")
	ec384 := strings.ReplaceAll(mailBase, "KEYTYPE", "ec384")
	withMX := func(target string) func(dir string) {
		return func(dir string) {
			f, _ := os.OpenFile(filepath.Join(dir, "zone"), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString("@ 3600 IN MX 10 " + target + "\n")
			f.Close()
		}
	}
	for _, tc := range []ruleCase{
		{name: "selector-0-same-key-renewal", first: ec256, config: ec256, opts: engine.Options{Now: renewalDue}},
		{name: "selector-0-key-change", first: ec256, config: ec384},
		{name: "selector-0-renewal-reloads-services", first: ec256, config: ec256 + services, opts: engine.Options{Now: renewalDue}},
		{name: "selector-0-and-dane-ta-renewal", first: ec256 + daneTA, config: ec256 + daneTA, opts: engine.Options{Now: renewalDue}},
		{name: "smtp-owner-not-mx", config: ec256, setup: withMX("mx.example.test.")},
		{name: "smtp-owner-is-mx", config: ec256, setup: withMX("mail.example.test.")},
	} {
		t.Run(tc.name, func(t *testing.T) { runCase(t, tc, "mail") })
	}
}
