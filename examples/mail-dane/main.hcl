# A mail server under DANE for SMTP (RFC 7672): Postfix and Dovecot on one
# host read one certificate; BIND serves the signed zone (primary and
# secondary, as examples/dane-bind/start-bind.sh starts them).
#
# _25._tcp.mail carries two RRsets: 3 0 1 (the whole certificate, as in
# RFC 7671's examples), which changes with every renewal, and 3 1 1 (the
# key, recommended by RFC 7672), which changes only with the key.
# _993._tcp.mail pins IMAPS by key.

dns_zone "example" {
  name           = "example.test"
  server         = "127.0.0.1:5353"
  nameservers    = ["127.0.0.1:5353", "127.0.0.1:5354"]
  require_dnssec = true # MTAs use TLSA records only when DNSSEC validates them
  tsig {
    name        = "trustform-key"
    secret_file = "tsig.secret"
  }
}

acme_account "le" {
  directory = "https://acme-v02.api.letsencrypt.org/directory"
  email     = "postmaster@example.test"
  # Registration agrees to the CA's terms (the plan names them).
  terms_of_service_agreed = true
}

certificate "mail" {
  domains   = ["mail.example.test"]
  issuer    = acme_account.le
  challenge = "dns-01"
  key_type  = "ec256"
  cert_file = "/etc/ssl/mail/fullchain.pem"
  key_file  = "/etc/ssl/mail/privkey.pem"
}

tlsa "mail_smtp_cert" {
  zone          = dns_zone.example
  name          = "_25._tcp.mail"
  certificate   = certificate.mail
  selector      = 0 # 3 0 1
  ttl           = 300
  rollover_wait = "15m"
}

tlsa "mail_smtp" {
  zone          = dns_zone.example
  name          = "_25._tcp.mail"
  certificate   = certificate.mail
  ttl           = 300 # 3 1 1
  rollover_wait = "15m"
}

tlsa "mail_imaps" {
  zone          = dns_zone.example
  name          = "_993._tcp.mail"
  certificate   = certificate.mail
  ttl           = 300
  rollover_wait = "15m"
}

# Postfix: main.cf has smtpd_tls_chain_files = /etc/ssl/mail/privkey.pem,
# /etc/ssl/mail/fullchain.pem
service "mx" {
  certificate    = certificate.mail
  endpoints      = ["smtp://127.0.0.1:25", "submission://127.0.0.1:587"]
  test_command   = "postfix check"
  reload_command = "postfix reload"
}

# Dovecot: ssl_cert = </etc/ssl/mail/fullchain.pem, ssl_key = </etc/ssl/mail/privkey.pem
service "imap" {
  certificate    = certificate.mail
  endpoints      = ["imaps://127.0.0.1:993", "imap://127.0.0.1:143"]
  test_command   = "doveconf -n >/dev/null"
  reload_command = "doveadm reload"
}

# MTA-STS (RFC 8461) for the senders that do not validate DNSSEC, beside
# DANE (which wins where both are published, RFC 8461 §2): the policy is
# served by nginx at https://mta-sts.example.test/.well-known/mta-sts.txt
# and announced by _mta-sts.example.test, whose id trustform derives from
# the policy; TLS-RPT (RFC 8460) reports failures to the postmaster. Start
# in testing; under enforce, rule mta-sts-mx-covered checks that mail.example.test
# matches the policy and serves a certificate valid in the Web PKI for it.
certificate "mta_sts" {
  domains   = ["mta-sts.example.test"]
  issuer    = acme_account.le
  challenge = "dns-01"
  cert_file = "/etc/ssl/mta-sts/fullchain.pem"
  key_file  = "/etc/ssl/mta-sts/privkey.pem"
}

vhost "mta_sts" {
  server       = "nginx"
  config_file  = "/etc/nginx/sites-enabled/mta-sts.conf"
  listen       = "443"
  server_names = ["mta-sts.example.test"]
  certificate  = certificate.mta_sts
  root         = "/var/www/mta-sts"
}

mta_sts "example" {
  zone  = dns_zone.example
  mode  = "testing"
  vhost = vhost.mta_sts
  tls_rpt {
    rua = ["mailto:tlsrpt@example.test"]
  }
}
