# DANE TLSA records on a real BIND9 primary (RFC 2136 + TSIG, inline DNSSEC
# signing) with a secondary. start-bind.sh starts the pair on 127.0.0.1:5353
# (primary) and 127.0.0.1:5354 (secondary) and writes tsig.secret.

dns_zone "example" {
  name           = "example.test"
  server         = "127.0.0.1:5353"
  nameservers    = ["127.0.0.1:5353", "127.0.0.1:5354"]
  require_dnssec = true

  tsig {
    name        = "trustform-key"
    algorithm   = "hmac-sha256"
    secret_file = "tsig.secret"
  }
}

local_ca "example" {
  common_name = "Example DANE CA"
}

certificate "www" {
  domains   = ["www.example.test"]
  issuer    = local_ca.example
  cert_file = "out/www.fullchain.pem"
  key_file  = "out/www.key.pem"
}

certificate "mail" {
  domains   = ["mail.example.test"]
  issuer    = local_ca.example
  cert_file = "out/mail.fullchain.pem"
  key_file  = "out/mail.key.pem"
}

tlsa "www_https" {
  zone          = dns_zone.example
  port          = 443
  protocol      = "tcp"
  hostname      = "www.example.test"
  certificate   = certificate.www
  ttl           = 60
  rollover_wait = "2m"
}

tlsa "mail_smtp" {
  zone          = dns_zone.example
  port          = 25
  protocol      = "tcp"
  hostname      = "mail.example.test"
  certificate   = certificate.mail
  ttl           = 60
  rollover_wait = "2m"
}
