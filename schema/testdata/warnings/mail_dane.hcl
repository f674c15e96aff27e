# DANE for SMTP (RFC 7672): a PKIX usage at _25._tcp, and a zone that is
# not required to be signed.
dns_zone "example" {
  name      = "example.test"
  zone_file = "example.test.zone"
}

local_ca "ca" {}

certificate "mail" {
  domains   = ["mail.example.test"]
  issuer    = local_ca.ca
  cert_file = "mail.pem"
  key_file  = "mail.key"
}

tlsa "mail_pkix" {
  zone        = dns_zone.example
  name        = "_25._tcp.mail"
  certificate = certificate.mail
  usage       = 1
}

tlsa "mail_imaps" {
  zone        = dns_zone.example
  name        = "_993._tcp.mail"
  certificate = certificate.mail
  usage       = 1
}
